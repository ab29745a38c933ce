/**
 * Completion and release checks of a batch (issue 10.6; SOP 5.2–5.4). Pure: the store gathers the
 * facts (`store/batch-checks.ts`), this decides what is missing. The same function answers the
 * transition use case, the automatic PackML-driven completion and the read-only
 * `GET /batches/:n/checks`, so what a supervisor sees before trying is exactly what is enforced.
 *
 * Completion needs:
 * - every bill-of-materials line consumed within planned ± tolerancePct (cumulative over all lots,
 *   the same window the weight binder uses), or a recorded deviation for that material. Deviations
 *   come with issue 13: `deviationsFor` is the seam, and returns none today — so until then an
 *   out-of-tolerance batch is not completed (add the missing material, or hold/reject the batch).
 * - a good quantity produced (> 0): from the machine counters, or entered by a supervisor through
 *   `POST /batches/:n/production` (its own record and audit entry). Both at once is refused as a
 *   possible double count.
 * - no label job of the batch still open (queued, sending, sent, needs_confirmation).
 *
 * Release needs completion's checks to pass again (they are re-evaluated, not remembered: a label
 * queued after completion, or a batch completed before these checks existed, is caught) and
 * nothing left open: every supervisor override of a refused lot reviewed by QA, and no label job
 * needing confirmation (covered by the open-jobs check).
 *
 * Every missing item carries its own `LG_ERR_CHECK_…` code and the numbers behind it; a failed
 * transition answers LG_ERR_BATCH_CHECKS_FAILED with the list in `details.missing`.
 */
import { add, cmp, mul, parseDec, sub, toString as decToString, type Dec } from './decimal.js';
import { rejection, type ErrorCode } from '../errors.js';

export type CheckStage = 'completion' | 'release';

/** Label job states that are not finished: the job may still print, or a person must decide. */
export const OPEN_PRINT_JOB_STATES = ['queued', 'sending', 'sent', 'needs_confirmation'] as const;

export interface BomCheckLine {
  material: string;
  /** Planned quantity (exact decimal string) in `unit`. */
  quantity: string;
  unit: string;
  tolerancePct: string;
  /** Consumed so far into the batch, in `unit`. */
  consumed: string;
}

/** A deviation that covers a material's out-of-tolerance consumption (issue 13 fills this in). */
export interface DeviationRef {
  id: string;
  status?: string;
  summary?: string;
}

export interface OverrideRef {
  /** The lot.override record id. */
  id: string;
  lot: string | null;
  material: string;
  overriddenCode: string;
  by: string | null;
  /** The lot.override_reviewed record id, when QA has reviewed it. */
  reviewedBy: string | null;
}

export interface OpenPrintJob {
  id: string;
  state: string;
  printer: string;
  labelId: string;
}

export interface BatchCheckInput {
  batch: string;
  status: string;
  producedQty: string;
  rejectedQty: string;
  unit: string;
  bom: readonly BomCheckLine[];
  production: {
    /** Whether accepted machine counter records added units to this batch. */
    machineCounted: boolean;
    /** batch.production_entered record ids. */
    manualEntries: readonly string[];
  };
  /** Label jobs of this batch in an OPEN_PRINT_JOB_STATES state. */
  openPrintJobs: readonly OpenPrintJob[];
  overrides: readonly OverrideRef[];
  /** Recorded deviations covering `material` in this batch (any status: release needs them closed). */
  deviationsFor(material: string): readonly DeviationRef[];
  /** Deviations of the batch not closed yet: release needs none (SOP 5.2.2). */
  openDeviations?: readonly DeviationRef[];
  /** In-process QC plans whose newest inspection of this batch failed (not retaken): release needs none. */
  failedQc?: ReadonlyArray<{ plan: string; inspection: string }>;
  /** Exceptions of the batch record QA has not acknowledged yet (review by exception): release needs none. */
  unacknowledgedExceptions?: ReadonlyArray<{ key: string; kind: string }>;
}

