/**
 * Binding machine readings (OPC UA PackML state, counters, link events) to the station's batch.
 * Pure: (reading, station context, env) → record draft + effects; the journal applies both in one
 * transaction.
 *
 * Decisions (documented here because they are the batch record's semantics):
 * - State changes are LINE-level facts: without an active batch they are still ACCEPTED, with
 *   batch null, so the line's timeline has no holes (a machine held before any batch started is
 *   still a fact QA may need). With a batch they carry it, and `stateDurations` computes the time
 *   per state for that batch from its records.
 * - Counters are bound by DELTA from the last value seen (persisted per device and field with
 *   `device.set_state`, read back with `env.md.deviceState`). Without an active batch the counter
 *   record is REJECTED with LG_ERR_NO_ACTIVE_BATCH (units made outside any batch are visible, not
 *   silently added to the next batch) — and it still carries the `device.set_state` effect, which
 *   the store MUST apply for rejected records too, or those units would be added to the next batch.
 * - Reset vs wrap-around (value lower than the last one), with M = 2^counterBits:
 *     wrap  when the step across the top, (M − last) + current, is at most W = max(1024, M/1024)
 *           (a counter near its maximum that rolled over): delta = (M − last) + current;
 *     reset otherwise (the PLC counter went back to 0 and counted `current` since): delta = current.
 *   Neither case can give a negative count, and a reset never re-adds what was already counted.
 *   A reset of a counter that sat within W of its maximum would be taken for a wrap; W keeps that
 *   error small and such counters rare (2^32 − 4M for UInt32).
 * - The first value ever seen from a device is a baseline (delta 0): what the PLC counted before
 *   the gateway watched it belongs to no batch we can name.
 * - A link gap loses no units: the first counter after reconnect yields the delta across the gap.
 * - Plausibility (issue 10.3): a delta larger than the machine can make is a DISCONTINUITY, not
 *   production — a PLC preset (+926 in one 100 ms sample of a 10 units/s filler) or a glitch
 *   (10 → 4,294,967,235, a signed −61 read unsigned). Bound: maxDelta = ceil(maxRate × window),
 *   maxRate from the node map (`maxRatePerSecond` of the counter field), the device
 *   (`counterMaxRatePerSecond`), else DEFAULT_COUNTER_MAX_RATE_PER_SECOND; window = the sampling
 *   interval the driver reports (`meta.sampleWindowMs`: the server's revised interval, at least
 *   MIN_SAMPLE_WINDOW_MS). Between two samples of one subscription the counter changed within one
 *   sampling interval, however long the machine idled before, so the bound does NOT grow with
 *   idle time. Only the first sample of a (new) subscription (`meta.firstSample`: connect,
 *   reconnect, recreated subscription, gateway restart) may carry what was counted while nobody
 *   watched, so there the window is the time since the last value seen. Applies to increments,
 *   wraps and resets alike. The record is `counter.discontinuity` (rejected,
 *   LG_ERR_COUNTER_DISCONTINUITY) with both values and the bound; nothing is added to the batch,
 *   and the new value becomes the baseline (device.set_state), so counting resumes from it.
 */
import type { MachineReading } from '../readings/reading.js';
import type { BindEnv, BindResult, Effect, RecordDraft, StationContext } from './types.js';
import { formatMessage } from '../errors.js';
import { canonicalStateName, tr88Number } from '../readings/packml.js';

export interface MachineBindOptions {
  autoBatchTransitions: boolean;
}

/** Counter plausibility defaults (see the file comment): 1 unit per ms of sampling interval. */
export const DEFAULT_COUNTER_MAX_RATE_PER_SECOND = 1000;
export const MIN_SAMPLE_WINDOW_MS = 100;

/** The largest delta a counter may plausibly make in one step (pure, exported for tests). */
export function counterMaxDelta(maxRatePerSecond: number, windowMs: number): bigint {
  const w = Math.max(MIN_SAMPLE_WINDOW_MS, Number.isFinite(windowMs) ? windowMs : 0);
  return BigInt(Math.max(1, Math.ceil((maxRatePerSecond * w) / 1000)));
}

/** What bindMachine persists per device under key 'state'. */
export interface PersistedMachineState {
  name: string;
  number: number | null;
  enteredAt: string;
}

/** What bindMachine persists per device under key 'counter.<field>'. */
export interface PersistedCounter {
  value: string;
  bits: number;
  at: string;
}

export type CounterStep = 'baseline' | 'unchanged' | 'increment' | 'wrap' | 'reset';

