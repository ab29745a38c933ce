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
