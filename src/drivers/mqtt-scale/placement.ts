/**
 * From a 10 Hz stream of parsed samples to "one capture per placement" (pure; the caller passes
 * the time of each message, so tests script streams without timers).
 *
 * Placement phases:
 *   empty     — platform at or below the zero band (also the initial phase);
 *   armed     — something above the zero band, not captured yet;
 *   captured  — this placement was captured; nothing more until the platform empties or moves;
 *   moved     — was captured, then became unstable (or overloaded/negative): armed again.
 * A stable sample above the zero band in `empty`/`armed`/`moved` is a capture. One exception, to
 * stop a bump from double-counting: in `moved`, a stable weight equal to the last capture within
 * `bumpTolerance` is the same load settling back, not a new addition — it returns to `captured`
 * without a capture (and the trace says so). A genuine second addition changes the weight.
 *
 * Refusals (bad payloads, negative, overload, underload, out of range) are emitted as they
 * happen, but a condition repeating at 10 Hz must not flood the journal. Rule ("refusal
 * episodes"): the first refusal with a given code is emitted at once, with its raw payload.
 * Further refusals with the SAME code are counted, not emitted, until the episode ends — a
 * valid reading arrives, or a refusal with another code. When an episode with repeats ends, one
 * summary refusal is emitted carrying the code, the count (`details.repeats`), first/last times
 * and the last raw payload. So every distinct condition is recorded and every repeat is counted,
 * while a scale stuck in overload for an hour costs two records, not 36 000. The ring trace keeps
 * the individual payloads of the last `traceSize` messages for diagnostics.
 *
 * Issue 10.5, two conditions that used to leave no record at all:
 * - A sample without a stable flag on a scale without software stability can never be judged
 *   stable: it is refused LG_ERR_WEIGHT_STABILITY_UNKNOWN (an episode like any refusal), instead
 *   of waiting forever for a stability that cannot come.
 * - A stable empty platform that reads below zero — a signed zero "-0.000", or a negative net
 *   inside the zero band — is still an empty platform (no capture, the phase is `empty`), and is
 *   recorded ONCE per empty period as LG_ERR_WEIGHT_BELOW_ZERO: the zero drifted and the next
 *   weighing would be short. Once per empty period (until something above the zero band arrives),
 *   not per episode, because an indicator flickering between "-0.000" and "0.000" at 10 Hz would
 *   otherwise open a new episode every other message.
 */
import type { ErrorCode } from '../../errors.js';
import { type Dec, cmp as cmpDec, sub, toString as decToString } from '../../domain/decimal.js';

/** Compare; same-scale values (the 10 Hz common case) without rescaling. */
function cmp(a: Dec, b: Dec): -1 | 0 | 1 {
  if (a.scale === b.scale) return a.units < b.units ? -1 : a.units > b.units ? 1 : 0;
  return cmpDec(a, b);
}
import type { ParseOutcome, WeightSample } from './weight.js';

export interface StabilityOptions {
  readings: number;
  tolerance: Dec;
  windowMs: number;
}

/** "N readings within a tolerance over T ms": stable when the readings of the last `windowMs`
 *  number at least `readings` and their spread (max − min of net) is ≤ `tolerance`. */
export class StabilityDetector {
  private buf: Array<{ t: number; net: Dec }> = [];
  constructor(private readonly o: StabilityOptions) {}
  push(t: number, net: Dec): boolean {
    this.buf.push({ t, net });
    const from = t - this.o.windowMs;
    while (this.buf.length > 0 && this.buf[0]!.t < from) this.buf.shift();
    // Bound memory even if a broker replays thousands of messages with the same timestamp.
    if (this.buf.length > this.o.readings * 4) this.buf.splice(0, this.buf.length - this.o.readings * 4);
    if (this.buf.length < this.o.readings) return false;
    let min = this.buf[0]!.net;
    let max = min;
    for (const s of this.buf) {
      if (cmp(s.net, min) < 0) min = s.net;
      if (cmp(s.net, max) > 0) max = s.net;
    }
    return cmp(sub(max, min), this.o.tolerance) <= 0;
  }
  reset(): void {
    this.buf = [];
  }
}

