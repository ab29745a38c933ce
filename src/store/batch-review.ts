/**
 * Review by exception and reconciliation of a batch (issue 13; SOP 5.4; GMP label reconciliation),
 * read from the journal in one pass of indexed queries (records_batch, deviations_batch,
 * qc_inspections_batch, labels_batch). Synchronous, so the release check can run it inside the
 * release transaction: what QA acknowledged is exactly what was checked.
 *
 * An EXCEPTION is anything in the batch record a reviewer must look at before signing the
 * release: refused readings, overrides, weighings accepted over tolerance, deviations, reprints and
 * label jobs that needed confirmation, machine link gaps, counter discontinuities, records whose
 * clock was not synchronised, overdue or failed in-process checks, a yield outside its limits, and
 * labels not accounted for. Each has a stable `key` (the record id, or `<kind>:<id>`), so an
 * acknowledgement given once stays attached to exactly that exception.
 */
import { add, cmp, mul, parseDec, sub, toString as decToString } from '../domain/decimal.js';
import type { Db } from './db.js';
import { overdueGraceMs } from '../domain/qc.js';
import { completedAt, cutTime, deviationStatusAt, jobStatesAt, producedAt, type Cut } from './batch-asof.js';

/** No cut: everything up to now (a seq no journal reaches). */
const ALL = Number.MAX_SAFE_INTEGER;

type Row = Record<string, unknown>;

export interface YieldLimits {
  /** Yield below this percentage of the planned quantity is an exception. */
  lowerPct: string;
  /** Yield above this percentage is an exception too (a count error is as suspect as a loss). */
  upperPct: string;
}

export const DEFAULT_YIELD_LIMITS: YieldLimits = { lowerPct: '95', upperPct: '105' };

export interface ReconciliationLine {
  material: string;
  unit: string;
  planned: string;
  tolerancePct: string;
  min: string;
  max: string;
  consumed: string;
  difference: string;
  withinTolerance: boolean;
  byLot: Array<{ lot: string; supplier: string | null; supplierLot: string | null; consumed: string; corrected: string; net: string; additions: number }>;
}

export interface LabelReconciliation {
  /** Physical labels the printers confirmed (jobs confirmed by the printer or by the operator). */
  printed: number;
  /** Distinct labels (case serials, SSCCs, batch labels) with at least one printed copy: on the product. */
  applied: number;
  /** Printed copies beyond one per label (a reprint of a printed label): must have been destroyed. */
  destroyed: number;
  reprints: number;
  /** Jobs whose bytes went out but whose outcome nobody knows (reprinted or cancelled after a break): find and destroy. */
  unaccounted: number;
  /** Jobs still queued, sending, sent or waiting for a decision. */
  open: number;
  balanced: boolean;
}

export interface Reconciliation {
  batch: string;
  product: string;
  plannedQty: string;
  unit: string;
  materials: ReconciliationLine[];
  produced: { good: string; rejected: string; total: string };
  yield: { pct: string | null; lowerPct: string; upperPct: string; within: boolean | null };
  labels: LabelReconciliation;
}

export interface BatchException {
  key: string;
  kind:
    | 'refused_reading'
    | 'override'
    | 'tolerance_flag'
    | 'deviation'
    | 'reprint'
    | 'needed_confirmation'
    | 'link_gap'
    | 'counter_discontinuity'
    | 'clock_unsynced'
    | 'qc_overdue'
    | 'qc_failed'
    | 'yield'
    | 'labels_unaccounted';
  at: string | null;
  summary: string;
  recordId: string | null;
  acknowledged: { by: string; at: string; comment: string } | null;
}

function pct(x: string, p: string): string {
  const m = mul(x, p);
  return decToString({ units: m.units, scale: m.scale + 2 });
}

