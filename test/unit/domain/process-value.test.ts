import { describe, expect, it } from 'vitest';
import { ValueFilter, deadbandOf, toNumber, type ValueSample } from '../../../src/domain/process-value.js';

const s = (value: unknown, at: number, extra: Partial<ValueSample> = {}): ValueSample => ({ value, at, sourceTimed: true, quality: 'good', ...extra });

describe('process value filter', () => {
  it('records the first sample and then only changes beyond the absolute deadband, against the last RECORDED value', () => {
    const f = new ValueFilter({ name: 't', unit: '°C', deadband: { absolute: 0.5 } });
    const out = [20, 20.3, 20.5, 20.51, 20.9, 21.0, 21.02].map((v, i) => f.offer(s(v, 1000 + i * 10)));
    expect(out.map((d) => (d.kind === 'record' ? `${d.reason}:${d.value}` : d.kind === 'skip' ? d.why : d.code))).toEqual([
      'first:20', 'deadband', 'deadband', 'change:20.51', 'deadband', 'deadband', 'change:21.02',
    ]);
  });

  it('a slow drift is recorded once it has moved a whole band (no creeping past the deadband)', () => {
    const f = new ValueFilter({ name: 't', unit: 'bar', deadband: { absolute: 10 } });
    const recorded: number[] = [];
    for (let i = 0; i <= 100; i++) {
      const d = f.offer(s(i, i));
      if (d.kind === 'record') recorded.push(d.value);
    }
    expect(recorded).toEqual([0, 11, 22, 33, 44, 55, 66, 77, 88, 99]);
  });

  it('percent deadband is of the range span; with both the larger applies', () => {
    expect(deadbandOf({ name: 'x', unit: '%', deadband: { percent: 1 }, range: { min: 0, max: 200 } })).toBe(2);
    expect(deadbandOf({ name: 'x', unit: '%', deadband: { percent: 1, absolute: 5 }, range: { min: 0, max: 200 } })).toBe(5);
    expect(deadbandOf({ name: 'x', unit: '%' })).toBe(0);
    const f = new ValueFilter({ name: 'x', unit: '%', deadband: { percent: 1 }, range: { min: 0, max: 200 } });
    expect(f.offer(s(50, 1)).kind).toBe('record');
    expect(f.offer(s(52, 2)).kind).toBe('skip');
    expect(f.offer(s(52.1, 3)).kind).toBe('record');
  });

  it('deadband 0 records every different value and skips equal ones', () => {
    const f = new ValueFilter({ name: 'x', unit: 'rpm' });
    expect([1, 1, 2, 2, 1].map((v, i) => f.offer(s(v, i + 1)).kind)).toEqual(['record', 'skip', 'record', 'skip', 'record']);
  });

  it('garbage is rejected with a code whatever the deadband, and does not move the state', () => {
    const f = new ValueFilter({ name: 'p', unit: 'bar', deadband: { absolute: 100 }, range: { min: 0, max: 10 } });
    expect(f.offer(s(5, 1)).kind).toBe('record');
    const codes = [s('abc', 2), s(null, 3), s(undefined, 4), s({ v: 1 }, 5), s(11, 6), s(-0.1, 7), s(5, 8, { quality: 'bad', qualityText: 'BadSensorFailure' }), s(Number.NaN, 9)].map((x) => {
      const d = f.offer(x);
      return d.kind === 'reject' ? d.code : d.kind;
    });
    expect(codes).toEqual(['LG_ERR_VALUE_NOT_NUMERIC', 'LG_ERR_VALUE_NOT_NUMERIC', 'LG_ERR_VALUE_NOT_NUMERIC', 'LG_ERR_VALUE_NOT_NUMERIC', 'LG_ERR_VALUE_OUT_OF_RANGE', 'LG_ERR_VALUE_OUT_OF_RANGE', 'LG_ERR_VALUE_BAD_QUALITY', 'LG_ERR_VALUE_NOT_NUMERIC']);
    expect(f.lastRecorded).toEqual({ value: 5, at: 1, quality: 'good' });
  });

  it('numeric text is a number; anything looser is not', () => {
    expect(toNumber(' 72.40 ')).toBe(72.4);
    expect(toNumber('1e3')).toBe(1000);
    expect(toNumber('-.5')).toBe(-0.5);
    for (const bad of ['', '12abc', '0x10', 'Infinity', 'NaN', '1,5', true, [1]]) expect(toNumber(bad)).toBeNull();
  });

  it('minimum interval holds a change back and records the latest one when it ends (trailing)', () => {
    const f = new ValueFilter({ name: 'p', unit: 'bar', minIntervalMs: 1000 });
    expect(f.offer(s(1, 0)).kind).toBe('record');
    expect(f.offer(s(2, 100))).toEqual({ kind: 'skip', why: 'interval' });
    expect(f.pendingWaitMs).toBe(900);
    expect(f.offer(s(3, 300))).toEqual({ kind: 'skip', why: 'interval' });
    expect(f.pendingWaitMs).toBe(700);
    expect(f.takePending()).toEqual({ kind: 'record', value: 3, at: 300, quality: 'good', reason: 'trailing' });
    expect(f.takePending()).toBeNull();
    // After the interval, a change is recorded at once.
    expect(f.offer(s(4, 1300))).toMatchObject({ kind: 'record', reason: 'change', value: 4 });
  });

  it('a held change that returns inside the deadband is dropped (nothing to record)', () => {
    const f = new ValueFilter({ name: 'p', unit: 'bar', minIntervalMs: 1000, deadband: { absolute: 0.5 } });
    f.offer(s(1, 0));
    expect(f.offer(s(2, 100)).kind).toBe('skip');
    expect(f.pendingWaitMs).not.toBeNull();
    expect(f.offer(s(1.2, 200))).toEqual({ kind: 'skip', why: 'deadband' });
    expect(f.takePending()).toBeNull();
  });

  it('heartbeat records an unchanged value after maxIntervalMs', () => {
    const f = new ValueFilter({ name: 'p', unit: 'bar', maxIntervalMs: 5000 });
    f.offer(s(7, 0));
    expect(f.offer(s(7, 4999)).kind).toBe('skip');
    expect(f.offer(s(7, 5000))).toMatchObject({ kind: 'record', reason: 'heartbeat', value: 7 });
    expect(f.offer(s(7, 9999)).kind).toBe('skip');
  });

  it('a quality change is a change', () => {
    const f = new ValueFilter({ name: 'p', unit: 'bar', deadband: { absolute: 10 } });
    f.offer(s(7, 0));
    expect(f.offer(s(7, 1, { quality: 'uncertain' }))).toMatchObject({ kind: 'record', quality: 'uncertain' });
    expect(f.offer(s(7, 2))).toMatchObject({ kind: 'record', quality: 'good' });
  });

  it('a source-timed sample at or before the last record is a duplicate (redelivery); receive-time samples never are', () => {
    const f = new ValueFilter({ name: 'p', unit: 'bar' });
    f.offer(s(1, 1000));
    expect(f.offer(s(9, 1000))).toEqual({ kind: 'skip', why: 'duplicate' });
    expect(f.offer(s(9, 999))).toEqual({ kind: 'skip', why: 'duplicate' });
    const g = new ValueFilter({ name: 'p', unit: 'bar', minIntervalMs: 1000 });
    g.offer(s(1, 5000, { sourceTimed: false }));
    // The gateway clock went back: a change is still recorded, never held for hours.
    expect(g.offer(s(2, 1000, { sourceTimed: false }))).toMatchObject({ kind: 'record', value: 2 });
  });

  it('snapshot/restore returns to a confirmed state (rollback after a failed commit, restart)', () => {
    const f = new ValueFilter({ name: 'p', unit: 'bar' });
    f.offer(s(1, 1));
    const snap = f.snapshot();
    f.offer(s(2, 2));
    f.restore(snap);
    expect(f.offer(s(2, 2))).toMatchObject({ kind: 'record', value: 2 });
  });
});
