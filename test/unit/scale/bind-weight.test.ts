import { describe, expect, it } from 'vitest';
import { bindWeight } from '../../../src/binding/weight.js';
import type { StationContext, BindEnv } from '../../../src/binding/types.js';
import type { WeightReading } from '../../../src/drivers/driver.js';
import { referenceData, MemoryMasterData } from './memory-md.js';

const now = new Date('2026-11-22T06:00:00Z');
const weigh = (over: Partial<StationContext> = {}): StationContext => ({
  station: 'WEIGH-1', role: 'weighing', batch: '20261122-001', operator: 'u1', lots: { 'RM-1001': 'L-RM1001-A' }, ...over,
});
const env = (md: MemoryMasterData): BindEnv => ({ site: 'S', line: 'L1', now, md });
const cap = (net: string, unit = 'kg', tare = '0.000'): WeightReading => ({
  kind: 'weight', deviceId: 'line1.weigh1.scale', receivedAt: now, sourceTime: null,
  value: { net, tare, gross: net, unit, stable: true }, raw: `{"net":${net}}`,
});
const refuse = { tolerance: 'refuse' as const };
const flag = { tolerance: 'flag' as const };

describe('bindWeight — weighing station', () => {
  it('a capture consumes the active lot into the batch, with the lot.consume effect', () => {
    const md = referenceData();
    const r = bindWeight(cap('12.500'), weigh(), env(md), refuse);
    expect(r.record).toMatchObject({ type: 'material.consumed', status: 'accepted', batch: '20261122-001', lot: 'L-RM1001-A', station: 'WEIGH-1', device: 'line1.weigh1.scale' });
    expect(r.record.payload).toMatchObject({ material: 'RM-1001', quantity: '12.500', quantityUnit: 'kg', position: 'under', remaining: '12.500', net: '12.500' });
    expect(r.effects).toEqual([{ type: 'lot.consume', lot: 'L-RM1001-A', batch: '20261122-001', material: 'RM-1001', quantity: '12.500', unit: 'kg' }]);
  });
  it('converts to the BOM unit (g) and to the lot unit exactly', () => {
    const md = referenceData({ bomQty: '25000', bomUnit: 'g' });
    const r = bindWeight(cap('1.250'), weigh(), env(md), refuse);
    expect(r.record.payload).toMatchObject({ quantity: '1250', quantityUnit: 'g', lotQuantity: '1.250', lotUnit: 'kg' });
    expect(r.effects[0]).toMatchObject({ quantity: '1.250', unit: 'kg' });
    const lb = bindWeight(cap('2.5', 'lb'), weigh(), env(referenceData()), refuse);
    expect(lb.record.payload.quantity).toBe('1.133980925');
  });
  it('cumulative tolerance: additions under the plan pass; the one going over is refused or flagged', () => {
    for (const policy of [refuse, flag]) {
      const md = referenceData({ bomQty: '25', tolerancePct: '2' }); // 24.5 … 25.5
      const adds = ['10.000', '10.000', '5.000'];
      for (const a of adds) {
        const r = bindWeight(cap(a), weigh(), env(md), policy);
        expect(r.record.status).toBe('accepted');
        expect(r.record.errorCode ?? null).toBeNull();
        md.apply(r.effects);
      }
      expect(md.consumed('20261122-001', 'RM-1001')).toBe('25.000');
      const over = bindWeight(cap('0.600'), weigh(), env(md), policy);
      expect(over.record.errorCode).toBe('LG_ERR_WEIGHT_OUT_OF_TOLERANCE');
      expect(over.record.payload).toMatchObject({ position: 'over', consumedAfter: '25.600', max: '25.50' });
      if (policy === refuse) {
        expect(over.record.status).toBe('rejected');
        expect(over.effects).toEqual([]);
      } else {
        expect(over.record.status).toBe('accepted');
        expect(over.record.payload.flag).toBe('over_tolerance');
        expect(over.effects).toHaveLength(1);
      }
      // Exactly at the upper limit is within
      const md2 = referenceData();
      md2.consumedMap.set('20261122-001|RM-1001', '25');
      expect(bindWeight(cap('0.500'), weigh(), env(md2), refuse).record.status).toBe('accepted');
    }
  });
  it('no batch / no lot / lot not usable → rejected records with codes, no effects', () => {
    const md = referenceData();
    const cases: Array<[StationContext, string]> = [
      [weigh({ batch: null }), 'LG_ERR_NO_ACTIVE_BATCH'],
      [weigh({ batch: 'NOPE' }), 'LG_ERR_BATCH_NOT_FOUND'],
      [weigh({ lots: {} }), 'LG_ERR_NO_ACTIVE_LOT'],
      [weigh({ lots: { 'RM-9999': 'L-X' } }), 'LG_ERR_NO_ACTIVE_LOT'],
      [weigh({ lots: { 'RM-1001': 'L-MISSING' } }), 'LG_ERR_LOT_NOT_FOUND'],
    ];
    for (const [ctx, c] of cases) {
      const r = bindWeight(cap('1.000'), ctx, env(md), refuse);
      expect(r.record.status, c).toBe('rejected');
      expect(r.record.errorCode).toBe(c);
      expect(r.record.type).toBe('material.consumed');
      expect(r.effects).toEqual([]);
    }
    const statuses: Array<[string, string]> = [['quarantine', 'LG_ERR_LOT_QUARANTINED'], ['on_hold', 'LG_ERR_LOT_ON_HOLD'], ['rejected', 'LG_ERR_LOT_REJECTED'], ['depleted', 'LG_ERR_LOT_DEPLETED']];
    for (const [st, c] of statuses) {
      const m = referenceData();
      m.lots.set('L-RM1001-A', { ...m.lots.get('L-RM1001-A')!, status: st as 'quarantine' });
      expect(bindWeight(cap('1.000'), weigh(), env(m), refuse).record.errorCode).toBe(c);
    }
    const exp = referenceData();
    exp.lots.set('L-RM1001-A', { ...exp.lots.get('L-RM1001-A')!, expiry: '2026-11-21' });
    expect(bindWeight(cap('1.000'), weigh(), env(exp), refuse).record.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    exp.lots.set('L-RM1001-A', { ...exp.lots.get('L-RM1001-A')!, expiry: '2026-11-22' });
    expect(bindWeight(cap('1.000'), weigh(), env(exp), refuse).record.status).toBe('accepted');
    const held = referenceData();
    held.batches.set('20261122-001', { ...held.batches.get('20261122-001')!, status: 'on_hold' });
    expect(bindWeight(cap('1.000'), weigh(), env(held), refuse).record.errorCode).toBe('LG_ERR_BATCH_NOT_OPEN');
  });
  it('several active lots on the BOM: the most recently activated (last key) wins', () => {
    const md = referenceData();
    const r = bindWeight(cap('1.000'), weigh({ lots: { 'RM-1001': 'L-RM1001-A', 'RM-1002': 'L-RM1002-A' } }), env(md), refuse);
    expect(r.record.lot).toBe('L-RM1002-A');
    expect(r.record.payload.material).toBe('RM-1002');
  });
  it('a refusal reading from the driver → rejected weight.captured with its code and raw payload', () => {
    const md = referenceData();
    const bad: WeightReading = {
      kind: 'weight', deviceId: 'sc', receivedAt: now, value: null, raw: '{bad',
      error: { code: 'LG_ERR_WEIGHT_PAYLOAD', message: 'payload not understood', details: { detail: 'x' } },
    };
    const r = bindWeight(bad, weigh(), env(md), refuse);
    expect(r.record).toMatchObject({ type: 'weight.captured', status: 'rejected', errorCode: 'LG_ERR_WEIGHT_PAYLOAD' });
    expect(r.record.payload.raw).toBe('{bad');
    expect(r.record.message).toBe('payload not understood');
    expect(r.effects).toEqual([]);
  });
  it('each capture is its own record (never aggregated)', () => {
    const md = referenceData();
    const ids = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const r = bindWeight(cap('1.000'), weigh(), env(md), refuse);
      md.apply(r.effects);
      ids.add(r.record.payload.consumedAfter);
    }
    expect([...ids]).toEqual(['1.000', '2.000', '3.000', '4.000', '5.000']);
    expect(md.lot('L-RM1001-A')!.quantity).toBe('495.000');
  });
});

