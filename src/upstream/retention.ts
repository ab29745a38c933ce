/**
 * Retention: records delivered to every sink and older than the configured period may be purged.
 * Never purged: a record with any outbox row not 'delivered' (pending or quarantined — the schema's
 * delete trigger enforces this too), a record that was never owed to any sink (no outbox row: with no
 * sink configured the journal is the only copy), and a record another table still points at (e.g. the
 * consumptions of a batch's genealogy) — found from the schema's foreign keys, so new tables that
 * reference records are respected without changing this file.
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
  const refs = referencingClauses(db);
  const select = db.prepare(
    `SELECT r.seq FROM records r
     WHERE r.received_at < ?
       AND EXISTS (SELECT 1 FROM outbox o WHERE o.seq = r.seq)
       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = r.seq AND o.state <> 'delivered')
       ${refs.map((c) => `AND ${c}`).join('\n       ')}
     ORDER BY r.seq LIMIT ?`,
  );
  const del = db.prepare(`DELETE FROM records WHERE seq = ?`);
  const cutoff = opts.before.toISOString();
  let total = 0;
  for (;;) {
    const want = opts.limit === undefined ? chunk : Math.min(chunk, opts.limit - total);
    if (want <= 0) break;
    const n = db.transaction(() => {
      const seqs = select.all(cutoff, want) as Array<{ seq: number }>;
      for (const s of seqs) del.run(s.seq);
      return seqs.length;
    })();
    total += n;
    if (n < want) break;
  }
  return total;
}

/** Apply the configured retention (no-op without one). */
export function applyRetention(db: Db, retention: RetentionConfig | undefined, now: Date = new Date()): number {
  if (!retention) return 0;
  return purgeDelivered(db, { before: new Date(now.getTime() - retention.deliveredDays * 86_400_000) });
}
