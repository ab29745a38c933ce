/**
 * Issue 10, items 1, 2 and 10, at the weight binder (pure): what a weighing station does with a
 * non-positive quantity, with a supervisor override in force, and with an expiry around local
 * midnight. The same binder serves the scale and hand entry; the gateway tests cover both paths.
 */
import { describe, expect, it } from 'vitest';
import { bindWeight } from '../../../src/binding/weight.js';
import type { BindEnv, StationContext, StationOverride } from '../../../src/binding/types.js';
import type { WeightReading } from '../../../src/drivers/driver.js';
import { referenceData, type MemoryMasterData } from './memory-md.js';

const BATCH = '20261122-001';
const now = new Date('2026-11-22T06:00:00Z');
const env = (md: MemoryMasterData, at = now, timezone: string | undefined = 'Europe/Berlin'): BindEnv => ({ site: 'S', line: 'L1', now: at, md, ...(timezone ? { timezone } : {}) });
const cap = (net: string, unit = 'kg', at = now): WeightReading => ({
  kind: 'weight', deviceId: 'line1.weigh1.scale', receivedAt: at, sourceTime: null,
  value: { net, tare: '0', gross: net, unit, stable: true }, raw: `{"net":${net}}`,
});
const refuse = { tolerance: 'refuse' as const };
const ov = (codes: string[], over: Partial<StationOverride> = {}): StationOverride => ({ lot: 'L-RM1001-A', batch: BATCH, record: 'rec-override-1', codes, ...over });
const weigh = (over: Partial<StationContext> = {}): StationContext => ({
  station: 'WEIGH-1', role: 'weighing', batch: BATCH, operator: 'u1', lots: { 'RM-1001': 'L-RM1001-A' }, ...over,
});

describe('10.1 quantities that move stock are positive (weight binder)', () => {
  it('10.1 a negative or zero hand entry is a rejected material.consumed record LG_ERR_QUANTITY_NOT_POSITIVE, no effect', () => {
    const md = referenceData();
    for (const q of ['-50.000', '0', '0.000', '-0.001']) {
      const r = bindWeight(cap(q), weigh(), env(md), refuse);
      expect(r.record, q).toMatchObject({ type: 'material.consumed', status: 'rejected', errorCode: 'LG_ERR_QUANTITY_NOT_POSITIVE' });
      expect(r.effects, q).toEqual([]);
    }
    // and a positive one still consumes
    expect(bindWeight(cap('0.001'), weigh(), env(md), refuse).effects).toHaveLength(1);
  });
  it('10.1 "consume −5 then 5 again" can no longer slip past the tolerance refusal', () => {
    const md = referenceData({ bomQty: '25', tolerancePct: '2' }); // max 25.5
    md.apply(bindWeight(cap('25.000'), weigh(), env(md), refuse).effects);
    expect(bindWeight(cap('5.000'), weigh(), env(md), refuse).record.errorCode).toBe('LG_ERR_WEIGHT_OUT_OF_TOLERANCE');
    const minus = bindWeight(cap('-5.000'), weigh(), env(md), refuse);
    md.apply(minus.effects);
    expect(md.consumed(BATCH, 'RM-1001')).toBe('25.000');
    expect(bindWeight(cap('5.000'), weigh(), env(md), refuse).record.errorCode).toBe('LG_ERR_WEIGHT_OUT_OF_TOLERANCE');
  });
});

