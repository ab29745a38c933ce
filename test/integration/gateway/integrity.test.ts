/**
 * Issue 10, items 1, 2, 10 and 18, through the running gateway: real journal and SQLite lot
 * balances, the HTTP API, and a scale on a real MQTT broker (aedes) at WEIGH-1 — the path on which
 * the defects were seen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { ScaleSimulator } from '../../../simulators/scale/simulator.js';
import { aedesBroker, type TestBroker } from '../scale/brokers.js';
import { cmp, parseDec, sub, toString as d } from '../../../src/domain/decimal.js';
import { formatBackward, traceBackward } from '../../../src/domain/genealogy.js';
import type { Clock } from '../../../src/util/clock.js';

const FAST = { settleMs: 25, holdMs: 30 };
const OFF = { settleMs: 15, holdMs: 20 };

/** Real time, shifted: moves like the wall clock, so the scale's stability timing works unchanged. */
class ShiftedClock implements Clock {
  private offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
  synced(): boolean {
    return true;
  }
  setTo(iso: string): void {
    this.offset = Date.parse(iso) - Date.now();
  }
}

async function scaleOnline(t: TestGateway, id: string): Promise<void> {
  await waitFor(() => t.gw.drivers.get(id)?.health().state === 'online', 15_000, 25, `${id} online`);
}

/** One placement on the scale; resolves with the material.consumed record it produced. */
async function weigh(t: TestGateway, sim: ScaleSimulator, net: string): Promise<any> {
  const seen = (await t.call('GET', '/records?station=WEIGH-1&type=material.consumed&order=desc&limit=1')).body.items[0]?.seq ?? 0;
  await sim.place(net, FAST);
  await sim.remove(OFF);
  return waitFor(async () => {
    const r = await t.call('GET', `/records?station=WEIGH-1&type=material.consumed&after=${seen}&limit=10`);
    return r.body.items[0] ?? null;
  }, 15_000, 25, `consumption record for ${net}`);
}

const lotQty = async (t: TestGateway, id: string): Promise<string> => {
  const b = (await t.call('GET', `/lots/${id}`)).body;
  return (b.lot ?? b).quantity as string;
};

