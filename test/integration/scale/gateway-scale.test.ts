/**
 * Issue 4 acceptance through the running gateway (real journal, real SQLite lot balance): a scale
 * on MQTT at WEIGH-1; 100 placements → 100 material.consumed records and the lot balance equals
 * the starting balance minus their sum, to the gram. Plus a refusal, and packing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { ScaleSimulator } from '../../../simulators/scale/simulator.js';
import { add, cmp, sub, toString as d, parseDec, type Dec } from '../../../src/domain/decimal.js';
import { aedesBroker, type TestBroker } from './brokers.js';

const FAST = { settleMs: 25, holdMs: 30 };
const OFF = { settleMs: 15, holdMs: 20 };

describe('scales through the gateway (issue 4 acceptance)', () => {
  let broker: TestBroker;
  let t: TestGateway;
  let batch: string;
  const weighTopic = `it/gw/${process.pid}/weigh`;
  const packTopic = `it/gw/${process.pid}/pack`;

  beforeAll(async () => {
    broker = await aedesBroker();
    t = await startTestGateway({
      devices: [
        { id: 'line1.weigh.scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', broker: { url: broker.url, clientId: `gw-weigh-${process.pid}` }, topic: weighTopic },
        { id: 'line1.pack.scale', kind: 'mqtt-scale', station: 'PACK-1', profile: 'ascii-st-gs', broker: { url: broker.url, clientId: `gw-pack-${process.pid}` }, topic: packTopic },
      ],
    });
    ({ batch } = await seedReferenceLine(t));
    await waitFor(async () => {
      const h = await t.call('GET', '/health/ready'); // details (driver ids) need a token since issue 11
      const text = JSON.stringify(h.body);
      return text.includes('line1.weigh.scale') && !text.includes('"connecting"');
    }, 10_000, 50, 'scales online');
  });
  afterAll(async () => {
    await t?.stop();
    await broker?.close();
  });

  it('a capture without an active batch is a rejected record (LG_ERR_NO_ACTIVE_BATCH)', async () => {
    const s = new ScaleSimulator({ url: broker.url, topic: weighTopic, rateHz: 200 });
    await s.start();
    try {
      await s.place('0.500', FAST);
      await s.remove(OFF);
    } finally {
      await s.stop();
    }
    const q = await waitFor(async () => {
      const r = await t.call('GET', '/records?station=WEIGH-1&status=rejected&type=material.consumed');
      return r.body.items.length > 0 ? r : null;
    }, 5000, 25, 'rejected consumption');
    expect(q.body.items[0]).toMatchObject({ errorCode: 'LG_ERR_NO_ACTIVE_BATCH', device: 'line1.weigh.scale' });
  });

  it('100 placements → 100 material.consumed records; lot balance = start − sum, to the gram', async () => {
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: batch })).body.record.status).toBe('accepted');
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' })).body.record.status).toBe('accepted');
    const before = (await t.call('GET', '/lots/L-1001-A')).body;
    const start = (before.lot ?? before).quantity as string;

    // 100 loads of 0.300…0.689 kg; their total stays inside the BOM line (50 kg ± 2 %).
    const placed = Array.from({ length: 100 }, (_, i) => (0.3 + ((i * 37) % 390) / 1000).toFixed(3));
    const total = placed.reduce<Dec>((a, w) => add(a, w), parseDec('0'));
    expect(cmp(total, '51')).toBeLessThanOrEqual(0);

    const s = new ScaleSimulator({ url: broker.url, topic: weighTopic, rateHz: 200 });
    await s.start();
    try {
      for (const w of placed) {
        await s.place(w, FAST);
        await s.remove(OFF);
      }
    } finally {
      await s.stop();
    }
    const recs = await waitFor(async () => {
      const r = await t.call('GET', `/records?batch=${batch}&type=material.consumed&limit=1000`);
      return r.body.items.length >= 100 ? r.body.items : null;
    }, 10_000, 50, '100 consumption records');
    const accepted = recs.filter((r: any) => r.status === 'accepted');
    expect(accepted).toHaveLength(100);
    expect(accepted.every((r: any) => r.lot === 'L-1001-A' && r.payload.material === 'RM-1001')).toBe(true);
    const sum = accepted.reduce((a: Dec, r: any) => add(a, r.payload.quantity as string), parseDec('0'));
    expect(d(sum)).toBe(d(total));
    expect([...accepted.map((r: any) => r.payload.quantity)].sort()).toEqual([...placed].sort());
    const after = (await t.call('GET', '/lots/L-1001-A')).body;
    expect(start).toBe('500.000');
    expect(cmp((after.lot ?? after).quantity, sub(start, total))).toBe(0);
    expect(cmp(total, '40')).toBeGreaterThan(0);
  });

  it('packing: an ASCII case weight becomes weight.captured bound to the batch; an overload is a rejected record', async () => {
    expect((await t.call('POST', '/stations/PACK-1/scans', { data: batch })).body.record.status).toBe('accepted');
    const s = new ScaleSimulator({ url: broker.url, topic: packTopic, rateHz: 200, format: 'ascii', capacityKg: 60 });
    await s.start();
    try {
      await s.place('12.340', FAST);
      await s.remove(OFF);
      await s.place('75', FAST);
      await s.remove(OFF);
    } finally {
      await s.stop();
    }
    const items = await waitFor(async () => {
      const r = await t.call('GET', '/records?station=PACK-1&type=weight.captured&limit=100');
      return r.body.items.length >= 2 ? r.body.items : null;
    }, 5000, 25, 'packing records');
    const ok = items.find((r: any) => r.status === 'accepted');
    expect(ok).toMatchObject({ batch, payload: { net: '12.340', unit: 'kg' } });
    expect(items.some((r: any) => r.status === 'rejected' && r.errorCode === 'LG_ERR_WEIGHT_OVERLOAD')).toBe(true);
  });
});
