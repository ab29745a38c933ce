/**
 * Release checks and reconciliation for a batch with 10,000 records (issue 13): p50/p99 of
 * `batchChecks(…, 'release')` (BOM, production, label jobs, overrides, deviations, QC, every
 * exception of the batch record) and of `reconcile()`, read from a real SQLite journal. The peer,
 * measured in the same run, is the bare cost of reading every record of the batch once
 * (`SELECT * FROM records WHERE batch = ?`): the ratio says how much the checks cost on top.
 * Target: p99 ≤ 200 ms.
 *
 *   npm run build && node dist/bench/release-checks.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/db.js';
import { Journal } from '../src/store/journal.js';
import { Repo } from '../src/store/repo.js';
import { batchChecks } from '../src/store/batch-checks.js';
import { reconcile } from '../src/store/batch-review.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function benchReleaseChecks(opts: { records?: number; rounds?: number } = {}): Promise<Record<string, number>> {
  const n = opts.records ?? 10_000;
  const rounds = opts.rounds ?? 50;
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-rel-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'NORMAL' });
  try {
    const journal = new Journal(db, { site: 'S', line: 'L1', sinks: [] });
    const now = new Date().toISOString();
    db.prepare(`INSERT INTO materials (code, name, unit, tracking, created_at, updated_at) VALUES ('RM-1', 'Sugar', 'kg', 'lot', ?, ?)`).run(now, now);
    db.prepare(`INSERT INTO lots (id, material, status, quantity, unit, created_at, updated_at) VALUES ('L-1', 'RM-1', 'released', '100000', 'kg', ?, ?)`).run(now, now);
    db.prepare(`INSERT INTO batches (number, product, planned_qty, unit, line, status, produced_qty, created_at, updated_at, started_at) VALUES ('B-1', 'P', '1000', 'pcs', 'L1', 'completed', '990', ?, ?, ?)`).run(now, now, now);
    db.prepare(`INSERT INTO batch_bom (batch, material, quantity, unit, tolerance_pct) VALUES ('B-1', 'RM-1', '5000', 'kg', '5')`).run();
    // 10,000 records of one batch: consumptions (with their allocation rows), refused scans, counters.
    await journal.submit((tx) => {
      for (let i = 0; i < n; i++) {
        const kind = i % 10;
        if (kind < 5) {
          const r = tx.append({ type: 'material.consumed', status: 'accepted', batch: 'B-1', lot: 'L-1', station: 'WEIGH-1', payload: { material: 'RM-1', quantity: '1.000' } });
          db.prepare(`INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, 'B-1', 'L-1', 'RM-1', '1.000', 'kg', ?)`).run(r.seq, now);
        } else if (kind === 5) {
          tx.append({ type: 'lot.scanned', status: 'rejected', errorCode: 'LG_ERR_LOT_ON_HOLD', batch: 'B-1', lot: 'L-1', station: 'WEIGH-1', payload: {} });
        } else {
          tx.append({ type: 'counter.updated', status: 'accepted', batch: 'B-1', station: 'FILL-1', payload: { delta: 1 } });
        }
      }
    });
    const repo = new Repo(db);
    const time = (fn: () => unknown): number[] => {
      const out: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        fn();
        out.push(performance.now() - t0);
      }
      return out;
    };
    time(() => batchChecks(repo, 'B-1', 'release')); // warm-up
    const peer = time(() => db.prepare('SELECT * FROM records WHERE batch = ?').all('B-1'));
    const checks = time(() => batchChecks(repo, 'B-1', 'release'));
    const rec = time(() => reconcile(db, 'B-1'));
    return {
      release_checks_records: n,
      release_checks_p50_ms: Number(pct(checks, 50).toFixed(1)),
      release_checks_p99_ms: Number(pct(checks, 99).toFixed(1)),
      reconciliation_p50_ms: Number(pct(rec, 50).toFixed(1)),
      reconciliation_p99_ms: Number(pct(rec, 99).toFixed(1)),
      read_all_records_p50_ms: Number(pct(peer, 50).toFixed(1)),
      release_checks_ratio_vs_read_all: Number((pct(checks, 50) / pct(peer, 50)).toFixed(2)),
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchReleaseChecks();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(44)} ${v}`);
}
