/**
 * QC inspection rules, pure (article 003): an inspection plan's characteristics are attributes
 * (conforming / not conforming) or measurements (a value in a unit against lower/upper
 * specification limits, inclusive). A result's verdict is computed here from the plan, never typed
 * in: for a measurement the person enters the value, for an attribute the observation
 * ("conforms": true/false). A plan for in-process checks says how often they are due.
 */
import { cmp, isDecimalString, canonical } from './decimal.js';
import { rejection, type Rejection } from '../errors.js';

export interface Characteristic {
  code: string;
  name: string;
  kind: 'attribute' | 'measurement';
  unit?: string;
  lower?: string;
  upper?: string;
  target?: string;
}

export interface PlanBody {
  name: string;
  characteristics: Characteristic[];
  sampleSize: number;
  /** In process: due every N minutes of an in_process batch, and/or every N case labels. */
  frequency?: { everyMinutes?: number; everyCases?: number };
  /** Receiving: a failed inspection rejects the lot ('reject') or keeps it from use ('quarantine', default). */
  onFail?: 'quarantine' | 'reject';
  /** Receiving: the lot may leave quarantine only after a passed inspection of this plan. */
  requiredForRelease?: boolean;
  /** A result needs a QA approval signature to count. */
  approvalRequired?: boolean;
}

export interface ResultInput {
  code: string;
  /** Measurements: the value (decimal string) and its unit. */
  value?: string;
  unit?: string;
  /** Attributes: the observation. */
  conforms?: boolean;
}

export interface JudgedResult {
  code: string;
  name: string;
  kind: 'attribute' | 'measurement';
  value: string | null;
  unit: string | null;
  conforms: boolean | null;
  lower: string | null;
  upper: string | null;
  verdict: 'pass' | 'fail';
}

/** Check a plan body; returns a message or null. */
export function planProblem(scope: 'receiving' | 'in_process', b: PlanBody): string | null {
  if (!b.characteristics.length) return 'at least one characteristic is needed';
  const codes = new Set<string>();
  for (const c of b.characteristics) {
    if (codes.has(c.code)) return `characteristic ${c.code} appears twice`;
    codes.add(c.code);
    if (c.kind === 'measurement') {
      if (!c.unit) return `measurement ${c.code} needs a unit`;
      if (c.lower === undefined && c.upper === undefined) return `measurement ${c.code} needs a lower or an upper specification limit`;
      for (const [k, v] of [['lower', c.lower], ['upper', c.upper], ['target', c.target]] as const) {
        if (v !== undefined && !isDecimalString(v)) return `${c.code}.${k} must be a decimal string`;
      }
      if (c.lower !== undefined && c.upper !== undefined && cmp(c.lower, c.upper) > 0) return `${c.code}: lower limit above upper limit`;
    } else if (c.unit || c.lower !== undefined || c.upper !== undefined) {
      return `attribute ${c.code} has no unit or limits`;
    }
  }
  if (!Number.isInteger(b.sampleSize) || b.sampleSize < 1) return 'sampleSize must be a positive integer';
  if (scope === 'in_process' && !b.frequency?.everyMinutes && !b.frequency?.everyCases) return 'an in-process plan needs frequency.everyMinutes or frequency.everyCases';
  if (scope === 'receiving' && b.frequency) return 'a receiving plan has no frequency';
  return null;
}

