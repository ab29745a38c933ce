import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embedded.js';
import { ScaleSimulator } from '../../../simulators/scale/simulator.js';
import { add, toString as dec, sub, cmp } from '../../../src/domain/decimal.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 4 through the running gateway: a scale simulator publishing on a real MQTT broker →
 * driver (stability, one capture per placement) → weight binder → journal, lot balance moved in
 * the same transaction.
 */
describe('weighing station: scale over MQTT bound to batch and lot', () => {
  let broker: EmbeddedBroker;
  let t: TestGateway;
  let sim: ScaleSimulator;
  let batch: string;
  const weights: string[] = [];

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    // 100 distinct additions, 100–199 g each; the BOM asks for exactly their sum.
    for (let i = 0; i < 100; i++) weights.push(dec({ units: BigInt(100 + ((i * 37) % 100)), scale: 3 }));
    const total = dec(weights.reduce((a, w) => add(a, w), { units: 0n, scale: 3 }));
    t = await startTestGateway({
      devices: [
        {
          id: 'weigh.scale',
          kind: 'mqtt-scale',
          station: 'WEIGH-1',
          profile: 'json-generic',
          broker: { url: broker.url, clientId: 'lg-test-weigh-scale' },
          topic: 'test/weigh/scale',
          silenceTimeoutMs: 60_000,
        },
      ],
    });
    await t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg', gtins: ['09506000134369'] });
    await t.call('POST', '/lots', { id: 'L-A', material: 'RM-1001', expiry: '2099-12-31', status: 'released', quantity: '50.000' });
    const b = await t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [{ material: 'RM-1001', quantity: total, unit: 'kg', tolerancePct: '1' }] });
    batch = b.body.number;
    await t.call('PUT', '/stations/WEIGH-1/context', { batch });
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-A' })).body.record.status).toBe('accepted');
    await waitFor(() => t.gw.drivers.get('weigh.scale')?.health().state === 'online', 10_000, 25, 'scale online');
    sim = new ScaleSimulator({ url: broker.url, topic: 'test/weigh/scale', format: 'json', rateHz: 100, continuous: true, clientId: 'sim-weigh' });
    await sim.start();
  });
  afterAll(async () => {
    await sim?.stop();
    await t?.stop();
    await broker?.close();
  });

  it('100 placements → exactly 100 consumption records; the lot balance moves to the gram', async () => {
    for (const w of weights) {
      await sim.place(w, { settleMs: 40, holdMs: 120 });
      await sim.remove({ settleMs: 20, holdMs: 60 });
    }
    await waitFor(async () => {
      const r = await t.call('GET', `/records?batch=${batch}&type=material.consumed&limit=1000`);
      return r.body.items.length >= 100 ? r.body.items : null;
    }, 20_000, 50, '100 consumption records');
    await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive
    const all = (await t.call('GET', `/records?batch=${batch}&type=material.consumed&limit=1000`)).body.items;
    expect(all).toHaveLength(100);
    expect(all.every((r: any) => r.status === 'accepted' && r.lot === 'L-A' && r.device === 'weigh.scale')).toBe(true);
    const consumed = all.map((r: any) => String(r.payload.quantity));
    expect(consumed).toEqual(weights.map((w) => expect.stringMatching(new RegExp(`^${w.replace('.', '\\.')}0*$`))));
    const sum = consumed.reduce((a: any, q: string) => add(a, q), { units: 0n, scale: 0 });
    const lot = (await t.call('GET', '/lots/L-A')).body;
    expect(cmp(lot.quantity, sub('50.000', sum))).toBe(0);
  });

  it('refuses an addition beyond the bill of materials tolerance and leaves the balance alone', async () => {
    const before = (await t.call('GET', '/lots/L-A')).body.quantity;
    await sim.place('2.500', { settleMs: 40, holdMs: 150 });
    await sim.remove({ settleMs: 20, holdMs: 60 });
    const rec = await waitFor(async () => {
      const r = await t.call('GET', `/records?batch=${batch}&status=rejected&device=weigh.scale`);
      return r.body.items.find((x: any) => x.errorCode === 'LG_ERR_WEIGHT_OUT_OF_TOLERANCE');
    }, 10_000, 50, 'out-of-tolerance refusal');
    expect(rec.status).toBe('rejected');
    expect((await t.call('GET', '/lots/L-A')).body.quantity).toBe(before);
  });

  it('records malformed payloads as rejected and keeps capturing', async () => {
    await sim.sendRaw('{"weight": {"gross": "NaN", "unit": "kg", "stable": true}}');
    await sim.sendRaw('not json at all');
    const rejected = await waitFor(async () => {
      const r = await t.call('GET', `/records?device=weigh.scale&status=rejected&limit=100`);
      const codes = r.body.items.map((x: any) => x.errorCode);
      return codes.filter((c: string) => c === 'LG_ERR_WEIGHT_PAYLOAD').length >= 1 ? codes : null;
    }, 10_000, 50, 'payload refusals');
    expect(rejected).toContain('LG_ERR_WEIGHT_PAYLOAD');
    expect((await t.call('GET', '/health/ready', undefined, null)).status).toBe(200);
  });
});
