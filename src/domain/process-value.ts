/**
 * Process values (issue 18): which samples of a declared value (temperature, pressure, speed…)
 * become records. Pure: no clock, no I/O; the driver feeds samples and acts on the decisions.
 *
 * Rules, per value, against the LAST RECORDED sample (not the last seen one, so a slow drift is
 * recorded once it has moved a whole deadband):
 * - garbage is never filtered away: a non-number, a sample the source marks bad, or one outside
 *   the declared range is a rejection (a rejected record with its code), whatever the deadband;
 * - the first good sample is recorded (`first`);
 * - a change larger than the deadband is recorded (`change`) — unless it comes sooner than
 *   `minIntervalMs` after the last record: then it is held as pending and recorded when the
 *   interval ends (`trailing`, with its own source time), so the latest value is never missing
 *   from the record; a later sample replaces the pending one, one back inside the deadband drops it;
 * - no change for `maxIntervalMs` records the current sample anyway (`heartbeat`), so a flat line
 *   is visibly alive in the batch record;
 * - a change of quality (good ↔ uncertain) counts as a change;
 * - a sample with a source timestamp at or before the last recorded one is a duplicate (a message
 *   the broker redelivered after a restart, or a replay) and is skipped.
 *
 * Deadband: `absolute` in the value's unit and/or `percent` of the declared range's span (as the
 * OPC UA PercentDeadband is of the EURange); with both, the larger band applies. A deadband of 0
 * records every different value.
 */
import type { ErrorCode } from '../errors.js';

export type Quality = 'good' | 'uncertain' | 'bad';

export interface ProcessValueSpec {
  name: string;
  unit: string;
  deadband?: { absolute?: number; percent?: number };
  minIntervalMs?: number;
  maxIntervalMs?: number;
  range?: { min: number; max: number };
}

export interface ValueSample {
  /** The value as the source gave it (number, numeric text, or anything else = garbage). */
  value: unknown;
  /** Milliseconds: the source timestamp when there is one, else the gateway's receive time. */
  at: number;
  /** Whether `at` is the source's own timestamp (only those are checked for duplicates). */
  sourceTimed: boolean;
  quality: Quality;
  /** The source's own quality text or status code name, for the record. */
  qualityText?: string;
}

export interface Recorded {
  value: number;
  at: number;
  quality: Quality;
}

export type RecordReason = 'first' | 'change' | 'heartbeat' | 'trailing';

export type Decision =
  | { kind: 'record'; value: number; at: number; quality: Quality; reason: RecordReason }
  | { kind: 'reject'; code: ErrorCode; details: Record<string, unknown> }
  | { kind: 'skip'; why: 'deadband' | 'interval' | 'duplicate' };

export interface FilterSnapshot {
  last: Recorded | null;
  pending: (Recorded & { dueAt: number }) | null;
}

/** A number from a JSON number or numeric text; anything else is null. */
export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const t = v.trim();
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function deadbandOf(spec: ProcessValueSpec): number {
  const abs = spec.deadband?.absolute ?? 0;
  const pct = spec.deadband?.percent !== undefined && spec.range ? ((spec.range.max - spec.range.min) * spec.deadband.percent) / 100 : 0;
  return Math.max(abs, pct);
}

export class ValueFilter {
  private last: Recorded | null = null;
  private pending: (Recorded & { dueAt: number }) | null = null;
  readonly band: number;
  private readonly minInterval: number;
  private readonly maxInterval: number;

  constructor(readonly spec: ProcessValueSpec) {
    this.band = deadbandOf(spec);
    this.minInterval = spec.minIntervalMs ?? 0;
    this.maxInterval = spec.maxIntervalMs ?? 0;
  }

  /** Decide what one sample becomes; a `record` decision is already the new last-recorded state. */
  offer(s: ValueSample): Decision {
    const name = this.spec.name;
    if (s.quality === 'bad') return { kind: 'reject', code: 'LG_ERR_VALUE_BAD_QUALITY', details: { name, quality: s.qualityText ?? 'bad', value: printable(s.value) } };
    const v = toNumber(s.value);
    if (v === null) return { kind: 'reject', code: 'LG_ERR_VALUE_NOT_NUMERIC', details: { name, value: printable(s.value), detail: `got ${describe(s.value)}` } };
    const r = this.spec.range;
    if (r && (v < r.min || v > r.max)) return { kind: 'reject', code: 'LG_ERR_VALUE_OUT_OF_RANGE', details: { name, value: v, unit: this.spec.unit, min: r.min, max: r.max } };
    const last = this.last;
    if (!last) return this.take(v, s, 'first');
    if (s.sourceTimed && s.at <= last.at) return { kind: 'skip', why: 'duplicate' };
    const elapsed = s.at - last.at;
    const changed = s.quality !== last.quality || (this.band > 0 ? Math.abs(v - last.value) > this.band : v !== last.value);
    if (changed) {
      // A clock that went back (receive-time samples only) never holds values back.
      if (elapsed >= this.minInterval || elapsed < 0) return this.take(v, s, 'change');
      this.pending = { value: v, at: s.at, quality: s.quality, dueAt: last.at + this.minInterval };
      return { kind: 'skip', why: 'interval' };
    }
    this.pending = null;
    if (this.maxInterval > 0 && elapsed >= this.maxInterval) return this.take(v, s, 'heartbeat');
    return { kind: 'skip', why: 'deadband' };
  }

  /** The change held back by the minimum interval, if any: when it is due (in `at` time). */
  get pendingDueAt(): number | null {
    return this.pending?.dueAt ?? null;
  }

  /** How long after the held-back sample the interval ends (ms), or null when nothing is held. */
  get pendingWaitMs(): number | null {
    return this.pending ? this.pending.dueAt - this.pending.at : null;
  }

  /** Record the held-back change now (the interval has passed). */
  takePending(): Decision | null {
    const p = this.pending;
    if (!p) return null;
    this.pending = null;
    this.last = { value: p.value, at: p.at, quality: p.quality };
    return { kind: 'record', value: p.value, at: p.at, quality: p.quality, reason: 'trailing' };
  }

  snapshot(): FilterSnapshot {
    return { last: this.last ? { ...this.last } : null, pending: this.pending ? { ...this.pending } : null };
  }

  restore(s: FilterSnapshot): void {
    this.last = s.last ? { ...s.last } : null;
    this.pending = s.pending ? { ...s.pending } : null;
  }

  get lastRecorded(): Recorded | null {
    return this.last;
  }

  private take(value: number, s: ValueSample, reason: RecordReason): Decision {
    this.last = { value, at: s.at, quality: s.quality };
    this.pending = null;
    return { kind: 'record', value, at: s.at, quality: s.quality, reason };
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'no value at the configured path';
  if (v === null) return 'null';
  if (typeof v === 'string') return `text "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}

function printable(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string') return v.length > 200 ? v.slice(0, 200) : v;
  if (v === null || typeof v === 'boolean') return v;
  try {
    const t = JSON.stringify(v);
    return t.length > 200 ? t.slice(0, 200) : t;
  } catch {
    return String(v);
  }
}
