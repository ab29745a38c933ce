import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { silentLogger } from '../src/util/log.js';

/**
 * Issue 18: durable records from ONE MQTT connection, through the whole gateway (driver,
 * pipelined commit gate, binder, journal with synchronous=FULL on the real disk), against a bare
 * MQTT.js subscriber that appends each message to a file and fsyncs it before its PUBACK (what a
 * "durable" Node-RED flow does), on the same broker, in the same run.
 *
 * Method: the broker (aedes) runs in a child process and publishes the workload itself
 * (bench/durable-harness.ts), timing each message from its publish to the consumer's PUBACK;
 * the consumer under test has this process to itself. Workloads:
 * - `scale`: the stream 0, w1, 0, w2, … to an mqtt-scale: every load is one capture (a rejected
 *   LG_ERR_NO_ACTIVE_BATCH consumption record: no batch is selected — still a journaled record
 *   with its outbox row); as fast as the consumer takes it, at most 1,000 unacknowledged;
 * - `values`: an mqtt-values device with 10 values (plain numbers, deadband 0, each message a new
 *   value, so each message is one `process.value` record), as fast as it goes (max rate) and
 *   paced at 1,000 values/s (publish → PUBACK latency);
 * - the peer gets the same messages in the same two ways.
 * CPU: user+system ms of this process per 1,000 messages (what the consumer costs, whatever the
 * machine's load) and the load average at the start.
 */
const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
const scaleStream = (loads: number): string[] => {
  const out: string[] = [];
  for (let i = 1; i <= loads; i++) out.push(ZERO, `{"weight":{"gross":${(1 + i / 1000).toFixed(3)},"unit":"kg","stable":true}}`);
  return out;
};
const valueStream = (n: number, offset = 0): string[] => Array.from({ length: n }, (_, i) => String(offset + i + 1));
const VALUE_TOPICS = Array.from({ length: 10 }, (_, i) => `bench/durable/values/v${i}`);

type HarnessResult = { seconds: number; n: number; p50: number; p99: number; max: number; cpuMs: number };

