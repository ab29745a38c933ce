/**
 * Retention: records delivered to every sink and older than the configured period may be purged.
 * Never purged: a record with any outbox row not 'delivered' (pending or quarantined — the schema's
 * delete trigger enforces this too), a record that was never owed to any sink (no outbox row: with no
 * sink configured the journal is the only copy), and a record another table still points at (e.g. the
 * consumptions of a batch's genealogy) — found from the schema's foreign keys, so new tables that
 * reference records are respected without changing this file.
 *
 * The batch record is kept, whatever its delivery state (issue 10.8). A record that belongs to a
 * batch (its `batch` column: status changes with their QA signature, overrides and their reviews,
 * consumptions, scans — refused ones too —, labels, production entries, corrections, deviations…)
 * is kept until the batch's horizon: `batchRecordYears` (default 5) past the batch's last expiry
 * (the latest expiry of the lots it produced and of its labels), or past its completion (release,
 * rejection) when it has none. A batch that is not released or rejected has no horizon yet: all
 * of its records are kept. A record of a lot without a batch (lot.created, lot.status_changed — the
 * QC decision on a raw material) is kept until the latest horizon of the batches that consumed or
 * produced the lot, and at least `batchRecordYears` past the lot's own expiry (or creation).
 * Genealogy links live in tables retention never touches (consumptions, lots.produced_by, labels).
 *
 * Only high-volume telemetry may go as soon as `deliveredDays` allows: TELEMETRY_TYPES below. What
 * that list leaves out is kept by default, so a new record type is part of the batch record until
 * someone decides otherwise here.
 */
import type { Db } from '../store/db.js';
import type { RetentionConfig } from '../config/upstream.js';

export interface PurgeOptions {
  /** Purge records received before this instant. */
  before: Date;
  /** Rows deleted per transaction (default 1000), so the journal writer is never blocked long. */
  chunk?: number;
  /** Stop after this many (default: no limit). */
  limit?: number;
  /** Batch-record retention in years past the batch's expiry or completion (default 5). */
  batchRecordYears?: number;
  /** The present, for the batch-record horizon (default: the wall clock). */
  now?: Date;
}

/** Default batch-record retention (years past expiry, or completion without one). */
export const DEFAULT_BATCH_RECORD_YEARS = 5;

/**
 * Record types that are telemetry, not batch record: purged like any delivered record after
 * `deliveredDays`, even inside a batch. Decided (issue 10.8):
 * - counter.updated: one per counter sample; what it adds is in the batch's produced quantity, and a
 *   counter.discontinuity (kept) is what QA needs to see;
 * - machine.state_changed / state_confirmed / speed_changed / value_changed / unit_mode_changed /
 *   reading_rejected: the PackML stream (the link gaps machine.link_lost/restored and stop reasons
 *   are kept). After purge, `GET /batches/:n/machine-states` of that batch has no data;
 * - weight.captured: a weight that consumed nothing (packing case weights, whose label keeps the
 *   net weight; consumptions are material.consumed and kept);
 * - scan.duplicate: the repeat of a scan already recorded.
 */
export const TELEMETRY_TYPES: readonly string[] = [
  'counter.updated',
  'machine.state_changed',
  'machine.state_confirmed',
  'machine.speed_changed',
  'machine.value_changed',
  'machine.unit_mode_changed',
  'machine.reading_rejected',
  'weight.captured',
  'scan.duplicate',
];

const ISO = `'%Y-%m-%dT%H:%M:%fZ'`;
const FOREVER = '9999-12-31T23:59:59.999Z';

/**
 * Horizons per batch and per lot, computed once per purge into temp tables (connection-local).
 * A batch created while the purge runs has no row and falls back to received_at + years.
 */