/** Percentage a/b with 2 decimals (exact integer arithmetic on the decimals). */
function ratioPct(a: string, b: string): string | null {
  const den = parseDec(b);
  if (den.units === 0n) return null;
  const num = parseDec(a);
  // a/b*100 rounded half-up to 2 decimals: (a * 10^(sb) * 10^4) / (b * 10^(sa)) → scale 2
  const scaleA = num.scale;
  const scaleB = den.scale;
  let n = num.units * 10n ** BigInt(scaleB) * 10000n;
  let d = den.units * 10n ** BigInt(scaleA);
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const q = (2n * n + d) / (2n * d);
  return decToString({ units: q, scale: 2 });
}

/**
 * The reconciliation of a batch — now, or (with `cut`) as it stood when the journal ended at
 * `cut.recordSeq`: consumptions, corrections, production and label jobs up to the cut only.
 */
export function reconcile(db: Db, number: string, limits: YieldLimits = DEFAULT_YIELD_LIMITS, cut?: Cut): Reconciliation | null {
  const b = db.prepare('SELECT number, product, planned_qty, unit, produced_qty, rejected_qty FROM batches WHERE number = ?').get(number) as Row | undefined;
  if (!b) return null;
  const S = cut?.recordSeq ?? ALL;
  const bom = db.prepare('SELECT material, quantity, unit, tolerance_pct FROM batch_bom WHERE batch = ? ORDER BY material').all(number) as Row[];
  const cons = db
    .prepare(
      `SELECT c.material, c.lot, l.supplier, l.supplier_lot, COUNT(*) AS additions, GROUP_CONCAT(c.quantity, ' ') AS qs
         FROM consumptions c LEFT JOIN lots l ON l.id = c.lot WHERE c.batch = ? AND c.record_seq <= ? GROUP BY c.material, c.lot ORDER BY c.material, MIN(c.record_seq)`,
    )
    .all(number, S) as Row[];
  const corr = db.prepare(`SELECT material, lot, GROUP_CONCAT(quantity, ' ') AS qs FROM consumption_corrections WHERE batch = ? AND record_seq <= ? GROUP BY material, lot`).all(number, S) as Row[];
  const sumList = (s: unknown): string => decToString(String(s ?? '').split(' ').filter(Boolean).reduce((acc, q) => add(acc, q), parseDec('0')));
  const corrected = new Map(corr.map((r) => [`${String(r.material)}\u0000${String(r.lot)}`, sumList(r.qs)]));
  const materials: ReconciliationLine[] = bom.map((l) => {
    const material = String(l.material);
    const planned = String(l.quantity);
    const tol = pct(planned, String(l.tolerance_pct));
    const min = decToString(sub(planned, tol));
    const max = decToString(add(planned, tol));
    const byLot = cons
      .filter((c) => c.material === material)
      .map((c) => {
        const consumed = sumList(c.qs);
        const co = corrected.get(`${material}\u0000${String(c.lot)}`) ?? '0';
        return {
          lot: String(c.lot),
          supplier: c.supplier === null ? null : String(c.supplier),
          supplierLot: c.supplier_lot === null ? null : String(c.supplier_lot),
          consumed,
          corrected: co,
          net: decToString(sub(consumed, co)),
          additions: Number(c.additions),
        };
      });
    const consumed = decToString(byLot.reduce((acc, x) => add(acc, x.net), parseDec('0')));
    return {
      material,
      unit: String(l.unit),
      planned,
      tolerancePct: String(l.tolerance_pct),
      min,
      max,
      consumed,
      difference: decToString(sub(consumed, planned)),
      withinTolerance: cmp(consumed, min) >= 0 && cmp(consumed, max) <= 0,
      byLot,
    };
  });
  const prod = cut ? producedAt(db, number, cut) : { good: String(b.produced_qty), rejected: String(b.rejected_qty) };
  const good = prod.good;
  const rejected = prod.rejected;
  const y = ratioPct(good, String(b.planned_qty));
  const within = y === null ? null : cmp(y, limits.lowerPct) >= 0 && cmp(y, limits.upperPct) <= 0;
  return {
    batch: number,
    product: String(b.product),
    plannedQty: String(b.planned_qty),
    unit: String(b.unit),
    materials,
    produced: { good, rejected, total: decToString(add(good, rejected)) },
    yield: { pct: y, lowerPct: limits.lowerPct, upperPct: limits.upperPct, within },
    labels: labelReconciliation(db, number, cut),
  };
}