export type Phase = 'empty' | 'armed' | 'captured' | 'moved';

export interface PlacementOptions {
  zeroBand: Dec;
  /** Gross above it → LG_ERR_WEIGHT_OVERLOAD. */
  capacity?: Dec | undefined;
  /** Stable net above the zero band but below it → LG_ERR_WEIGHT_OUT_OF_RANGE. */
  minLoad?: Dec | undefined;
  /** Used when samples carry no stable flag. */
  stability?: StabilityOptions | undefined;
  /** Same load settling back after a bump: see the file comment. */
  bumpTolerance: Dec;
  traceSize?: number;
}

export type Emission =
  | { type: 'capture'; sample: WeightSample; at: Date; raw: string }
  | {
      type: 'refusal';
      code: ErrorCode;
      detail: string;
      details: Record<string, unknown>;
      at: Date;
      raw: string;
      sample?: WeightSample;
    };

export interface TraceEntry {
  at: string;
  raw: string;
  net?: string;
  gross?: string;
  stable?: boolean;
  phase: Phase;
  event?: 'capture' | 'refusal' | 'repeat' | 'bump-ignored' | 'tare';
  code?: ErrorCode;
}

export interface PlacementSnapshot {
  phase: Phase;
  lastCapture: { net: string; unit: string; at: string } | null;
  /**
   * Source time (the payload's own timestamp, ISO) of the last message applied to this state, when
   * payloads carry one: redelivered messages older than it were already applied (driver.ts, "Replays").
   */
  appliedThrough?: string | null;
  /**
   * The MQTT message whose processing made this state (packet id and payload hash), when it came
   * with a packet id: redelivered messages up to and including it were already applied (driver.ts,
   * "Replays").
   */
  through?: { id: number; hash: string; at: number } | null;
}

/** What the ring keeps per message: references only; text is built when someone reads the trace. */
interface RawTrace {
  at: number;
  raw: string;
  phase: Phase;
  s: WeightSample | undefined;
  stable: boolean | undefined;
  event: TraceEntry['event'] | undefined;
  code: ErrorCode | undefined;
}

function formatTrace(t: RawTrace): TraceEntry {
  const entry: TraceEntry = { at: new Date(t.at).toISOString(), raw: t.raw.length > 200 ? `${t.raw.slice(0, 200)}…` : t.raw, phase: t.phase };
  if (t.s) {
    entry.net = decToString(t.s.net);
    entry.gross = decToString(t.s.gross);
  }
  if (t.stable !== undefined) entry.stable = t.stable;
  if (t.event) entry.event = t.event;
  if (t.code) entry.code = t.code;
  return entry;
}

interface Episode {
  code: ErrorCode;
  repeats: number;
  firstAt: Date;
  lastAt: Date;
  lastRaw: string;
  detail: string;
  details: Record<string, unknown>;
}

export class PlacementMachine {
  private phase: Phase = 'empty';
  private lastCapture: { net: Dec; unit: string; at: Date } | null = null;
  private episode: Episode | null = null;
  /** LG_ERR_WEIGHT_BELOW_ZERO was recorded in this empty period (see the file comment). */
  private belowZeroReported = false;
  private readonly detector: StabilityDetector | null;
  private readonly ring: RawTrace[] = [];
  private ringPos = 0;
  private readonly traceSize: number;
  readonly counters = { messages: 0, captures: 0, refusals: 0, repeats: 0, bumps: 0 };

  constructor(private readonly o: PlacementOptions) {
    this.detector = o.stability ? new StabilityDetector(o.stability) : null;
    this.traceSize = Math.max(1, o.traceSize ?? 600);
  }

  get currentPhase(): Phase {
    return this.phase;
  }

  snapshot(): PlacementSnapshot {
    const c = this.lastCapture;
    return { phase: this.phase, lastCapture: c ? { net: decToString(c.net), unit: c.unit, at: c.at.toISOString() } : null };
  }

