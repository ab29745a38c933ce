import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embedded.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Issue 18, process values over MQTT through the running gateway: a real aedes broker, a real
 * MQTT.js publisher, the mqtt-values driver with its filters, the value binder and the journal.
 * Ordering makes the checks exact: records of one connection commit and are acknowledged in
 * PUBLISH order, so once a "sentinel" value is in the journal every message before it has been
 * decided.
 */
const T0 = Date.parse('2026-12-01T08:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function devices(url: string) {
  return [
    {
      id: 'reactor.sensors',
      kind: 'mqtt-values',
      station: 'FILL-1',
      profile: 'plain-number',
      broker: { url, clientId: 'lg-test-values-plain' },
      values: [
        { name: 'jacket_temp', unit: '°C', topic: 'test/values/{id}/temp', deadband: { absolute: 0.5 }, range: { min: 0, max: 150 } },
        { name: 'sentinel', unit: '1', topic: 'test/values/{id}/sentinel' },
      ],
    },
    {
      id: 'reactor.press',
      kind: 'mqtt-values',
      station: 'FILL-1',
      profile: 'json-value',
      broker: { url, clientId: 'lg-test-values-json' },
      values: [
        { name: 'pressure', unit: 'bar', topic: 'test/values/press', minIntervalMs: 1000, maxIntervalMs: 5000, range: { min: 0, max: 16 } },
        { name: 'speed', unit: 'rpm', topic: 'test/values/speed', path: 'data.rpm' },
        { name: 'sentinel', unit: '1', topic: 'test/values/press-sentinel' },
      ],
    },
  ];
}

