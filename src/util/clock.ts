import { existsSync } from 'node:fs';

/**
 * The one source of "now" for everything that stamps or numbers: injectable so tests can
 * cross midnight or a time-zone change without waiting for one.
 */
export interface Clock {
  now(): Date;
  /** Whether the system clock is known to be synchronised (NTP); recorded on every record. */
  synced(): boolean;
}

export const systemClock: Clock = {
  now: () => new Date(),
  synced: () => clockSyncState(),
};

let syncCache: { at: number; value: boolean } | undefined;

/**
 * `/run/systemd/timesync/synchronized` exists once systemd-timesyncd has synchronised the clock.
 * Where that mechanism is absent (chrony, no NTP) we answer false — unknown is not synced, which is
 * the honest answer for QA — unless LINEGATE_CLOCK_SYNCED=1 says the plant has checked it.
 * Cached for 60 s: it is read on every record.
 */
function clockSyncState(): boolean {
  const nowMs = Date.now();
  if (syncCache && nowMs - syncCache.at < 60_000) return syncCache.value;
  const value =
    process.env.LINEGATE_CLOCK_SYNCED === '1' ||
    (process.env.LINEGATE_CLOCK_SYNCED !== '0' && existsSync('/run/systemd/timesync/synchronized'));
  syncCache = { at: nowMs, value };
  return value;
}

/** A clock for tests: starts at `start`, moves only when told. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date | string, private isSynced = true) {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  synced(): boolean {
    return this.isSynced;
  }
  set(d: Date | string): void {
    this.t = new Date(d).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface ClockStep {
  /** Size of the step in ms: negative = the clock went back. */
  deltaMs: number;
  /** Wall time just before the step (as the clock said then) and just after it. */
  before: Date;
  after: Date;
}

/**
 * A clock that notices STEPS of the wall clock (issue 18, clock-jump fault): someone sets the time,
 * NTP steps it after a long outage, a VM resumes. A step shows as a change of (wall − monotonic);
 * NTP slewing (at most 0.5 ms/s) stays far below `thresholdMs` (default 2 s) because the reference is
 * moved on every check. For `holdMs` after a step (default 10 min) `synced()` answers false, so every
 * record journaled then carries clock_synced = 0 and the batch review lists it (clock_unsynced):
 * times around a step can not be trusted in either direction. `onStep` is told of each step (the
 * gateway journals a `clock.stepped` record). Checked on every now()/synced() call and by the
 * gateway's 1 s timer, so the first record after a step is already flagged.
 */
export class StepWatchingClock implements Clock {
  private offset: number;
  private suspectUntil = Number.NEGATIVE_INFINITY;
  private readonly thresholdMs: number;
  private readonly holdMs: number;
  private readonly wallMs: () => number;
  private readonly monoMs: () => number;
  readonly steps: ClockStep[] = [];

  constructor(
    private readonly base: Clock,
    opts: { thresholdMs?: number; holdMs?: number; onStep?: (s: ClockStep) => void; wallMs?: () => number; monoMs?: () => number } = {},
  ) {
    this.thresholdMs = opts.thresholdMs ?? 2000;
    this.holdMs = opts.holdMs ?? 600_000;
    this.wallMs = opts.wallMs ?? (() => Date.now());
    this.monoMs = opts.monoMs ?? (() => performance.now());
    this.onStep = opts.onStep;
    this.offset = this.wallMs() - this.monoMs();
  }

  onStep: ((s: ClockStep) => void) | undefined;

  now(): Date {
    this.check();
    return this.base.now();
  }

  synced(): boolean {
    this.check();
    return this.monoMs() >= this.suspectUntil && this.base.synced();
  }

  /** Whether a step was seen within the hold time. */
  get suspect(): boolean {
    return this.monoMs() < this.suspectUntil;
  }

  /** Look for a step since the last check; returns it (and tells onStep) or null. */
  check(): ClockStep | null {
    const wall = this.wallMs();
    const mono = this.monoMs();
    const offset = wall - mono;
    const delta = offset - this.offset;
    this.offset = offset;
    if (Math.abs(delta) < this.thresholdMs) return null;
    const step: ClockStep = { deltaMs: Math.round(delta), before: new Date(wall - delta), after: new Date(wall) };
    this.suspectUntil = mono + this.holdMs;
    this.steps.push(step);
    if (this.steps.length > 100) this.steps.shift();
    try {
      this.onStep?.(step);
    } catch {
      /* a listener must not break the clock */
    }
    return step;
  }
}