  /** Restore after a restart, so a load still on the platform is not captured a second time. */
  restore(s: PlacementSnapshot, parse: (t: string) => Dec): void {
    this.phase = s.phase;
    this.lastCapture = s.lastCapture ? { net: parse(s.lastCapture.net), unit: s.lastCapture.unit, at: new Date(s.lastCapture.at) } : null;
  }

  /** Feed one parsed message; returns what must be emitted (usually nothing). */
  process(outcome: ParseOutcome, at: Date, raw: string): Emission[] {
    this.counters.messages++;
    const out: Emission[] = [];
    if (outcome.kind === 'refusal') {
      this.refuse(out, outcome.code, outcome.detail, outcome.details, at, raw, undefined);
      if (outcome.code === 'LG_ERR_WEIGHT_OVERLOAD' || outcome.code === 'LG_ERR_WEIGHT_UNDERLOAD') this.moved();
      return out;
    }
    if (outcome.kind === 'tare') {
      this.trace({ at, raw, event: 'tare' });
      return out;
    }
    const s = outcome.sample;
    if (s.stable === null && !this.detector) {
      this.refuse(out, 'LG_ERR_WEIGHT_STABILITY_UNKNOWN', 'the payload has no stable flag and no software stability is configured', { value: `${decToString(s.net)} ${s.unit}` }, at, raw, s);
      return out;
    }
    const detected = this.detector ? this.detector.push(at.getTime(), s.net) : null;
    const stable = s.stable ?? detected ?? false;

    if (this.o.capacity && cmp(s.gross, this.o.capacity) > 0) {
      this.moved();
      this.refuse(out, 'LG_ERR_WEIGHT_OVERLOAD', `gross ${decToString(s.gross)} ${s.unit} is over the capacity ${decToString(this.o.capacity)}`, { value: `${decToString(s.gross)} ${s.unit}` }, at, raw, s);
      return out;
    }
    const negZero = { units: -this.o.zeroBand.units, scale: this.o.zeroBand.scale };
    if (stable && cmp(s.net, negZero) < 0) {
      this.moved();
      this.refuse(out, 'LG_ERR_WEIGHT_NEGATIVE', `stable net ${decToString(s.net)} ${s.unit} is negative`, { value: `${decToString(s.net)} ${s.unit}` }, at, raw, s);
      return out;
    }

    // A load that would be captured but is below the minimum load (e.g. 20 d for legal-for-trade).
    if (stable && this.phase !== 'captured' && this.o.minLoad && cmp(s.net, this.o.zeroBand) > 0 && cmp(s.net, this.o.minLoad) < 0) {
      this.refuse(out, 'LG_ERR_WEIGHT_OUT_OF_RANGE', `net ${decToString(s.net)} ${s.unit} is below the minimum load ${decToString(this.o.minLoad)}`, {
        value: `${decToString(s.net)} ${s.unit}`,
        min: decToString(this.o.minLoad),
        max: this.o.capacity ? decToString(this.o.capacity) : '∞',
      }, at, raw, s);
      return out;
    }

    // A valid reading ends any refusal episode.
    this.closeEpisode(out);

    if (cmp(s.net, this.o.zeroBand) <= 0) {
      this.phase = 'empty';
      if (stable && (s.negativeZero === true || s.net.units < 0n)) {
        const shown = `${s.negativeZero ? '-' : ''}${decToString(s.net)} ${s.unit}`;
        if (!this.belowZeroReported) {
          this.belowZeroReported = true;
          this.counters.refusals++;
          this.trace({ at, raw, s, stable, event: 'refusal', code: 'LG_ERR_WEIGHT_BELOW_ZERO' });
          out.push({ type: 'refusal', code: 'LG_ERR_WEIGHT_BELOW_ZERO', detail: `the empty platform reads ${shown}`, details: { value: shown }, at, raw, sample: s });
        } else {
          this.counters.repeats++;
          this.trace({ at, raw, s, stable, event: 'repeat', code: 'LG_ERR_WEIGHT_BELOW_ZERO' });
        }
        return out;
      }
      this.trace({ at, raw, s, stable });
      return out;
    }
    this.belowZeroReported = false;
    if (!stable) {
      if (this.phase === 'captured') this.phase = 'moved';
      else if (this.phase === 'empty') this.phase = 'armed';
      this.trace({ at, raw, s, stable });
      return out;
    }
    if (this.phase === 'captured') {
      this.trace({ at, raw, s, stable });
      return out;
    }
    if (this.phase === 'moved' && this.lastCapture && this.lastCapture.unit === s.unit) {
      const d = sub(s.net, this.lastCapture.net);
      const abs = d.units < 0n ? { units: -d.units, scale: d.scale } : d;
      if (cmp(abs, this.o.bumpTolerance) <= 0) {
        this.phase = 'captured';
        this.counters.bumps++;
        this.trace({ at, raw, s, stable, event: 'bump-ignored' });
        return out;
      }
    }
    this.phase = 'captured';
    this.lastCapture = { net: s.net, unit: s.unit, at };
    this.counters.captures++;
    this.trace({ at, raw, s, stable, event: 'capture' });
    out.push({ type: 'capture', sample: s, at, raw });
    return out;
  }

