import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadScaleProfile, parseWeightPayload, PlacementMachine, StabilityDetector, placementOptionsFor, type Emission } from '../../../src/drivers/mqtt-scale/index.js';
import { parseDec, toString as d } from '../../../src/domain/decimal.js';
import type { MqttScaleConfig } from '../../../src/config/devices/mqtt-scale.js';

const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
const jsonP = loadScaleProfile(devicesDir, 'json-generic');
const valueP = loadScaleProfile(devicesDir, 'json-value');
const cfg = (extra: Partial<MqttScaleConfig> = {}): MqttScaleConfig => ({
  kind: 'mqtt-scale', id: 's1', station: 'WEIGH-1', profile: 'json-generic', broker: { url: 'mqtt://x' }, ...extra,
});

/** A 10 Hz script: each entry is [gross kg text, stable flag | undefined, repeat count]. */
function run(m: PlacementMachine, script: Array<[string, boolean | undefined, number]>, profile = jsonP, t0 = Date.parse('2026-11-22T05:00:00Z')) {
  const out: Emission[] = [];
  let t = t0;
  for (const [gross, stable, n] of script) {
    for (let i = 0; i < n; i++) {
      const payload = profile === jsonP
        ? JSON.stringify({ weight: { gross, tare: '0', unit: 'kg', ...(stable === undefined ? {} : { stable }) } })
        : JSON.stringify({ value: gross, unit: 'kg' });
      out.push(...m.process(parseWeightPayload(payload, profile), new Date(t), payload));
      t += 100;
    }
  }
  return out;
}
const captures = (e: Emission[]) => e.filter((x) => x.type === 'capture').map((x) => (x.type === 'capture' ? d(x.sample.net) : ''));
const refusals = (e: Emission[]) => e.filter((x) => x.type === 'refusal') as Extract<Emission, { type: 'refusal' }>[];