/** The delta rule (see the file comment); pure, exported for tests. */
export function counterDelta(last: bigint | undefined, current: bigint, bits: number): { delta: bigint; step: CounterStep } {
  if (last === undefined) return { delta: 0n, step: 'baseline' };
  if (current === last) return { delta: 0n, step: 'unchanged' };
  if (current > last) return { delta: current - last, step: 'increment' };
  const m = 1n << BigInt(bits);
  const across = m - last + current;
  const window = (m >> 10n) > 1024n ? m >> 10n : 1024n;
  if (last < m && across > 0n && across <= window) return { delta: across, step: 'wrap' };
  return { delta: current, step: 'reset' };
}

const COUNTER_FIELDS: Record<string, 'good' | 'rejected'> = { goodCount: 'good', rejectCount: 'rejected' };

function iso(d: Date | string | null | undefined): string | null {
  if (!d) return null;
  return typeof d === 'string' ? d : d.toISOString();
}

export function bindMachine(reading: MachineReading, ctx: StationContext, env: BindEnv, opts: MachineBindOptions): BindResult {
  const device = reading.deviceId;
  const base: Omit<RecordDraft, 'type' | 'status' | 'payload'> = {
    station: ctx.station,
    batch: ctx.batch,
    operator: null,
    device,
    sourceTime: reading.sourceTime ?? null,
    receivedAt: reading.receivedAt,
  };
  const timing = {
    sourceTime: iso(reading.sourceTime),
    serverTime: iso(reading.serverTime),
    receivedAt: iso(reading.receivedAt),
    ...(reading.meta?.clockSkew ? { clockSkew: true, skewMs: reading.meta.skewMs } : {}),
  };

  // A driver-level fault: the record says what went wrong, nothing else changes.
  if (reading.error) {
    return {
      record: {
        ...base,
        type: 'machine.reading_rejected',
        status: 'rejected',
        errorCode: reading.error.code,
        message: reading.error.message,
        payload: { field: reading.field, value: reading.value ?? null, ...(reading.error.details ?? {}), ...(reading.meta?.nodeId ? { nodeId: reading.meta.nodeId } : {}), ...timing },
      },
      effects: [],
    };
  }

  if (reading.field === 'link') {
    const lost = reading.value === 'lost';
    const meta = reading.meta ?? {};
    return {
      record: {
        ...base,
        sourceTime: null,
        type: lost ? 'machine.link_lost' : 'machine.link_restored',
        status: 'accepted',
        payload: {
          since: meta.since ?? iso(reading.receivedAt),
          ...(lost ? { reason: meta.reason ?? null } : { gapMs: meta.gapMs ?? null }),
          endpoint: meta.endpoint ?? null,
          receivedAt: iso(reading.receivedAt),
        },
      },
      effects: [],
    };
  }

  if (reading.field === 'state') return bindState(reading, ctx, env, opts, base, timing);

  const counterKind = COUNTER_FIELDS[reading.field];
  if (counterKind) return bindCounter(reading, ctx, env, counterKind, base, timing);

  // speed, unitMode, stopReason and any other mapped field: recorded as they are.
  const type = reading.field === 'stopReason' ? 'machine.stop_reason' : reading.field === 'unitMode' ? 'machine.unit_mode_changed' : reading.field === 'speed' ? 'machine.speed_changed' : 'machine.value_changed';
  return {
    record: { ...base, type, status: 'accepted', payload: { field: reading.field, value: reading.value ?? null, ...(reading.meta?.raw !== undefined ? { raw: reading.meta.raw } : {}), ...timing } },
    effects: [],
  };
}