function computeHorizons(db: Db, years: number): void {
  const plus = `'+${years} years'`;
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS lg_batch_horizon (batch TEXT PRIMARY KEY, until TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS lg_lot_horizon (lot TEXT PRIMARY KEY, until TEXT NOT NULL) WITHOUT ROWID;
    DELETE FROM lg_batch_horizon;
    DELETE FROM lg_lot_horizon;
    INSERT INTO lg_batch_horizon (batch, until)
    SELECT b.number,
      CASE WHEN b.status IN ('released', 'rejected') THEN
        strftime(${ISO}, (
          SELECT MAX(t) FROM (
            SELECT strftime(${ISO}, x.e, '+1 day') AS t FROM (
              SELECT expiry AS e FROM lots WHERE produced_by = b.number AND expiry IS NOT NULL
              UNION ALL SELECT json_extract(fields, '$.expiry') FROM labels WHERE batch = b.number AND json_extract(fields, '$.expiry') IS NOT NULL
            ) x
            UNION ALL SELECT strftime(${ISO}, COALESCE(b.completed_at, b.released_at, b.updated_at))
          ) WHERE t IS NOT NULL
        ), ${plus})
      ELSE '${FOREVER}' END
    FROM batches b;
    INSERT INTO lg_lot_horizon (lot, until)
    SELECT l.id, (
      SELECT MAX(u) FROM (
        SELECT h.until AS u FROM consumptions c JOIN lg_batch_horizon h ON h.batch = c.batch WHERE c.lot = l.id
        UNION ALL SELECT h.until FROM lg_batch_horizon h WHERE h.batch = l.produced_by
        UNION ALL SELECT strftime(${ISO}, COALESCE(strftime(${ISO}, l.expiry, '+1 day'), l.created_at), ${plus})
      ) WHERE u IS NOT NULL
    )
    FROM lots l;
  `);
}

function referencingClauses(db: Db): string[] {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string }>;
  const clauses: string[] = [];
  for (const { name } of tables) {
    if (name === 'outbox' || name === 'records') continue;
    const fks = db.prepare(`SELECT "table" AS target, "from" AS col, "to" AS ref FROM pragma_foreign_key_list(?)`).all(name) as Array<{ target: string; col: string; ref: string | null }>;
    for (const fk of fks) {
      if (fk.target !== 'records') continue;
      const ref = fk.ref ?? 'seq';
      clauses.push(`NOT EXISTS (SELECT 1 FROM "${name}" x WHERE x."${fk.col}" = r."${ref}")`);
    }
  }
  return clauses;
}

/** Delete old fully delivered records (their outbox rows cascade). Returns how many were deleted. */
export function purgeDelivered(db: Db, opts: PurgeOptions): number {
  const chunk = opts.chunk ?? 1000;
  const years = opts.batchRecordYears ?? DEFAULT_BATCH_RECORD_YEARS;
  if (!Number.isInteger(years) || years < 1) throw new RangeError(`batchRecordYears must be a whole number of years ≥ 1 (got ${years})`);
  const refs = referencingClauses(db);
  computeHorizons(db, years);
  try {
    const select = db.prepare(
      `SELECT r.seq FROM records r
       WHERE r.seq > @after AND r.received_at < @cutoff
         AND EXISTS (SELECT 1 FROM outbox o WHERE o.seq = r.seq)
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = r.seq AND o.state <> 'delivered')
         ${refs.map((c) => `AND ${c}`).join('\n         ')}
         AND (
           r.type IN (${TELEMETRY_TYPES.map((t) => `'${t}'`).join(', ')})
           OR (r.batch IS NULL AND r.lot IS NULL)
           OR COALESCE(
                CASE WHEN r.batch IS NOT NULL THEN (SELECT h.until FROM lg_batch_horizon h WHERE h.batch = r.batch)
                     ELSE (SELECT h.until FROM lg_lot_horizon h WHERE h.lot = r.lot) END,
                strftime(${ISO}, r.received_at, '+${years} years')
              ) <= @now
         )
       ORDER BY r.seq LIMIT @want`,
    );
    const del = db.prepare(`DELETE FROM records WHERE seq = ?`);
    const cutoff = opts.before.toISOString();
    const now = (opts.now ?? new Date()).toISOString();
    let total = 0;
    // A cursor: the kept records before the last purged one are not scanned again per chunk (a
    // journal holding years of batch records would otherwise be re-read once per chunk).
    let after = 0;
    for (;;) {
      const want = opts.limit === undefined ? chunk : Math.min(chunk, opts.limit - total);
      if (want <= 0) break;
      const n = db.transaction(() => {
        const seqs = select.all({ after, cutoff, now, want }) as Array<{ seq: number }>;
        for (const s of seqs) del.run(s.seq);
        if (seqs.length) after = seqs[seqs.length - 1]!.seq;
        return seqs.length;
      })();
      total += n;
      if (n < want) break;
    }
    return total;
  } finally {
    db.exec('DROP TABLE IF EXISTS temp.lg_batch_horizon; DROP TABLE IF EXISTS temp.lg_lot_horizon;');
  }
}

/** Apply the configured retention (no-op without one). */
export function applyRetention(db: Db, retention: RetentionConfig | undefined, now: Date = new Date()): number {
  if (!retention) return 0;
  return purgeDelivered(db, { before: new Date(now.getTime() - retention.deliveredDays * 86_400_000), batchRecordYears: retention.batchRecordYears, now });
}
