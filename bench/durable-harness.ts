/**
 * The broker side of `bench/durable.ts`, in its own process (so the consumer under test — the
 * gateway or its peer — has the parent process to itself): an aedes broker that publishes the
 * workload itself (`aedes.publish`, no publisher client to pay for) and times each message from
 * its publish to the consumer's PUBACK (aedes' `ack` event; one consumer acknowledges in order,
 * so the k-th PUBACK belongs to the k-th message).
 *
 * Messages from the parent: { cmd: 'run', id, clientId, topics, payloads, rate, window }
 *   rate > 0: paced at `rate` messages/s (latency run); rate 0: as fast as the consumer takes
 *   them with at most `window` unacknowledged (throughput run). Answer: { id, seconds, n, p50, p99, max, cpuMs }.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

interface Run {
  cmd: 'run';
  id: number;
  clientId: string;
  topics: string[];
  payloads: string[];
  rate: number;
  window: number;
}

async function main(): Promise<void> {
  const broker = await Aedes.createBroker();
  const server = createServer((s) => broker.handle(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  let onAck: ((clientId: string) => void) | null = null;
  broker.on('ack', (_packet, client) => onAck?.(client?.id ?? ''));
  process.on('message', (m: Run | { cmd: 'stop' }) => {
    if (m.cmd === 'stop') {
      broker.close(() => server.close(() => process.exit(0)));
      return;
    }
    void run(m).then((r) => process.send!({ id: m.id, ...r }));
  });
  process.send!({ port: (server.address() as AddressInfo).port });

  function run(m: Run): Promise<Record<string, number>> {
    const n = m.payloads.length;
    const sent = new Float64Array(n);
    const lat = new Float64Array(n);
    const bufs = m.payloads.map((p) => Buffer.from(p));
    let published = 0;
    let acked = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const publishOne = (): void => {
        const i = published++;
        sent[i] = performance.now();
        broker.publish({ cmd: 'publish', topic: m.topics[i % m.topics.length]!, payload: bufs[i]!, qos: 1, retain: false, dup: false }, () => undefined);
      };
      const pump = (): void => {
        if (m.rate > 0) {
          const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * m.rate) + 1);
          while (published < due) publishOne();
        } else {
          while (published < n && published - acked < m.window) publishOne();
        }
      };
      onAck = (clientId) => {
        if (clientId !== m.clientId) return;
        lat[acked] = performance.now() - sent[acked]!;
        acked++;
        if (acked === n) {
          onAck = null;
          if (timer) clearInterval(timer);
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const sorted = Array.from(lat).sort((a, b) => a - b);
          const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))]!;
          resolve({ seconds, n, p50: q(0.5), p99: q(0.99), max: sorted[n - 1]!, cpuMs: (cpu.user + cpu.system) / 1000 });
          return;
        }
        if (m.rate === 0 && published < n) pump();
      };
      if (m.rate > 0) timer = setInterval(pump, 1);
      pump();
    });
  }
}

void main();