function bindState(
  reading: MachineReading,
  ctx: StationContext,
  env: BindEnv,
  opts: MachineBindOptions,
  base: Omit<RecordDraft, 'type' | 'status' | 'payload'>,
  timing: Record<string, unknown>,
): BindResult {
  const device = reading.deviceId;
  const to = typeof reading.value === 'string' ? canonicalStateName(reading.value) : undefined;
  if (!to) {
    const code = 'LG_ERR_MACHINE_STATE_UNKNOWN' as const;
    return {
      record: { ...base, type: 'machine.reading_rejected', status: 'rejected', errorCode: code, message: formatMessage(code, { device, value: reading.value }), payload: { field: 'state', value: reading.value ?? null, ...timing } },
      effects: [],
    };
  }
  const prev = env.md.deviceState(device, 'state') as PersistedMachineState | undefined;
  const enteredAt = iso(reading.sourceTime) ?? iso(reading.receivedAt)!;
  const number = tr88Number(to) ?? null;
  if (prev && prev.name === to) {
    // The same state again (a reconnect re-reads it): a confirmation, not a transition; the time
    // in the state keeps counting from when it was entered.
    return {
      record: { ...base, type: 'machine.state_confirmed', status: 'accepted', payload: { state: to, stateNumber: number, enteredAt: prev.enteredAt, ...timing } },
      effects: [],
    };
  }
  const prevMs = prev ? Date.parse(prev.enteredAt) : NaN;
  const durationMs = Number.isFinite(prevMs) ? Math.max(0, Date.parse(enteredAt) - prevMs) : null;
  const effects: Effect[] = [{ type: 'device.set_state', device, key: 'state', value: { name: to, number, enteredAt } satisfies PersistedMachineState }];
  if (opts.autoBatchTransitions && ctx.batch) {
    // Repo.applyEffects runs the completion checks before a 'completed' move (issue 10.6): a
    // Complete that fails them leaves the batch as it is and records batch.transition_refused.
    const b = env.md.batch(ctx.batch);
    const actor = `device:${device}`;
    if (to === 'Execute' && b?.status === 'planned') {
      effects.push({ type: 'batch.transition', batch: ctx.batch, to: 'in_process', reason: `machine ${device} reached Execute`, actor });
    } else if (to === 'Complete' && b?.status === 'in_process') {
      effects.push({ type: 'batch.transition', batch: ctx.batch, to: 'completed', reason: `machine ${device} reached Complete`, actor });
    }
  }
  return {
    record: {
      ...base,
      type: 'machine.state_changed',
      status: 'accepted',
      payload: {
        from: prev?.name ?? null,
        to,
        stateNumber: number,
        fromNumber: prev?.number ?? null,
        raw: reading.meta?.raw ?? null,
        enteredAt,
        previousEnteredAt: prev?.enteredAt ?? null,
        previousDurationMs: durationMs,
        ...timing,
      },
    },
    effects,
  };
}

function bindCounter(
  reading: MachineReading,
  ctx: StationContext,
  env: BindEnv,
  kind: 'good' | 'rejected',
  base: Omit<RecordDraft, 'type' | 'status' | 'payload'>,
  timing: Record<string, unknown>,
): BindResult {
  const device = reading.deviceId;
  const key = `counter.${reading.field}`;
  const bits = typeof reading.meta?.counterBits === 'number' ? reading.meta.counterBits : 32;
  let current: bigint;
  try {
    current = BigInt(String(reading.value));
    if (current < 0n) throw new Error('negative');
  } catch {
    const code = 'LG_ERR_READING_INVALID' as const;
    return {
      record: { ...base, type: 'machine.reading_rejected', status: 'rejected', errorCode: code, message: formatMessage(code, { device, detail: `counter ${reading.field} = ${JSON.stringify(reading.value)}` }), payload: { field: reading.field, value: reading.value ?? null, ...timing } },
      effects: [],
    };
  }
  const last = env.md.deviceState(device, key) as PersistedCounter | undefined;
  let lastValue: bigint | undefined;
  try {
    lastValue = last ? BigInt(last.value) : undefined;
  } catch {
    lastValue = undefined;
  }
  const { delta, step } = counterDelta(lastValue, current, bits);
  const effects: Effect[] = [
    { type: 'device.set_state', device, key, value: { value: current.toString(), bits, at: iso(reading.receivedAt)! } satisfies PersistedCounter },
  ];
  const meta = reading.meta ?? {};
  const maxRate = typeof meta.maxRatePerSecond === 'number' && meta.maxRatePerSecond > 0 ? meta.maxRatePerSecond : DEFAULT_COUNTER_MAX_RATE_PER_SECOND;
  const sampleWindowMs = typeof meta.sampleWindowMs === 'number' && meta.sampleWindowMs > 0 ? meta.sampleWindowMs : MIN_SAMPLE_WINDOW_MS;
  const sinceLastMs = last ? reading.receivedAt.getTime() - Date.parse(last.at) : NaN;
  const windowMs = meta.firstSample === true && Number.isFinite(sinceLastMs) ? Math.max(sampleWindowMs, sinceLastMs) : sampleWindowMs;
  const maxDelta = counterMaxDelta(maxRate, windowMs);
  if (delta > maxDelta) {
    const code = 'LG_ERR_COUNTER_DISCONTINUITY' as const;
    return {
      record: {
        ...base,
        type: 'counter.discontinuity',
        status: 'rejected',
        errorCode: code,
        message: formatMessage(code, { device, field: reading.field, previous: lastValue?.toString() ?? null, value: current.toString(), delta: delta.toString(), maxDelta: maxDelta.toString() }),
        payload: {
          counter: kind,
          field: reading.field,
          value: current.toString(),
          previous: lastValue?.toString() ?? null,
          delta: delta.toString(),
          step,
          counterBits: bits,
          maxDelta: maxDelta.toString(),
          maxRatePerSecond: maxRate,
          windowMs,
          firstSample: meta.firstSample === true,
          ...timing,
        },
      },
      effects,
    };
  }
  const payload = {
    counter: kind,
    field: reading.field,
    value: current.toString(),
    previous: lastValue?.toString() ?? null,
    delta: delta.toString(),
    step,
    counterBits: bits,
    ...timing,
  };
  if (!ctx.batch) {
    const code = 'LG_ERR_NO_ACTIVE_BATCH' as const;
    return {
      record: { ...base, type: 'counter.updated', status: 'rejected', errorCode: code, message: formatMessage(code, { station: ctx.station }), payload },
      effects,
    };
  }
  if (delta > 0n) {
    effects.push({ type: 'batch.add_produced', batch: ctx.batch, good: kind === 'good' ? delta.toString() : '0', rejected: kind === 'rejected' ? delta.toString() : '0' });
  }
  return { record: { ...base, type: 'counter.updated', status: 'accepted', payload }, effects };
}

