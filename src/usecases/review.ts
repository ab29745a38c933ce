/**
 * Review by exception, reconciliation and stock counts (issue 13; SOP 5.4, 7).
 *
 * - `exceptions(batch)` lists everything QA must look at (src/store/batch-review.ts); QA
 *   acknowledges each with a comment (`acknowledge`, one record and audit entry per call), and
 *   the release check refuses a batch with an exception not acknowledged.
 * - `reconciliation(batch)`: per BOM line planned / consumed by lot (net of corrections) /
 *   difference / within tolerance; produced good and rejected; yield against its limits; labels
 *   printed = applied + destroyed, with what is unaccounted or still open.
 * - Stock counts of a lot: counted vs system with the variance and a reason, applied to the lot's
 *   quantity only when a second person (supervisor, QA, admin — not the counter) approves it, and
 *   only if the system quantity did not move since the count (else: count again).
 */
import type { JournalRecord } from '../binding/types.js';
import type { Role } from '../domain/batch.js';
import { canonical, isDecimalString, sub, toString as decToString } from '../domain/decimal.js';
import { LgError } from '../errors.js';
import { batchExceptions, reconcile, type BatchException, type Reconciliation, type YieldLimits } from '../store/batch-review.js';
import type { Db } from '../store/db.js';
import type { Journal } from '../store/journal.js';
import type { Clock } from '../util/clock.js';

const APPROVERS: readonly Role[] = ['supervisor', 'qa', 'admin'];

export interface StockCountView {
  id: string;
  lot: string;
  counted: string;
  system: string;
  variance: string;
  unit: string;
  reason: string;
  countedBy: string;
  countedAt: string;
  state: 'pending' | 'approved' | 'rejected';
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
}

