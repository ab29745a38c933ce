/**
 * Child processes for `bench/labels-load.ts`, so that neither the load nor the printer shares the
 * gateway's event loop (a real line's scanners, scales and printers are other machines).
 *
 *   node dist/bench/labels-load-worker.js printer
 *     A simulated ZPL printer on a TCP port (port 0), and on request an fsync probe of the disk. Prints `{"event":"listening","port":N}`, then
 *     for every complete format `{"event":"received","job":"<jobId>","at":<ms>}` where `at` is
 *     performance.timeOrigin + performance.now() taken when `^XZ` was parsed (the same machine
 *     clock the bench reads), and the job id comes from the label's `^FX linegate label … job …`.
 *
 *   node dist/bench/labels-load-worker.js load --mqtt URL --topic T --scans N --weights M
 *     A serial device server (raw TCP, port 0) that streams N scans/s to whoever connects, and an
 *     MQTT publisher sending M scale messages/s (QoS 1; zero and load alternating, so every second
 *     message is a capture). Prints `{"event":"ready","scanPort":P}`; `go` on stdin starts both,
 *     `stop` prints `{"event":"stopped","scans":…,"weights":…,"seconds":…}` and exits.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { PrinterSimulator } from '../simulators/printer/printer-sim.js';

const abs = (): number => performance.timeOrigin + performance.now();
const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/**
 * The disk's own fsync latency, sampled in this process while the bench measures (`probe <dir>` …
 * `probe-stop` on stdin → `{"event":"probe","n","p50","p99","max"}`): append 200 bytes to a file
 * and fdatasync it, every 10 ms. The floor under any path that must commit before it acts.
 */
function fsyncProbe(dir: string): () => Record<string, unknown> {
  const fd = openSync(join(dir, 'fsync-probe.log'), 'a');
  const lat: number[] = [];
  const buf = Buffer.alloc(200, 'x');
  let on = true;
  const tick = (): void => {
    if (!on) return;
    const t = performance.now();
    writeSync(fd, buf);
    fdatasyncSync(fd);
    lat.push(performance.now() - t);
    setTimeout(tick, 10);
  };
  tick();
  return () => {
    on = false;
    closeSync(fd);
    lat.sort((a, b) => a - b);
    const at = (p: number): number => Math.round((lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] ?? NaN) * 100) / 100;
    return { event: 'probe', n: lat.length, p50: at(50), p99: at(99), max: at(100) };
  };
}

async function printer(): Promise<void> {
  let stopProbe: (() => Record<string, unknown>) | null = null;
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, arg] = line.split(' ');
    if (cmd === 'probe' && arg && !stopProbe) stopProbe = fsyncProbe(arg);
    else if (cmd === 'probe-stop' && stopProbe) {
      say(stopProbe());
      stopProbe = null;
    }
  });
  const sim = new PrinterSimulator();
  sim.on('received', (zpl: string) => {
    const at = abs();
    const m = /linegate label \S+ job ([0-9a-f-]+)/.exec(zpl);
    say({ event: 'received', job: m?.[1] ?? null, at });
  });
  sim.on('error', (err: Error) => process.stderr.write(`${err.message}\n`));
  const port = await sim.start();
  say({ event: 'listening', port });
  const stop = (): void => void sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
}

async function load(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      mqtt: { type: 'string' },
      topic: { type: 'string', default: 'bench/labels-load/scale' },
      scans: { type: 'string', default: '500' },
      weights: { type: 'string', default: '500' },
    },
  });
  const scanRate = Number(values.scans);
  const weightRate = Number(values.weights);
  let going = false;
  let scans = 0;
  let weights = 0;
  let t0 = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = values.mqtt && weightRate > 0 ? await mqtt.connectAsync(values.mqtt, { clientId: `bench-load-${process.pid}`, reconnectPeriod: 0 }) : null;
  const scanLine = Buffer.from('L-1001-A\r');
  const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
  let inFlight = 0;
  // Every 5 ms, send what is due since t0: a steady rate, not bursts of a second.
  const tick = (): void => {
    if (!going) return;
    const elapsed = (performance.now() - t0) / 1000;
    const dueScans = Math.floor(elapsed * scanRate) - scans;
    if (dueScans > 0 && sockets.size > 0) {
      for (const s of sockets) s.write(Buffer.concat(Array.from({ length: dueScans }, () => scanLine)));
      scans += dueScans;
    }
    if (client) {
      const dueWeights = Math.floor(elapsed * weightRate) - weights;
      // Never more than 1,000 unacknowledged: a consumer that falls behind is seen as a lower rate.
      for (let k = 0; k < dueWeights && inFlight < 1000; k++) {
        const i = weights++;
        inFlight++;
        const payload = i % 2 === 0 ? ZERO : `{"weight":{"gross":${(1 + (i % 1000) / 1000).toFixed(3)},"unit":"kg","stable":true}}`;
        client.publish(values.topic, payload, { qos: 1 }, () => inFlight--);
      }
    }
    setTimeout(tick, 5);
  };
  say({ event: 'ready', scanPort: (server.address() as AddressInfo).port });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line === 'go' && !going) {
      going = true;
      t0 = performance.now();
      tick();
    } else if (line === 'connections') {
      say({ event: 'connections', n: sockets.size });
    } else if (line === 'stop') {
      going = false;
      const seconds = (performance.now() - t0) / 1000;
      say({ event: 'stopped', scans, weights, seconds });
      for (const s of sockets) s.destroy();
      server.close();
      void (client ? client.endAsync() : Promise.resolve()).finally(() => process.exit(0));
    }
  });
  rl.on('close', () => process.exit(0));
}

const role = process.argv[2];
if (role === 'printer') await printer();
else if (role === 'load') await load();
else {
  process.stderr.write('usage: labels-load-worker printer | load --mqtt URL --topic T --scans N --weights M\n');
  process.exit(64);
}