describe('10.2 a supervisor override covers exactly what it was granted for (weight binder)', () => {
  const expiredLot = (md: MemoryMasterData, patch: Record<string, unknown> = {}) => md.lots.set('L-RM1001-A', { ...md.lots.get('L-RM1001-A')!, expiry: '2026-11-01', ...patch });

  it('10.2 an expired lot with an override of LG_ERR_LOT_EXPIRED for that lot and batch is consumed, the record naming the override', () => {
    const md = referenceData();
    expiredLot(md);
    expect(bindWeight(cap('1.000'), weigh(), env(md), refuse).record.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    const r = bindWeight(cap('1.000'), weigh({ overrides: { 'RM-1001': ov(['LG_ERR_LOT_EXPIRED']) } }), env(md), refuse);
    expect(r.record).toMatchObject({ status: 'accepted', lot: 'L-RM1001-A' });
    expect(r.record.errorCode ?? null).toBeNull();
    expect(r.record.payload.override).toEqual({ record: 'rec-override-1', codes: ['LG_ERR_LOT_EXPIRED'] });
    expect(r.effects).toEqual([{ type: 'lot.consume', lot: 'L-RM1001-A', batch: BATCH, material: 'RM-1001', quantity: '1.000', unit: 'kg' }]);
  });

  it('10.2 each overridable lot status is let through only by an override of that code', () => {
    for (const [status, code] of [['quarantine', 'LG_ERR_LOT_QUARANTINED'], ['on_hold', 'LG_ERR_LOT_ON_HOLD'], ['depleted', 'LG_ERR_LOT_DEPLETED']] as const) {
      const md = referenceData();
      md.lots.set('L-RM1001-A', { ...md.lots.get('L-RM1001-A')!, status });
      expect(bindWeight(cap('1.000'), weigh({ overrides: { 'RM-1001': ov([code]) } }), env(md), refuse).record.status, code).toBe('accepted');
      // an override granted for something else does not cover it
      const other = bindWeight(cap('1.000'), weigh({ overrides: { 'RM-1001': ov(['LG_ERR_LOT_EXPIRED']) } }), env(md), refuse);
      expect(other.record.errorCode, code).toBe(code);
      expect(other.effects).toEqual([]);
    }
  });

  it('10.2 an override does not cover a refusal the lot picked up later (quarantine overridden, then on hold or expired)', () => {
    const md = referenceData();
    md.lots.set('L-RM1001-A', { ...md.lots.get('L-RM1001-A')!, status: 'on_hold' });
    expect(bindWeight(cap('1.000'), weigh({ overrides: { 'RM-1001': ov(['LG_ERR_LOT_QUARANTINED']) } }), env(md), refuse).record.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
    const md2 = referenceData();
    md2.lots.set('L-RM1001-A', { ...md2.lots.get('L-RM1001-A')!, status: 'quarantine', expiry: '2026-11-01' });
    const r = bindWeight(cap('1.000'), weigh({ overrides: { 'RM-1001': ov(['LG_ERR_LOT_QUARANTINED']) } }), env(md2), refuse);
    expect(r.record.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    expect(r.effects).toEqual([]);
  });

  it('10.2 an override for another lot, another batch or another material is not in force', () => {
    const md = referenceData();
    expiredLot(md);
    const cases: Array<Record<string, StationOverride>> = [
      { 'RM-1001': ov(['LG_ERR_LOT_EXPIRED'], { lot: 'L-RM1001-OTHER' }) },
      { 'RM-1001': ov(['LG_ERR_LOT_EXPIRED'], { batch: '20261122-999' }) },
      { 'RM-1002': ov(['LG_ERR_LOT_EXPIRED'], { lot: 'L-RM1001-A' }) },
    ];
    for (const overrides of cases) {
      const r = bindWeight(cap('1.000'), weigh({ overrides }), env(md), refuse);
      expect(r.record.errorCode, JSON.stringify(overrides)).toBe('LG_ERR_LOT_EXPIRED');
      expect(r.effects).toEqual([]);
    }
  });

  it('10.2 an override of LG_ERR_MATERIAL_NOT_IN_BOM lets exactly that lot be consumed into the batch, with no tolerance to judge', () => {
    const md = referenceData();
    md.lots.set('L-RM9-A', { id: 'L-RM9-A', material: 'RM-9', supplier: null, supplierLot: null, receiptDate: null, expiry: '2099-01-01', status: 'released', quantity: '10', unit: 'kg' });
    const lots = { 'RM-1001': 'L-RM1001-A', 'RM-9': 'L-RM9-A' };
    // without the override the off-BOM lot is ignored and the BOM lot is weighed
    expect(bindWeight(cap('2.000'), weigh({ lots }), env(md), refuse).record.lot).toBe('L-RM1001-A');
    const r = bindWeight(cap('2.000'), weigh({ lots, overrides: { 'RM-9': ov(['LG_ERR_MATERIAL_NOT_IN_BOM'], { lot: 'L-RM9-A' }) } }), env(md), refuse);
    expect(r.record).toMatchObject({ status: 'accepted', lot: 'L-RM9-A' });
    expect(r.record.payload).toMatchObject({ material: 'RM-9', quantity: '2.000', position: 'not_in_bom', override: { record: 'rec-override-1', codes: ['LG_ERR_MATERIAL_NOT_IN_BOM'] } });
    expect(r.effects).toEqual([{ type: 'lot.consume', lot: 'L-RM9-A', batch: BATCH, material: 'RM-9', quantity: '2.000', unit: 'kg' }]);
  });
});

describe('10.10 expiry is the site-local date at the scale too', () => {
  // 2026-12-01T23:30Z is 00:30 on 2 December in Berlin (CET, UTC+1): a lot that expired on
  // 1 December is expired there, although the UTC date is still the 1st.
  const at = new Date('2026-12-01T23:30:00Z');
  const md = (): MemoryMasterData => {
    const m = referenceData();
    m.lots.set('L-RM1001-A', { ...m.lots.get('L-RM1001-A')!, expiry: '2026-12-01' });
    return m;
  };
  it('10.10 at 00:30 in Berlin a lot that expired yesterday (local) is refused LG_ERR_LOT_EXPIRED at the scale', () => {
    const r = bindWeight(cap('1.000', 'kg', at), weigh(), env(md(), at, 'Europe/Berlin'), refuse);
    expect(r.record).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_LOT_EXPIRED' });
    expect(r.record.payload.siteDate).toBe('2026-12-02');
    expect(r.effects).toEqual([]);
  });
  it('10.10 on its expiry day (23:50 local) the lot is still usable', () => {
    const before = new Date('2026-12-01T22:50:00Z');
    expect(bindWeight(cap('1.000', 'kg', before), weigh(), env(md(), before, 'Europe/Berlin'), refuse).record.status).toBe('accepted');
    // the same instant west of UTC is still 1 December too
    expect(bindWeight(cap('1.000', 'kg', at), weigh(), env(md(), at, 'America/New_York'), refuse).record.status).toBe('accepted');
  });
});
