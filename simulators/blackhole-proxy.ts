/**
 * A generic TCP proxy that can go half-open: `blackhole()` stops forwarding in both directions
 * WITHOUT closing anything (no FIN, no RST: the sockets stay established, bytes are read and
 * dropped), as a dead switch port, a NAT table that forgot the flow or a frozen peer look to the
 * client. `restore()` forwards again for new connections and drops the half-open ones (the client
 * reconnects). Used by the half-open fault script between the gateway and its broker or ERP.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface BlackholeProxy {
  port: number;
  url(scheme: string, path?: string): string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Stop forwarding; keep every socket open; new connections are accepted and blackholed too. */
  blackhole(): void;
  /**
   * Forward again. Half-open connections stay as they are unless `dropHeld` (default true): then
   * they are destroyed, as the network coming back would reset them.
   */
  restore(opts?: { dropHeld?: boolean }): void;
  /** When the client closed each connection that was blackholed (ms since blackhole()), in order. */
  readonly clientClosedAfterMs: number[];
  close(): Promise<void>;
}

export async function startBlackholeProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<BlackholeProxy> {
  let holing = false;
  let holedAt = 0;
  let accepted = 0;
  const pairs = new Set<{ client: Socket; upstream: Socket | null; held: boolean }>();
  const clientClosedAfterMs: number[] = [];
  const server: Server = createServer((client) => {
    accepted++;
    const pair = { client, upstream: null as Socket | null, held: holing };
    pairs.add(pair);
    const end = (): void => {
      if (pair.held && holedAt) clientClosedAfterMs.push(Date.now() - holedAt);
      pair.held = false;
      client.destroy();
      pair.upstream?.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    client.on('data', (c: Buffer) => {
      if (holing || pair.held) return; // read and dropped: the client's kernel sees its data taken
      pair.upstream?.write(c);
    });
    if (holing) return; // a new connection while blackholed: accepted, never connected onwards
    const upstream = connect(targetPort, targetHost);
    pair.upstream = upstream;
    upstream.on('data', (c: Buffer) => {
      if (holing || pair.held) return;
      client.write(c);
    });
    upstream.on('error', end).on('close', () => {
      // The target closed: pass it on, unless we are pretending the path is dead.
      if (!pair.held) end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (scheme, path = '') => `${scheme}://127.0.0.1:${port}${path}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    clientClosedAfterMs,
    blackhole() {
      holing = true;
      holedAt = Date.now();
      for (const p of pairs) p.held = true;
    },
    restore(opts = {}) {
      holing = false;
      if (opts.dropHeld ?? true) {
        for (const p of [...pairs]) {
          if (!p.held) continue;
          p.held = false;
          p.client.destroy();
          p.upstream?.destroy();
          pairs.delete(p);
        }
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream?.destroy();
        }
        pairs.clear();
        server.close(() => r());
      }),
  };
}