describe('process values over MQTT', () => {
  let broker: EmbeddedBroker;
  let t: TestGateway;
  let pub: MqttClient;
  const state = tempDir('linegate-values-');
  let sentinel = 0;

  const records = async (device: string, name?: string) => {
    const r = await t.call('GET', `/records?type=process.value&device=${device}&limit=1000`);
    expect(r.status).toBe(200);
    const items = (r.body.items as any[]).sort((a, b) => a.seq - b.seq);
    return name ? items.filter((x) => x.payload.name === name) : items;
  };
  const publish = (topic: string, payload: string) => pub.publishAsync(topic, payload, { qos: 1 });
  /** Publish a new sentinel value on the device's connection and wait for its record. */
  const settle = async (device: string, topic: string, json = false) => {
    const v = ++sentinel;
    await publish(topic, json ? JSON.stringify({ value: v, ts: new Date().toISOString() }) : String(v));
    await waitFor(async () => (await records(device, 'sentinel')).some((r) => r.payload.value === v), 20_000, 25, `sentinel ${v} of ${device}`);
  };
  const start = async () => {
    t = await startTestGateway({ devices: devices(broker.url) }, { stateDir: state.path });
    await waitFor(() => ['reactor.sensors', 'reactor.press'].every((d) => t.gw.drivers.get(d)?.health().state === 'online'), 20_000, 25, 'value devices online');
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    pub = await mqtt.connectAsync(broker.url, { clientId: 'lg-test-values-pub', reconnectPeriod: 0 });
    await start();
  });
  afterAll(async () => {
    await pub?.endAsync();
    await t?.stop();
    await broker?.close();
    state.cleanup();
  });

  it('deadband and range: changes beyond the band are recorded, garbage is a rejected record with its code', async () => {
    for (const p of ['20.0', '20.3', '20.6', 'abc', '200', '20.7', '', '21.2']) await publish('test/values/reactor.sensors/temp', p);
    await settle('reactor.sensors', 'test/values/reactor.sensors/sentinel');
    const recs = await records('reactor.sensors', 'jacket_temp');
    expect(recs.map((r) => (r.status === 'accepted' ? r.payload.value : r.errorCode))).toEqual([20, 20.6, 'LG_ERR_VALUE_NOT_NUMERIC', 'LG_ERR_VALUE_OUT_OF_RANGE', 'LG_ERR_VALUE_NOT_NUMERIC', 21.2]);
    const [first, , notNumeric, outOfRange] = recs;
    expect(first).toMatchObject({ status: 'accepted', station: 'FILL-1', device: 'reactor.sensors', batch: null, payload: { name: 'jacket_temp', value: 20, unit: '°C', quality: 'good', reason: 'first', topic: 'test/values/reactor.sensors/temp' } });
    expect(notNumeric.payload).toMatchObject({ name: 'jacket_temp', value: null, received: 'abc', raw: 'abc' });
    expect(outOfRange.payload).toMatchObject({ name: 'jacket_temp', value: null, received: 200, min: 0, max: 150 });
    expect(outOfRange.message).toContain('outside the declared range');
  });

  it('minimum interval: held-back changes are recorded as the latest value when it ends; heartbeat; bad quality; JSON path; duplicates', async () => {
    const press = (ms: number, value: unknown, quality = 'good') => publish('test/values/press', JSON.stringify({ value, ts: iso(ms), quality }));
    await press(0, 1.0);
    await press(100, 1.5); // held (inside 1 s)
    await press(200, 1.7); // replaces the held one
    // The trailing record comes when the interval ends (~800 ms after the held sample, gateway time).
    const trailing = await waitFor(async () => (await records('reactor.press', 'pressure')).find((r) => r.payload.reason === 'trailing'), 20_000, 25, 'trailing record');
    expect(trailing.payload.value).toBe(1.7);
    expect(trailing.sourceTime).toBe(iso(200));
    await press(3000, 1.7); // unchanged, before the heartbeat
    await press(8300, 1.7); // 8.1 s after the last record: heartbeat
    await press(8300, 9); // same source time again: a duplicate, skipped
    await press(9000, 2, 'BadSensorFailure');
    await publish('test/values/speed', JSON.stringify({ data: { rpm: 1450 } }));
    await publish('test/values/speed', JSON.stringify({ data: { rpm: 'fast' } }));
    await publish('test/values/speed', JSON.stringify({ other: 1 }));
    await settle('reactor.press', 'test/values/press-sentinel', true);
    const p = await records('reactor.press', 'pressure');
    expect(p.map((r) => [r.status === 'accepted' ? r.payload.reason : r.errorCode, r.payload.value, r.sourceTime])).toEqual([
      ['first', 1, iso(0)],
      ['trailing', 1.7, iso(200)],
      ['heartbeat', 1.7, iso(8300)],
      ['LG_ERR_VALUE_BAD_QUALITY', null, iso(9000)],
    ]);
    expect(p[3].payload.sourceQuality).toBe('BadSensorFailure');
    const sp = await records('reactor.press', 'speed');
    expect(sp.map((r) => r.payload.value ?? r.errorCode)).toEqual([1450, 'LG_ERR_VALUE_NOT_NUMERIC', 'LG_ERR_VALUE_NOT_NUMERIC']);
    expect(sp[2].message).toContain('no value at the configured path');
  });

  it('binds each value to the batch selected at its station at the time it is recorded', async () => {
    const b = await t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [] });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    expect((await t.call('PUT', '/stations/FILL-1/context', { batch: b.body.number })).status).toBe(200);
    await publish('test/values/reactor.sensors/temp', '30');
    await settle('reactor.sensors', 'test/values/reactor.sensors/sentinel');
    expect((await t.call('PUT', '/stations/FILL-1/context', { batch: null })).status).toBe(200);
    await publish('test/values/reactor.sensors/temp', '40');
    await settle('reactor.sensors', 'test/values/reactor.sensors/sentinel');
    const recs = (await records('reactor.sensors', 'jacket_temp')).filter((r) => r.status === 'accepted').slice(-2);
    expect(recs.map((r) => [r.payload.value, r.batch])).toEqual([[30, b.body.number], [40, null]]);
    const inBatch = await t.call('GET', `/records?batch=${b.body.number}&type=process.value`);
    expect(inBatch.body.items.map((r: any) => r.payload.name).sort()).toEqual(['jacket_temp', 'sentinel']);
    // The batch record has a compact section per value.
    await publish('test/values/reactor.sensors/temp', '500'); // not in this batch (none selected now)
    const report = await t.call('GET', `/batches/${b.body.number}/report.json`);
    expect(report.status).toBe(200);
    const body = typeof report.body === 'string' ? JSON.parse(report.body) : report.body;
    const section = body.report.sections.extra['Process values'];
    expect(section).toEqual([
      { device: 'reactor.sensors', name: 'jacket_temp', unit: '°C', count: 1, min: 30, max: 30, last: 30, lastAt: expect.any(String), outOfRange: 0, rejected: 0 },
      { device: 'reactor.sensors', name: 'sentinel', unit: '1', count: 1, min: expect.any(Number), max: expect.any(Number), last: expect.any(Number), lastAt: expect.any(String), outOfRange: 0, rejected: 0 },
    ]);
  });

  it('restart: values published while the gateway is down are recorded after it; nothing is recorded twice', async () => {
    const before = await records('reactor.sensors', 'jacket_temp');
    const lastTemp = before.filter((r) => r.status === 'accepted').at(-1)!.payload.value;
    expect(lastTemp).toBe(40);
    const beforePress = await records('reactor.press', 'pressure');
    await t.stop();
    // The broker keeps both persistent sessions and queues what arrives meanwhile.
    await publish('test/values/reactor.sensors/temp', '40.2'); // inside the band of the last record (40): not a change
    await publish('test/values/reactor.sensors/temp', '45');
    await publish('test/values/press', JSON.stringify({ value: 9, ts: iso(8300), quality: 'good' })); // the heartbeat's source time: duplicate
    await publish('test/values/press', JSON.stringify({ value: 3, ts: iso(20_000), quality: 'good' }));
    await start();
    await settle('reactor.sensors', 'test/values/reactor.sensors/sentinel');
    await settle('reactor.press', 'test/values/press-sentinel', true);
    const after = await records('reactor.sensors', 'jacket_temp');
    expect(after.slice(before.length).map((r) => r.payload.value)).toEqual([45]);
    const afterPress = await records('reactor.press', 'pressure');
    expect(afterPress.slice(beforePress.length).map((r) => [r.payload.value, r.payload.reason])).toEqual([[3, 'change']]);
    // Every record is distinct: no message was journaled twice.
    const all = [...(await records('reactor.sensors')), ...(await records('reactor.press'))];
    const keys = all.map((r) => `${r.device}|${r.payload.name}|${r.payload.value}|${JSON.stringify(r.payload.received)}|${r.sourceTime}|${r.receivedAt}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