describe('bindWeight — requireOperator policy', () => {
  it('refuses a capture with nobody signed in when the station requires an operator', () => {
    const md = referenceData();
    const r = bindWeight(cap('1.000'), weigh({ operator: null }), env(md), { tolerance: 'refuse', requireOperator: true });
    expect(r.record).toMatchObject({ type: 'material.consumed', status: 'rejected', errorCode: 'LG_ERR_NO_OPERATOR' });
    expect(r.effects).toEqual([]);
    expect(bindWeight(cap('1.000'), weigh({ operator: null }), env(md), refuse).record.status).toBe('accepted');
  });
});

describe('bindWeight — packing station', () => {
  const pack = (over: Partial<StationContext> = {}): StationContext => ({ station: 'PACK-1', role: 'packing', batch: '20261122-001', operator: null, lots: {}, ...over });
  it('a capture becomes weight.captured bound to the batch, no effects', () => {
    const r = bindWeight(cap('12.340', 'kg', '0.450'), pack(), env(referenceData()), refuse);
    expect(r.record).toMatchObject({ type: 'weight.captured', status: 'accepted', batch: '20261122-001' });
    expect(r.record.payload).toMatchObject({ net: '12.340', tare: '0.450', unit: 'kg' });
    expect(r.effects).toEqual([]);
  });
  it('no batch → rejected', () => {
    expect(bindWeight(cap('1.000'), pack({ batch: null }), env(referenceData()), refuse).record.errorCode).toBe('LG_ERR_NO_ACTIVE_BATCH');
  });
});