/** Judge results against the plan; every characteristic once, nothing else. */
export function judge(plan: PlanBody, results: ResultInput[]): { results: JudgedResult[]; verdict: 'passed' | 'failed' } | Rejection {
  const byCode = new Map(plan.characteristics.map((c) => [c.code, c]));
  const seen = new Set<string>();
  const out: JudgedResult[] = [];
  for (const r of results) {
    const c = byCode.get(r.code);
    if (!c) return rejection('LG_ERR_QC_RESULT_INVALID', { code: r.code, detail: 'not a characteristic of this plan' });
    if (seen.has(r.code)) return rejection('LG_ERR_QC_RESULT_INVALID', { code: r.code, detail: 'given twice' });
    seen.add(r.code);
    if (c.kind === 'attribute') {
      if (typeof r.conforms !== 'boolean') return rejection('LG_ERR_QC_RESULT_INVALID', { code: r.code, detail: 'an attribute needs "conforms": true or false' });
      if (r.value !== undefined || r.unit !== undefined) return rejection('LG_ERR_QC_RESULT_INVALID', { code: r.code, detail: 'an attribute has no value or unit' });
      out.push({ code: c.code, name: c.name, kind: 'attribute', value: null, unit: null, conforms: r.conforms, lower: null, upper: null, verdict: r.conforms ? 'pass' : 'fail' });
    } else {
      if (r.conforms !== undefined) return rejection('LG_ERR_QC_RESULT_INVALID', { code: r.code, detail: 'a measurement is judged from its value: send "value" and "unit", not "conforms"' });
      if (r.value === undefined || !isDecimalString(r.value)) return rejection('LG_ERR_QC_RESULT_INVALID', { code: r.code, detail: 'a measurement needs "value" as a decimal string' });
      if (r.unit !== c.unit) return rejection('LG_ERR_QC_UNIT', { code: r.code, expected: c.unit!, unit: r.unit ?? '(none)' });
      const v = canonical(r.value);
      const ok = (c.lower === undefined || cmp(v, c.lower) >= 0) && (c.upper === undefined || cmp(v, c.upper) <= 0);
      out.push({ code: c.code, name: c.name, kind: 'measurement', value: v, unit: c.unit!, conforms: null, lower: c.lower ?? null, upper: c.upper ?? null, verdict: ok ? 'pass' : 'fail' });
    }
  }
  const missing = plan.characteristics.filter((c) => !seen.has(c.code)).map((c) => c.code);
  if (missing.length) return rejection('LG_ERR_QC_RESULT_INVALID', { code: missing.join(', '), detail: 'no result given' });
  return { results: out, verdict: out.every((r) => r.verdict === 'pass') ? 'passed' : 'failed' };
}

export interface DueInput {
  plan: PlanBody;
  /** When the batch went in_process. */
  startedAt: string;
  /** The last inspection of this plan on the batch (passed or failed — a failed one is retaken). */
  lastAt: string | null;
  lastVerdict: 'passed' | 'failed' | null;
  /** Case labels since the last inspection (or since start). */
  casesSince: number;
  now: Date;
}

/** How long after its due time an in-process check becomes overdue: 10 % of the interval, at most 5 minutes. */
export function overdueGraceMs(everyMinutes: number): number {
  return Math.min(5 * 60_000, everyMinutes * 6_000);
}

/** When the next in-process check is due, and whether it is overdue now. */
export function dueState(d: DueInput): { due: boolean; overdue: boolean; dueAt: string | null; reason: string } {
  if (d.lastVerdict === 'failed') return { due: true, overdue: true, dueAt: d.lastAt, reason: 'the last check failed: retake it' };
  const f = d.plan.frequency ?? {};
  const from = Date.parse(d.lastAt ?? d.startedAt);
  if (f.everyCases && d.casesSince >= f.everyCases) return { due: true, overdue: d.casesSince > f.everyCases, dueAt: null, reason: `${d.casesSince} cases since the last check (every ${f.everyCases})` };
  if (f.everyMinutes) {
    const at = from + f.everyMinutes * 60_000;
    const graceMs = overdueGraceMs(f.everyMinutes);
    const now = d.now.getTime();
    return { due: now >= at, overdue: now >= at + graceMs, dueAt: new Date(at).toISOString(), reason: `every ${f.everyMinutes} min` };
  }
  return { due: false, overdue: false, dueAt: null, reason: f.everyCases ? `${d.casesSince} of ${f.everyCases} cases` : 'no frequency' };
}