describe('placement state machine (10 Hz scripts)', () => {
  it('a weight sitting on the platform is captured exactly once', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const e = run(m, [['0.000', true, 10], ['0.700', false, 3], ['1.310', false, 3], ['1.248', false, 4], ['1.250', true, 200]]);
    expect(captures(e)).toEqual(['1.250']);
    expect(m.currentPhase).toBe('captured');
  });
  it('remove → below the zero band → next placement captured', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const e = run(m, [
      ['1.250', false, 3], ['1.250', true, 20], ['0.400', false, 2], ['0.003', true, 10], // 3 g is inside the 5 g zero band
      ['2.000', false, 3], ['2.000', true, 20],
    ]);
    expect(captures(e)).toEqual(['1.250', '2.000']);
  });
  it('a wobble without leaving the zero band does not re-arm: a second addition needs instability', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const e = run(m, [['1.000', true, 20], ['1.500', true, 20]]);
    // stable jump with no unstable reading in between: same placement as far as the scale says
    expect(captures(e)).toEqual(['1.000']);
    const e2 = run(m, [['1.800', false, 3], ['1.800', true, 10]]);
    expect(captures(e2)).toEqual(['1.800']);
  });
  it('a bump (unstable, then the same weight again) is not a second capture', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const e = run(m, [['1.000', true, 10], ['1.030', false, 3], ['1.001', true, 10]]);
    expect(captures(e)).toEqual(['1.000']);
    expect(m.counters.bumps).toBe(1);
    expect(m.trace().some((t) => t.event === 'bump-ignored')).toBe(true);
  });
  it('stable weight inside the zero band is never a capture', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    expect(captures(run(m, [['0.005', true, 50], ['0.004', true, 50]]))).toEqual([]);
  });
  it('software stability: N readings within tolerance over T ms', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg({ profile: 'json-value', stability: { readings: 5, tolerance: '0.002', windowMs: 600 } }), valueP));
    const e = run(m, [
      ['0', undefined, 5], ['0.8', undefined, 1], ['1.3', undefined, 1], ['1.2', undefined, 1], ['1.26', undefined, 1],
      ['1.251', undefined, 1], ['1.250', undefined, 1], ['1.252', undefined, 1], ['1.251', undefined, 1], ['1.250', undefined, 30],
    ], valueP);
    expect(captures(e)).toHaveLength(1);
    // captured at the 5th reading inside the tolerance (1.251,1.250,1.252,1.251,1.250)
    expect(captures(e)[0]).toBe('1.250');
  });
  it('software stability never fires on noise wider than the tolerance', () => {
    const det = new StabilityDetector({ readings: 5, tolerance: parseDec('0.002'), windowMs: 600 });
    let stable = false;
    for (let i = 0; i < 100; i++) stable ||= det.push(i * 100, parseDec(i % 2 ? '1.250' : '1.253'));
    expect(stable).toBe(false);
  });
  it('software stability needs the readings inside the window (slow streams are not stable)', () => {
    const det = new StabilityDetector({ readings: 5, tolerance: parseDec('0.002'), windowMs: 300 });
    let stable = false;
    for (let i = 0; i < 20; i++) stable ||= det.push(i * 100, parseDec('1.250'));
    expect(stable).toBe(false);
  });
  it('negative stable weight is refused once per episode, repeats counted in a summary', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const e = run(m, [['-0.200', true, 50], ['0.000', true, 5]]);
    const r = refusals(e);
    expect(r.map((x) => x.code)).toEqual(['LG_ERR_WEIGHT_NEGATIVE', 'LG_ERR_WEIGHT_NEGATIVE']);
    expect(r[0]!.details.summary).toBeUndefined();
    expect(r[1]!.details).toMatchObject({ summary: true, repeats: 49 });
    expect(m.counters.repeats).toBe(49);
  });
  it('10.5 a payload whose stable flag is missing (no software stability) is a refusal LG_ERR_WEIGHT_STABILITY_UNKNOWN, not silence', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const one = run(m, [['1.000', undefined, 1]]);
    expect(refusals(one).map((x) => x.code)).toEqual(['LG_ERR_WEIGHT_STABILITY_UNKNOWN']);
    // At 10 Hz it is one episode: the first refusal, then a summary with the repeats.
    const more = run(m, [['1.000', undefined, 30], ['1.000', true, 5]]);
    expect(refusals(more).map((x) => [x.code, x.details.repeats])).toEqual([['LG_ERR_WEIGHT_STABILITY_UNKNOWN', 30]]);
    expect(captures(more)).toEqual(['1.000']);
    // With software stability configured, a missing flag is what the detector is for.
    const sw = new PlacementMachine(placementOptionsFor(cfg({ stability: { readings: 5, tolerance: '0.002', windowMs: 600 } }), jsonP));
    const e = run(sw, [['1.000', undefined, 10]]);
    expect(refusals(e)).toEqual([]);
    expect(captures(e)).toEqual(['1.000']);
  });
  it('10.5 -0.000 on the empty platform is one LG_ERR_WEIGHT_BELOW_ZERO per empty period, even flickering with 0.000', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const e = run(m, [['0.000', true, 5], ['-0.000', true, 1], ['0.000', true, 1], ['-0.000', true, 1], ['-0.002', true, 20], ['0.000', true, 5]]);
    expect(refusals(e).map((x) => x.code)).toEqual(['LG_ERR_WEIGHT_BELOW_ZERO']);
    expect(refusals(e)[0]!.details.value).toBe('-0.000 kg');
    expect(m.currentPhase).toBe('empty');
    expect(captures(e)).toEqual([]);
    // The next placement is captured as usual; the next empty period may report again.
    const e2 = run(m, [['1.500', false, 3], ['1.500', true, 5], ['0.000', false, 2], ['-0.000', true, 3]]);
    expect(captures(e2)).toEqual(['1.500']);
    expect(refusals(e2).map((x) => x.code)).toEqual(['LG_ERR_WEIGHT_BELOW_ZERO']);
    // Unstable readings below zero (removal transients) are not judged.
    expect(refusals(run(m, [['1.000', false, 3], ['-0.000', false, 5]]))).toEqual([]);
  });
  it('unstable negative transients (removal) are not refusals', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    expect(refusals(run(m, [['1.000', true, 5], ['-0.300', false, 3], ['0.000', true, 5]]))).toEqual([]);
  });
  it('overload over capacity is refused, and re-arms a captured placement', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg({ max: '10' }), jsonP));
    const e = run(m, [['5.000', true, 5], ['12.000', true, 10], ['5.000', false, 2], ['7.000', true, 5]]);
    expect(refusals(e).map((x) => x.code)).toEqual(['LG_ERR_WEIGHT_OVERLOAD', 'LG_ERR_WEIGHT_OVERLOAD']);
    expect(captures(e)).toEqual(['5.000', '7.000']);
  });
  it('distinct conditions each produce their own refusal; a good reading ends the episode', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const out: Emission[] = [];
    const feed = (p: string) => out.push(...m.process(parseWeightPayload(p, jsonP), new Date(), p));
    feed('{bad');
    feed('{bad');
    feed('{"weight":{"gross":1,"unit":"stone"}}');
    feed('{"weight":{"gross":0,"unit":"kg","stable":true}}');
    feed('{bad again');
    expect(refusals(out).map((r) => [r.code, r.details.summary ?? false])).toEqual([
      ['LG_ERR_WEIGHT_PAYLOAD', false],
      ['LG_ERR_WEIGHT_PAYLOAD', true], // summary of the repeat, emitted when the unit refusal starts
      ['LG_ERR_WEIGHT_UNIT', false],
      ['LG_ERR_WEIGHT_PAYLOAD', false],
    ]);
  });
  it('minimum load: a stable load above the zero band but below min is out of range', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg({ min: '0.020' }), jsonP));
    const e = run(m, [['0.010', true, 5], ['0.050', false, 1], ['0.050', true, 5]]);
    // first refusal at once, then one summary (4 repeats) when the unstable reading ends the episode
    expect(refusals(e).map((r) => [r.code, r.details.repeats ?? 0])).toEqual([['LG_ERR_WEIGHT_OUT_OF_RANGE', 0], ['LG_ERR_WEIGHT_OUT_OF_RANGE', 4]]);
    expect(captures(e)).toEqual(['0.050']);
  });
  it('the trace is a bounded ring, oldest first', () => {
    const m = new PlacementMachine({ ...placementOptionsFor(cfg(), jsonP), traceSize: 10 });
    run(m, [['0.000', true, 5], ['1.000', true, 20]]);
    const t = m.trace();
    expect(t).toHaveLength(10);
    expect(t.every((x) => x.net === '1.000')).toBe(true);
    expect(Date.parse(t[9]!.at)).toBeGreaterThan(Date.parse(t[0]!.at));
  });
  it('snapshot/restore: a load still on the platform after a restart is not captured again', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    run(m, [['1.000', true, 5]]);
    const m2 = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    m2.restore(JSON.parse(JSON.stringify(m.snapshot())), parseDec);
    expect(captures(run(m2, [['1.000', true, 20]]))).toEqual([]);
    expect(captures(run(m2, [['0.000', true, 2], ['1.000', true, 2]]))).toEqual(['1.000']);
  });
  it('100 scripted placements with noise → exactly 100 captures', () => {
    const m = new PlacementMachine(placementOptionsFor(cfg(), jsonP));
    const script: Array<[string, boolean | undefined, number]> = [];
    const placed: string[] = [];
    for (let i = 0; i < 100; i++) {
      const g = (0.5 + (i % 17) * 0.137).toFixed(3);
      placed.push(g);
      script.push(['0.000', true, 3], [(Number(g) * 1.1).toFixed(3), false, 2], [(Number(g) - 0.004).toFixed(3), false, 2], [g, true, 8], [(Number(g) / 2).toFixed(3), false, 1]);
    }
    script.push(['0.000', true, 3]);
    expect(captures(run(m, script))).toEqual(placed);
  });
});