export function labelReconciliation(db: Db, number: string, cut?: Cut): LabelReconciliation {
  const jobs = cut
    ? [...jobStatesAt(db, number, cut).values()].map((j) => ({ id: j.id, label_id: j.labelId, state: j.state, attempts: j.attempts, reprint_of: j.reprintOf }) as Row)
    : (db.prepare(`SELECT j.id, j.label_id, j.state, j.attempts, j.reprint_of, j.decided_by FROM print_jobs j JOIN labels l ON l.id = j.label_id WHERE l.batch = ? ORDER BY j.seq`).all(number) as Row[]);
  const printedLabels = new Set<string>();
  let printed = 0;
  let reprints = 0;
  let unaccounted = 0;
  let open = 0;
  for (const j of jobs) {
    if (j.reprint_of) reprints++;
    if (j.state === 'confirmed') {
      printed++;
      printedLabels.add(String(j.label_id));
    } else if (j.state === 'failed' && Number(j.attempts) > 0) unaccounted++;
    else if (j.state !== 'failed') open++;
  }
  const applied = printedLabels.size;
  const destroyed = printed - applied;
  return { printed, applied, destroyed, reprints, unaccounted, open, balanced: unaccounted === 0 && open === 0 && printed === applied + destroyed };
}

/**
 * In-process checks that were overdue at some point of the batch's run, from its history: between
 * the start (or an inspection) and the next inspection (or the completion, or now) more time passed
 * than the plan's interval plus its grace, or more case labels were printed than its case interval.
 */
export function qcOverdueHistory(db: Db, number: string, now: Date, cut?: Cut): Array<{ key: string; plan: string; name: string; reason: string; at: string }> {
  const b = db.prepare('SELECT product, started_at, completed_at FROM batches WHERE number = ?').get(number) as Row | undefined;
  if (!b || !b.started_at) return [];
  const S = cut?.recordSeq ?? ALL;
  if (cut) {
    // as it stood at the cut: "now" is the moment of the cut, the completion only if it came before
    const at = cutTime(db, cut);
    if (!at || Date.parse(at) < Date.parse(String(b.started_at))) return [];
    now = new Date(at);
    b.completed_at = completedAt(db, number, cut);
  }
  const plans = db.prepare(`SELECT id, body FROM inspection_plans WHERE scope = 'in_process' AND product = ? AND active = 1`).all(String(b.product)) as Row[];
  const out: Array<{ key: string; plan: string; name: string; reason: string; at: string }> = [];
  const end = b.completed_at ? Date.parse(String(b.completed_at)) : now.getTime();
  for (const p of plans) {
    const body = JSON.parse(String(p.body)) as { name: string; frequency?: { everyMinutes?: number; everyCases?: number } };
    const times = (db.prepare('SELECT inspected_at FROM qc_inspections WHERE batch = ? AND plan = ? AND record_seq <= ? ORDER BY record_seq').all(number, String(p.id), S) as Row[]).map((r) => Date.parse(String(r.inspected_at)));
    const marks = [Date.parse(String(b.started_at)), ...times];
    const mins = body.frequency?.everyMinutes;
    if (mins) {
      const interval = mins * 60_000;
      const grace = overdueGraceMs(mins);
      for (let i = 0; i < marks.length; i++) {
        const from = marks[i]!;
        const to = i + 1 < marks.length ? marks[i + 1]! : end;
        if (to - from > interval + grace) {
          const due = new Date(from + interval).toISOString();
          out.push({ key: `qc-overdue:${String(p.id)}:${due}`, plan: String(p.id), name: body.name, reason: `due ${due}, next check ${i + 1 < marks.length ? new Date(to).toISOString() : 'none'}`, at: due });
        }
      }
    }
    const every = body.frequency?.everyCases;
    if (every) {
      const cases = (db.prepare(`SELECT created_at FROM labels WHERE batch = ? AND kind = 'case' AND record_seq <= ? ORDER BY created_at`).all(number, S) as Row[]).map((r) => Date.parse(String(r.created_at)));
      for (let i = 0; i < marks.length; i++) {
        const from = marks[i]!;
        const to = i + 1 < marks.length ? marks[i + 1]! : end;
        const n = cases.filter((c) => c > from && c <= to).length;
        if (n > every) {
          const at = new Date(from).toISOString();
          out.push({ key: `qc-overdue-cases:${String(p.id)}:${at}`, plan: String(p.id), name: body.name, reason: `${n} cases between checks (every ${every})`, at });
        }
      }
    }
  }
  return out;
}

