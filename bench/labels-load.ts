/**
 * Label trigger → bytes at the printer with the gateway under load (issue 18: p99 ≤ 10 ms at
 * 1,000 readings/s), against the same path on the same gateway idle, in the same run.
 *
 * A whole Gateway (config, drivers, journal on the real disk with synchronous=FULL, label triggers,
 * dispatcher, API), with:
 *  - a serial scanner on a device server (raw TCP) and an MQTT scale (through our own Mosquitto
 *    process when installed, else the embedded aedes), fed by a CHILD process
 *    (labels-load-worker.js load) at `scans` + `weights` readings/s — default 500 + 500; every scan
 *    and every second scale message is a journaled record;
 *  - a ZPL printer simulator in another child process (labels-load-worker.js printer) that stamps
 *    the moment it has parsed `^XZ` with the machine clock.
 * Each label is `gw.labels.createLabel(…)` (what a trigger or `POST /labels` calls); the next one
 * starts once the previous is confirmed, 10 ms later. Phases per label: trigger → queued (commit of
 * identity + record + job), queued → sending (`~HS` round trip + commit of `sending`), sending →
 * bytes at the printer. The event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution)
 * and the journal's groups — how many per second, how long each holds the event loop (COMMIT and
 * its fsync are synchronous in better-sqlite3), the share of wall time spent inside them — are
 * measured during each phase of the run; the peer is the disk itself: another process appending
 * 200 bytes and fdatasync-ing them every 10 ms during the loaded phase (the floor under any path
 * that must commit before it acts — a label must: its identity, record and job are durable first).
 *
 *   npm run build && node dist/bench/labels-load.js [labels=300]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { startEmbeddedBroker } from '../src/broker/embedded.js';
import { silentLogger } from '../src/util/log.js';
import { spawnMosquitto } from './upstream-common.js';

const abs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const WORKER = fileURLToPath(new URL('./labels-load-worker.js', import.meta.url));

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)]! * 100) / 100;
}

/** A child speaking JSON lines. */
class Child {
  readonly proc: ChildProcess;
  private waiters: Array<{ test: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }> = [];
  readonly listeners = new Set<(m: Record<string, unknown>) => void>();
  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const l of this.listeners) l(m);
      for (const w of [...this.waiters]) if (w.test(m)) (this.waiters.splice(this.waiters.indexOf(w), 1), w.resolve(m));
    });
  }
  wait(event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`labels-load worker: no ${event} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ test: (m) => m.event === event, resolve: (m) => (clearTimeout(t), res(m)) });
    });
  }
  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin!.end();
    this.proc.kill('SIGTERM');
    await Promise.race([gone, sleep(3000)]);
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

interface Phase {
  total: number[];
  queued: number[];
  sending: number[];
  wire: number[];
}

export async function benchLabelsLoad(opts: { labels?: number; scans?: number; weights?: number } = {}): Promise<Record<string, number>> {
  const labels = opts.labels ?? 300;
  const scanRate = opts.scans ?? 500;
  const weightRate = opts.weights ?? 500;
  const dir = mkdtempSync(join(resolve('var'), 'bench-labels-load-'));
  const children: Child[] = [];
  const mosq = await spawnMosquitto();
  const aedes = mosq ? null : await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const brokerUrl = mosq?.url ?? aedes!.url;
  let gw: Gateway | null = null;
  try {
    const printer = new Child(['printer']);
    children.push(printer);
    const printerPort = Number((await printer.wait('listening')).port);
    const load = new Child(['load', '--mqtt', brokerUrl, '--topic', 'bench/labels-load/scale', '--scans', String(scanRate), '--weights', String(weightRate)]);
    children.push(load);
    const scanPort = Number((await load.wait('ready')).scanPort);
    const received = new Map<string, number>();
    printer.listeners.add((m) => {
      if (m.event === 'received' && typeof m.job === 'string') received.set(m.job, Number(m.at));
    });

    const cfg = parseConfig(
      stringify({
        site: { id: 'S', timezone: 'UTC', gs1CompanyPrefix: '9506000' },
        line: { id: 'L1' },
        stations: [
          { id: 'LOAD-1', role: 'generic', policies: { duplicateWindowMs: 0 } },
          { id: 'WEIGH-1', role: 'weighing' },
          { id: 'PACK-1', role: 'packing' },
        ],
        devices: [
          { id: 'load.scanner', kind: 'serial-scanner', station: 'LOAD-1', profile: 'generic-usb-cdc', transport: { type: 'tcp', host: '127.0.0.1', port: scanPort } },
          { id: 'load.scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', topic: 'bench/labels-load/scale', broker: { url: brokerUrl, clientId: `bench-ll-${process.pid}` }, silenceTimeoutMs: 600_000 },
          { id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port: printerPort }, timing: { pollIntervalMs: 20 } },
        ],
        api: { host: '127.0.0.1', port: 0 },
        storage: { stateDir: join(dir, 'gw'), synchronous: 'FULL' },
        log: { level: 'silent' },
      }),
    );
    gw = new Gateway(cfg, { logger: silentLogger() });
    await gw.start();
    const admin = { id: 'admin', role: 'admin' as const };
    await gw.ops.upsertMaterial({ code: 'RM-1001', name: 'Sugar', unit: 'kg', gtins: ['09506000134369'] }, admin);
    await gw.ops.upsertLot({ id: 'L-1001-A', material: 'RM-1001', supplierLot: 'ACME-77', expiry: '2099-12-31', status: 'released', quantity: '100' }, admin, null, 'create');
    for (const id of ['load.scanner', 'load.scale']) {
      while (gw.drivers.get(id)!.health().state !== 'online') await sleep(20);
    }
    // Diagnosis: how long the event loop sits inside journal commits (better-sqlite3 is synchronous:
    // the COMMIT and its fsync block the loop). Bench-only instrumentation of the private flush(),
    // whose synchronous part is the whole transaction.
    const commits: number[] = [];
    const jr = gw.journal as unknown as { flush: () => Promise<void> };
    const flush = jr.flush.bind(jr);
    jr.flush = () => {
      const t = performance.now();
      const p = flush();
      commits.push(performance.now() - t);
      return p;
    };
    const svc = gw.labels!;
    const jobState = new Map<string, { sending?: number; confirmed?: number }>();
    svc.on('job', (j: { id: string; state: string }) => {
      const s = jobState.get(j.id) ?? {};
      if (j.state === 'sending' && s.sending === undefined) s.sending = abs();
      if (j.state === 'confirmed') s.confirmed = abs();
      jobState.set(j.id, s);
    });
    const fields = { productName: 'Widget A', lot: 'RM-1001-L7', gtin: '09506000134352', batch: '20261122-001', productionDate: '2026-11-22', expiry: '2027-05-22', netWeight: '3.25' };

    const one = async (ph: Phase): Promise<void> => {
      const t0 = abs();
      const q = await svc.createLabel({ template: 'case', printer: 'pack.printer', fields, station: 'PACK-1', trigger: { type: 'bench' } });
      const tq = abs();
      const deadline = Date.now() + 30_000;
      while (!(received.has(q.jobId) && jobState.get(q.jobId)?.confirmed !== undefined)) {
        if (Date.now() > deadline) throw new Error(`label job ${q.jobId} not confirmed within 30 s (state ${svc.getJob(q.jobId)?.state})`);
        await sleep(1);
      }
      const tr = received.get(q.jobId)!;
      const ts = jobState.get(q.jobId)!.sending ?? tr;
      ph.total.push(tr - t0);
      ph.queued.push(tq - t0);
      ph.sending.push(ts - tq);
      ph.wire.push(tr - ts);
    };
    const run = async (n: number): Promise<{ ph: Phase; commitBusyPct: number; commitP99: number; commitMax: number; loopP50: number; loopP99: number; loopMax: number; groups: number; items: number; seconds: number }> => {
      const ph: Phase = { total: [], queued: [], sending: [], wire: [] };
      const h = monitorEventLoopDelay({ resolution: 1 });
      const g0 = { ...gw!.journal.stats };
      commits.length = 0;
      const t0 = performance.now();
      h.enable();
      for (let i = 0; i < n; i++) {
        await one(ph);
        await sleep(10);
      }
      h.disable();
      const seconds = (performance.now() - t0) / 1000;
      for (const k of Object.keys(ph) as Array<keyof Phase>) ph[k].sort((a, b) => a - b);
      const c = [...commits].sort((a, b) => a - b);
      return {
        ph,
        commitBusyPct: (c.reduce((a, b) => a + b, 0) / (seconds * 1000)) * 100,
        commitP99: pct(c, 99),
        commitMax: pct(c, 100),
        loopP50: h.percentile(50) / 1e6,
        loopP99: h.percentile(99) / 1e6,
        loopMax: h.max / 1e6,
        groups: gw!.journal.stats.groups - g0.groups,
        items: gw!.journal.stats.items - g0.items,
        seconds,
      };
    };

    // Warm-up (JIT, the printer connection), then idle, then under load — same gateway, same run.
    await run(20);
    const idle = await run(labels);
    const countRecords = (): number => (gw!.repo.db.prepare(`SELECT COUNT(*) AS n FROM records WHERE device IN ('load.scanner','load.scale')`).get() as { n: number }).n;
    const r0 = countRecords();
    load.send('go');
    const tl = performance.now();
    // Let the load reach its rate before measuring.
    await sleep(1000);
    printer.send(`probe ${dir}`);
    const busy = await run(labels);
    printer.send('probe-stop');
    const probe = await printer.wait('probe');
    load.send('stop');
    const stopped = await load.wait('stopped');
    const loadSeconds = (performance.now() - tl) / 1000;
    // What the gateway journaled from the load (the last in-flight readings may land after stop).
    await sleep(500);
    const loadRecords = countRecords() - r0;

    const out: Record<string, number> = {
      labels_measured: labels,
      load_sent_readings_per_s: Math.round((Number(stopped.scans) + Number(stopped.weights)) / Number(stopped.seconds)),
      load_journaled_records_per_s: Math.round(loadRecords / loadSeconds),
      idle_trigger_to_printer_p50_ms: pct(idle.ph.total, 50),
      idle_trigger_to_printer_p99_ms: pct(idle.ph.total, 99),
      load_trigger_to_printer_p50_ms: pct(busy.ph.total, 50),
      load_trigger_to_printer_p99_ms: pct(busy.ph.total, 99),
      load_trigger_to_printer_max_ms: pct(busy.ph.total, 100),
      load_trigger_to_queued_p99_ms: pct(busy.ph.queued, 99),
      load_queued_to_sending_p99_ms: pct(busy.ph.sending, 99),
      load_sending_to_printer_p99_ms: pct(busy.ph.wire, 99),
      idle_event_loop_delay_p99_ms: Math.round(idle.loopP99 * 100) / 100,
      load_event_loop_delay_p50_ms: Math.round(busy.loopP50 * 100) / 100,
      load_event_loop_delay_p99_ms: Math.round(busy.loopP99 * 100) / 100,
      load_event_loop_delay_max_ms: Math.round(busy.loopMax * 100) / 100,
      load_journal_commits_per_s: Math.round(busy.groups / busy.seconds),
      load_journal_avg_items_per_commit: Math.round((busy.items / Math.max(1, busy.groups)) * 10) / 10,
      load_journal_commit_p99_ms: busy.commitP99,
      load_journal_commit_max_ms: busy.commitMax,
      load_event_loop_in_commits_pct: Math.round(busy.commitBusyPct * 10) / 10,
      idle_event_loop_in_commits_pct: Math.round(idle.commitBusyPct * 10) / 10,
      peer_disk_fdatasync_p50_ms: Number(probe.p50),
      peer_disk_fdatasync_p99_ms: Number(probe.p99),
      ratio_labels_p99_load_vs_disk_fdatasync_p99: pct(busy.ph.total, 99) / Number(probe.p99),
      ratio_labels_p99_load_vs_idle: pct(busy.ph.total, 99) / pct(idle.ph.total, 99),
    };
    return out;
  } finally {
    if (gw) await gw.stop();
    for (const c of children) await c.stop();
    await mosq?.stop();
    await aedes?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  const figures = await benchLabelsLoad(n ? { labels: n } : {});
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(40)} ${v}\n`);
  process.exit(0);
}
