/**
 * Shared by the upstream benches and tests (compiled into dist/bench, unlike test/): seed the journal
 * directly, spawn the ERP simulator and our own mosquitto as child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../src/store/db.js';
import { uuidv7 } from '../src/util/ids.js';

export interface SeedOptions {
  sinks: string[];
  /** Number of distinct production batches the records are spread over (round robin in runs). */
  batches?: number;
  /** Records per run of one batch before moving to the next (default 7). */
  run?: number;
  site?: string;
  line?: string;
  types?: string[];
  /** Padding bytes in each payload. */
  payloadBytes?: number;
}

/** Insert n records and their outbox rows straight into the journal tables (fast, 5,000 per transaction). */
export function seedRecords(db: Db, n: number, opts: SeedOptions): Array<{ seq: number; id: string; batch: string }> {
  const insR = db.prepare(
    `INSERT INTO records (id,type,status,site,line,station,batch,lot,operator,device,payload,source_time,received_at,clock_synced)
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1)`,
  );
  const insO = db.prepare(`INSERT INTO outbox (sink, seq) VALUES (?, ?)`);
  const batches = opts.batches ?? 3;
  const run = opts.run ?? 7;
  const types = opts.types ?? ['lot.scanned', 'material.consumed', 'case.weighed'];
  const pad = 'x'.repeat(opts.payloadBytes ?? 64);
  const out: Array<{ seq: number; id: string; batch: string }> = [];
  const chunk = 5000;
  for (let start = 0; start < n; start += chunk) {
    db.transaction(() => {
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        const id = uuidv7();
        const batch = `B${String(Math.floor(i / run) % batches).padStart(3, '0')}`;
        const now = new Date().toISOString();
        const info = insR.run(
          id, types[i % types.length]!, 'accepted', opts.site ?? 'plant1', opts.line ?? 'line1', 'pack', batch, `LOT${i % 11}`, 'op1', 'scanner1',
          JSON.stringify({ i, pad }), now, now,
        );
        const seq = Number(info.lastInsertRowid);
        for (const s of opts.sinks) insO.run(s, seq);
        out.push({ seq, id, batch });
      }
    })();
  }
  return out;
}

export function deliveredCount(db: Db, sink: string): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE sink = ? AND state = 'delivered'`).get(sink) as { n: number }).n;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The compiled ERP simulator next to this file in dist/. */
export const ERP_MAIN = fileURLToPath(new URL('../simulators/erp/main.js', import.meta.url));

export async function spawnErpChild(args: string[]): Promise<{ child: ChildProcess; url: string; port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [ERP_MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { url: string; port: number });
    });
    child.once('exit', (code) => reject(new Error(`ERP simulator exited with ${code}`)));
  });
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { child, url: first.url, port: first.port, stop };
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

/** Our own mosquitto on a free port with a temp config (never the system one at 1883). */
export async function spawnMosquitto(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  if (!existsSync(MOSQUITTO)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-mosq-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nlog_dest none\n`);
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error('mosquitto did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
