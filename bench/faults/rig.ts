/**
 * The mixed-ingest rig of the fault scripts (issue 18): every device of a line as its real-protocol
 * simulator, and the gateway as a CHILD PROCESS (`node dist/src/main.js run --config …`), so that a
 * fault can kill it, run it under strace or libfaketime, and start it again on the same state folder.
 *
 *   scanner  socat pty → serial driver (honeywell-1900 profile: Host ACK, so every verdict is a beep)
 *   scale    aedes broker (in this process, it survives the gateway) ← packet-reading TCP proxy ← gateway
 *   machine  node-opcua server (PackML generic map), counters running, FILL-1 bound to a batch
 *   printer  TCP socket (Zebra-like simulator); labels asked for over the API at PACK-1
 *   ERP      HTTP receiver (SQLite-backed, deduplicates by CloudEvent id = record id)
 *
 * What "acknowledged" means per source (the only things a fault may never lose):
 *   scan    the scanner received its Host-ACK beep (ESC 7, good / ESC 8, ESC 8, bad): sent after commit
 *   weight  the proxy saw the gateway's PUBACK for the PUBLISH carrying that load
 *   label   the API answered 201 to `POST /stations/PACK-1/labels` (the job and its serial are journaled)
 *   counter nothing acknowledges a PLC counter: the PLC keeps it; the check is that the batch's produced
 *           quantity equals the PLC's counter advance (never doubled, never lost across restarts)
 *   upstream the gateway's own records: every journaled record destined to the ERP reaches it, under its
 *           one id (the idempotency key); re-sends of an id are deduplicated by the ERP and counted
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded.js';
import { startMqttProxy, type MqttProxy } from '../../simulators/mqtt-proxy.js';
import { ScannerSimulator } from '../../simulators/scanner/simulator.js';
import { OpcuaLineSimulator } from '../../simulators/opcua-line/line.js';
import { PrinterSimulator } from '../../simulators/printer/printer-sim.js';
import { ErpSimulator } from '../../simulators/erp/erp.js';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');

export type Figures = Record<string, number | string>;
export type Args = Record<string, string>;

export const num = (args: Args, key: string, def: number): number => (args[key] !== undefined ? Number(args[key]) : def);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until<T>(cond: () => T | Promise<T>, ms: number, what: string, every = 25): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(every);
  }
}

export const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
export const loadOf = (i: number): string => `{"weight":{"gross":${(1 + i / 1000).toFixed(3)},"unit":"kg","stable":true}}`;
export const netOf = (i: number): string => (1 + i / 1000).toFixed(3);

const BEEP_GOOD = Buffer.from([0x1b, 0x37, 0x2c]);
const BEEP_BAD = Buffer.from([0x1b, 0x38, 0x2c, 0x1b, 0x38, 0x2c]);

/** Number of Host-ACK answers (good or bad) in what the scanner received. */
export function countBeeps(rx: Buffer): number {
  let n = 0;
  for (let i = 0; i < rx.length; ) {
    if (rx.subarray(i, i + BEEP_BAD.length).equals(BEEP_BAD)) {
      n++;
      i += BEEP_BAD.length;
    } else if (rx.subarray(i, i + BEEP_GOOD.length).equals(BEEP_GOOD)) {
      n++;
      i += BEEP_GOOD.length;
    } else i++;
  }
  return n;
}

export interface RigOptions {
  /** Working folder (state folder, config, PKI, pty links). */
  dir: string;
  /** Extra config merged at the top level (e.g. upstream sink options). */
  configExtra?: Record<string, unknown>;
  /** Route the ERP sink through this URL instead of the ERP directly (a proxy). */
  erpUrl?: (erp: ErpSimulator) => string | Promise<string>;
  /** Route the scale's broker connection through this URL instead of the packet proxy. */
  brokerUrl?: (proxy: MqttProxy, broker: EmbeddedBroker) => string | Promise<string>;
  /** Without the OPC UA machine (its start is the slowest part of a gateway restart). */
  noMachine?: boolean;
  /**
   * The scale's broker: 'mosquitto' (the machine's Mosquitto on 127.0.0.1:1883, default) or
   * 'aedes' (an in-process aedes; on a reconnect it interleaves redelivered and new messages).
   */
  broker?: 'mosquitto' | 'aedes';
  /** Upstream HTTP timeouts. */
  upstream?: Record<string, unknown>;
}

