/**
 * Office trace pages (issue 14), figures only (nothing asserted):
 *  - recall page server time: `recallAnswer` (what GET /genealogy/recall answers: the forward trace
 *    to customers plus the per-lot attribution and the lot facts) and its CSV, p50/p99 over 200
 *    supplier lots, at 1M records (500k consumptions + 500k cases on pallets) and 100k lots.
 *    Peer in the same run: `traceCustomers` alone (GET /genealogy/customers, the query underneath)
 *    → the ratio says what the page adds. Target: p99 ≤ 200 ms.
 *  - genealogy picture in the browser: a running gateway, a trace of ~1,000 nodes written into its
 *    store, the real office page in Debian's chromium: time from navigation to the painted SVG, and
 *    the page's own layout (dagre) and draw times; ungrouped (every pallet a node, ~1,000 drawn) and
 *    with the default grouping. Peer: dagre's default ranker (network-simplex) on the same graph in
 *    Node. Target: ≤ 1 s.
 *   npx tsc -p tsconfig.build.json && node dist/bench/trace-pages.js
 * Rows are written straight into the tables (foreign keys off on the bench connection only), the
 * queries and the page run through the production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase, type Db } from '../src/store/db.js';
import { Repo } from '../src/store/repo.js';
import { traceCustomers } from '../src/usecases/exports.js';
import { recallAnswer, recallCsv } from '../src/report/recall.js';

/** 1M-record shape of bench/trace-customers.ts (same proportions), built here so both benches stay independent. */
function buildRecallData(db: Db, records: number): string[] {
  const now = '2026-01-01T00:00:00.000Z';
  const lots = Math.min(100_000, Math.max(100, records / 10));
  const batches = Math.max(10, records / 100);
  const consumptions = records / 2;
  const cases = records / 2;
  const deliveries = Math.min(10_000, Math.max(10, records / 100));
  const casesPerPallet = 20;
  db.pragma('foreign_keys = OFF');
  db.transaction(() => {
    db.prepare("INSERT INTO materials (code, name, unit, tracking, created_at, updated_at) VALUES ('RM', 'raw', 'kg', 'lot', ?, ?)").run(now, now);
    const lot = db.prepare("INSERT INTO lots (id, material, supplier, supplier_lot, status, quantity, unit, created_at, updated_at) VALUES (?, 'RM', ?, ?, 'released', '100', 'kg', ?, ?)");
    for (let i = 0; i < lots; i++) lot.run(`L${i}`, `S${i % 50}`, `SL${i}`, now, now);
    const batch = db.prepare("INSERT INTO batches (number, product, planned_qty, unit, line, status, created_at, updated_at) VALUES (?, 'FG', '10', 'pcs', 'L1', 'released', ?, ?)");
    for (let i = 0; i < batches; i++) batch.run(`B${i}`, now, now);
    const cons = db.prepare("INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, ?, ?, 'RM', '1.000', 'kg', ?)");
    const perBatch = consumptions / batches;
    for (let i = 0; i < consumptions; i++) cons.run(i + 1, `B${Math.floor(i / perBatch)}`, `L${(i * 7919) % lots}`, now);
    const cust = db.prepare('INSERT INTO customers (id, name, gln, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    for (let c = 0; c < 1000; c++) cust.run(`C${c}`, `Customer ${c}`, '9506000000001', now, now);
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
  return Array.from({ length: 200 }, (_, i) => `SL${(i * 104729) % lots}`);
}

const pct = (ms: number[], p: number) => [...ms].sort((a, b) => a - b)[Math.min(ms.length - 1, Math.floor(ms.length * p))]!;

export async function benchRecall(opts: { records?: number } = {}): Promise<Record<string, number>> {
  const records = opts.records ?? 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-recall-'));
  const out: Record<string, number> = {};
  try {
    const db = openDatabase(join(dir, 'recall.sqlite'), { synchronous: 'OFF' } as never);
    const t0 = performance.now();
    const supplierLots = buildRecallData(db, records);
    out['recall data build s'] = (performance.now() - t0) / 1000;
    const repo = new Repo(db);
    const now = new Date();
    for (const l of supplierLots.slice(0, 20)) (recallAnswer(repo, { supplierLot: l }, now, 'PLANT1'), traceCustomers(repo, { supplierLot: l }));
    const page: number[] = [];
    const csv: number[] = [];
    const peer: number[] = [];
    let batches = 0;
    let rows = 0;
    for (const l of supplierLots) {
      let t = performance.now();
      traceCustomers(repo, { supplierLot: l });
      peer.push(performance.now() - t);
      t = performance.now();
      const a = recallAnswer(repo, { supplierLot: l }, now, 'PLANT1');
      JSON.stringify(a);
      page.push(performance.now() - t);
      t = performance.now();
      rows += recallCsv(a).split('\r\n').length - 2;
      csv.push(performance.now() - t);
      batches += a.batches.length;
    }
    const label = records >= 1_000_000 ? '1M' : `${records / 1000}k`;
    out[`recall page ${label} p50 ms`] = pct(page, 0.5);
    out[`recall page ${label} p99 ms`] = pct(page, 0.99);
    out[`recall csv ${label} p99 ms`] = pct(csv, 0.99);
    out[`peer traceCustomers ${label} p99 ms`] = pct(peer, 0.99);
    out[`recall page / peer (p50)`] = pct(page, 0.5) / pct(peer, 0.5);
    out[`recall batches/answer`] = batches / supplierLots.length;
    out[`recall csv rows/answer`] = rows / supplierLots.length;
    out[`recall p99 / 200 ms target`] = pct(page, 0.99) / 200;
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export async function benchTracePages(): Promise<Record<string, number>> {
  const quick = process.argv.includes('--quick');
  const recall = await benchRecall({ records: quick ? 100_000 : 1_000_000 });
  const { benchGenealogyPicture } = await import('./trace-picture.js');
  return { ...recall, ...(await benchGenealogyPicture()) };
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  benchTracePages().then((r) => {
    for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(48)} ${Number.isInteger(v) ? v : v.toFixed(3)}`);
    process.exit(0);
  });
}
