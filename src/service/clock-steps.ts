import { formatMessage } from '../errors.js';
import type { Journal } from '../store/journal.js';
import type { ClockStep, StepWatchingClock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/**
 * Journal every step of the wall clock as a `clock.stepped` record (flagged LG_ERR_CLOCK_STEPPED,
 * payload: deltaMs, before, after, holdMs) and log it; a 1 s timer looks for steps while nothing
 * else asks the clock. The records journaled in the hold time after a step carry clock_synced = 0
 * (StepWatchingClock.synced()). Returns the stop function.
 */
export function journalClockSteps(clock: StepWatchingClock, journal: Journal, logger: Logger, holdMs = 600_000): () => void {
  const log = logger.child({ component: 'clock' });
  clock.onStep = (s: ClockStep): void => {
    const direction = s.deltaMs < 0 ? 'back' : 'forward';
    const abs = Math.abs(s.deltaMs);
    const delta = abs >= 3_600_000 ? `${(abs / 3_600_000).toFixed(2)} h` : abs >= 60_000 ? `${(abs / 60_000).toFixed(1)} min` : `${(abs / 1000).toFixed(1)} s`;
    const message = formatMessage('LG_ERR_CLOCK_STEPPED', { direction, delta, before: s.before.toISOString(), after: s.after.toISOString(), holdMinutes: Math.round(holdMs / 60_000) });
    log.warn({ deltaMs: s.deltaMs, before: s.before.toISOString(), after: s.after.toISOString() }, message);
    if (journal.isClosed) return;
    // Not awaited inside the clock call (that may run inside a journal flush); a failure is logged.
    setImmediate(() => {
      journal
        .append({ type: 'clock.stepped', status: 'accepted', errorCode: 'LG_ERR_CLOCK_STEPPED', message, payload: { deltaMs: s.deltaMs, before: s.before.toISOString(), after: s.after.toISOString(), holdMs } })
        .catch((err: unknown) => log.error({ err }, 'could not journal the clock step'));
    });
  };
  const timer = setInterval(() => clock.check(), 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    clock.onStep = undefined;
  };
}
