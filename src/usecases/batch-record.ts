/**
 * Use cases that complete a batch record so its completion and release checks can pass
 * (issue 10.6). Each is ONE journal transaction: the change, the record that tells upstream, the
 * audit entry. (Issue 13 moves the other use cases out of ops.ts into files like this one.)
 */
import type { JournalRecord } from '../binding/types.js';
import { cmp, canonical, isDecimalString } from '../domain/decimal.js';
import { LgError } from '../errors.js';
import type { Actor } from '../ops.js';
import { loadBatchCheckInput } from '../store/batch-checks.js';
import type { Journal } from '../store/journal.js';
import type { Repo } from '../store/repo.js';

const PRODUCTION_ROLES = ['supervisor', 'admin'];

/**
 * A supervisor enters the produced quantity of a batch the machine did not count (no PLC at the
 * line, or a counter that was not mapped). Allowed once, while the batch is in process, and only
 * when no machine count went into it: otherwise the quantity would be counted twice (correcting a
 * wrong count is the reconciliation of issue 13, not a second entry).
 */
export async function enterProduction(
  journal: Journal,
  repo: Repo,
  number: string,
  input: { good: string; rejected?: string; reason: string },
  by: Actor,
): Promise<JournalRecord> {
  if (!PRODUCTION_ROLES.includes(by.role)) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'enter a produced quantity', allowed: PRODUCTION_ROLES.join(', ') });
  if (!input.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'enter a produced quantity' });
  const rejected = input.rejected ?? '0';
  if (!isDecimalString(input.good) || cmp(input.good, '0') <= 0) throw new LgError('LG_ERR_VALIDATION', { detail: 'good must be a positive decimal string' });
  if (!isDecimalString(rejected) || cmp(rejected, '0') < 0) throw new LgError('LG_ERR_VALIDATION', { detail: 'rejected must be a non-negative decimal string' });
  return journal.submit((tx) => {
    const b = repo.batch(number);
    if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
    if (b.status !== 'in_process') throw new LgError('LG_ERR_BATCH_NOT_OPEN', { batch: number, status: b.status });
    const facts = loadBatchCheckInput(repo, number);
    if (facts.production.manualEntries.length > 0) throw new LgError('LG_ERR_PRODUCTION_ALREADY_RECORDED', { batch: number, detail: `entered in record ${facts.production.manualEntries.join(', ')}` });
    if (facts.production.machineCounted || cmp(b.producedQty, '0') !== 0 || cmp(b.rejectedQty, '0') !== 0) {
      throw new LgError('LG_ERR_PRODUCTION_ALREADY_RECORDED', { batch: number, detail: `the machine counted ${b.producedQty} good, ${b.rejectedQty} rejected` });
    }
    const good = canonical(input.good);
    const rej = canonical(rejected);
    const reason = input.reason.trim();
    const rec = tx.append({
      type: 'batch.production_entered',
      status: 'accepted',
      batch: number,
      operator: by.id,
      payload: { good, rejected: rej, unit: b.unit, reason, by: by.id, role: by.role, source: 'supervisor' },
    });
    repo.applyEffects(tx, rec, [{ type: 'batch.add_produced', batch: number, good, rejected: rej }], by.id);
    tx.audit({
      actor: by.id,
      action: 'batch.production_entered',
      entity: 'batch',
      entityId: number,
      reason,
      old: { producedQty: b.producedQty, rejectedQty: b.rejectedQty },
      new: { producedQty: good, rejectedQty: rej, record: rec.id },
    });
    return rec;
  });
}

/**
 * QA reviews a supervisor's override of a refused lot in this batch, with a comment — what release
 * needs for every override. Only QA, never the person who granted the override, once per override.
 * (A review acknowledges; if QA disagrees, the batch is held or rejected, as any QA decision.)
 */
export async function reviewOverride(journal: Journal, repo: Repo, number: string, overrideId: string, comment: string, by: Actor): Promise<JournalRecord> {
  if (by.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'review an override', allowed: 'qa' });
  if (!comment?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'review an override' });
  return journal.submit((tx) => {
    const b = repo.batch(number);
    if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
    const o = repo.record(overrideId);
    if (!o) throw new LgError('LG_ERR_RECORD_NOT_FOUND', { id: overrideId });
    if (o.type !== 'lot.override' || o.status !== 'accepted') throw new LgError('LG_ERR_OVERRIDE_REVIEW_INVALID', { id: overrideId, detail: `record is ${o.type}, not a lot.override` });
    if (o.batch !== number) throw new LgError('LG_ERR_OVERRIDE_REVIEW_INVALID', { id: overrideId, detail: `it belongs to batch ${o.batch ?? 'none'}, not ${number}` });
    if (b.status === 'released' || b.status === 'rejected') throw new LgError('LG_ERR_OVERRIDE_REVIEW_INVALID', { id: overrideId, detail: `batch ${number} is ${b.status}` });
    const facts = loadBatchCheckInput(repo, number);
    const ov = facts.overrides.find((x) => x.id === o.id);
    if (ov?.reviewedBy) throw new LgError('LG_ERR_OVERRIDE_REVIEW_INVALID', { id: overrideId, detail: `it was already reviewed (record ${ov.reviewedBy})` });
    if (ov?.by === by.id) throw new LgError('LG_ERR_OVERRIDE_REVIEW_INVALID', { id: overrideId, detail: 'the person who granted an override cannot review it' });
    const text = comment.trim();
    const rec = tx.append({
      type: 'lot.override_reviewed',
      status: 'accepted',
      station: o.station,
      batch: number,
      lot: o.lot,
      operator: by.id,
      payload: { override: o.id, overrides: o.payload.overrides ?? null, overriddenCode: o.payload.overriddenCode ?? null, grantedBy: o.payload.by ?? null, comment: text, by: by.id, role: by.role },
    });
    tx.audit({ actor: by.id, action: 'override.reviewed', entity: 'record', entityId: o.id, reason: text, old: { reviewed: false }, new: { reviewed: true, record: rec.id } });
    return rec;
  });
}
