/**
 * Forward trace to customers (issue 15): p50/p99 latency of "which customers received product made
 * from supplier lot X" at 10k / 100k / 1M records (consumptions + cases on pallets), with up to 100k
 * lots and 10k deliveries. Figures only, nothing asserted; target p99 ≤ 50 ms at 1M.
 * Also the recall action at 100k lots (the 1M-record database): QA's signed `POST /recalls` use case
 * (src/usecases/recalls.ts) for supplier lots, end to end (signature check, the trace, every hold and
 * record, one journal transaction, the signature), as p50/p99 and as a ratio to its peer in the same
 * run: the read-only trace of the same supplier lots (what the recall adds on top of answering the
 * question), and the signature check alone (argon2id, deliberately slow).
 *   npx tsc -p tsconfig.build.json && node dist/bench/trace-customers.js
 * Rows are written straight into the tables (foreign keys off on this bench database only: the
 * consumptions' journal records are not generated), the query runs through the production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/db.js';
import { Repo } from '../src/store/repo.js';
import { Exports, traceCustomers } from '../src/usecases/exports.js';
import { parseConfig } from '../src/config/load.js';
import { Journal } from '../src/store/journal.js';
import { Ops } from '../src/ops.js';
import { Recalls } from '../src/usecases/recalls.js';
import { systemClock } from '../src/util/clock.js';
import { parseForBinding } from '../src/binding/parse.js';

function build(records: number, dir: string): { repo: Repo; supplierLots: string[]; close: () => void } {
  const db = openDatabase(join(dir, `trace-${records}.sqlite`), { synchronous: 'OFF' } as never);
  db.pragma('foreign_keys = OFF');
  const now = '2026-01-01T00:00:00.000Z';
  const lots = Math.min(100_000, Math.max(100, records / 10));
  const batches = Math.max(10, records / 100);
  const consumptions = records / 2;
  const cases = records / 2;
  const deliveries = Math.min(10_000, Math.max(10, records / 100));
  const casesPerPallet = 20;
  db.transaction(() => {
    db.prepare("INSERT INTO materials (code, name, unit, tracking, created_at, updated_at) VALUES ('RM', 'raw', 'kg', 'lot', ?, ?)").run(now, now);
    const lot = db.prepare("INSERT INTO lots (id, material, supplier, supplier_lot, status, quantity, unit, created_at, updated_at) VALUES (?, 'RM', ?, ?, 'released', '100', 'kg', ?, ?)");
    for (let i = 0; i < lots; i++) lot.run(`L${i}`, `S${i % 50}`, `SL${i}`, now, now);
    const batch = db.prepare("INSERT INTO batches (number, product, planned_qty, unit, line, status, created_at, updated_at) VALUES (?, 'FG', '10', 'pcs', 'L1', 'released', ?, ?)");
    for (let i = 0; i < batches; i++) batch.run(`B${i}`, now, now);
    // Each batch consumes ~consumptions/batches lot additions, from random lots.
    const cons = db.prepare("INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, ?, ?, 'RM', '1.000', 'kg', ?)");
    const perBatch = consumptions / batches;
    for (let i = 0; i < consumptions; i++) cons.run(i + 1, `B${Math.floor(i / perBatch)}`, `L${(i * 7919) % lots}`, now);
    db.prepare("INSERT INTO customers (id, name, gln, created_at, updated_at) VALUES ('C0', 'c', '9506000000001', ?, ?)").run(now, now);
    for (let c = 1; c < 1000; c++) db.prepare('INSERT INTO customers (id, name, gln, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(`C${c}`, 'c', '9506000000001', now, now);
    const del = db.prepare("INSERT INTO deliveries (number, customer, ship_to_gln, planned, status, created_at, updated_at) VALUES (?, ?, '9506000000001', '[]', 'shipped', ?, ?)");
    for (let i = 0; i < deliveries; i++) del.run(`D${i}`, `C${i % 1000}`, now, now);
    const pallet = db.prepare("INSERT INTO pallets (id, sscc, station, status, delivery, opened_at, opened_seq) VALUES (?, ?, 'PAL-1', 'shipped', ?, ?, 0)");
    const pc = db.prepare("INSERT INTO pallet_cases (serial, gtin, label_id, batch, pallet, packed_at, record_seq) VALUES (?, '09506000134352', ?, ?, ?, ?, 0)");
    const pallets = Math.ceil(cases / casesPerPallet);
    for (let p = 0; p < pallets; p++) pallet.run(`P${p}`, String(p).padStart(18, '0'), `D${p % deliveries}`, now);
    for (let i = 0; i < cases; i++) {
      const p = Math.floor(i / casesPerPallet);
      pc.run(`S${i}`, `lbl${i}`, `B${p % batches}`, `P${p}`, now);
    }
  })();
  db.pragma('analysis_limit = 1000');
  db.exec('ANALYZE');
  return { repo: new Repo(db), supplierLots: Array.from({ length: 200 }, (_, i) => `SL${(i * 104729) % lots}`), close: () => db.close() };
}

/** The recall action over the bench database (100k lots): each supplier lot recalled once. */
async function benchRecall(repo: Repo, supplierLots: string[], dir: string): Promise<Record<string, number>> {
  const cfg = parseConfig(`site: {id: B, name: B, timezone: UTC}\nline: {id: L1, name: L1}\nstations: [{id: S1, role: weighing}]\ndevices: []\nstorage: {stateDir: ${JSON.stringify(dir)}}\n`, 'bench.yaml', { env: {} });
  const journal = new Journal(repo.db, { site: 'B', line: 'L1', sinks: [] });
  const ops = new Ops(cfg, journal, repo, systemClock, parseForBinding);
  const admin = { id: 'bench', role: 'admin' as const };
  await ops.createUser({ id: 'qa1', name: 'QA', role: 'qa', badge: null }, admin);
  await ops.signatures.setSecret('qa1', { secret: '482915', kind: 'pin' }, { id: 'qa1', role: 'qa' });
  const recalls = new Recalls(cfg, journal, repo, ops.batches, ops.signatures, () => new Exports(repo, cfg, () => new Date()));
  const signature = { userId: 'qa1', secret: '482915', meaning: 'approved' };
  const qa = { id: 'qa1', role: 'qa' as const };
  const time = async (f: () => unknown | Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const trace: number[] = [];
  const auth: number[] = [];
  const recall: number[] = [];
  let held = 0;
  for (const l of supplierLots) trace.push(await time(() => traceCustomers(repo, { supplierLot: l })));
  for (const l of supplierLots) auth.push(await time(() => ops.signatures.authenticate(signature, 'recall.start', 'qa1')));
  for (const l of supplierLots) {
    recall.push(
      await time(async () => {
        const r = await recalls.start({ supplierLot: l, reason: 'bench', signature }, qa);
        held += r.counts.batchesHeld + r.counts.lotsHeld + r.counts.palletsHeld + r.counts.deliveriesShipped;
      }),
    );
  }
  await journal.close();
  const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)]!;
  return {
    'recall start 100k lots p50 ms': p(recall, 0.5),
    'recall start 100k lots p99 ms': p(recall, 0.99),
    'recall start objects held or listed/recall': held / supplierLots.length,
    'recall start ÷ trace customers (p50, same lots)': p(recall, 0.5) / p(trace, 0.5),
    'recall start ÷ signature check alone (p50)': p(recall, 0.5) / p(auth, 0.5),
  };
}

export async function benchTraceCustomers(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-trace-'));
  const out: Record<string, number> = {};
  try {
    for (const records of [10_000, 100_000, 1_000_000]) {
      const { repo, supplierLots, close } = build(records, dir);
      for (const l of supplierLots.slice(0, 20)) traceCustomers(repo, { supplierLot: l }); // warm up
      const ms: number[] = [];
      let customers = 0;
      for (const l of supplierLots) {
        const t0 = performance.now();
        const r = traceCustomers(repo, { supplierLot: l });
        ms.push(performance.now() - t0);
        customers += r.customers.length;
      }
      ms.sort((a, b) => a - b);
      const label = records >= 1_000_000 ? '1M' : `${records / 1000}k`;
      out[`trace customers ${label} p50 ms`] = ms[Math.floor(ms.length * 0.5)]!;
      out[`trace customers ${label} p99 ms`] = ms[Math.floor(ms.length * 0.99)]!;
      out[`trace customers ${label} customers/answer`] = customers / supplierLots.length;
      if (records === 1_000_000) Object.assign(out, await benchRecall(repo, supplierLots.slice(100, 150), dir));
      close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  benchTraceCustomers().then((r) => console.log(r));
}
