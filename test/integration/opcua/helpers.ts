import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { opcuaMachineKind } from '../../../src/drivers/opcua/index.js';
import type { OpcuaMachineDriver } from '../../../src/drivers/opcua/index.js';
import type { OpcuaMachineConfig } from '../../../src/config/devices/opcua-machine.js';
import type { MachineReading } from '../../../src/drivers/driver.js';
import { silentLogger } from '../../../src/util/log.js';
import type { Clock } from '../../../src/util/clock.js';
import { MachineModel } from '../../unit/opcua/machine-model.js';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { Repo } from '../../../src/store/repo.js';
import { bindMachine } from '../../../src/binding/machine.js';
import type { StationContext } from '../../../src/binding/types.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const DEVICES = join(ROOT, 'devices');

export function machineConfig(endpoint: string, over: Partial<OpcuaMachineConfig> = {}): OpcuaMachineConfig {
  return {
    kind: 'opcua-machine',
    id: 'line1.fill1.plc',
    station: 'FILL-1',
    endpoint,
    securityMode: 'None',
    securityPolicy: 'None',
    auth: { type: 'anonymous' },
    nodeMap: 'packml-generic',
    samplingIntervalMs: 0,
    publishingIntervalMs: 50,
    maxClockSkewMs: 2000,
    staleAfterMs: 3000,
    ...over,
  };
}

/** A driver wired to an in-memory model through bindMachine, recording every reading. */
export function harness(config: OpcuaMachineConfig, stateDir: string, clock?: Clock): { driver: OpcuaMachineDriver; readings: MachineReading[]; model: MachineModel } {
  const driver = opcuaMachineKind.create(config, { logger: silentLogger(), stateDir, devicesDir: DEVICES, ...(clock ? { clock } : {}) });
  const model = new MachineModel();
  const readings: MachineReading[] = [];
  driver.on('reading', (r: MachineReading) => {
    readings.push(r);
    model.bind(r);
  });
  return { driver, readings, model };
}

/** The simulator as a child process (from dist/, built by the global setup), driven over stdin. */
export class SimProcess {
  child: ChildProcess | null = null;
  endpoint = '';
  private waiters: { re: RegExp; resolve: (l: string) => void }[] = [];

  async start(args: string[]): Promise<string> {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'simulators', 'opcua-line', 'main.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (l) => {
      for (const w of [...this.waiters]) {
        if (w.re.test(l)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    });
    child.stderr!.resume();
    const ready = await this.expect(/^ready /, 30_000);
    this.endpoint = ready.slice('ready '.length).trim();
    return this.endpoint;
  }

  expect(re: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`simulator did not print ${re}`)), timeoutMs);
      this.waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  }

  async cmd(line: string): Promise<void> {
    const done = this.expect(new RegExp(`^(ok|error) `));
    this.child!.stdin!.write(`${line}\n`);
    const answer = await done;
    if (answer.startsWith('error')) throw new Error(answer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  }
}

/**
 * The real store: SQLite (openDatabase(':memory:')), the journal's group commit and the repo's
 * effect applier. Binding happens INSIDE `journal.submit`, so every reading sees the device state
 * left by the one before it even when both land in the same group transaction — binding outside
 * and appending later would read a stale counter baseline and count twice.
 */
export class StoreSink {
  readonly db: Db = openDatabase(':memory:', { synchronous: 'OFF' });
  readonly journal = new Journal(this.db, { site: 'S1', line: 'L1', sinks: [] });
  readonly repo = new Repo(this.db);
  readonly ctx: StationContext = { station: 'FILL-1', role: 'filling', batch: null, operator: null, lots: {} };
  private pending: Promise<unknown>[] = [];

  startBatch(n: string, status = 'in_process'): void {
    const now = new Date().toISOString();
    this.db
      .prepare(`INSERT INTO batches (number, product, planned_qty, unit, line, status, created_at, updated_at) VALUES (?, 'WIDGET-A', '1000', 'pcs', 'L1', ?, ?, ?)`)
      .run(n, status, now, now);
    this.ctx.batch = n;
  }

  readonly failures: unknown[] = [];

  onReading(r: MachineReading): void {
    this.pending.push(
      this.journal.submit((tx) => {
        const res = bindMachine(r, this.ctx, { site: 'S1', line: 'L1', now: tx.now, md: this.repo.masterData() }, { autoBatchTransitions: false });
        const rec = tx.append(res.record);
        // device.set_state also for rejected records (the counter baseline must move); batch
        // effects only for accepted ones.
        const effects = rec.status === 'accepted' ? res.effects : res.effects.filter((e) => e.type === 'device.set_state');
        this.repo.applyEffects(tx, rec, effects, `device:${r.deviceId}`);
      }).catch((err: unknown) => this.failures.push(err)),
    );
  }

  totals(n: string): { good: string; rejected: string } {
    const b = this.repo.batch(n);
    return { good: b?.producedQty ?? '', rejected: b?.rejectedQty ?? '' };
  }

  count(type: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM records WHERE type = ?').get(type) as { n: number }).n;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.pending);
    await this.journal.close();
    this.db.close();
  }
}
