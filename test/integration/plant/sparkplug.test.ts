import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import sparkplugPayload from 'sparkplug-payload';
import { SparkplugNode, stationDeviceId } from '../../../src/upstream/sparkplug.js';
import type { SparkplugConfig } from '../../../src/config/upstream.js';
import type { JournalRecord } from '../../../src/binding/types.js';
import { AedesBroker, Mosquitto, waitUntil } from '../upstream/harness.js';
import { startTestGateway } from '../../helpers/gateway.js';

const sp = sparkplugPayload.get('spBv1.0')!;

/** protobufjs gives uint64 as Long: back to a number. */
function num(v: unknown): number {
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) return (v as { high: number }).high * 2 ** 32 + ((v as { low: number }).low >>> 0);
  return Number(v);
}

interface Msg {
  topic: string;
  kind: string;
  device: string | undefined;
  seq: number | null;
  metrics: Array<{ name: string | null; alias: number | null; type: string; value: unknown }>;
  raw: Buffer;
}

/** A Sparkplug consumer (a host application's view): every spBv1.0 message, decoded. */
async function subscriber(url: string): Promise<{ client: MqttClient; msgs: Msg[]; of: (kind: string, device?: string) => Msg[] }> {
  const client = mqtt.connect(url, { clientId: `sub-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 200 });
  const msgs: Msg[] = [];
  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    if (parts[1] === 'STATE') return;
    const p = sp.decodePayload(payload);
    msgs.push({
      topic,
      kind: parts[2]!,
      device: parts[4],
      seq: p.seq === undefined || p.seq === null ? null : num(p.seq),
      metrics: (p.metrics ?? []).map((m) => ({
        name: m.name ?? null,
        alias: m.alias === undefined || m.alias === null ? null : num(m.alias),
        type: String(m.type),
        value: m.type === 'UInt64' || m.type === 'DateTime' ? (m.value === null ? null : num(m.value)) : m.value,
      })),
      raw: payload,
    });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe('spBv1.0/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  return { client, msgs, of: (kind, device) => msgs.filter((m) => m.kind === kind && (device === undefined || m.device === device)) };
}

function rec(over: Partial<JournalRecord>): JournalRecord {
  return {
    seq: 1, id: '00000000-0000-7000-8000-000000000000', type: 'weight.captured', status: 'accepted', errorCode: null, message: null,
    site: 'PLANT1', line: 'L1', station: 'WEIGH-1', batch: '20261201-001', lot: 'SUG-1', operator: 'anna', device: 'scale1',
    payload: {}, sourceTime: null, receivedAt: new Date().toISOString(), clockSynced: true, ...over,
  };
}

const bdSeqOf = (m: Msg): number => num(m.metrics.find((x) => x.name === 'bdSeq')!.value);

const brokers = [
  { name: 'aedes', make: async () => { const b = new AedesBroker(); await b.start(); return { url: b.url, stop: () => b.stop() }; } },
  ...(Mosquitto.available()
    ? [{ name: 'mosquitto', make: async () => { const m = new Mosquitto(); await m.start(); return { url: m.url, stop: () => m.dispose() }; } }]
    : []),
];

describe.each(brokers)('Sparkplug B edge node against $name', ({ make }) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function setup(over: Partial<SparkplugConfig> = {}) {
    const broker = await make();
    cleanups.push(() => broker.stop());
    const sub = await subscriber(broker.url);
    cleanups.push(() => sub.client.endAsync(true));
    const dir = mkdtempSync(join(tmpdir(), 'lg-sp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const node = new SparkplugNode(
      { url: broker.url, groupId: 'PLANT1', keepaliveS: 5, ...over },
      { devices: [{ id: 'scale1', kind: 'mqtt-scale' }, { id: 'filler', kind: 'opcua-machine' }], stations: ['WEIGH-1'], line: 'L1', bdSeqFile: join(dir, 'bdseq') },
    );
    cleanups.push(() => node.close());
    return { broker, sub, node, dir };
  }

  it('16.3 NBIRTH (seq 0, bdSeq) then one DBIRTH per device with names and aliases; DDATA by alias only, next seq', async () => {
    const { sub, node } = await setup();
    await node.start();
    await waitUntil(() => sub.of('DBIRTH').length === 3, 15_000, 'births');
    const [nb] = sub.of('NBIRTH');
    expect(nb!.topic).toBe('spBv1.0/PLANT1/NBIRTH/L1');
    expect(nb!.seq).toBe(0);
    expect(nb!.metrics.map((m) => m.name)).toEqual(['bdSeq', 'Node Control/Rebirth']);
    const births = sub.of('DBIRTH');
    expect(births.map((b) => b.device).sort()).toEqual(['filler', 'scale1', stationDeviceId('WEIGH-1')].sort());
    expect(births.map((b) => b.seq)).toEqual([1, 2, 3]);
    const aliases = births.flatMap((b) => b.metrics.map((m) => m.alias));
    expect(new Set(aliases).size).toBe(aliases.length);
    expect(births.every((b) => b.metrics.every((m) => m.name && m.alias !== null))).toBe(true);
    const scaleBirth = births.find((b) => b.device === 'scale1')!;
    const alias = (name: string) => scaleBirth.metrics.find((m) => m.name === name)!.alias;

    node.onRecords([rec({ type: 'weight.captured', payload: { net: '12.500', unit: 'kg', stable: true } })]);
    const dd = await waitUntil(() => sub.of('DDATA', 'scale1')[0], 10_000, 'DDATA');
    expect(dd.seq).toBe(4);
    expect(dd.metrics.every((m) => m.name === null && m.alias !== null)).toBe(true);
    const byAlias = new Map(dd.metrics.map((m) => [m.alias, m.value]));
    expect(byAlias.get(alias('Weight/Net'))).toBe('12.500');
    expect(byAlias.get(alias('Weight/Stable'))).toBe(true);
    expect(byAlias.get(alias('Records'))).toBe(1);
    // The station device carries the active batch and lot.
    const st = await waitUntil(() => sub.of('DDATA', stationDeviceId('WEIGH-1'))[0], 10_000, 'station DDATA');
    const stBirth = births.find((b) => b.device === stationDeviceId('WEIGH-1'))!;
    const stVal = new Map(st.metrics.map((m) => [stBirth.metrics.find((b) => b.alias === m.alias)!.name, m.value]));
    expect(stVal.get('Batch')).toBe('20261201-001');
    expect(stVal.get('Lot')).toBe('SUG-1');
    expect(st.seq).toBe(5);
  });

  it('16.3 unclean disconnect: the broker publishes the NDEATH will with the bdSeq of the NBIRTH; the reconnect births with bdSeq + 1', async () => {
    const { sub, node } = await setup();
    await node.start();
    await waitUntil(() => sub.of('DBIRTH').length === 3, 15_000, 'births');
    const bd = bdSeqOf(sub.of('NBIRTH')[0]!);
    // The TCP connection dies without DISCONNECT (cable pulled, kill -9).
    (node as unknown as { client: MqttClient }).client.stream.destroy();
    const death = await waitUntil(() => sub.of('NDEATH')[0], 20_000, 'NDEATH');
    expect(death.seq).toBeNull();
    expect(bdSeqOf(death)).toBe(bd);
    await waitUntil(() => sub.of('NBIRTH').length === 2, 20_000, 'rebirth after reconnect');
    expect(bdSeqOf(sub.of('NBIRTH')[1]!)).toBe((bd + 1) % 256);
    expect(sub.of('NBIRTH')[1]!.seq).toBe(0);
  });

  it('16.3 NCMD Node Control/Rebirth: NBIRTH (seq 0, same bdSeq) and every DBIRTH again', async () => {
    const { sub, node, broker } = await setup();
    await node.start();
    await waitUntil(() => sub.of('DBIRTH').length === 3, 15_000, 'births');
    node.onRecords([rec({})]);
    await waitUntil(() => sub.of('DDATA').length > 0, 10_000, 'DDATA');
    const host = mqtt.connect(broker.url, { clientId: 'host1' });
    cleanups.push(() => host.endAsync(true));
    await new Promise<void>((r) => host.once('connect', () => r()));
    await host.publishAsync('spBv1.0/PLANT1/NCMD/L1', Buffer.from(sp.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] })), { qos: 0 });
    await waitUntil(() => sub.of('NBIRTH').length === 2 && sub.of('DBIRTH').length === 6, 15_000, 'rebirth');
    const [a, b] = sub.of('NBIRTH');
    expect(bdSeqOf(b!)).toBe(bdSeqOf(a!));
    expect(b!.seq).toBe(0);
    expect(sub.of('DBIRTH').slice(3).map((d) => d.seq)).toEqual([1, 2, 3]);
    // The rebirth carries the current values.
    const again = sub.of('DBIRTH', 'scale1')[1]!;
    expect(again.metrics.find((m) => m.name === 'Records')!.value).toBe(1);
  });

  it('16.3 seq runs 0–255 and wraps to 0', async () => {
    const { sub, node } = await setup();
    await node.start();
    await waitUntil(() => sub.of('DBIRTH').length === 3, 15_000, 'births');
    for (let i = 0; i < 300; i++) node.onRecords([rec({ station: null, payload: { net: String(i), unit: 'kg', stable: true } })]);
    await waitUntil(() => sub.of('DDATA').length === 300, 20_000, '300 DDATA');
    const seqs = [...sub.of('NBIRTH'), ...sub.of('DBIRTH'), ...sub.of('DDATA')].map((m) => m.seq!);
    expect(seqs.slice(0, 4)).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1]! + 1) % 256);
    expect(seqs).toContain(255);
    expect(Math.max(...seqs)).toBe(255);
  });

  it('16.3 primary host STATE: no birth before it is online; offline → NDEATH; online again → NBIRTH with a new bdSeq', async () => {
    const { sub, node, broker } = await setup({ primaryHostId: 'scada' });
    const host = mqtt.connect(broker.url, { clientId: 'scada-host' });
    cleanups.push(() => host.endAsync(true));
    await new Promise<void>((r) => host.once('connect', () => r()));
    await node.start();
    await waitUntil(() => node.state().connected, 10_000, 'connected');
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.of('NBIRTH')).toHaveLength(0);
    await host.publishAsync('spBv1.0/STATE/scada', JSON.stringify({ online: true, timestamp: Date.now() }), { qos: 1, retain: true });
    await waitUntil(() => sub.of('NBIRTH').length === 1, 10_000, 'birth once the host is online');
    const bd = bdSeqOf(sub.of('NBIRTH')[0]!);
    await host.publishAsync('spBv1.0/STATE/scada', JSON.stringify({ online: false, timestamp: Date.now() }), { qos: 1, retain: true });
    const death = await waitUntil(() => sub.of('NDEATH')[0], 10_000, 'NDEATH when the host goes offline');
    expect(bdSeqOf(death)).toBe(bd);
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.of('NBIRTH')).toHaveLength(1);
    await host.publishAsync('spBv1.0/STATE/scada', JSON.stringify({ online: true, timestamp: Date.now() }), { qos: 1, retain: true });
    await waitUntil(() => sub.of('NBIRTH').length === 2, 10_000, 'birth on the new connection');
    expect(bdSeqOf(sub.of('NBIRTH')[1]!)).toBe((bd + 1) % 256);
    await host.publishAsync('spBv1.0/STATE/scada', '', { qos: 1, retain: true }); // clear the retained state
  });
});

describe('plant namespace from a running gateway', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('16.3 records on the ISA-95 topic tree (enterprise/site/area/line/station/type) and station state as Sparkplug DDATA', async () => {
    const broker = new AedesBroker();
    await broker.start();
    cleanups.push(() => broker.stop());
    const sub = await subscriber(broker.url);
    cleanups.push(() => sub.client.endAsync(true));
    const t = await startTestGateway({
      upstream: {
        sinks: [{ id: 'uns', kind: 'mqtt', url: broker.url, clientId: 'lg-uns-l1', topic: 'isa95', namespace: { enterprise: 'ACME', area: 'filling-hall' }, batch: { lingerMs: 5 } }],
        sparkplug: { url: broker.url, groupId: 'PLANT1' },
      },
    });
    cleanups.push(() => t.stop());
    const ok = async (p: Promise<{ status: number; body: any }>) => {
      const r = await p;
      if (r.status >= 300) throw new Error(JSON.stringify(r.body));
      return r.body;
    };
    await waitUntil(() => sub.of('DBIRTH', stationDeviceId('WEIGH-1')).length === 1, 15_000, 'station birth');
    await ok(t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg' }));
    await ok(t.call('POST', '/lots', { id: 'SUG-1', material: 'RM-1001', supplierLot: 'ACME-77', expiry: '2099-01-01', status: 'released', quantity: '100' }));
    const b = (await ok(t.call('POST', '/batches', { product: 'SYRUP', plannedQty: '20', unit: 'kg', bom: [{ material: 'RM-1001', quantity: '20', unit: 'kg', tolerancePct: '0' }] }))).number;
    await ok(t.call('PUT', '/stations/WEIGH-1/context', { batch: b }));
    await ok(t.call('POST', '/stations/WEIGH-1/scans', { data: 'SUG-1' }));
    await ok(t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '20', unit: 'kg' }));
    const arrival = await waitUntil(() => broker.arrivals.find((a) => a.topic.endsWith('/material.consumed')), 15_000, 'the record on the UNS');
    expect(arrival.topic).toBe('ACME/PLANT1/filling-hall/L1/WEIGH-1/material.consumed');
    const birth = sub.of('DBIRTH', stationDeviceId('WEIGH-1'))[0]!;
    const names = new Map(birth.metrics.map((m) => [m.alias, m.name]));
    await waitUntil(() => {
      const vals = new Map<string, unknown>();
      for (const d of sub.of('DDATA', stationDeviceId('WEIGH-1'))) for (const m of d.metrics) vals.set(names.get(m.alias)!, m.value);
      return vals.get('Lot') === 'SUG-1' && vals.get('Batch') === b && vals.get('Last Record/Type') === 'material.consumed';
    }, 15_000, 'station state on Sparkplug');
    const health = await t.call('GET', '/health/ready');
    expect(JSON.stringify(health.body)).toContain('sparkplug');
  });
});