/**
 * Every exception of a batch, with its acknowledgement if QA gave one — now, or (with `asOf`) as the
 * record stood at that cut: records, acknowledgements, deviations (and their status), QC results,
 * production and label jobs up to the cut only, so a report made at the cut never changes.
 */
export function batchExceptions(db: Db, number: string, opts: { limits?: YieldLimits; now?: Date; asOf?: Cut } = {}): BatchException[] {
  const cut = opts.asOf;
  const S = cut?.recordSeq ?? ALL;
  const acks = new Map<string, { by: string; at: string; comment: string }>();
  for (const a of db.prepare('SELECT key, acknowledged_by, acknowledged_at, comment FROM exception_acks WHERE batch = ? AND record_seq <= ?').all(number, S) as Row[]) {
    acks.set(String(a.key), { by: String(a.acknowledged_by), at: String(a.acknowledged_at), comment: String(a.comment) });
  }
  const out: BatchException[] = [];
  const push = (e: Omit<BatchException, 'acknowledged'>): void => {
    out.push({ ...e, acknowledged: acks.get(e.key) ?? null });
  };
  const recs = db
    .prepare(
      `SELECT id, type, status, error_code, message, received_at, clock_synced, device, payload FROM records
        WHERE batch = ? AND (status = 'rejected' OR error_code IS NOT NULL
          OR type IN ('lot.override','machine.link_restored','counter.discontinuity','label.reprint_requested','label.unconfirmed'))
          AND seq <= ?
        ORDER BY seq`,
    )
    .all(number, S) as Row[];
  for (const r of recs) {
    const id = String(r.id);
    const at = String(r.received_at);
    const type = String(r.type);
    if (type === 'lot.override') push({ key: id, kind: 'override', at, summary: `override of a refused lot (${String(JSON.parse(String(r.payload)).overriddenCode ?? '?')})`, recordId: id });
    else if (type === 'counter.discontinuity') push({ key: id, kind: 'counter_discontinuity', at, summary: String(r.message ?? 'counter discontinuity'), recordId: id });
    else if (type === 'machine.link_restored') push({ key: id, kind: 'link_gap', at, summary: `machine link gap of ${String(JSON.parse(String(r.payload)).gapMs ?? '?')} ms (${String(r.device ?? '')})`, recordId: id });
    else if (type === 'label.reprint_requested') push({ key: id, kind: 'reprint', at, summary: `label reprinted: ${String(JSON.parse(String(r.payload)).reason ?? '')}`, recordId: id });
    else if (type === 'label.unconfirmed') push({ key: id, kind: 'needed_confirmation', at, summary: String(r.message ?? 'a label job needed confirmation'), recordId: id });
    else if (r.status === 'rejected') push({ key: id, kind: 'refused_reading', at, summary: `${type} refused: ${String(r.error_code ?? '')} ${String(r.message ?? '')}`.trim(), recordId: id });
    else if (r.error_code === 'LG_ERR_WEIGHT_OUT_OF_TOLERANCE') push({ key: id, kind: 'tolerance_flag', at, summary: String(r.message ?? 'accepted over tolerance'), recordId: id });
    else if (r.error_code) push({ key: id, kind: 'refused_reading', at, summary: `${type}: ${String(r.error_code)}`, recordId: id });
  }
  // Records of what happened on the floor (readings, scans, consumptions, labels) taken while the
  // clock was not known to be synchronised: one exception for all of them (their times may be off),
  // not one each. The review's own records (status changes, signatures, acknowledgements) do not count.
  const unsynced = db
    .prepare(
      `SELECT COUNT(*) AS n, MIN(seq) AS first, MAX(seq) AS last, MIN(received_at) AS since FROM records
        WHERE batch = ? AND clock_synced = 0 AND type NOT LIKE 'batch.%' AND type NOT LIKE 'signature.%' AND type NOT LIKE 'deviation.%' AND type NOT LIKE 'audit.%'
          AND type NOT LIKE 'qc.%' AND type NOT IN ('lot.override_reviewed', 'lot.status_changed', 'lot.stock_counted', 'lot.stock_count_approved', 'lot.stock_count_rejected')
          AND seq <= ?`,
    )
    .get(number, S) as Row;
  if (Number(unsynced.n) > 0) {
    push({
      key: `clock-unsynced:${String(unsynced.first)}-${String(unsynced.last)}`,
      kind: 'clock_unsynced',
      at: String(unsynced.since),
      summary: `${String(unsynced.n)} record(s) taken while the gateway's clock was not known to be synchronised (NTP): their times may be off`,
      recordId: null,
    });
  }
  const devAt = cut ? deviationStatusAt(db, number, cut) : null;
  for (const d of db.prepare('SELECT number, title, status, raised_at FROM deviations WHERE batch = ? ORDER BY number').all(number) as Row[]) {
    if (devAt) {
      const st = devAt.get(String(d.number));
      if (st === undefined) continue; // raised after the cut
      d.status = st;
    }
    push({ key: `deviation:${String(d.number)}`, kind: 'deviation', at: String(d.raised_at), summary: `${String(d.number)} (${String(d.status)}): ${String(d.title)}`, recordId: null });
  }
  const qc = db
    .prepare(`SELECT q.id, q.plan, q.verdict, q.inspected_at FROM qc_inspections q WHERE q.batch = ? AND q.verdict = 'failed' AND q.record_seq <= ? ORDER BY q.record_seq`)
    .all(number, S) as Row[];
  for (const q of qc) push({ key: `qc:${String(q.id)}`, kind: 'qc_failed', at: String(q.inspected_at), summary: `in-process check ${String(q.id)} (${String(q.plan)}) failed`, recordId: null });
  for (const o of qcOverdueHistory(db, number, opts.now ?? new Date(), cut)) push({ key: o.key, kind: 'qc_overdue', at: o.at, summary: `in-process check ${o.name} (${o.plan}) overdue: ${o.reason}`, recordId: null });
  const rec = reconcile(db, number, opts.limits, cut);
  if (rec && rec.yield.within === false) {
    push({ key: 'yield', kind: 'yield', at: null, summary: `yield ${rec.yield.pct} % of planned, outside ${rec.yield.lowerPct}–${rec.yield.upperPct} %`, recordId: null });
  }
  if (rec && rec.labels.unaccounted > 0) {
    push({ key: `labels-unaccounted:${rec.labels.unaccounted}`, kind: 'labels_unaccounted', at: null, summary: `${rec.labels.unaccounted} label job(s) sent with an unknown outcome: find and destroy any printed copy`, recordId: null });
  }
  return out;
}
