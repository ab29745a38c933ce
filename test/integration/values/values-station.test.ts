import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embedded.js';
import { REPLAY_LIMIT } from '../../../src/api/sse.js';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 18 leftover: process values (MQTT / OPC UA, up to 1,000 a second) are recorded at a
 * station but never shown on its page. A real aedes broker, a real MQTT.js publisher and the
 * mqtt-values driver put more process values at WEIGH-1 than the stream's replay limit, between
 * two scans; the station's SSE stream (live and replayed by Last-Event-ID) and the panel's "recent"
 * list hold the scan verdicts and no process value — and the replay is not reset by the burst.
 */
const BURST = REPLAY_LIMIT + 100;

interface Sse {
  events: () => Array<{ id: number | null; event: string; data: any }>;
  readUntil: (pred: () => boolean, what: string) => Promise<void>;
  close: () => void;
}

async function openStream(url: string, token: string, lastEventId?: number): Promise<Sse> {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}) }, signal: ctrl.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const events = () =>
    text
      .split('\n\n')
      .filter((b) => b.includes('data:'))
      .map((b) => {
        const get = (f: string) =>
          b
            .split('\n')
            .find((l) => l.startsWith(f + ':'))
            ?.slice(f.length + 1)
            .trim();
        return { id: get('id') ? Number(get('id')) : null, event: get('event') ?? 'message', data: JSON.parse(get('data')!) };
      });
  const readUntil = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`stream: timed out waiting for ${what}; got ${text.length} chars`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${what}`);
      text += value;
    }
  };
  return { events, readUntil, close: () => ctrl.abort() };
}

describe('process values are not shown on station pages', () => {
  let broker: EmbeddedBroker;
  let t: TestGateway;
  let pub: MqttClient;
  let kiosk: string;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    t = await startTestGateway({
      devices: [
        {
          id: 'weigh.sensors',
          kind: 'mqtt-values',
          station: 'WEIGH-1',
          profile: 'plain-number',
          broker: { url: broker.url, clientId: 'lg-test-values-station' },
          values: [{ name: 'room_temp', unit: '°C', topic: 'test/station-values/temp' }],
        },
      ],
    });
    await waitFor(() => t.gw.drivers.get('weigh.sensors')?.health().state === 'online', 20_000, 25, 'values device online');
    pub = await mqtt.connectAsync(broker.url, { clientId: 'lg-test-station-values-pub', reconnectPeriod: 0 });
    const { batch } = await seedReferenceLine(t);
    expect((await t.call('PUT', '/stations/WEIGH-1/context', { batch })).status).toBe(200);
    const p = await t.call('POST', '/ui/api/pairings', { station: 'WEIGH-1' });
    expect(p.status).toBe(201);
    const r = await t.call('POST', '/ui/api/pair', { code: p.body.code }, null);
    expect(r.status).toBe(201);
    kiosk = r.body.token;
  }, 60_000);
  afterAll(async () => {
    await pub?.endAsync();
    await t?.stop();
    await broker?.close();
  });

  it(`a burst of ${BURST} process values at the station: not in its stream, its replay nor its recent list; the scan verdicts stay`, async () => {
    const before = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' })).body.record;
    const live = await openStream(`${t.url}/stations/WEIGH-1/events`, t.adminToken);
    try {
      // The refused scan the operator must see, then the burst (each value differs: no deadband, every one recorded).
      const refused = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' })).body.record;
      expect(refused.status).toBe('rejected');
      for (let i = 0; i < BURST; i++) await pub.publishAsync('test/station-values/temp', String(20 + i / 1000), { qos: 1 });
      const allValues = async () => {
        const out: any[] = [];
        for (let after = 0; ; ) {
          const r = await t.call('GET', `/records?type=process.value&device=weigh.sensors&limit=1000&after=${after}`);
          expect(r.status).toBe(200);
          out.push(...r.body.items);
          if (r.body.items.length < 1000) return out;
          after = r.body.items[r.body.items.length - 1].seq;
        }
      };
      const values = await waitFor(
        async () => {
          const v = await allValues();
          return v.length >= BURST ? v : null;
        },
        120_000,
        100,
        `${BURST} process values recorded`,
      );
      // Recorded at the station, after the refused scan: the journal has them all.
      expect(values.every((v: any) => v.station === 'WEIGH-1' && v.status === 'accepted' && v.seq > refused.seq)).toBe(true);
      const after = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' })).body.record;

      // Live: the two scans arrive, nothing of the burst.
      await live.readUntil(() => live.events().some((e) => e.event === 'record' && e.id === after.seq), 'the scan after the burst');
      const liveRecs = live.events().filter((e) => e.event === 'record');
      expect(liveRecs.map((e) => e.id)).toEqual([refused.seq, after.seq]);
      expect(liveRecs.map((e) => e.data.type)).toEqual(['lot.scanned', 'lot.scanned']);

      // Replay from before the refused scan: more than REPLAY_LIMIT records were committed at the
      // station since, but the process values do not count — the replay holds the two scans, no reset.
      const replay = await openStream(`${t.url}/ui/api/kiosk/stations/WEIGH-1/events`, kiosk, before.seq);
      try {
        await replay.readUntil(() => replay.events().some((e) => (e.event === 'record' && e.id === after.seq) || e.event === 'reset'), 'the replay');
        expect(replay.events().some((e) => e.event === 'reset')).toBe(false);
        const rep = replay.events().filter((e) => e.event === 'record');
        expect(rep.map((e) => [e.id, e.data.type, e.data.accepted, e.data.code, e.data.replayed])).toEqual([
          [refused.seq, 'lot.scanned', false, refused.errorCode, true],
          [after.seq, 'lot.scanned', true, null, true],
        ]);
      } finally {
        replay.close();
      }

      // The panel's view: its recent list holds the scans (the refused one included), no process value.
      const view = await t.call('GET', '/ui/api/kiosk/stations/WEIGH-1/view', undefined, kiosk);
      expect(view.status).toBe(200);
      const recent = view.body.recent as any[];
      expect(recent.some((r) => r.type === 'process.value')).toBe(false);
      expect(recent.slice(0, 3).map((r) => r.seq)).toEqual([after.seq, refused.seq, before.seq]);
      expect(recent[1]).toMatchObject({ accepted: false, code: refused.errorCode });

      // Still there for whoever asks for them.
      const asked = await t.call('GET', '/records?station=WEIGH-1&type=process.value&limit=5');
      expect(asked.body.items).toHaveLength(5);
    } finally {
      live.close();
    }
  }, 240_000);
});
