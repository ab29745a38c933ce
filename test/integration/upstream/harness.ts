/**
 * Helpers for upstream tests (and for the gateway's kill -9 tests later): seed the journal directly,
 * build sink configs, run the ERP simulator as a child process, run your own mosquitto.
 * No dependency on test/helpers so other areas can import this file as is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../../src/store/db.js';
import type { HttpSinkConfig, MqttSinkConfig } from '../../../src/config/upstream.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MOSQUITTO = '/usr/sbin/mosquitto';

export { seedRecords, type SeedOptions } from '../../../bench/upstream-common.js';

export function countOutbox(db: Db, sink: string): Record<'pending' | 'delivered' | 'quarantined', number> {
  const rows = db.prepare(`SELECT state, COUNT(*) AS n FROM outbox WHERE sink = ? GROUP BY state`).all(sink) as Array<{ state: string; n: number }>;
  const r = { pending: 0, delivered: 0, quarantined: 0 };
  for (const x of rows) r[x.state as keyof typeof r] = x.n;
  return r;
}

export function httpSinkConfig(url: string, over: Partial<HttpSinkConfig> = {}): HttpSinkConfig {
  return {
    id: 'erp',
    kind: 'http',
    url,
    timeoutMs: 2000,
    batch: { maxRecords: 200, maxBytes: 1_048_576, lingerMs: 5 },
    mode: 'batched',
    maxInFlight: 4,
    backoff: { baseMs: 20, maxMs: 200, probeMs: 0 },
    ...over,
  };
}

export function mqttSinkConfig(url: string, over: Partial<MqttSinkConfig> = {}): MqttSinkConfig {
  return {
    id: 'uns',
    kind: 'mqtt',
    url,
    clientId: `lg-${Math.random().toString(36).slice(2, 10)}`,
    protocolVersion: 4,
    topic: 'linegate/{site}/{line}/{type}',
    qos: 1,
    keepaliveS: 5,
    timeoutMs: 2000,
    batch: { maxRecords: 200, maxBytes: 1_048_576, lingerMs: 5 },
    maxInFlight: 2,
    backoff: { baseMs: 50, maxMs: 500, probeMs: 0 },
    ...over,
  };
}

export async function waitUntil<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv: Server = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Run a compiled script from dist/ as a child; resolves with the first JSON line it prints. */
export async function spawnNode(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {}): Promise<{ child: ChildProcess; first: Record<string, unknown>; lines: string[] }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} did not become ready: ${stderr}`)), opts.readyTimeoutMs ?? 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (lines.length === 1) {
          clearTimeout(t);
          try {
            resolve(JSON.parse(line) as Record<string, unknown>);
          } catch {
            reject(new Error(`not JSON: ${line}`));
          }
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${script} exited with ${code}: ${stderr}`));
    });
  });
  return { child, first, lines };
}

export async function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** The ERP simulator as a child process (dist/simulators/erp/main.js). */
export async function spawnErp(args: string[] = []): Promise<{ child: ChildProcess; url: string; port: number; stop: () => Promise<void> }> {
  const { child, first } = await spawnNode('simulators/erp/main.js', ['--port', '0', ...args]);
  return { child, url: String(first.url), port: Number(first.port), stop: () => killChild(child, 'SIGTERM') };
}

/**
 * Our own mosquitto on a free port (never the system one). `persistence: true` keeps sessions and
 * queued QoS 1 messages across a graceful restart (saved on SIGTERM) — like a plant broker.
 */
export class Mosquitto {
  static available(): boolean {
    return existsSync(MOSQUITTO);
  }
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'lg-mosq-'));
  port = 0;
  constructor(private readonly opts: { persistence?: boolean } = {}) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const conf = join(this.dir, 'mosquitto.conf');
    // Started as root, mosquitto drops to the `mosquitto` user and then cannot write its persistence
    // file into our 0700 temp dir (it logs "Permission denied" and loses every session on restart).
    chmodSync(this.dir, 0o777);
    writeFileSync(
      conf,
      [
        `listener ${this.port} 127.0.0.1`,
        'allow_anonymous true',
        `persistence ${this.opts.persistence ? 'true' : 'false'}`,
        `persistence_location ${this.dir}/`,
        'max_queued_messages 0',
        'max_inflight_messages 0',
        'log_dest none',
      ].join('\n') + '\n',
    );
    const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    // Ready when the port accepts connections.
    await waitUntil(
      () =>
        new Promise<boolean>((resolve) => {
          const s = connect(this.port, '127.0.0.1');
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        }),
      10_000,
      'mosquitto to listen',
      50,
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c) await killChild(c, signal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}


/**
 * aedes in-process on a fixed port, restartable. aedes keeps sessions in memory, so a restart loses
 * them (like a broker without persistence); arrivals are therefore observed at the broker itself (its
 * 'publish' event for client publishes: what it took responsibility for), across restarts.
 */
export class AedesBroker {
  port = 0;
  /** CloudEvent ids in first-arrival order, and the count of every arrival. */
  readonly arrivals: Array<{ id: string; lgseq: number; subject: string | undefined; topic: string }> = [];
  readonly seen = new Map<string, number>();
  private broker: import('aedes').Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker();
    broker.on('publish', (packet, client) => {
      if (!client) return; // $SYS and will messages
      try {
        const ev = JSON.parse(packet.payload.toString()) as { id: string; lgseq: number; subject?: string };
        const n = this.seen.get(ev.id) ?? 0;
        this.seen.set(ev.id, n + 1);
        if (n === 0) this.arrivals.push({ id: ev.id, lgseq: ev.lgseq, subject: ev.subject, topic: packet.topic });
      } catch {
        /* not ours */
      }
    });
    const server = createServer(broker.handle as (s: import('node:net').Socket) => void);
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.broker = broker;
    this.server = server;
  }

  async stop(): Promise<void> {
    const { server, broker } = this;
    this.server = undefined;
    this.broker = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  duplicates(): number {
    let d = 0;
    for (const n of this.seen.values()) d += n - 1;
    return d;
  }
}

/** Per-batch first-arrival order check: number of arrivals whose seq is below an earlier one of the same batch. */
export function orderViolations(arrivals: Array<{ lgseq: number; subject: string | undefined }>): number {
  const last = new Map<string, number>();
  let v = 0;
  for (const a of arrivals) {
    if (a.subject === undefined) continue;
    const prev = last.get(a.subject) ?? 0;
    if (a.lgseq < prev) v++;
    else last.set(a.subject, a.lgseq);
  }
  return v;
}