export interface CheckItem {
  check: 'bom' | 'production' | 'print_jobs' | 'overrides' | 'deviations' | 'qc' | 'exceptions';
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export interface BomLineResult {
  material: string;
  planned: string;
  unit: string;
  tolerancePct: string;
  min: string;
  max: string;
  consumed: string;
  position: 'under' | 'within' | 'over';
  deviations: readonly DeviationRef[];
  ok: boolean;
}

export interface BatchCheckResult {
  batch: string;
  stage: CheckStage;
  ok: boolean;
  missing: CheckItem[];
  bom: BomLineResult[];
  produced: { good: string; rejected: string; unit: string; machineCounted: boolean; manualEntries: readonly string[] };
  openPrintJobs: number;
  overrides: { total: number; unreviewed: number };
}

function pctOf(x: Dec, pct: Dec): Dec {
  const m = mul(x, pct);
  return { units: m.units, scale: m.scale + 2 };
}

/** The checks for `stage` on the facts in `input`. */
export function evaluateBatchChecks(stage: CheckStage, input: BatchCheckInput): BatchCheckResult {
  const missing: CheckItem[] = [];
  const item = (check: CheckItem['check'], code: ErrorCode, details: Record<string, unknown>): void => {
    const r = rejection(code, details);
    missing.push({ check, code, message: r.message, details });
  };
  const batch = input.batch;

  const bom: BomLineResult[] = input.bom.map((l) => {
    const planned = parseDec(l.quantity);
    const tol = pctOf(planned, parseDec(l.tolerancePct));
    const min = sub(planned, tol);
    const max = add(planned, tol);
    const consumed = parseDec(l.consumed || '0');
    const position = cmp(consumed, min) < 0 ? 'under' : cmp(consumed, max) > 0 ? 'over' : 'within';
    const deviations = position === 'within' ? [] : input.deviationsFor(l.material);
    const ok = position === 'within' || deviations.length > 0;
    const line: BomLineResult = {
      material: l.material,
      planned: decToString(planned),
      unit: l.unit,
      tolerancePct: l.tolerancePct,
      min: decToString(min),
      max: decToString(max),
      consumed: decToString(consumed),
      position,
      deviations,
      ok,
    };
    if (!ok) {
      item('bom', position === 'under' ? 'LG_ERR_CHECK_BOM_UNDER' : 'LG_ERR_CHECK_BOM_OVER', {
        batch,
        material: l.material,
        planned: line.planned,
        tolerancePct: l.tolerancePct,
        min: line.min,
        max: line.max,
        consumed: line.consumed,
        unit: l.unit,
        difference: decToString(sub(consumed, planned)),
      });
    }
    return line;
  });

  if (cmp(input.producedQty || '0', '0') <= 0) {
    item('production', 'LG_ERR_CHECK_NOTHING_PRODUCED', { batch, produced: input.producedQty, rejected: input.rejectedQty, unit: input.unit });
  }
  if (input.production.machineCounted && input.production.manualEntries.length > 0) {
    item('production', 'LG_ERR_CHECK_PRODUCTION_SOURCES', { batch, produced: input.producedQty, unit: input.unit, entries: input.production.manualEntries.join(', ') });
  }

  if (input.openPrintJobs.length > 0) {
    const byState: Record<string, number> = {};
    for (const j of input.openPrintJobs) byState[j.state] = (byState[j.state] ?? 0) + 1;
    item('print_jobs', 'LG_ERR_CHECK_PRINT_JOBS_OPEN', {
      batch,
      count: input.openPrintJobs.length,
      states: Object.entries(byState)
        .map(([s, n]) => `${n} ${s}`)
        .join(', '),
      byState,
      jobs: input.openPrintJobs.slice(0, 100).map((j) => j.id),
    });
  }

  const unreviewed = input.overrides.filter((o) => !o.reviewedBy);
  if (stage === 'release') {
    for (const o of unreviewed) {
      item('overrides', 'LG_ERR_CHECK_OVERRIDE_UNREVIEWED', { batch, override: o.id, lot: o.lot, material: o.material, overriddenCode: o.overriddenCode, by: o.by });
    }
    const open = input.openDeviations ?? [];
    if (open.length > 0) item('deviations', 'LG_ERR_DEVIATION_OPEN', { batch, count: open.length, numbers: open.map((d) => d.id).join(', ') });
    for (const q of input.failedQc ?? []) item('qc', 'LG_ERR_CHECK_QC_FAILED', { batch, plan: q.plan, inspection: q.inspection });
    const unack = input.unacknowledgedExceptions ?? [];
    if (unack.length > 0) {
      const kinds: Record<string, number> = {};
      for (const e of unack) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
      item('exceptions', 'LG_ERR_CHECK_EXCEPTIONS_UNACKNOWLEDGED', {
        batch, count: unack.length, kinds: Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', '), keys: unack.slice(0, 200).map((e) => e.key),
      });
    }
  }

  return {
    batch,
    stage,
    ok: missing.length === 0,
    missing,
    bom,
    produced: { good: input.producedQty, rejected: input.rejectedQty, unit: input.unit, machineCounted: input.production.machineCounted, manualEntries: input.production.manualEntries },
    openPrintJobs: input.openPrintJobs.length,
    overrides: { total: input.overrides.length, unreviewed: unreviewed.length },
  };
}

/** Which stage a transition to `to` is checked at (null: no checks for that move). */
export function checkStageFor(to: string): CheckStage | null {
  return to === 'completed' ? 'completion' : to === 'released' ? 'release' : null;
}

/** A short form of a passed check for the status record (what was checked, with the numbers). */
export function checkSummary(r: BatchCheckResult): Record<string, unknown> {
  return {
    stage: r.stage,
    ok: r.ok,
    bom: r.bom.map((l) => ({ material: l.material, consumed: l.consumed, min: l.min, max: l.max, unit: l.unit, position: l.position, deviations: l.deviations.map((d) => d.id) })),
    produced: r.produced,
    openPrintJobs: r.openPrintJobs,
    overrides: r.overrides,
  };
}