class Harness {
  private child!: ChildProcess;
  port = 0;
  private seq = 0;
  private waiting = new Map<number, (r: HarnessResult) => void>();
  async start(): Promise<void> {
    const script = join(dirname(fileURLToPath(import.meta.url)), 'durable-harness.js');
    // LG_BENCH_HARNESS_CPU=0: the broker process pinned to that CPU (run the bench itself under
    // `taskset -c 1` to give the consumer the other one).
    const cpu = process.env.LG_BENCH_HARNESS_CPU;
    this.child = cpu
      ? spawn('taskset', ['-c', cpu, process.execPath, script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.port = await new Promise<number>((res, rej) => {
      this.child.once('error', rej);
      this.child.once('message', (m: { port: number }) => res(m.port));
    });
    this.child.on('message', (m: { id?: number } & HarnessResult) => {
      if (m.id !== undefined) this.waiting.get(m.id)?.(m);
    });
  }
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
  run(o: { clientId: string; topics: string[]; payloads: string[]; rate: number; window?: number }): Promise<HarnessResult> {
    const id = ++this.seq;
    return new Promise((res) => {
      this.waiting.set(id, res);
      this.child.send({ cmd: 'run', id, window: 1000, ...o });
    });
  }
  async stop(): Promise<void> {
    this.child.send({ cmd: 'stop' });
    await new Promise((r) => this.child.once('exit', r));
  }
}

async function measured<T>(fn: () => Promise<T>): Promise<{ r: T; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const r = await fn();
  const c = process.cpuUsage(c0);
  return { r, cpuMs: (c.user + c.system) / 1000 };
}

async function fsyncPeer(h: Harness, dir: string, runs: Array<{ topics: string[]; payloads: string[]; rate: number }>): Promise<Array<HarnessResult & { consumerCpuMs: number }>> {
  const fd = openSync(join(dir, 'peer.log'), 'a');
  const clientId = `bench-fsync-${process.pid}`;
  const c = await mqtt.connectAsync(h.url, { clientId, reconnectPeriod: 0, clean: false });
  c.handleMessage = (packet, cb) => {
    writeSync(fd, Buffer.concat([Buffer.from(packet.payload as Buffer), Buffer.from('\n')]));
    fsyncSync(fd);
    cb();
  };
  await c.subscribeAsync([...new Set(runs.flatMap((r) => r.topics))], { qos: 1 });
  const out: Array<HarnessResult & { consumerCpuMs: number }> = [];
  for (const run of runs) {
    const { r, cpuMs } = await measured(() => h.run({ clientId, ...run }));
    out.push({ ...r, consumerCpuMs: cpuMs });
  }
  await c.endAsync();
  closeSync(fd);
  return out;
}

function gatewayConfig(stateDir: string, url: string, device: Record<string, unknown>) {
  return parseConfig(
    stringify({
      site: { id: 'S', timezone: 'UTC' },
      line: { id: 'L1' },
      stations: [{ id: 'WEIGH-1', role: 'weighing' }],
      devices: [device],
      upstream: { sinks: [] },
      api: { host: '127.0.0.1', port: 0 },
      storage: { stateDir, synchronous: 'FULL' },
      log: { level: 'silent' },
    }),
  );
}

async function gatewayRuns(h: Harness, dir: string, name: string, device: Record<string, unknown>, runs: Array<{ topics: string[]; payloads: string[]; rate: number; records: number }>) {
  const stateDir = join(dir, name);
  const gw = new Gateway(gatewayConfig(stateDir, h.url, device), { logger: silentLogger() });
  await gw.start();
  const id = device.id as string;
  while (gw.drivers.get(id)!.health().state !== 'online') await new Promise((r) => setTimeout(r, 10));
  const db = new Database(join(stateDir, 'journal.sqlite'), { readonly: true });
  const count = db.prepare(`SELECT COUNT(*) AS n FROM records`);
  const out: Array<HarnessResult & { consumerCpuMs: number; itemsPerCommit: number; journaled: number }> = [];
  for (const run of runs) {
    const before = (count.get() as { n: number }).n;
    const g0 = { ...gw.journal.stats };
    const { r, cpuMs } = await measured(() => h.run({ clientId: (device.broker as { clientId: string }).clientId, ...run }));
    const journaled = (count.get() as { n: number }).n - before;
    // Every PUBACK came after its commit: the records are already there, none missing.
    if (journaled < run.records) throw new Error(`${name}: ${journaled} records journaled for ${run.records} expected after the last PUBACK`);
    const st = { items: gw.journal.stats.items - g0.items, groups: gw.journal.stats.groups - g0.groups };
    out.push({ ...r, consumerCpuMs: cpuMs, itemsPerCommit: st.items / Math.max(1, st.groups), journaled });
  }
  const pipe = (gw.drivers.get(id) as unknown as { pipeline: { maxQueued: number } }).pipeline;
  db.close();
  await gw.stop();
  return { runs: out, maxQueued: pipe.maxQueued };
}

export async function benchDurable(opts: { loads?: number; values?: number; pacedSeconds?: number; peerFraction?: number } = {}): Promise<Record<string, number>> {
  const loads = opts.loads ?? 10_000;
  const nValues = opts.values ?? 20_000;
  const paced = 1000 * (opts.pacedSeconds ?? 10);
  const load0 = loadavg()[0]!;
  // Run on its own too (durable-latency runs it as a child; a fresh clone has no var/).
  mkdirSync(resolve('var'), { recursive: true });
  const dir = mkdtempSync(join(resolve('var'), 'bench-durable-'));
  const h = new Harness();
  await h.start();
  try {
    const scale = scaleStream(loads);
    // LG_BENCH_DURABLE_NO_PEER=1: gateway runs only (for a CPU profile of the gateway alone); no ratios then.
    const noPeer = process.env.LG_BENCH_DURABLE_NO_PEER === '1';
    // peerFraction < 1: the peer gets only that first share of each stream (its rate is bound by
    // the fsync latency, steady after a few hundred messages; under a slow emulated disk the full
    // streams would take minutes). The gateway always gets the whole streams.
    const share = <T,>(xs: T[]): T[] => xs.slice(0, Math.max(2, Math.round(xs.length * (opts.peerFraction ?? 1) / 2) * 2));
    const peerRuns = noPeer ? [] : [
      { topics: ['bench/durable/scale'], payloads: share(scale), rate: 0 },
      { topics: VALUE_TOPICS, payloads: share(valueStream(nValues)), rate: 0 },
      { topics: VALUE_TOPICS, payloads: share(valueStream(paced, nValues)), rate: 1000 },
    ];
    const peer = noPeer ? [] : await fsyncPeer(h, dir, peerRuns);
    const gs = await gatewayRuns(h, dir, 'gw-scale', { id: 'scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', topic: 'bench/durable/scale', broker: { url: h.url, clientId: `bench-gw-scale-${process.pid}` } }, [
      { topics: ['bench/durable/scale'], payloads: scale, rate: 0, records: loads },
    ]);
    const gv = await gatewayRuns(
      h,
      dir,
      'gw-values',
      { id: 'values', kind: 'mqtt-values', station: 'WEIGH-1', profile: 'plain-number', broker: { url: h.url, clientId: `bench-gw-values-${process.pid}` }, values: VALUE_TOPICS.map((topic, i) => ({ name: `v${i}`, unit: '°C', topic })) },
      [
        { topics: VALUE_TOPICS, payloads: valueStream(nValues), rate: 0, records: nValues },
        { topics: VALUE_TOPICS, payloads: valueStream(paced, nValues), rate: 1000, records: paced },
      ],
    );
    const none = { seconds: NaN, n: NaN, p50: NaN, p99: NaN, max: NaN, cpuMs: NaN, consumerCpuMs: NaN };
    const [pScale, pMax, pPaced] = (noPeer ? [none, none, none] : peer) as [HarnessResult & { consumerCpuMs: number }, HarnessResult & { consumerCpuMs: number }, HarnessResult & { consumerCpuMs: number }];
    const sRun = gs.runs[0]!;
    const [vMax, vPaced] = gv.runs as [(typeof gv.runs)[0], (typeof gv.runs)[0]];
    const rate = (r: HarnessResult) => r.n / r.seconds;
    const cpuPerK = (r: { consumerCpuMs: number; n: number }) => (r.consumerCpuMs / r.n) * 1000;
    return {
      load_average_at_start: load0,
      // scale stream
      scale_loads: loads,
      gateway_scale_durable_captures_per_s: loads / sRun.seconds,
      gateway_scale_messages_per_s: rate(sRun),
      gateway_scale_items_per_commit: sRun.itemsPerCommit,
      gateway_scale_max_unacknowledged: gs.maxQueued,
      gateway_scale_cpu_ms_per_1000_messages: cpuPerK(sRun),
      peer_fsync_scale_messages_per_s: rate(pScale),
      ratio_gateway_captures_vs_fsync_peer_messages: loads / sRun.seconds / rate(pScale),
      // process values, max rate
      values_max_n: nValues,
      gateway_values_durable_records_per_s: rate(vMax),
      gateway_values_items_per_commit: vMax.itemsPerCommit,
      gateway_values_max_unacknowledged: gv.maxQueued,
      gateway_values_cpu_ms_per_1000_records: cpuPerK(vMax),
      gateway_values_records_per_cpu_s: vMax.n / (vMax.consumerCpuMs / 1000),
      peer_fsync_values_messages_per_s: rate(pMax),
      peer_fsync_cpu_ms_per_1000_messages: cpuPerK(pMax),
      ratio_gateway_values_vs_fsync_peer: rate(vMax) / rate(pMax),
      // process values paced at 1,000/s
      values_paced_n: paced,
      gateway_values_1000_per_s_ack_p50_ms: vPaced.p50,
      gateway_values_1000_per_s_ack_p99_ms: vPaced.p99,
      gateway_values_1000_per_s_ack_max_ms: vPaced.max,
      gateway_values_1000_per_s_items_per_commit: vPaced.itemsPerCommit,
      gateway_values_1000_per_s_cpu_share: vPaced.consumerCpuMs / 1000 / vPaced.seconds,
      peer_fsync_1000_per_s_ack_p50_ms: pPaced.p50,
      peer_fsync_1000_per_s_ack_p99_ms: pPaced.p99,
      ratio_gateway_vs_peer_ack_p99_at_1000_per_s: vPaced.p99 / pPaced.p99,
    };
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  // `--json`: the figures as one JSON line (bench/durable-latency.ts runs this file under strace).
  const json = process.argv.includes('--json');
  const pos = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const fraction = process.argv.find((a) => a.startsWith('--peer-fraction='));
  benchDurable({ loads: Number(pos[0] ?? 10_000), values: Number(pos[1] ?? 20_000), pacedSeconds: Number(pos[2] ?? 10), peerFraction: fraction ? Number(fraction.split('=')[1]) : 1 }).then(
    (r) => (console.log(json ? `LG_BENCH_JSON ${JSON.stringify(r)}` : r), process.exit(0)),
    (err: unknown) => (console.error(err), process.exit(1)),
  );
}