export class Review {
  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly clock: Clock,
    private readonly limits: YieldLimits,
  ) {}

  exceptions(batch: string): BatchException[] {
    if (!this.db.prepare('SELECT 1 FROM batches WHERE number = ?').get(batch)) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch });
    return batchExceptions(this.db, batch, { limits: this.limits, now: this.clock.now() });
  }

  reconciliation(batch: string): Reconciliation {
    const r = reconcile(this.db, batch, this.limits);
    if (!r) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch });
    return r;
  }

  /** QA acknowledges exceptions of a batch (by key, or all open ones with `all`), each with the comment. */
  async acknowledge(batch: string, keys: string[] | 'all', comment: string, by: { id: string; role: Role }): Promise<{ acknowledged: string[]; record: JournalRecord | null }> {
    if (by.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'acknowledge the exceptions of a batch record', allowed: 'qa' });
    if (!comment.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'acknowledge an exception (a comment)' });
    return this.journal.submit((tx) => {
      const all = batchExceptions(this.db, batch, { limits: this.limits, now: tx.now });
      const byKey = new Map(all.map((e) => [e.key, e]));
      const chosen = keys === 'all' ? all.filter((e) => !e.acknowledged) : keys.map((k) => byKey.get(k) ?? k);
      for (const e of chosen) {
        if (typeof e === 'string') throw new LgError('LG_ERR_EXCEPTION_NOT_FOUND', { batch, key: e });
        if (e.acknowledged) throw new LgError('LG_ERR_EXCEPTION_ACKNOWLEDGED', { batch, key: e.key, by: e.acknowledged.by });
      }
      const list = chosen as BatchException[];
      // "all" with nothing open is a no-op (nothing recorded); an empty explicit list is a mistake.
      if (list.length === 0 && keys === 'all') return { acknowledged: [], record: null };
      if (list.length === 0) throw new LgError('LG_ERR_VALIDATION', { detail: 'no exception to acknowledge' });
      const record = tx.append({
        type: 'batch.exceptions_acknowledged',
        status: 'accepted',
        batch,
        operator: by.id,
        payload: { comment: comment.trim(), exceptions: list.map((e) => ({ key: e.key, kind: e.kind, summary: e.summary })) },
      });
      const ins = this.db.prepare('INSERT INTO exception_acks (batch, key, kind, comment, acknowledged_by, acknowledged_at, record_seq) VALUES (?,?,?,?,?,?,?)');
      for (const e of list) ins.run(batch, e.key, e.kind, comment.trim(), by.id, tx.now.toISOString(), record.seq);
      tx.audit({ actor: by.id, action: 'batch.exceptions_acknowledged', entity: 'batch', entityId: batch, reason: comment.trim(), new: { keys: list.map((e) => e.key), record: record.id } });
      return { acknowledged: list.map((e) => e.key), record };
    });
  }

  // ── stock counts ────────────────────────────────────────────────────────────

  async count(lot: string, counted: string, reason: string, by: { id: string; role: Role }): Promise<{ count: StockCountView; record: JournalRecord }> {
    if (!isDecimalString(counted) || counted.trim().startsWith('-')) throw new LgError('LG_ERR_VALIDATION', { detail: 'counted must be a non-negative decimal string' });
    if (!reason.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'record a stock count' });
    return this.journal.submit((tx) => {
      const l = this.db.prepare('SELECT id, quantity, unit FROM lots WHERE id = ?').get(lot) as { id: string; quantity: string; unit: string } | undefined;
      if (!l) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot });
      const id = `SC-${tx.now.getTime().toString(36)}-${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
      const c = canonical(counted);
      const variance = decToString(sub(c, l.quantity));
      const record = tx.append({ type: 'lot.stock_counted', status: 'accepted', lot, operator: by.id, payload: { id, counted: c, system: l.quantity, variance, unit: l.unit, reason: reason.trim() } });
      this.db
        .prepare(`INSERT INTO stock_counts (id, lot, counted, system, variance, unit, reason, counted_by, counted_at, state, record_seq) VALUES (?,?,?,?,?,?,?,?,?,'pending',?)`)
        .run(id, lot, c, l.quantity, variance, l.unit, reason.trim(), by.id, tx.now.toISOString(), record.seq);
      tx.audit({ actor: by.id, action: 'lot.stock_counted', entity: 'lot', entityId: lot, reason: reason.trim(), new: { id, counted: c, system: l.quantity, variance } });
      return { count: this.countView(id)!, record };
    });
  }

  async decide(id: string, decision: 'approved' | 'rejected', note: string, by: { id: string; role: Role }): Promise<{ count: StockCountView; record: JournalRecord }> {
    if (!APPROVERS.includes(by.role)) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'approve a stock count', allowed: APPROVERS.join(', ') });
    if (!note.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: `${decision === 'approved' ? 'approve' : 'reject'} a stock count` });
    return this.journal.submit((tx) => {
      const c = this.countView(id);
      if (!c) throw new LgError('LG_ERR_STOCK_COUNT_INVALID', { id, detail: 'no such stock count' });
      if (c.state !== 'pending') throw new LgError('LG_ERR_STOCK_COUNT_INVALID', { id, detail: `it is already ${c.state}` });
      if (c.countedBy === by.id) throw new LgError('LG_ERR_STOCK_COUNT_INVALID', { id, detail: 'the person who counted cannot approve their own count' });
      const l = this.db.prepare('SELECT quantity FROM lots WHERE id = ?').get(c.lot) as { quantity: string };
      if (decision === 'approved' && l.quantity !== c.system) {
        throw new LgError('LG_ERR_STOCK_COUNT_INVALID', { id, detail: `the system quantity moved since the count (${c.system} → ${l.quantity} ${c.unit}): count again` });
      }
      const now = tx.now.toISOString();
      this.db.prepare('UPDATE stock_counts SET state = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ?').run(decision, by.id, now, note.trim(), id);
      if (decision === 'approved') {
        this.db.prepare('UPDATE lots SET quantity = ?, updated_at = ? WHERE id = ?').run(c.counted, now, c.lot);
        tx.audit({ actor: by.id, action: 'lot.quantity_counted', entity: 'lot', entityId: c.lot, reason: `stock count ${id} (${c.reason}) approved: ${note.trim()}`, old: { quantity: c.system }, new: { quantity: c.counted, variance: c.variance, countedBy: c.countedBy } });
      } else {
        tx.audit({ actor: by.id, action: 'lot.stock_count_rejected', entity: 'lot', entityId: c.lot, reason: note.trim(), new: { id } });
      }
      const record = tx.append({
        type: decision === 'approved' ? 'lot.stock_count_approved' : 'lot.stock_count_rejected',
        status: 'accepted',
        lot: c.lot,
        operator: by.id,
        payload: { id, counted: c.counted, system: c.system, variance: c.variance, unit: c.unit, countedBy: c.countedBy, note: note.trim() },
      });
      return { count: this.countView(id)!, record };
    });
  }

  counts(lot: string): StockCountView[] {
    return (this.db.prepare('SELECT id FROM stock_counts WHERE lot = ? ORDER BY counted_at, id').all(lot) as Array<{ id: string }>).map((r) => this.countView(r.id)!);
  }

  private countView(id: string): StockCountView | null {
    const r = this.db.prepare('SELECT * FROM stock_counts WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    if (!r) return null;
    const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
    return {
      id: String(r.id), lot: String(r.lot), counted: String(r.counted), system: String(r.system), variance: String(r.variance), unit: String(r.unit), reason: String(r.reason),
      countedBy: String(r.counted_by), countedAt: String(r.counted_at), state: r.state as StockCountView['state'], decidedBy: s(r.decided_by), decidedAt: s(r.decided_at), decisionNote: s(r.decision_note),
    };
  }
}