describe('issue 10 — consumption and override integrity through the gateway', () => {
  let broker: TestBroker;
  let t: TestGateway;
  let sim: ScaleSimulator;
  let batch: string;
  let opToken: string;
  let supToken: string;
  const topic = `it/integrity/${process.pid}/weigh`;

  beforeAll(async () => {
    broker = await aedesBroker();
    t = await startTestGateway({
      devices: [{ id: 'weigh.scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', broker: { url: broker.url, clientId: `gw-integrity-${process.pid}` }, topic, silenceTimeoutMs: 120_000 }],
    });
    ({ batch } = await seedReferenceLine(t));
    opToken = (await t.call('POST', '/users', { id: 'op1', name: 'Olga Operator', role: 'operator', badge: 'EMP-0001' })).body.token;
    supToken = (await t.call('POST', '/users', { id: 'sup1', name: 'Sam Supervisor', role: 'supervisor' })).body.token;
    await scaleOnline(t, 'weigh.scale');
    sim = new ScaleSimulator({ url: broker.url, topic, rateHz: 200 });
    await sim.start();
    expect((await t.call('PUT', '/stations/WEIGH-1/context', { batch, operator: 'op1' })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await sim?.stop();
    await t?.stop();
    await broker?.close();
  });

  it('10.1 a negative or zero manual consumption is a rejected record LG_ERR_QUANTITY_NOT_POSITIVE and moves no stock', async () => {
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }, opToken)).body.record.status).toBe('accepted');
    const start = await lotQty(t, 'L-1001-A');
    for (const quantity of ['-50.000', '0', '-0.000']) {
      const r = await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity, unit: 'kg' }, opToken);
      expect(r.status, quantity).toBe(201);
      expect(r.body.record, quantity).toMatchObject({ type: 'material.consumed', status: 'rejected', errorCode: 'LG_ERR_QUANTITY_NOT_POSITIVE' });
    }
    expect(await lotQty(t, 'L-1001-A')).toBe(start);
    expect(t.gw.repo.consumed(batch, 'RM-1001')).toBe('0');
    const back = (await t.call('GET', `/batches/${batch}/genealogy`)).body;
    expect(back.inputs).toEqual([]);
  });

  it('10.1 a wrong consumption is corrected by its own record: supervisor, reason, audited, exact restore, never more, never twice, shown in the trace', async () => {
    const start = await lotQty(t, 'L-1001-A');
    const consumed = (await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '10.000', unit: 'kg', note: 'counted sacks' }, opToken)).body.record;
    expect(consumed).toMatchObject({ status: 'accepted', lot: 'L-1001-A' });
    const scaleRec = await weigh(t, sim, '2.500');
    expect(scaleRec).toMatchObject({ status: 'accepted', lot: 'L-1001-A', payload: { quantity: '2.500' } });
    expect(t.gw.repo.consumed(batch, 'RM-1001')).toBe('12.500');

    const url = `/records/${consumed.id}/correction`;
    // an operator alone may not; a reason is required; the quantity must be positive and at most what was consumed
    expect((await t.call('POST', url, { reason: 'typo' }, opToken)).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('POST', url, { reason: '' }, supToken)).status).toBe(400);
    expect((await t.call('POST', url, { reason: 'typo', quantity: '-1' }, supToken)).body.code).toBe('LG_ERR_QUANTITY_NOT_POSITIVE');
    expect((await t.call('POST', url, { reason: 'typo', quantity: '10.001' }, supToken)).body.code).toBe('LG_ERR_CORRECTION_TOO_LARGE');
    const refused = (await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '-1', unit: 'kg' }, opToken)).body.record;
    expect((await t.call('POST', `/records/${refused.id}/correction`, { reason: 'x' }, supToken)).body.code).toBe('LG_ERR_CORRECTION_INVALID');

    // the operator asks, the supervisor co-signs with their token
    const c = await t.call('POST', url, { reason: 'entered 10 kg, the sacks held 6 kg', quantity: '4.000', supervisorToken: supToken }, opToken);
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      type: 'material.consumption_corrected',
      status: 'accepted',
      batch,
      lot: 'L-1001-A',
      payload: { corrects: consumed.id, quantity: '4.000', unit: 'kg', consumed: '10.000', by: 'sup1', role: 'supervisor', requestedBy: 'op1', reason: 'entered 10 kg, the sacks held 6 kg' },
    });
    // exact restore of the lot balance and the batch total
    expect(cmp(await lotQty(t, 'L-1001-A'), start) < 0).toBe(true);
    expect(await lotQty(t, 'L-1001-A')).toBe(c.body.payload.lotBalanceAfter);
    expect(cmp(c.body.payload.lotBalanceAfter, c.body.payload.lotBalanceBefore)).toBe(1);
    expect(t.gw.repo.consumed(batch, 'RM-1001')).toBe('8.500');
    // never twice, not even the rest of it
    const twice = await t.call('POST', url, { reason: 'again', quantity: '1.000' }, supToken);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('LG_ERR_ALREADY_CORRECTED');
    // audited: who granted, who asked, old and new balances
    const audit = (await t.call('GET', `/audit?entity=record&entityId=${consumed.id}`)).body.items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'sup1', action: 'consumption.corrected', reason: 'entered 10 kg, the sacks held 6 kg', new: { correction: c.body.id, grantedBy: 'sup1', requestedBy: 'op1', batchConsumed: '8.500' }, old: { batchConsumed: '12.500' } });
    // the next addition is judged against the corrected total
    const next = await weigh(t, sim, '1.000');
    expect(next.payload).toMatchObject({ consumedBefore: '8.500', consumedAfter: '9.500' });
    // genealogy shows the net and the correction, never a negative consumption
    const back = (await t.call('GET', `/batches/${batch}/genealogy`)).body;
    expect(back.inputs).toEqual([expect.objectContaining({ lot: expect.objectContaining({ id: 'L-1001-A' }), quantity: '9.500', additions: 3, corrections: 1, corrected: '4.000' })]);
    const text = formatBackward(traceBackward(batch, t.gw.repo.genealogyIO())!);
    expect(text).toContain('9.500 kg of lot L-1001-A');
    expect(text).toContain('net of 1 correction (4.000 kg taken back)');
    expect(text).not.toMatch(/← -/);
    const fwd = (await t.call('GET', '/lots/L-1001-A/genealogy')).body;
    expect(fwd.usedIn).toEqual([expect.objectContaining({ quantity: '9.500', additions: 3, corrections: 1, corrected: '4.000' })]);
    // the correction is a record in the journal like any other
    const list = (await t.call('GET', `/records?batch=${batch}&type=material.consumption_corrected`)).body.items;
    expect(list.map((r: any) => r.id)).toEqual([c.body.id]);
  });

  it('10.2 a supervisor override of an expired lot lets the next stable weight through the scale, and hand entry too', async () => {
    const refused = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-EXP' }, opToken)).body.record;
    expect(refused.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    const o = await t.call('POST', `/records/${refused.id}/override`, { reason: 'QA extended shelf life on paper', supervisorToken: supToken }, opToken);
    expect(o.status).toBe(201);
    const ctx = (await t.call('GET', '/stations/WEIGH-1')).body;
    expect(ctx.lots['RM-1001']).toBe('L-1001-EXP');
    expect(ctx.overrides['RM-1001']).toMatchObject({ lot: 'L-1001-EXP', batch, record: o.body.id, codes: ['LG_ERR_LOT_EXPIRED'] });
    const before = await lotQty(t, 'L-1001-EXP');

    const viaScale = await weigh(t, sim, '1.250');
    expect(viaScale).toMatchObject({ status: 'accepted', lot: 'L-1001-EXP', device: 'weigh.scale', payload: { quantity: '1.250', override: { record: o.body.id, codes: ['LG_ERR_LOT_EXPIRED'] } } });
    expect(viaScale.errorCode).toBeNull();
    const byHand = (await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '0.750', unit: 'kg' }, opToken)).body.record;
    expect(byHand).toMatchObject({ status: 'accepted', lot: 'L-1001-EXP', payload: { override: { record: o.body.id } } });
    // the lot balance moved by exactly what the two consumptions say
    expect(d(sub(sub(before, viaScale.payload.quantity), byHand.payload.quantity))).toBe(d(parseDec(await lotQty(t, 'L-1001-EXP'))));
  });

  it('10.2 the override ends when the lot changes at the station: the expired lot is refused again', async () => {
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }, opToken)).body.record.status).toBe('accepted');
    expect((await t.call('GET', '/stations/WEIGH-1')).body.overrides).toEqual({});
    const again = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-EXP' }, opToken)).body.record;
    expect(again.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    const w = await weigh(t, sim, '0.400');
    expect(w).toMatchObject({ status: 'accepted', lot: 'L-1001-A' });
    expect(w.payload.override).toBeUndefined();
  });

  it('10.2 the override ends when the batch changes at the station, and covers only the code it was granted for', async () => {
    const refused = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' }, opToken)).body.record;
    expect(refused.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
    const o = await t.call('POST', `/records/${refused.id}/override`, { reason: 'administrative hold' }, supToken);
    expect(o.body.payload.overriddenCodes).toEqual(['LG_ERR_LOT_ON_HOLD']);
    expect((await weigh(t, sim, '0.300')).status).toBe('accepted');
    // QA moves the lot to quarantine meanwhile: the on-hold override does not cover that
    expect((await t.call('PATCH', '/lots/L-1001-HOLD', { status: 'quarantine', reason: 'resample' })).status).toBeLessThan(300);
    const q = await weigh(t, sim, '0.300');
    expect(q).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_LOT_QUARANTINED' });
    // a new batch at the station: lots and overrides are gone
    const other = (await t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '10', unit: 'pcs', bom: [{ material: 'RM-1001', quantity: '5', unit: 'kg' }] })).body.number;
    await t.call('PUT', '/stations/WEIGH-1/context', { batch: other });
    await t.call('PUT', '/stations/WEIGH-1/context', { batch });
    const ctx = (await t.call('GET', '/stations/WEIGH-1')).body;
    expect(ctx.overrides).toEqual({});
    expect(ctx.lots).toEqual({});
    expect((await weigh(t, sim, '0.300')).errorCode).toBe('LG_ERR_NO_ACTIVE_LOT');
  });

  it('10.18 an override co-signed with a supervisor token records the operator who asked and the supervisor who granted it', async () => {
    const refused = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-EXP' }, opToken)).body.record;
    expect(refused.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    const o = await t.call('POST', `/records/${refused.id}/override`, { reason: 'QA extended shelf life', supervisorToken: supToken }, opToken);
    expect(o.status).toBe(201);
    expect(o.body.payload).toMatchObject({ by: 'sup1', role: 'supervisor', requestedBy: 'op1', requestedByRole: 'operator' });
    const audit = (await t.call('GET', `/audit?entity=record&entityId=${refused.id}`)).body.items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'sup1', action: 'scan.overridden', new: { override: o.body.id, grantedBy: 'sup1', requestedBy: 'op1', requestedByRole: 'operator' } });
    // a supervisor acting alone is both
    const r2 = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }, opToken)).body.record;
    expect(r2.status).toBe('accepted');
    const r3 = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-EXP' }, opToken)).body.record;
    const o2 = await t.call('POST', `/records/${r3.id}/override`, { reason: 'same' }, supToken);
    expect(o2.body.payload).toMatchObject({ by: 'sup1', requestedBy: 'sup1' });
    // an operator token passed as the "supervisor" is refused
    const r4 = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-Q' }, opToken)).body.record;
    expect((await t.call('POST', `/records/${r4.id}/override`, { reason: 'x', supervisorToken: opToken }, opToken)).body.code).toBe('LG_ERR_FORBIDDEN');
  });

  it('10.2 an override is granted for every refusal the lot has (not on the BOM, quarantined and expired…) and never lets a QA-rejected lot in', async () => {
    // not on the bill of materials: after the override exactly that lot is weighed into the batch
    const notBom = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1010-A' }, opToken)).body.record;
    expect(notBom.errorCode).toBe('LG_ERR_MATERIAL_NOT_IN_BOM');
    const o = await t.call('POST', `/records/${notBom.id}/override`, { reason: 'colour added per deviation D-1' }, supToken);
    expect(o.body.payload.overriddenCodes).toEqual(['LG_ERR_MATERIAL_NOT_IN_BOM']);
    const w = await weigh(t, sim, '0.200');
    expect(w).toMatchObject({ status: 'accepted', lot: 'L-1010-A', payload: { material: 'RM-1010', position: 'not_in_bom', override: { record: o.body.id } } });
    expect(t.gw.repo.consumed(batch, 'RM-1010')).toBe(w.payload.quantity);

    // quarantined AND expired: the scan names the first refusal, the override covers both
    expect((await t.call('POST', '/lots', { id: 'L-1001-QX', material: 'RM-1001', expiry: '2020-02-01', status: 'quarantine', quantity: '5' })).status).toBe(201);
    const qx = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-QX' }, opToken)).body.record;
    expect(qx.errorCode).toBe('LG_ERR_LOT_QUARANTINED');
    const oq = await t.call('POST', `/records/${qx.id}/override`, { reason: 'sampled and passed, paperwork pending' }, supToken);
    expect([...oq.body.payload.overriddenCodes].sort()).toEqual(['LG_ERR_LOT_EXPIRED', 'LG_ERR_LOT_QUARANTINED']);
    expect(await weigh(t, sim, '0.500')).toMatchObject({ status: 'accepted', lot: 'L-1001-QX' });

    // a QA-rejected lot that is also off the BOM: the scan says "not on the BOM", the override is refused
    expect((await t.call('POST', '/lots', { id: 'L-1010-REJ', material: 'RM-1010', expiry: '2099-01-01', status: 'rejected', quantity: '5' })).status).toBe(201);
    const rej = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1010-REJ' }, opToken)).body.record;
    expect(rej.errorCode).toBe('LG_ERR_MATERIAL_NOT_IN_BOM');
    const refused = await t.call('POST', `/records/${rej.id}/override`, { reason: 'try' }, supToken);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('LG_ERR_OVERRIDE_INVALID');
    expect((await t.call('GET', '/stations/WEIGH-1')).body.lots['RM-1010']).toBe('L-1010-A');
  });
});

