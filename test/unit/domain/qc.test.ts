import { describe, expect, it } from 'vitest';
import { dueState, judge, planProblem, type PlanBody } from '../../../src/domain/qc.js';

const plan: PlanBody = {
  name: 'Sugar receiving',
  sampleSize: 3,
  characteristics: [
    { code: 'MOIST', name: 'Moisture', kind: 'measurement', unit: '%', upper: '0.5' },
    { code: 'GRAIN', name: 'Grain size', kind: 'measurement', unit: 'mm', lower: '0.2', upper: '0.8' },
    { code: 'SEAL', name: 'Bag seal intact', kind: 'attribute' },
  ],
};

describe('QC rules (pure)', () => {
  it('judges measurements against inclusive limits and attributes by observation: the verdict is computed', () => {
    const ok = judge(plan, [{ code: 'MOIST', value: '0.500', unit: '%' }, { code: 'GRAIN', value: '0.2', unit: 'mm' }, { code: 'SEAL', conforms: true }]);
    expect('verdict' in ok && ok.verdict).toBe('passed');
    const bad = judge(plan, [{ code: 'MOIST', value: '0.51', unit: '%' }, { code: 'GRAIN', value: '0.5', unit: 'mm' }, { code: 'SEAL', conforms: true }]);
    expect('verdict' in bad && bad.verdict).toBe('failed');
    expect('results' in bad && bad.results.find((r) => r.code === 'MOIST')!.verdict).toBe('fail');
    const attr = judge(plan, [{ code: 'MOIST', value: '0.1', unit: '%' }, { code: 'GRAIN', value: '0.5', unit: 'mm' }, { code: 'SEAL', conforms: false }]);
    expect('verdict' in attr && attr.verdict).toBe('failed');
  });

  it('refuses results of the wrong type, unit, unknown or missing characteristics, and duplicates', () => {
    const code = (r: ReturnType<typeof judge>) => ('code' in r ? r.code : 'ok');
    expect(code(judge(plan, [{ code: 'MOIST', conforms: true }, { code: 'GRAIN', value: '0.5', unit: 'mm' }, { code: 'SEAL', conforms: true }]))).toBe('LG_ERR_QC_RESULT_INVALID');
    expect(code(judge(plan, [{ code: 'MOIST', value: '0.1', unit: 'g' }, { code: 'GRAIN', value: '0.5', unit: 'mm' }, { code: 'SEAL', conforms: true }]))).toBe('LG_ERR_QC_UNIT');
    expect(code(judge(plan, [{ code: 'MOIST', value: 'abc', unit: '%' }, { code: 'GRAIN', value: '0.5', unit: 'mm' }, { code: 'SEAL', conforms: true }]))).toBe('LG_ERR_QC_RESULT_INVALID');
    expect(code(judge(plan, [{ code: 'SEAL', value: '1' }, { code: 'MOIST', value: '0.1', unit: '%' }, { code: 'GRAIN', value: '0.5', unit: 'mm' }]))).toBe('LG_ERR_QC_RESULT_INVALID');
    expect(code(judge(plan, [{ code: 'MOIST', value: '0.1', unit: '%' }]))).toBe('LG_ERR_QC_RESULT_INVALID');
    expect(code(judge(plan, [{ code: 'X', conforms: true }]))).toBe('LG_ERR_QC_RESULT_INVALID');
    expect(code(judge(plan, [{ code: 'SEAL', conforms: true }, { code: 'SEAL', conforms: true }]))).toBe('LG_ERR_QC_RESULT_INVALID');
  });

  it('checks plans: limits, units, sample size, frequency by scope', () => {
    expect(planProblem('receiving', plan)).toBeNull();
    expect(planProblem('receiving', { ...plan, characteristics: [{ code: 'A', name: 'a', kind: 'measurement', unit: 'g' }] })).toMatch(/limit/);
    expect(planProblem('receiving', { ...plan, characteristics: [{ code: 'A', name: 'a', kind: 'measurement', lower: '1', upper: '2' }] })).toMatch(/unit/);
    expect(planProblem('receiving', { ...plan, characteristics: [{ code: 'A', name: 'a', kind: 'measurement', unit: 'g', lower: '3', upper: '2' }] })).toMatch(/above/);
    expect(planProblem('in_process', plan)).toMatch(/frequency/);
    expect(planProblem('receiving', { ...plan, frequency: { everyMinutes: 5 } })).toMatch(/no frequency/);
    expect(planProblem('receiving', { ...plan, sampleSize: 0 })).toMatch(/sampleSize/);
  });

  it('in-process checks fall due by time (with a grace before overdue), by cases, and at once after a failure', () => {
    const p: PlanBody = { ...plan, frequency: { everyMinutes: 30, everyCases: 100 } };
    const base = { plan: p, startedAt: '2026-12-01T08:00:00.000Z', lastAt: null, lastVerdict: null, casesSince: 0 };
    expect(dueState({ ...base, now: new Date('2026-12-01T08:29:00Z') })).toMatchObject({ due: false, overdue: false, dueAt: '2026-12-01T08:30:00.000Z' });
    expect(dueState({ ...base, now: new Date('2026-12-01T08:31:00Z') })).toMatchObject({ due: true, overdue: false });
    expect(dueState({ ...base, now: new Date('2026-12-01T08:34:00Z') })).toMatchObject({ due: true, overdue: true });
    expect(dueState({ ...base, lastAt: '2026-12-01T08:20:00.000Z', lastVerdict: 'passed', now: new Date('2026-12-01T08:34:00Z') })).toMatchObject({ due: false });
    expect(dueState({ ...base, casesSince: 100, now: new Date('2026-12-01T08:01:00Z') })).toMatchObject({ due: true, overdue: false });
    expect(dueState({ ...base, casesSince: 101, now: new Date('2026-12-01T08:01:00Z') })).toMatchObject({ due: true, overdue: true });
    expect(dueState({ ...base, lastAt: '2026-12-01T08:05:00.000Z', lastVerdict: 'failed', now: new Date('2026-12-01T08:06:00Z') })).toMatchObject({ due: true, overdue: true });
  });
});
