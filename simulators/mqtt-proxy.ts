/**
 * A TCP proxy between an MQTT client and its broker that reads the packets going by (it forwards
 * every byte unchanged): which PUBLISH packets the broker delivered (packet id, payload, arrival
 * index) and which PUBACKs the client sent back, in order. Used to check what the gateway
 * acknowledged and when. Can also stop forwarding what the client sends, without closing (the
 * broker never sees those bytes: PUBACKs lost with a connection that is about to die).
 */
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

export interface Delivered {
  index: number;
  messageId: number | null;
  payload: string;
  /** Which proxied connection (0, 1, …, in accept order). */
  conn?: number;
  /** The PUBLISH had its DUP flag set (a redelivery). */
  dup?: boolean;
}

export interface MqttProxy {
  url: string;
  /** PUBLISH packets broker → client, in arrival order (all connections). */
  delivered: Delivered[];
  /** Per PUBACK client → broker, the PUBLISH it acknowledges (latest with that id on the link). */
  acked: Delivered[];
  /** PUBACKs the client sent while upstream was blocked (never forwarded). */
  swallowed: Delivered[];
  /** From now on, bytes from clients are dropped instead of forwarded (broker → client still flows). */
  blockUpstream(): void;
  close(): Promise<void>;
}

/** Split a byte stream into MQTT packets: calls `on(type, flags, body)` for each whole packet. */
function packetReader(on: (type: number, flags: number, body: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (;;) {
        if (i >= buf.length) return;
        const b = buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        i++;
        if ((b & 0x80) === 0) break;
      }
      if (buf.length < i + len) return;
      on(buf[0]! >> 4, buf[0]! & 0x0f, buf.subarray(i, i + len));
      buf = buf.subarray(i + len);
    }
  };
}

export async function startMqttProxy(brokerPort: number, opts: { protocolVersion?: 4 | 5 } = {}): Promise<MqttProxy> {
  const delivered: Delivered[] = [];
  const acked: Delivered[] = [];
  const swallowed: Delivered[] = [];
  let blocked = false;
  const sockets = new Set<Socket>();
  const v5 = opts.protocolVersion === 5;
  let conns = 0;
  const server: Server = createServer((client) => {
    const conn = conns++;
    const upstream = connect(brokerPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const byId = new Map<number, Delivered>();
    const fromBroker = packetReader((type, flags, body) => {
      if (type !== 3) return;
      const qos = (flags >> 1) & 3;
      const tlen = body.readUInt16BE(0);
      let o = 2 + tlen;
      let messageId: number | null = null;
      if (qos > 0) {
        messageId = body.readUInt16BE(o);
        o += 2;
      }
      if (v5) {
        // Property length (varint) and properties.
        let plen = 0;
        let mul = 1;
        for (;;) {
          const b = body[o++]!;
          plen += (b & 0x7f) * mul;
          mul *= 128;
          if ((b & 0x80) === 0) break;
        }
        o += plen;
      }
      const d: Delivered = { index: delivered.length, messageId, payload: body.subarray(o).toString('utf8'), conn, dup: (flags & 8) !== 0 };
      delivered.push(d);
      if (messageId !== null) byId.set(messageId, d);
    });
    const fromClient = packetReader((type, _flags, body) => {
      if (type !== 4) return;
      const id = body.readUInt16BE(0);
      const d = byId.get(id);
      (blocked ? swallowed : acked).push(d ?? { index: -1, messageId: id, payload: '' });
    });
    client.on('data', (c: Buffer) => {
      fromClient(c);
      if (!blocked) upstream.write(c);
    });
    upstream.on('data', (c: Buffer) => {
      fromBroker(c);
      client.write(c);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    delivered,
    acked,
    swallowed,
    blockUpstream: () => {
      blocked = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
