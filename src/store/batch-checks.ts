/**
 * The facts the batch checks (domain/batch-checks.ts) decide on, read from the journal and the
 * domain tables. Synchronous: called inside the transition's transaction, so what is checked is
 * what is committed.
 */
import { evaluateBatchChecks, OPEN_PRINT_JOB_STATES, type BatchCheckInput, type BatchCheckResult, type CheckStage, type DeviationRef } from '../domain/batch-checks.js';
import { LgError } from '../errors.js';
import type { Repo } from './repo.js';

type Row = Record<string, unknown>;

/**
 * Seam for issue 13 (deviations): what covers `material`'s out-of-tolerance consumption in
 * `batch`. Deviation records do not exist yet; until they do, the only cover is a justification a
 * supervisor, QA or admin gave for that material when completing the batch (recorded in the
 * batch.status_changed record and audited — see Ops.transitionBatch). Issue 13 replaces this body
 * with its deviations (and may turn those justifications into deviations).
 */
export function deviationsFor(repo: Repo, batch: string, material: string): DeviationRef[] {
  const rows = repo.db
    .prepare(
      `SELECT r.id, json_extract(j.value, '$.reason') AS reason, json_extract(j.value, '$.by') AS by
         FROM records r, json_each(r.payload, '$.justifications') j
        WHERE r.batch = ? AND r.type = 'batch.status_changed' AND r.status = 'accepted'
          AND json_extract(r.payload, '$.to') = 'completed' AND json_extract(j.value, '$.material') = ?
        ORDER BY r.seq`,
    )
    .all(batch, material) as Row[];
  return rows.map((r) => ({ id: String(r.id), status: 'justified', summary: `${String(r.reason)} (${String(r.by)})` }));
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
  };
}

/** Gather and evaluate in one call. */
export function batchChecks(repo: Repo, number: string, stage: CheckStage, extra?: ReadonlyMap<string, readonly DeviationRef[]>): BatchCheckResult {
  return evaluateBatchChecks(stage, loadBatchCheckInput(repo, number, extra));
}
