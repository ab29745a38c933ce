/**
 * The facts the batch checks (domain/batch-checks.ts) decide on, read from the journal and the
 * domain tables. Synchronous: called inside the transition's transaction, so what is checked is
 * what is committed.
 */
import { evaluateBatchChecks, OPEN_PRINT_JOB_STATES, type BatchCheckInput, type BatchCheckResult, type CheckStage, type DeviationRef } from '../domain/batch-checks.js';
import { LgError } from '../errors.js';
import type { Repo } from './repo.js';
import { batchExceptions } from './batch-review.js';

type Row = Record<string, unknown>;

/**
 * What covers `material`'s out-of-tolerance consumption in `batch`: the deviations recorded for
 * that material (raised by hand, automatically for a weighing over tolerance, or by a completion
 * justification). Completion accepts any of them; release needs every deviation closed.
 */
export function deviationsFor(repo: Repo, batch: string, material: string): DeviationRef[] {
  const rows = repo.db.prepare(`SELECT number, status, title FROM deviations WHERE batch = ? AND material = ? ORDER BY number`).all(batch, material) as Row[];
  return rows.map((r) => ({ id: String(r.number), status: String(r.status), summary: String(r.title) }));
}

function openDeviations(repo: Repo, batch: string): DeviationRef[] {
  const rows = repo.db.prepare(`SELECT number, status, title FROM deviations WHERE batch = ? AND status <> 'closed' ORDER BY number`).all(batch) as Row[];
  return rows.map((r) => ({ id: String(r.number), status: String(r.status), summary: String(r.title) }));
}

function failedQc(repo: Repo, batch: string): Array<{ plan: string; inspection: string }> {
  // The newest inspection per plan of this batch; a failed one must be retaken before release.
  const rows = repo.db
    .prepare(
      `SELECT q.plan, q.id, q.verdict FROM qc_inspections q
        WHERE q.batch = ? AND q.record_seq = (SELECT MAX(record_seq) FROM qc_inspections q2 WHERE q2.batch = q.batch AND q2.plan = q.plan)
        ORDER BY q.plan`,
    )
    .all(batch) as Row[];
  return rows.filter((r) => r.verdict === 'failed').map((r) => ({ plan: String(r.plan), inspection: String(r.id) }));
}

/** `extra`: deviations not yet committed (the justifications sent with this completion). */
export function loadBatchCheckInput(repo: Repo, number: string, extra?: ReadonlyMap<string, readonly DeviationRef[]>): BatchCheckInput {
  const b = repo.batch(number);
  if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
  const db = repo.db;
  const machineCounted = !!db
    .prepare(
      `SELECT 1 FROM records WHERE batch = ? AND type = 'counter.updated' AND status = 'accepted'
         AND COALESCE(json_extract(payload, '$.delta'), '0') NOT IN ('0', 0) LIMIT 1`,
    )
    .get(number);
  const manualEntries = (db.prepare(`SELECT id FROM records WHERE batch = ? AND type = 'batch.production_entered' AND status = 'accepted' ORDER BY seq`).all(number) as Row[]).map((r) =>
    String(r.id),
  );
  const openPrintJobs = (
    db
      .prepare(
        `SELECT j.id, j.state, j.printer, j.label_id FROM print_jobs j JOIN labels l ON l.id = j.label_id
          WHERE l.batch = ? AND j.state IN (${OPEN_PRINT_JOB_STATES.map(() => '?').join(', ')}) ORDER BY j.seq`,
      )
      .all(number, ...OPEN_PRINT_JOB_STATES) as Row[]
  ).map((r) => ({ id: String(r.id), state: String(r.state), printer: String(r.printer), labelId: String(r.label_id) }));
  const reviews = new Map<string, string>();
  for (const r of db.prepare(`SELECT id, json_extract(payload, '$.override') AS ov FROM records WHERE batch = ? AND type = 'lot.override_reviewed' AND status = 'accepted'`).all(number) as Row[]) {
    if (r.ov) reviews.set(String(r.ov), String(r.id));
  }
  const overrides = (db.prepare(`SELECT id, lot, payload FROM records WHERE batch = ? AND type = 'lot.override' AND status = 'accepted' ORDER BY seq`).all(number) as Row[]).map((r) => {
    const p = JSON.parse(String(r.payload)) as Record<string, unknown>;
    return {
      id: String(r.id),
      lot: r.lot === null ? null : String(r.lot),
      material: String(p.material ?? ''),
      overriddenCode: String(p.overriddenCode ?? ''),
      by: p.by === undefined || p.by === null ? null : String(p.by),
      reviewedBy: reviews.get(String(r.id)) ?? null,
    };
  });
  return {
    batch: b.number,
    status: b.status,
    producedQty: b.producedQty,
    rejectedQty: b.rejectedQty,
    unit: b.unit,
    bom: b.bom.map((l) => ({ material: l.material, quantity: l.quantity, unit: l.unit, tolerancePct: l.tolerancePct, consumed: repo.consumed(b.number, l.material) || '0' })),
    production: { machineCounted, manualEntries },
    openPrintJobs,
    overrides,
    deviationsFor: (material) => [...deviationsFor(repo, b.number, material), ...(extra?.get(material) ?? [])],
    openDeviations: openDeviations(repo, b.number),
    failedQc: failedQc(repo, b.number),
    unacknowledgedExceptions: batchExceptions(db, b.number, { limits: repo.yieldLimits }).filter((e) => !e.acknowledged),
  };
}

/** Gather and evaluate in one call. */
export function batchChecks(repo: Repo, number: string, stage: CheckStage, extra?: ReadonlyMap<string, readonly DeviationRef[]>): BatchCheckResult {
  return evaluateBatchChecks(stage, loadBatchCheckInput(repo, number, extra));
}
