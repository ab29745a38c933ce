/**
 * A batch's CURRENT-STATE facts as they stood at a journal cut (records up to `recordSeq`), derived
 * from the append-only records instead of the tables that hold the current state:
 *
 * - produced / rejected quantity: the sum of the accepted `counter.updated` deltas (good, rejected)
 *   and the supervisor's `batch.production_entered`, up to the cut (the same effects that moved
 *   `batches.produced_qty`);
 * - completion time: the `batch.status_changed` → completed record up to the cut;
 * - a print job's state: replayed from its job records (`label.sent`, `label.printed`,
 *   `label.unconfirmed`, `label.cancelled`, and `label.reprint_requested` out of needs_confirmation);
 * - a deviation's status: replayed from `deviation.raised` / `deviation.updated` / `deviation.closed`;
 * - the moment of the cut itself (the receive time of record `recordSeq`), which replaces "now" for
 *   rules that look at elapsed time (an in-process check overdue while the batch was still running).
 *
 * The batch record report uses these so its reconciliation and exceptions sections do not change
 * when later records arrive (src/report/data.ts). Read-only; call inside the caller's transaction.
 */
import { add, parseDec, toString as decToString } from '../domain/decimal.js';
import type { Db } from './db.js';

type Row = Record<string, unknown>;

export interface Cut {
  recordSeq: number;
}

const parse = (s: unknown): Record<string, unknown> => {
  try {
    return typeof s === 'string' ? (JSON.parse(s) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

/** The receive time of the newest record at or before the cut (null on an empty journal). */
export function cutTime(db: Db, cut: Cut): string | null {
  const r = db.prepare('SELECT received_at FROM records WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(cut.recordSeq) as { received_at: string } | undefined;
  return r ? String(r.received_at) : null;
}

/** Good and rejected quantity booked to the batch by records up to the cut. */
export function producedAt(db: Db, batch: string, cut: Cut): { good: string; rejected: string } {
  let good = parseDec('0');
  let rejected = parseDec('0');
  const rows = db
    .prepare(`SELECT type, payload FROM records WHERE batch = ? AND seq <= ? AND status = 'accepted' AND type IN ('counter.updated', 'batch.production_entered') ORDER BY seq`)
    .all(batch, cut.recordSeq) as Row[];
  for (const r of rows) {
    const p = parse(r.payload);
    if (r.type === 'batch.production_entered') {
      good = add(good, String(p.good ?? '0'));
      rejected = add(rejected, String(p.rejected ?? '0'));
    } else {
      const delta = String(p.delta ?? '0');
      if (!/^\d+$/.test(delta) || delta === '0') continue; // only positive deltas booked production
      if (p.counter === 'good') good = add(good, delta);
      else if (p.counter === 'rejected') rejected = add(rejected, delta);
    }
  }
  return { good: decToString(good), rejected: decToString(rejected) };
}

/** When the batch was completed, if that happened at or before the cut. */
export function completedAt(db: Db, batch: string, cut: Cut): string | null {
  const r = db
    .prepare(`SELECT received_at FROM records WHERE batch = ? AND seq <= ? AND type = 'batch.status_changed' AND json_extract(payload, '$.to') = 'completed' ORDER BY seq LIMIT 1`)
    .get(batch, cut.recordSeq) as { received_at: string } | undefined;
  return r ? String(r.received_at) : null;
}

export interface JobAt {
  id: string;
  labelId: string;
  state: 'queued' | 'sent' | 'confirmed' | 'failed' | 'needs_confirmation';
  attempts: number;
  reprintOf: string | null;
}

/** Every print job of the batch created at or before the cut, with its state at the cut. */
export function jobStatesAt(db: Db, batch: string, cut: Cut): Map<string, JobAt> {
  const jobs = new Map<string, JobAt>();
  for (const j of db
    .prepare(`SELECT j.id, j.label_id, j.reprint_of FROM print_jobs j JOIN labels l ON l.id = j.label_id WHERE l.batch = ? AND j.record_seq <= ? ORDER BY j.seq`)
    .all(batch, cut.recordSeq) as Row[]) {
    jobs.set(String(j.id), { id: String(j.id), labelId: String(j.label_id), state: 'queued', attempts: 0, reprintOf: j.reprint_of === null ? null : String(j.reprint_of) });
  }
  const recs = db
    .prepare(
      `SELECT type, payload FROM records WHERE batch = ? AND seq <= ?
          AND type IN ('label.sent','label.printed','label.unconfirmed','label.cancelled','label.reprint_requested') ORDER BY seq`,
    )
    .all(batch, cut.recordSeq) as Row[];
  for (const r of recs) {
    const p = parse(r.payload);
    const j = jobs.get(String(p.jobId ?? ''));
    if (!j) continue;
    const attempts = Number(p.attempts);
    if (Number.isFinite(attempts)) j.attempts = Math.max(j.attempts, attempts);
    switch (r.type) {
      case 'label.sent':
        j.state = 'sent';
        break;
      case 'label.printed':
        j.state = 'confirmed';
        break;
      case 'label.unconfirmed':
        j.state = 'needs_confirmation';
        break;
      case 'label.cancelled':
        j.state = 'failed';
        break;
      case 'label.reprint_requested':
        // "not printed, reprint" out of needs_confirmation fails the old job; a reprint of a printed label does not
        if (j.state === 'needs_confirmation') j.state = 'failed';
        break;
    }
  }
  return jobs;
}

/** Each deviation of the batch raised at or before the cut, with its status at the cut. */
export function deviationStatusAt(db: Db, batch: string, cut: Cut): Map<string, string> {
  const out = new Map<string, string>();
  const recs = db
    .prepare(`SELECT type, payload FROM records WHERE batch = ? AND seq <= ? AND type IN ('deviation.raised','deviation.updated','deviation.closed') ORDER BY seq`)
    .all(batch, cut.recordSeq) as Row[];
  for (const r of recs) {
    const p = parse(r.payload);
    const n = String(p.number ?? '');
    if (!n) continue;
    if (r.type === 'deviation.raised') out.set(n, typeof p.status === 'string' ? p.status : 'open');
    else if (!out.has(n)) continue;
    else if (r.type === 'deviation.closed') out.set(n, 'closed');
    else if (typeof p.to === 'string') out.set(n, p.to);
  }
  return out;
}
