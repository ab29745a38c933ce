import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_COUNTER_MAX_RATE_PER_SECOND, LINK_LOST_STATE, bindMachine, counterDelta, counterMaxDelta, stateDurations } from '../../../src/binding/machine.js';
import type { MachineReading } from '../../../src/drivers/driver.js';
import { MachineModel } from './machine-model.js';

const DEV = 'line1.fill1.plc';
let clock = Date.parse('2026-11-22T08:00:00Z');
const r = (field: string, value: unknown, extra: Partial<MachineReading> = {}, advanceMs = 1000): MachineReading => {
  clock += advanceMs;
  return { kind: 'machine', deviceId: DEV, receivedAt: new Date(clock), sourceTime: new Date(clock - 5), serverTime: new Date(clock - 5), field, value, ...extra };
};
const counter = (field: 'goodCount' | 'rejectCount', v: number | string, bits = 32) => r(field, String(v), { meta: { counterBits: bits } });

describe('counterDelta', () => {
  it('increments, baselines and never goes negative', () => {
    expect(counterDelta(undefined, 500n, 32)).toEqual({ delta: 0n, step: 'baseline' });
    expect(counterDelta(10n, 15n, 32)).toEqual({ delta: 5n, step: 'increment' });
    expect(counterDelta(15n, 15n, 32)).toEqual({ delta: 0n, step: 'unchanged' });
  });
  it('tells a PLC reset from a wrap-around', () => {
    expect(counterDelta(500n, 0n, 32)).toEqual({ delta: 0n, step: 'reset' });
    expect(counterDelta(500n, 7n, 32)).toEqual({ delta: 7n, step: 'reset' });
    expect(counterDelta(4294967290n, 4n, 32)).toEqual({ delta: 10n, step: 'wrap' });
    expect(counterDelta(65530n, 5n, 16)).toEqual({ delta: 11n, step: 'wrap' });
    expect(counterDelta(30000n, 5n, 16)).toEqual({ delta: 5n, step: 'reset' });
    // Documented ambiguity: a reset from within the window below max counts as a wrap (bounded error).
    expect(counterDelta(64512n, 0n, 16)).toEqual({ delta: 1024n, step: 'wrap' });
  });
  it('property: production with resets and wraps is counted exactly when observed often enough', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 32),
        fc.nat({ max: 2 ** 16 - 1 }),
        fc.array(fc.oneof(fc.record({ produce: fc.integer({ min: 0, max: 900 }) }), fc.constant({ reset: true as const })), { maxLength: 60 }),
        (bits, start, steps) => {
          const m = 2n ** BigInt(bits);
          let plc = BigInt(start) % m;
          let last: bigint | undefined = plc;
          let counted = 0n;
          let produced = 0n;
          for (const s of steps) {
            if ('reset' in s) {
              // The one documented ambiguity: a reset while the counter sits within the wrap window
              // below its maximum reads as a wrap. Exercised separately below.
              const window = m >> 10n > 1024n ? m >> 10n : 1024n;
              if (m - plc <= window) continue;
              plc = 0n;
            } else {
              plc = (plc + BigInt(s.produce)) % m;
              produced += BigInt(s.produce);
            }
            const d = counterDelta(last, plc, bits);
            expect(d.delta >= 0n).toBe(true);
            counted += d.delta;
            last = plc;
          }
          expect(counted).toBe(produced);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('bindMachine', () => {
  it('binds counter deltas to the active batch, across a PLC reset and a wrap, never doubled', () => {
    const m = new MachineModel();
    m.startBatch('20261122-001', 'in_process');
    m.bind(counter('goodCount', 1000)); // baseline
    m.bind(counter('goodCount', 1040));
    m.bind(counter('rejectCount', 3));
    m.bind(counter('rejectCount', 5));
    m.bind(counter('goodCount', 0)); // PLC counter reset mid-batch
    m.bind(counter('goodCount', 0)); // seen again after a reconnect
    m.bind(counter('goodCount', 25));
    expect(m.totals('20261122-001')).toEqual({ good: String(40 + 25), rejected: '2' });
    const steps = m.ofType('counter.updated').map((x) => x.payload.step);
    expect(steps).toEqual(['baseline', 'increment', 'baseline', 'increment', 'reset', 'unchanged', 'increment']);
    expect(m.ofType('counter.updated').every((x) => x.status === 'accepted' && x.batch === '20261122-001')).toBe(true);
    // The wrap, from a counter that sits near its top. (Until issue 10.3 this test jumped
    // 25 → 4294967290 in one step and booked it as production; that is now a counter.discontinuity.)
    const w = new MachineModel();
    w.startBatch('B2', 'in_process');
    w.bind(counter('goodCount', 4294967280)); // baseline
    w.bind(counter('goodCount', 4294967290));
    w.bind(counter('goodCount', 4)); // wrap
    expect(w.totals('B2')).toEqual({ good: '20', rejected: '0' });
    expect(w.ofType('counter.updated').map((x) => x.payload.step)).toEqual(['baseline', 'increment', 'wrap']);
  });

  it('10.3 counter jump is a counter.discontinuity, not production (10 → 4,294,967,235 and a +926 preset at 10 units/s)', () => {
    const m = new MachineModel();
    m.startBatch('B1', 'in_process');
    // A 10 units/s filler sampled every 100 ms; the node map says it makes at most 20 units/s.
    const c = (v: number | string, extra: Record<string, unknown> = {}) => r('goodCount', String(v), { meta: { counterBits: 32, maxRatePerSecond: 20, sampleWindowMs: 100, ...extra } }, 100);
    m.bind(c(9, { firstSample: true })); // baseline
    m.bind(c(10));
    const jump = m.bind(c(4294967235));
    expect(jump.record).toMatchObject({ type: 'counter.discontinuity', status: 'rejected', errorCode: 'LG_ERR_COUNTER_DISCONTINUITY', batch: 'B1' });
    expect(jump.record.payload).toMatchObject({ previous: '10', value: '4294967235', delta: '4294967225', step: 'increment', maxDelta: '2' });
    expect(jump.effects.some((e) => e.type === 'batch.add_produced')).toBe(false);
    // The new value is the baseline: counting goes on from it, and the glitch back to 11 reads as a
    // wrap of +71 — implausible too, so also not booked.
    m.bind(c(4294967236));
    const back = m.bind(c(11));
    expect(back.record.type).toBe('counter.discontinuity');
    expect(back.record.payload).toMatchObject({ step: 'wrap', delta: '71', previous: '4294967236', value: '11' });
    m.bind(c(12));
    const preset = m.bind(c(12 + 926));
    expect(preset.record).toMatchObject({ type: 'counter.discontinuity', payload: { previous: '12', value: '938', delta: '926' } });
    m.bind(c(939));
    // Booked: 9→10, 4294967235→4294967236, 11→12, 938→939.
    expect(m.totals('B1')).toEqual({ good: '4', rejected: '0' });
    // A long idle does not widen the bound within one subscription (a preset after an hour in Held)…
    const idle = m.bind(r('goodCount', '1939', { meta: { counterBits: 32, maxRatePerSecond: 20, sampleWindowMs: 100 } }, 3_600_000));
    expect(idle.record.type).toBe('counter.discontinuity');
    // …but the first sample of a new subscription may span a link gap: 30 s at 20/s allows 600.
    const gap = m.bind(r('goodCount', '2239', { meta: { counterBits: 32, maxRatePerSecond: 20, sampleWindowMs: 100, firstSample: true } }, 30_000));
    expect(gap.record).toMatchObject({ type: 'counter.updated', status: 'accepted', payload: { delta: '300' } });
    expect(m.totals('B1').good).toBe('304');
  });

  it('10.3 the default bound is derived from the sampling interval (1 unit per ms, at least 100 ms) and wrap/reset still count', () => {
    expect(counterMaxDelta(DEFAULT_COUNTER_MAX_RATE_PER_SECOND, 100)).toBe(100n);
    expect(counterMaxDelta(DEFAULT_COUNTER_MAX_RATE_PER_SECOND, 0)).toBe(100n);
    expect(counterMaxDelta(DEFAULT_COUNTER_MAX_RATE_PER_SECOND, 1000)).toBe(1000n);
    expect(counterMaxDelta(10, 100)).toBe(1n);
    const m = new MachineModel();
    m.startBatch('B1', 'in_process');
    const c = (v: number, extra: Record<string, unknown> = {}) => r('goodCount', String(v), { meta: { counterBits: 32, sampleWindowMs: 100, ...extra } }, 100);
    m.bind(c(4294967250));
    m.bind(c(4294967290));
    expect(m.bind(c(30)).record.payload).toMatchObject({ step: 'wrap', delta: '36' });
    expect(m.bind(c(5)).record.payload).toMatchObject({ step: 'reset', delta: '5' });
    expect(m.bind(c(5 + 926)).record.type).toBe('counter.discontinuity'); // default: 100 per 100 ms
    expect(m.totals('B1').good).toBe(String(40 + 36 + 5));
  });

  it('rejects counters without an active batch but moves the baseline, so the next batch gets only its own units', () => {
    const m = new MachineModel();
    m.bind(counter('goodCount', 100));
    const res = m.bind(counter('goodCount', 130));
    expect(res.record).toMatchObject({ type: 'counter.updated', status: 'rejected', errorCode: 'LG_ERR_NO_ACTIVE_BATCH', batch: null });
    expect(res.record.payload.delta).toBe('30');
    expect(res.effects.some((e) => e.type === 'batch.add_produced')).toBe(false);
    m.startBatch('B2', 'in_process');
    m.bind(counter('goodCount', 142));
    expect(m.totals('B2')).toEqual({ good: '12', rejected: '0' });
  });

  it('records state changes with from/to, TR88 number, times and previous duration; same state is a confirmation', () => {
    const m = new MachineModel();
    m.startBatch('B1', 'in_process');
    const a = m.bind(r('state', 'Idle', { meta: { raw: 4 } }));
    expect(a.record).toMatchObject({ type: 'machine.state_changed', status: 'accepted', batch: 'B1', station: 'FILL-1', device: DEV });
    expect(a.record.payload).toMatchObject({ from: null, to: 'Idle', stateNumber: 4, raw: 4, previousDurationMs: null });
    const b = m.bind(r('state', 'Execute', {}, 60_000));
    expect(b.record.payload).toMatchObject({ from: 'Idle', to: 'Execute', stateNumber: 6, fromNumber: 4, previousDurationMs: 60_000 });
    expect(b.record.payload.sourceTime).toBeTypeOf('string');
    expect(b.record.payload.serverTime).toBeTypeOf('string');
    expect(b.effects).toContainEqual(expect.objectContaining({ type: 'device.set_state', key: 'state' }));
    const c = m.bind(r('state', 'Execute'));
    expect(c.record.type).toBe('machine.state_confirmed');
    expect(c.effects).toEqual([]);
  });

  it('accepts state changes without a batch as line-level records (batch null)', () => {
    const m = new MachineModel();
    const res = m.bind(r('state', 'Stopped'));
    expect(res.record).toMatchObject({ type: 'machine.state_changed', status: 'accepted', batch: null });
  });

  it('moves the batch to in_process on first Execute and to completed on Complete when asked', () => {
    const m = new MachineModel();
    m.autoBatchTransitions = true;
    m.startBatch('B1', 'planned');
    m.bind(r('state', 'Idle'));
    expect(m.batches.get('B1')!.status).toBe('planned');
    const ex = m.bind(r('state', 'Execute'));
    expect(ex.effects).toContainEqual({ type: 'batch.transition', batch: 'B1', to: 'in_process', reason: expect.any(String), actor: `device:${DEV}` });
    m.bind(r('state', 'Held'));
    const again = m.bind(r('state', 'Execute'));
    expect(again.effects.some((e) => e.type === 'batch.transition')).toBe(false);
    m.bind(r('state', 'Complete'));
    expect(m.batches.get('B1')!.status).toBe('completed');

    const off = new MachineModel();
    off.startBatch('B9', 'planned');
    off.bind(r('state', 'Execute'));
    expect(off.batches.get('B9')!.status).toBe('planned');
  });

  it('turns link events and faulty readings into records', () => {
    const m = new MachineModel();
    m.startBatch('B1', 'in_process');
    const lost = m.bind(r('link', 'lost', { meta: { since: '2026-11-22T09:00:00.000Z', reason: 'connection lost' } }));
    expect(lost.record).toMatchObject({ type: 'machine.link_lost', status: 'accepted', batch: 'B1', payload: { since: '2026-11-22T09:00:00.000Z' } });
    const back = m.bind(r('link', 'restored', { meta: { since: '2026-11-22T09:00:00.000Z', gapMs: 4200 } }));
    expect(back.record).toMatchObject({ type: 'machine.link_restored', payload: { gapMs: 4200 } });
    const bad = m.bind(r('speed', null, { error: { code: 'LG_ERR_OPCUA_NODE_INVALID', message: 'x', details: { nodeId: 'ns=2;s=Nope', field: 'speed' } } }));
    expect(bad.record).toMatchObject({ type: 'machine.reading_rejected', status: 'rejected', errorCode: 'LG_ERR_OPCUA_NODE_INVALID', payload: { nodeId: 'ns=2;s=Nope' } });
    const weird = m.bind(r('state', 'Producing'));
    expect(weird.record).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_MACHINE_STATE_UNKNOWN' });
    const neg = m.bind(r('goodCount', '-5'));
    expect(neg.record).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_READING_INVALID' });
  });
});

describe('stateDurations', () => {
  const at = (s: number) => new Date(Date.parse('2026-11-22T10:00:00Z') + s * 1000);
  it('sums time per state, with the state at batch start, link gaps and the open last state', () => {
    const m = new MachineModel();
    m.bind({ kind: 'machine', deviceId: DEV, receivedAt: at(-100), sourceTime: at(-100), field: 'state', value: 'Idle' });
    m.startBatch('B1', 'in_process'); // batch starts at t=0 while the machine idles
    const rs = (s: number, v: string) => m.bind({ kind: 'machine', deviceId: DEV, receivedAt: at(s), sourceTime: at(s), field: 'state', value: v });
    rs(30, 'Starting');
    rs(40, 'Execute');
    m.bind({ kind: 'machine', deviceId: DEV, receivedAt: at(100), field: 'link', value: 'lost', meta: { since: at(100).toISOString() } });
    m.bind({ kind: 'machine', deviceId: DEV, receivedAt: at(108), field: 'link', value: 'restored', meta: { since: at(100).toISOString(), gapMs: 8000 } });
    rs(160, 'Held');
    rs(190, 'Execute');
    rs(250, 'Complete');
    const batchRecords = m.records.filter((x) => x.batch === 'B1').map((x) => ({ type: x.type, payload: x.payload, receivedAt: x.receivedAt as Date }));
    const d = stateDurations(batchRecords, { from: at(0), until: at(300) });
    expect(d).toEqual({ Idle: 30_000, Starting: 10_000, Execute: 60_000 + 52_000 + 60_000, [LINK_LOST_STATE]: 8_000, Held: 30_000, Complete: 50_000 });
    const total = Object.values(d).reduce((a, b) => a + b, 0);
    expect(total).toBe(300_000);
    // Without from/until only the closed intervals between records count.
    expect(stateDurations([...batchRecords].reverse())).toEqual({ Starting: 10_000, Execute: 172_000, [LINK_LOST_STATE]: 8_000, Held: 30_000 });
  });
});
