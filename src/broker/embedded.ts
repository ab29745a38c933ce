/**
 * In-process MQTT broker (aedes) for `npm start`, the demo and tests, so a fresh machine needs no
 * broker. Facts that shape its use (DEPENDENCIES.md): MQTT 3.1.1 only (a protocolVersion 5 client
 * is refused), and its default persistence is in memory — sessions and queued QoS 1 messages live
 * only as long as this process. Production points scales at the plant's broker (Mosquitto, …).
 */
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  /** The port actually bound (useful with port 0). */
  port: number;
  host: string;
  url: string;
  /** Stops accepting, drops the clients, closes aedes. Idempotent. */
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: { host?: string; port: number }): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    port,
    host,
    url: `mqtt://${host}:${port}`,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => undefined);
        // server.close waits for open sockets; scales keep theirs open, so end them ourselves.
        for (const s of sockets) s.destroy();
        broker.close(() => resolve());
      });
      return closing;
    },
  };
}