describe('10.10 expiry at the scale is the site-local date (Europe/Berlin, 00:30 local)', () => {
  let broker: TestBroker;
  let t: TestGateway;
  let sim: ScaleSimulator;
  const clock = new ShiftedClock();
  const topic = `it/integrity-tz/${process.pid}/weigh`;

  beforeAll(async () => {
    // 1 December 2031, 23:50 in Berlin (CET = UTC+1): the lot's expiry day.
    clock.setTo('2031-12-01T22:50:00Z');
    broker = await aedesBroker();
    t = await startTestGateway(
      { devices: [{ id: 'tz.scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', broker: { url: broker.url, clientId: `gw-tz-${process.pid}` }, topic, silenceTimeoutMs: 120_000 }] },
      { clock },
    );
    await seedReferenceLine(t);
    await scaleOnline(t, 'tz.scale');
    sim = new ScaleSimulator({ url: broker.url, topic, rateHz: 200 });
    await sim.start();
  }, 60_000);
  afterAll(async () => {
    await sim?.stop();
    await t?.stop();
    await broker?.close();
  });

  it('10.10 a lot scanned on its expiry day is refused LG_ERR_LOT_EXPIRED at the scale and by hand after local midnight, while the UTC date is still its expiry', async () => {
    expect((await t.call('POST', '/lots', { id: 'L-TZ', material: 'RM-1001', expiry: '2031-12-01', status: 'released', quantity: '20' })).status).toBe(201);
    const b = (await t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '10', unit: 'pcs', bom: [{ material: 'RM-1001', quantity: '10', unit: 'kg', tolerancePct: '5' }] })).body.number;
    await t.call('PUT', '/stations/WEIGH-1/context', { batch: b });
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-TZ' })).body.record.status).toBe('accepted');
    // before midnight it is consumed
    expect((await weigh(t, sim, '1.000')).status).toBe('accepted');

    clock.setTo('2031-12-01T23:30:00Z'); // 00:30 on 2 December in Berlin
    expect(clock.now().toISOString().slice(0, 10)).toBe('2031-12-01');
    const w = await weigh(t, sim, '1.000');
    expect(w).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_LOT_EXPIRED', lot: 'L-TZ', payload: { siteDate: '2031-12-02' } });
    const byHand = (await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.000', unit: 'kg' })).body.record;
    expect(byHand).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_LOT_EXPIRED' });
    // the scan agrees with the scale
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-TZ' })).body.record.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    // only the consumption before midnight moved the lot
    expect(cmp(await lotQty(t, 'L-TZ'), '19')).toBe(0);
  });
});
