import type { LiveEvents } from '../../events.js';
import type { Ops } from '../../ops.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { stationUi } from '../config.js';

/**
 * Idle sign-out, on the gateway (not in the page: a closed or crashed panel must not leave an
 * operator signed in for the rest of the shift). Activity = a record at the station that a
 * person caused (scans, weights, sign-in; machine counters are not a person) or a touch at its
 * panel. After `stations[].ui.idleSignOutSeconds` without any, the operator is signed out with
 * a reason (an `operator.signed_out` record of that operator, done by `system`).
 * Activity is kept in memory: after a restart the timer starts again from the restart.
 */
export class IdleSignOut {
  private readonly last = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private unsub: (() => void) | null = null;
  private busy = false;

  constructor(private readonly deps: { ops: Ops; events: LiveEvents; clock: Clock; logger: Logger }) {}

  start(): void {
    const now = this.deps.clock.now().getTime();
    for (const s of this.deps.ops.cfg.stations) this.last.set(s.id, now);
    this.unsub = this.deps.events.subscribe(null, (e) => {
      if (e.event !== 'record') return;
      const type = String(e.data.type ?? '');
      if (type.startsWith('machine.') || type === 'operator.signed_out') return;
      const station = e.data.station as string | undefined;
      if (station) this.touch(station);
    });
    this.timer = setInterval(() => void this.check(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsub?.();
  }

  touch(station: string): void {
    this.last.set(station, this.deps.clock.now().getTime());
  }

  private async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = this.deps.clock.now().getTime();
      for (const s of this.deps.ops.cfg.stations) {
        const limit = stationUi(s).idleSignOutSeconds;
        if (!limit) continue;
        const since = this.last.get(s.id) ?? now;
        if (now - since < limit * 1000) continue;
        const ctx = this.deps.ops.stationContext(s.id);
        if (!ctx.operator) continue;
        await this.deps.ops.setStationContext(s.id, { operator: null }, { id: 'system', role: 'system' }, `idle for ${limit} s: signed out automatically`);
        this.touch(s.id);
        this.deps.logger.info({ station: s.id, operator: ctx.operator, idleSeconds: limit }, 'operator signed out after idle time');
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'idle sign-out check failed');
    } finally {
      this.busy = false;
    }
  }
}
