import { describe, expect, it } from 'vitest';
import { StepWatchingClock, type ClockStep } from '../../../src/util/clock.js';

describe('StepWatchingClock', () => {
  const base = { now: () => new Date(), synced: () => true };

  function rig() {
    let wall = 1_700_000_000_000;
    let mono = 1000;
    const steps: ClockStep[] = [];
    const c = new StepWatchingClock(base, { wallMs: () => wall, monoMs: () => mono, holdMs: 60_000, onStep: (s) => steps.push(s) });
    return { c, steps, tick: (ms: number) => ((wall += ms), (mono += ms)), step: (ms: number) => (wall += ms), slew: (ms: number) => (wall += ms) };
  }

  it('sees a step back and a step forward, flags synced() false for the hold time, then true again', () => {
    const { c, steps, tick, step } = rig();
    expect(c.synced()).toBe(true);
    tick(5000);
    step(-13 * 3_600_000);
    expect(c.synced()).toBe(false);
    expect(steps).toHaveLength(1);
    expect(steps[0]!.deltaMs).toBe(-13 * 3_600_000);
    expect(steps[0]!.after.getTime() - steps[0]!.before.getTime()).toBe(-13 * 3_600_000);
    tick(30_000);
    expect(c.synced()).toBe(false);
    step(26 * 3_600_000);
    expect(c.synced()).toBe(false);
    expect(c.check()).toBeNull(); // reported once
    expect(steps).toHaveLength(2);
    expect(steps[1]!.deltaMs).toBe(26 * 3_600_000);
    tick(59_000);
    expect(c.synced()).toBe(false); // the hold restarts at each step
    tick(2000);
    expect(c.synced()).toBe(true);
  });

  it('ignores NTP slewing (0.5 ms/s) and steps under the threshold', () => {
    const { c, steps, tick, slew } = rig();
    for (let i = 0; i < 10_000; i++) {
      tick(1000);
      slew(0.5);
      c.check();
    }
    tick(1000);
    slew(1500);
    expect(c.synced()).toBe(true);
    expect(steps).toHaveLength(0);
  });

  it('answers false when the base clock is not synced, step or not', () => {
    const c = new StepWatchingClock({ now: () => new Date(), synced: () => false });
    expect(c.synced()).toBe(false);
  });
});