  /** The last messages, oldest first (diagnostics). Formatted on demand, not per message. */
  trace(): TraceEntry[];
  trace(e: { at: Date; raw: string; s?: WeightSample; stable?: boolean; event?: TraceEntry['event']; code?: ErrorCode }): void;
  trace(e?: { at: Date; raw: string; s?: WeightSample; stable?: boolean; event?: TraceEntry['event']; code?: ErrorCode }): TraceEntry[] | void {
    if (!e) {
      const ordered = this.ring.length < this.traceSize ? this.ring.slice() : [...this.ring.slice(this.ringPos), ...this.ring.slice(0, this.ringPos)];
      return ordered.map(formatTrace);
    }
    const entry: RawTrace = { at: e.at.getTime(), raw: e.raw, phase: this.phase, s: e.s, stable: e.stable, event: e.event, code: e.code };
    if (this.ring.length < this.traceSize) this.ring.push(entry);
    else {
      this.ring[this.ringPos] = entry;
      this.ringPos = (this.ringPos + 1) % this.traceSize;
    }
  }

  /** Emit the summary of an open episode, if it had repeats. Call on stop too. */
  closeEpisode(out: Emission[]): void {
    const ep = this.episode;
    this.episode = null;
    if (!ep || ep.repeats === 0) return;
    this.counters.refusals++;
    out.push({
      type: 'refusal',
      code: ep.code,
      detail: `${ep.detail} (repeated ${ep.repeats} more times until ${ep.lastAt.toISOString()})`,
      details: { ...ep.details, summary: true, repeats: ep.repeats, firstAt: ep.firstAt.toISOString(), lastAt: ep.lastAt.toISOString() },
      at: ep.lastAt,
      raw: ep.lastRaw,
    });
  }

  private moved(): void {
    if (this.phase === 'captured') this.phase = 'moved';
    this.detector?.reset();
  }

  private refuse(out: Emission[], code: ErrorCode, detail: string, details: Record<string, unknown>, at: Date, raw: string, s: WeightSample | undefined): void {
    if (this.episode && this.episode.code === code) {
      this.episode.repeats++;
      this.episode.lastAt = at;
      this.episode.lastRaw = raw;
      this.counters.repeats++;
      this.trace({ at, raw, ...(s ? { s } : {}), event: 'repeat', code });
      return;
    }
    this.closeEpisode(out);
    this.episode = { code, repeats: 0, firstAt: at, lastAt: at, lastRaw: raw, detail, details };
    this.counters.refusals++;
    this.trace({ at, raw, ...(s ? { s } : {}), event: 'refusal', code });
    const e: Emission = { type: 'refusal', code, detail, details, at, raw };
    if (s) e.sample = s;
    out.push(e);
  }
}