/** The pseudo-state time without a link is booked under (no state is known during a gap). */
export const LINK_LOST_STATE = 'LinkLost';

interface RecordLike {
  type: string;
  payload: Record<string, unknown>;
  receivedAt?: string | Date | null;
}

/**
 * Time per PackML state (ms) for one batch, from its records (any order; only machine.* records
 * are used). `from` (batch start) lets the state the machine was in when the batch started count
 * from then (taken from the first transition's `from`); `until` (batch end, or now) closes the last
 * state. Link gaps are booked under LINK_LOST_STATE, and the state before a gap resumes after it.
 */
export function stateDurations(records: readonly RecordLike[], opts: { from?: Date | string; until?: Date | string } = {}): Record<string, number> {
  const t = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : NaN);
  const at = (r: RecordLike): number => {
    const p = r.payload;
    if (r.type === 'machine.state_changed') return t(p.enteredAt);
    if (r.type === 'machine.link_lost') return t(p.since);
    if (r.type === 'machine.link_restored') return t(p.since) + Number(p.gapMs ?? 0);
    return t(r.receivedAt ?? p.receivedAt);
  };
  const rel = records
    .filter((r) => r.type === 'machine.state_changed' || r.type === 'machine.link_lost' || r.type === 'machine.link_restored' || r.type === 'machine.state_confirmed')
    .map((r) => ({ r, at: at(r) }))
    .filter((x) => Number.isFinite(x.at))
    .sort((a, b) => a.at - b.at);
  const out: Record<string, number> = {};
  const book = (state: string, fromMs: number, toMs: number): void => {
    if (toMs > fromMs) out[state] = (out[state] ?? 0) + (toMs - fromMs);
  };
  const fromMs = opts.from !== undefined ? t(opts.from) : NaN;
  let cur: { state: string; since: number } | null = null;
  let beforeGap: string | null = null;
  for (const { r, at: when } of rel) {
    const p = r.payload;
    if (r.type === 'machine.state_changed') {
      if (!cur && typeof p.from === 'string' && Number.isFinite(fromMs)) {
        const prevAt = t(p.previousEnteredAt);
        cur = { state: p.from, since: Number.isFinite(prevAt) ? Math.max(prevAt, fromMs) : fromMs };
      }
      if (cur) book(cur.state, cur.since, when);
      cur = { state: String(p.to), since: when };
      beforeGap = null;
    } else if (r.type === 'machine.link_lost') {
      if (cur && cur.state !== LINK_LOST_STATE) {
        book(cur.state, cur.since, when);
        beforeGap = cur.state;
      }
      cur = { state: LINK_LOST_STATE, since: when };
    } else if (r.type === 'machine.link_restored') {
      if (cur && cur.state === LINK_LOST_STATE) {
        book(LINK_LOST_STATE, cur.since, when);
        cur = beforeGap ? { state: beforeGap, since: when } : null;
      }
    } else if (r.type === 'machine.state_confirmed' && !cur && typeof p.state === 'string') {
      const entered = t(p.enteredAt);
      cur = { state: p.state, since: Number.isFinite(fromMs) && Number.isFinite(entered) ? Math.max(entered, fromMs) : when };
    }
  }
  if (cur && opts.until !== undefined) book(cur.state, cur.since, t(opts.until));
  return out;
}