describe('driver placement state across a restart (no broker needed)', () => {
  it('a load captured before a restart is not captured again by the next driver instance', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { mqttScaleKind } = await import('../../../src/drivers/mqtt-scale/index.js');
    const { silentLogger } = await import('../../../src/util/log.js');
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-scale-restore-'));
    try {
      const make = () => mqttScaleKind.create(cfg({ id: 'restore.scale' }), { logger: silentLogger(), stateDir, devicesDir });
      const stable = (g: string) => `{"weight":{"gross":${g},"unit":"kg","stable":true}}`;
      const a = make();
      const seenA: unknown[] = [];
      a.on('reading', (r) => seenA.push(r));
      a.handlePayload(stable('2.000'));
      await a.flushState();
      expect(seenA).toHaveLength(1);
      const b = make();
      const seenB: Array<{ value: { net: string } | null }> = [];
      b.on('reading', (r) => seenB.push(r));
      for (let i = 0; i < 5; i++) b.handlePayload(stable('2.000'));
      expect(seenB).toHaveLength(0);
      b.handlePayload(stable('0'));
      b.handlePayload(stable('2.000'));
      expect(seenB.map((r) => r.value!.net)).toEqual(['2.000']);
      // The state file is written asynchronously: let it land before the folder goes.
      await b.flushState();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('redelivered messages the state has already applied (kill9: loads journaled twice)', () => {
  const ts = (ms: number) => new Date(Date.parse('2026-12-01T15:00:00Z') + ms).toISOString();
  const msg = (g: string, at: number) => `{"ts":"${ts(at)}","weight":{"gross":${g},"unit":"kg","stable":true}}`;

  async function withDrivers(fn: (make: () => import('../../../src/drivers/mqtt-scale/index.js').MqttScaleDriver) => void | Promise<void>) {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { mqttScaleKind } = await import('../../../src/drivers/mqtt-scale/index.js');
    const { silentLogger } = await import('../../../src/util/log.js');
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-scale-replay-'));
    const made: Array<{ flushState(): Promise<void> }> = [];
    try {
      await fn(() => {
        const d = mqttScaleKind.create(cfg({ id: 'replay.scale' }), { logger: silentLogger(), stateDir, devicesDir });
        made.push(d);
        return d;
      });
    } finally {
      // State files are written asynchronously: let them land before the folder goes.
      for (const d of made) await d.flushState();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  /** The nets of the captures a driver emits from now on (a live array). */
  const captured = (d: import('../../../src/drivers/mqtt-scale/index.js').MqttScaleDriver): string[] => {
    const out: string[] = [];
    d.on('reading', (r: { value: { net: string } | null }) => out.push(r.value!.net));
    return out;
  };

  it('after a restart on a state AHEAD of the broker (load and the zero after it applied), the redelivered load is not captured again; a new load is', async () => {
    await withDrivers(async (make) => {
      const a = make();
      const seenA = captured(a);
      a.handlePayload(msg('0', 0));
      a.handlePayload(msg('2.000', 100));
      a.handlePayload(msg('2.000', 200));
      a.handlePayload(msg('0', 300));
      await a.flushState();
      expect(seenA).toEqual(['2.000']);
      // The broker never saw the PUBACKs of 100–300: after the restart it redelivers them (DUP).
      const b = make();
      const seenB = captured(b);
      b.handlePayload(msg('2.000', 100), undefined, { redelivered: true });
      b.handlePayload(msg('2.000', 200), undefined, { redelivered: true });
      b.handlePayload(msg('0', 300), undefined, { redelivered: true });
      expect(seenB).toEqual([]);
      expect(b.health().details.replaysSkipped).toBe(2);
      // What follows is new.
      b.handlePayload(msg('3.000', 400));
      b.handlePayload(msg('0', 500));
      expect(seenB).toEqual(['3.000']);
    });
  });

  it('without the DUP flag the same messages are processed (so the rule is what prevents the double)', async () => {
    await withDrivers(async (make) => {
      const a = make();
      a.handlePayload(msg('0', 0));
      a.handlePayload(msg('2.000', 100));
      a.handlePayload(msg('0', 300));
      await a.flushState();
      const b = make();
      const seen = captured(b);
      b.handlePayload(msg('2.000', 100));
      expect(seen).toEqual(['2.000']);
    });
  });

  it('a redelivered message NOT older than the last applied one is processed: never lose one that was not applied', async () => {
    await withDrivers(async (make) => {
      const a = make();
      const seen = captured(a);
      a.handlePayload(msg('0', 0));
      // Sent before (DUP) but never applied (lost with the connection): newer than the state.
      a.handlePayload(msg('2.000', 100), undefined, { redelivered: true });
      expect(seen).toEqual(['2.000']);
      // Same timestamp as the last applied one (a second-resolution clock): processed, not skipped.
      a.handlePayload(msg('0', 100), undefined, { redelivered: true });
      a.handlePayload(msg('4.000', 100), undefined, { redelivered: true });
      expect(seen).toEqual(['2.000', '4.000']);
      expect(a.health().details.replaysSkipped).toBe(0);
    });
  });

  it('a redelivered message far older than the state (a scale clock set back) is processed as new', async () => {
    await withDrivers(async (make) => {
      const a = make();
      const seen = captured(a);
      a.handlePayload(msg('0', 3_600_000));
      a.handlePayload(msg('5.000', 0), undefined, { redelivered: true });
      expect(seen).toEqual(['5.000']);
    });
  });

  it('a payload without a timestamp is never skipped', async () => {
    await withDrivers(async (make) => {
      const a = make();
      const seen = captured(a);
      a.handlePayload(msg('0', 1000));
      a.handlePayload('{"weight":{"gross":2.000,"unit":"kg","stable":true}}', undefined, { redelivered: true });
      expect(seen).toEqual(['2.000']);
    });
  });
});