export interface Child {
  proc: ChildProcess;
  url: string;
  token: string;
  logs: string[];
  exited: Promise<number | null>;
  pid: number;
}

export class Rig {
  broker!: EmbeddedBroker;
  proxy!: MqttProxy;
  scanner!: ScannerSimulator;
  line: OpcuaLineSimulator | null = null;
  printer!: PrinterSimulator;
  erp!: ErpSimulator;
  pub!: MqttClient;
  configFile = '';
  stateDir = '';
  batch = '';
  child: Child | null = null;
  /** The process being started (set at spawn, before it serves). */
  starting: { proc: ChildProcess; exited: Promise<number | null> } | null = null;
  readonly topic = `linegate-faults/scale/${process.pid}-${Date.now()}`;
  readonly scaleClientId = `linegate-faults-gw-scale-${process.pid}-${Date.now()}`;
  /** The scale's redelivery windows over every gateway process (from their logs; src/drivers/redelivery-window.ts). */
  readonly redelivery = { windows: 0, closedWithHeld: 0, held: 0, skipped: 0 };

  constructor(readonly opts: RigOptions) {}

  async start(): Promise<void> {
    const dir = this.opts.dir;
    mkdirSync(dir, { recursive: true });
    this.stateDir = join(dir, 'state');
    this.broker =
      this.opts.broker === 'aedes'
        ? await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
        : { port: 1883, host: '127.0.0.1', url: 'mqtt://127.0.0.1:1883', close: async () => undefined };
    this.proxy = await startMqttProxy(this.broker.port);
    this.scanner = new ScannerSimulator({ mode: 'pty', link: join(dir, 'scanner-gw') });
    await this.scanner.start();
    if (!this.opts.noMachine) {
      this.line = new OpcuaLineSimulator({ port: 0, pkiDir: join(dir, 'plc-pki'), opc30050: false, machine: 'FILL1', initial: { state: 'Execute', good: 0, reject: 0 } });
      await this.line.start();
    }
    this.printer = new PrinterSimulator({ port: 0 });
    await this.printer.start();
    this.erp = new ErpSimulator({ db: join(dir, 'erp.sqlite') });
    await this.erp.start();
    this.pub = await mqtt.connectAsync(this.broker.url, { clientId: `faults-pub-${process.pid}`, reconnectPeriod: 1000 });
    const brokerUrl = this.opts.brokerUrl ? await this.opts.brokerUrl(this.proxy, this.broker) : this.proxy.url;
    const erpUrl = this.opts.erpUrl ? await this.opts.erpUrl(this.erp) : this.erp.url;
    const devices: Record<string, unknown>[] = [
      { id: 'weigh.scanner', kind: 'serial-scanner', station: 'WEIGH-1', profile: 'honeywell-1900', transport: { type: 'serial', path: this.scanner.gatewayPath } },
      {
        id: 'weigh.scale',
        kind: 'mqtt-scale',
        station: 'WEIGH-1',
        profile: 'json-generic',
        topic: this.topic,
        broker: { url: brokerUrl, clientId: this.scaleClientId },
      },
      { id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port: this.printer.port }, timing: { pollIntervalMs: 200, idleStatusMs: 1000 } },
    ];
    if (this.line) {
      devices.push({ id: 'fill.plc', kind: 'opcua-machine', station: 'FILL-1', endpoint: this.line.endpoint, securityMode: 'None', securityPolicy: 'None', nodeMap: 'packml-generic', samplingIntervalMs: 100, publishingIntervalMs: 250 });
    }
    const cfg = {
      site: { id: 'PLANT1', name: 'Fault rig', timezone: 'UTC', gs1CompanyPrefix: '9506000' },
      line: { id: 'L1', name: 'Line 1' },
      stations: [
        { id: 'WEIGH-1', role: 'weighing' },
        { id: 'FILL-1', role: 'filling' },
        { id: 'PACK-1', role: 'packing' },
      ],
      devices,
      upstream: { sinks: [{ id: 'erp', kind: 'http', url: erpUrl, ...(this.opts.upstream ?? {}) }] },
      api: { host: '127.0.0.1', port: 0 },
      storage: { stateDir: this.stateDir, synchronous: 'FULL' },
      log: { level: 'info' },
      ...(this.opts.configExtra ?? {}),
    };
    this.configFile = join(dir, 'linegate.yaml');
    writeFileSync(this.configFile, stringify(cfg));
  }

  /** Count what the scale's redelivery windows did (the log lines of src/drivers/mqtt-scale/driver.ts). */
  private observe(line: string): void {
    if (!line.includes('redeliver')) return;
    try {
      const o = JSON.parse(line) as { msg?: string; redeliveryWindow?: boolean; held?: number; skipped?: number };
      if (o.msg === 'scale broker connected' && o.redeliveryWindow) this.redelivery.windows++;
      else if (typeof o.held === 'number' && typeof o.skipped === 'number' && o.msg?.includes('scale')) {
        this.redelivery.closedWithHeld++;
        this.redelivery.held += o.held;
        this.redelivery.skipped += o.skipped;
      }
    } catch {
      /* not JSON */
    }
  }

  /** Start the gateway child (optionally wrapped: strace, faketime…) and wait until it serves. */
  async spawn(opts: { wrap?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Child> {
    const argv = [...(opts.wrap ?? []), process.execPath, MAIN, 'run', '--config', this.configFile];
    const proc = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      env: { ...process.env, LINEGATE_LOG_LEVEL: 'info', ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    const exited = new Promise<number | null>((r) => proc.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
    this.starting = { proc, exited };
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`gateway did not start in ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`)), timeoutMs);
      let buf = '';
      proc.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (logs.length > 2000) logs.splice(0, 1000);
          logs.push(line);
          this.observe(line);
          if (line.includes('"linegate is running"')) {
            try {
              const o = JSON.parse(line) as { url?: string };
              if (o.url) {
                clearTimeout(timer);
                res(o.url);
              }
            } catch {
              /* not JSON */
            }
          }
        }
      });
      proc.stderr!.on('data', (d: Buffer) => {
        if (logs.length > 2000) logs.splice(0, 1000);
        logs.push(d.toString());
      });
      void exited.then((code) => {
        clearTimeout(timer);
        rej(new Error(`gateway exited with ${code} before it served:\n${logs.slice(-20).join('\n')}`));
      });
    });
    const token = readFileSync(join(this.stateDir, 'admin.token'), 'utf8').trim();
    // Under strace/faketime the child is the wrapper; the gateway is its descendant.
    this.child = { proc, url, token, logs, exited, pid: proc.pid! };
    return this.child;
  }

  /** The node process of the gateway (the wrapper's descendant when wrapped). */
  gatewayPid(): number {
    const c = this.child ?? { pid: this.starting!.proc.pid! };
    try {
      const kids = readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      if (kids.length) return kids[0]!;
    } catch {
      /* no children file */
    }
    return c.pid;
  }

  async kill9(): Promise<void> {
    const c = this.child ?? (this.starting ? { ...this.starting, pid: this.starting.proc.pid! } : null);
    if (!c) return;
    const pid = this.gatewayPid();
    this.starting = null;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
    if (pid !== c.pid) {
      try {
        c.proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    await c.exited;
    this.child = null;
  }

  async stopChild(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.proc.kill('SIGTERM');
    const t = setTimeout(() => c.proc.kill('SIGKILL'), 20_000);
    await c.exited;
    clearTimeout(t);
    this.child = null;
  }

  async call(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: any }> {
    const c = this.child;
    if (!c) throw new Error('gateway not running');
    const res = await fetch(c.url + path, {
      method,
      headers: { authorization: `Bearer ${c.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any };
  }

  /** Every device driver online (GET /health/ready as admin). */
  async devicesOnline(): Promise<boolean> {
    try {
      const h = await this.call('GET', '/health/ready', undefined, 3000);
      const d = h.body?.subsystems?.drivers as Array<{ state: string }> | undefined;
      return !!d && d.length > 0 && d.every((x) => x.state === 'online');
    } catch {
      return false;
    }
  }

  /** Master data and a batch at FILL-1 and PACK-1 (first start only). */
  async seed(): Promise<void> {
    const ok = (r: { status: number; body: any }, what: string): any => {
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    ok(await this.call('PUT', '/materials/WIDGET-A', { name: 'Widget A', unit: 'pcs', gtins: ['09506000134352'], shelfLifeDays: 180 }), 'material');
    const b = ok(await this.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '1000000', unit: 'pcs', bom: [] }), 'batch');
    this.batch = b.number as string;
    ok(await this.call('PUT', '/stations/FILL-1/context', { batch: this.batch }), 'FILL-1 context');
    ok(await this.call('PUT', '/stations/PACK-1/context', { batch: this.batch }), 'PACK-1 context');
  }

  /** A read-only look at the journal (open while the gateway runs: WAL readers do not block it). */
  journal(): Database.Database {
    return new Database(join(this.stateDir, 'journal.sqlite'), { readonly: true, fileMustExist: true });
  }

  async close(): Promise<void> {
    await this.kill9().catch(() => undefined);
    this.line?.run(0);
    await this.pub?.endAsync(true).catch(() => undefined);
    // Leave no persistent session behind on a shared broker: connect once with a clean session.
    if (this.broker && this.opts.broker !== 'aedes') {
      const c = await mqtt.connectAsync(this.broker.url, { clientId: this.scaleClientId, clean: true, reconnectPeriod: 0 }).catch(() => null);
      await c?.endAsync().catch(() => undefined);
    }
    await this.proxy?.close();
    await this.broker?.close();
    await this.scanner?.stop().catch(() => undefined);
    await this.line?.stop().catch(() => undefined);
    await this.printer?.stop().catch(() => undefined);
    await this.erp?.close().catch(() => undefined);
  }
}

/** Loads acknowledged by the gateway (PUBACK seen by the proxy), as net strings. */
export function ackedLoads(proxy: MqttProxy): Set<string> {
  const s = new Set<string>();
  for (const a of proxy.acked) {
    const g = /"gross":([\d.]+)/.exec(a.payload)?.[1];
    if (g && Number(g) !== 0) s.add(Number(g).toFixed(3));
  }
  return s;
}

/** RSS, and its anonymous part (heap, native allocations) apart from file-backed pages (code of the node binary and libraries, touched lazily). */
export function procStats(pid: number): { rssMb: number; anonMb: number; fds: number } {
  let rssMb = NaN;
  let anonMb = NaN;
  let fds = NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    if (m) rssMb = Number(m[1]) / 1024;
    const a = /RssAnon:\s+(\d+) kB/.exec(status);
    if (a) anonMb = Number(a[1]) / 1024;
  } catch {
    /* gone */
  }
  try {
    fds = (readdirSyncSafe(`/proc/${pid}/fd`) ?? []).length;
  } catch {
    /* gone */
  }
  return { rssMb, anonMb, fds };
}

import { readdirSync, statSync } from 'node:fs';
function readdirSyncSafe(p: string): string[] | null {
  try {
    return readdirSync(p);
  } catch {
    return null;
  }
}

export function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

export function loadAvg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
