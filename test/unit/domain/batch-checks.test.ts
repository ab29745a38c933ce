import { describe, expect, it } from 'vitest';
import { checkStageFor, evaluateBatchChecks, type BatchCheckInput } from '../../../src/domain/batch-checks.js';
import { isErrorCode } from '../../../src/errors.js';
import { cmp } from '../../../src/domain/decimal.js';

/** A batch as issue 10.6 found it: 60 kg planned over two materials, nothing consumed, nothing produced. */
function input(over: Partial<BatchCheckInput> = {}): BatchCheckInput {
  return {
    batch: 'B1',
    status: 'in_process',
    producedQty: '0',
    rejectedQty: '0',
    unit: 'pcs',
    bom: [
      { material: 'RM-1001', quantity: '50.000', unit: 'kg', tolerancePct: '2', consumed: '0' },
      { material: 'RM-1002', quantity: '10.000', unit: 'kg', tolerancePct: '5', consumed: '0' },
    ],
    production: { machineCounted: false, manualEntries: [] },
    openPrintJobs: [],
    overrides: [],
    deviationsFor: () => [],
    ...over,
  };
}

const codes = (r: ReturnType<typeof evaluateBatchChecks>) => r.missing.map((m) => m.code);

describe('batch completion and release checks (pure)', () => {
  it('10.6 a batch with 0 of 60 kg consumed and 0 produced fails completion, each missing item with its own code and numbers', () => {
    const r = evaluateBatchChecks('completion', input());
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['LG_ERR_CHECK_BOM_UNDER', 'LG_ERR_CHECK_BOM_UNDER', 'LG_ERR_CHECK_NOTHING_PRODUCED']);
    const d0 = r.missing[0]!.details;
    expect(d0).toMatchObject({ material: 'RM-1001', unit: 'kg' });
    expect([d0.consumed, d0.min, d0.max, d0.planned].map((v) => cmp(String(v), '0'))).toEqual([0, 1, 1, 1]);
    expect([cmp(String(d0.min), '49'), cmp(String(d0.max), '51'), cmp(String(d0.planned), '50')]).toEqual([0, 0, 0]);
    const d1 = r.missing[1]!.details;
    expect([d1.material, cmp(String(d1.min), '9.5'), cmp(String(d1.max), '10.5')]).toEqual(['RM-1002', 0, 0]);
    for (const m of r.missing) {
      expect(isErrorCode(m.code)).toBe(true);
      expect(m.message).not.toMatch(/\{\w+\}/); // every placeholder filled
    }
  });

  it('10.6 the tolerance window is inclusive at both ends and exact in decimals', () => {
    const at = (a: string, b: string) =>
      evaluateBatchChecks('completion', input({ producedQty: '1', bom: [{ material: 'M', quantity: a, unit: 'kg', tolerancePct: '2', consumed: b }] }));
    expect(at('50.000', '49.000').ok).toBe(true);
    expect(at('50.000', '51.000').ok).toBe(true);
    expect(codes(at('50.000', '48.999999999'))).toEqual(['LG_ERR_CHECK_BOM_UNDER']);
    expect(codes(at('50.000', '51.000000001'))).toEqual(['LG_ERR_CHECK_BOM_OVER']);
    expect(at('0.3', '0.3').bom[0]!.position).toBe('within'); // no binary float on the way
  });

  it('10.6 a recorded deviation for a material covers its out-of-tolerance consumption (the issue 13 seam)', () => {
    const r = evaluateBatchChecks(
      'completion',
      input({
        producedQty: '100',
        bom: [{ material: 'RM-1001', quantity: '50', unit: 'kg', tolerancePct: '2', consumed: '53' }],
        deviationsFor: (m) => (m === 'RM-1001' ? [{ id: 'DEV-1', status: 'open' }] : []),
      }),
    );
    expect(r.ok).toBe(true);
    expect(r.bom[0]).toMatchObject({ position: 'over', ok: true, deviations: [{ id: 'DEV-1' }] });
  });

  it('10.6 open label jobs block completion and release, counted by state', () => {
    const jobs = [
      { id: 'j1', state: 'queued', printer: 'P', labelId: 'l1' },
      { id: 'j2', state: 'needs_confirmation', printer: 'P', labelId: 'l2' },
      { id: 'j3', state: 'needs_confirmation', printer: 'P', labelId: 'l3' },
    ];
    const ok = { producedQty: '10', bom: [] };
    for (const stage of ['completion', 'release'] as const) {
      const r = evaluateBatchChecks(stage, input({ ...ok, openPrintJobs: jobs }));
      expect(codes(r)).toEqual(['LG_ERR_CHECK_PRINT_JOBS_OPEN']);
      expect(r.missing[0]!.details).toMatchObject({ count: 3, byState: { queued: 1, needs_confirmation: 2 }, jobs: ['j1', 'j2', 'j3'] });
    }
  });

  it('10.6 release needs every override reviewed by QA; completion does not', () => {
    const overrides = [
      { id: 'o1', lot: 'L1', material: 'M', overriddenCode: 'LG_ERR_LOT_ON_HOLD', by: 'sup', reviewedBy: null },
      { id: 'o2', lot: 'L2', material: 'M', overriddenCode: 'LG_ERR_LOT_EXPIRED', by: 'sup', reviewedBy: 'rev-1' },
    ];
    const base = { producedQty: '10', bom: [], overrides };
    expect(evaluateBatchChecks('completion', input(base)).ok).toBe(true);
    const rel = evaluateBatchChecks('release', input(base));
    expect(codes(rel)).toEqual(['LG_ERR_CHECK_OVERRIDE_UNREVIEWED']);
    expect(rel.missing[0]!.details).toMatchObject({ override: 'o1', lot: 'L1', overriddenCode: 'LG_ERR_LOT_ON_HOLD' });
    expect(rel.overrides).toEqual({ total: 2, unreviewed: 1 });
  });

  it('10.6 production from both the machine and a supervisor entry is refused as a possible double count', () => {
    const r = evaluateBatchChecks('completion', input({ producedQty: '20', bom: [], production: { machineCounted: true, manualEntries: ['rec-1'] } }));
    expect(codes(r)).toEqual(['LG_ERR_CHECK_PRODUCTION_SOURCES']);
    expect(evaluateBatchChecks('completion', input({ producedQty: '20', bom: [], production: { machineCounted: false, manualEntries: ['rec-1'] } })).ok).toBe(true);
  });

  it('10.6 only completion and release are checked moves', () => {
    expect(checkStageFor('completed')).toBe('completion');
    expect(checkStageFor('released')).toBe('release');
    for (const to of ['in_process', 'on_hold', 'rejected', 'planned']) expect(checkStageFor(to)).toBeNull();
  });
});
