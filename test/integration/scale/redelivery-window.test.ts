/**
 * Issue 18 (kill9: loads journaled twice): after a crash the journaled placement state can be AHEAD
 * of what the broker saw acknowledged — the commit of a load and of the zero after it landed, their
 * PUBACKs did not. The broker redelivers them; replayed from the restored state the load would be
 * captured a second time. Payloads here carry NO timestamp, so only the redelivery window can tell
 * (src/drivers/redelivery-window.ts): the state names the message that made it (`through`), and
 * redelivered (DUP) messages up to it are acknowledged without replay. aedes 1.2 re-sends without
 * the DUP flag and interleaves new messages, so there nothing is skipped: the tests show what that
 * means (a double, never a loss).
 *
 * Real brokers (aedes, Mosquitto); the "lost PUBACKs" are made by a proxy that stops forwarding what
 * the gateway sends, then dies with the connection; the journal is an in-memory stand-in that stops
 * recording at the crash (what a dead process would have committed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MqttScaleDriver, loadScaleProfile } from '../../../src/drivers/mqtt-scale/index.js';
import type { PlacementSnapshot } from '../../../src/drivers/mqtt-scale/placement.js';
import type { WeightReading } from '../../../src/drivers/driver.js';
import type { MqttScaleConfig } from '../../../src/config/devices/mqtt-scale.js';
import { silentLogger } from '../../../src/util/log.js';
import { waitFor } from '../../helpers/net.js';
import { aedesBroker, hasMosquitto, mosquittoBroker, type TestBroker } from './brokers.js';
import { startMqttProxy } from '../../../simulators/mqtt-proxy.js';

const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
const LOAD = '{"weight":{"gross":2.000,"unit":"kg","stable":true}}';
const LOAD2 = '{"weight":{"gross":3.000,"unit":"kg","stable":true}}';

/** The journal's stand-in: what was committed, until the crash. */
interface Journal {
  records: string[];
  state: PlacementSnapshot | null;
  frozen: boolean;
  /** A state write that never commits (the process dies before it does). */
  hangs?: (s: PlacementSnapshot) => boolean;
}
const never = new Promise<never>(() => undefined);

let seq = 0;
function driverFor(url: string, clientId: string, topic: string, journal: Journal, redeliveryWindowMs?: number): MqttScaleDriver {
  const id = `it.redeliver.${process.pid}.${++seq}`;
  const config: MqttScaleConfig = { kind: 'mqtt-scale', id, station: 'WEIGH-1', profile: 'json-generic', topic, broker: { url, clientId }, silenceTimeoutMs: 60_000 };
  const driver = new MqttScaleDriver({ config, profile: loadScaleProfile(devicesDir, config.profile, { device: id }), logger: silentLogger(), backoff: { baseMs: 50, maxMs: 200 }, ...(redeliveryWindowMs ? { redeliveryWindowMs } : {}) });
  driver.restorePlacement(journal.state);
  driver.setCommitGate(async (r: WeightReading) => {
    if (journal.frozen) return never;
    journal.records.push(r.value?.net ?? `refusal:${r.error?.code}`);
  });
  driver.setStateGate(async (s) => {
    if (journal.frozen || journal.hangs?.(s)) return never;
    journal.state = structuredClone(s);
  });
  return driver;
}

async function publisher(url: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId: `pub-redeliver-${process.pid}-${++seq}`, reconnectPeriod: 0 });
  await new Promise<void>((res, rej) => c.once('connect', () => res()).once('error', rej));
  return c;
}
const publish = (c: mqtt.MqttClient, topic: string, payload: string): Promise<void> =>
  new Promise((res, rej) => c.publish(topic, payload, { qos: 1 }, (err) => (err ? rej(err) : res())));
const details = (d: MqttScaleDriver) => d.health().details as { replaysSkipped: number; redeliveryWindows: number; holding: number; phase: string };

const brokers: Array<[string, () => Promise<TestBroker>]> = [['aedes', aedesBroker]];
if (hasMosquitto) brokers.push(['mosquitto', mosquittoBroker]);

for (const [name, make] of brokers) {
  describe(`18 redelivery window on ${name} (payloads without a timestamp)`, () => {
    let broker: TestBroker;
    let pub: mqtt.MqttClient;
    beforeAll(async () => {
      broker = await make();
      pub = await publisher(broker.url);
    });
    afterAll(async () => {
      pub?.end(true);
      await broker?.close();
    });

    /**
     * Driver A (through a proxy) gets ZERO acknowledged, then LOAD, LOAD, ZERO with their PUBACKs
     * swallowed, and dies; `journal` says what it had committed. Returns what B needs.
     */
    async function crashAfterLostPubacks(topic: string, clientId: string, journal: Journal, committed: () => boolean, swallowed: number) {
      const proxy = await startMqttProxy(broker.port);
      const a = driverFor(proxy.url, clientId, topic, journal);
      await a.start(new AbortController().signal);
      await waitFor(() => a.state === 'online', 15_000, 10, 'A online');
      await publish(pub, topic, ZERO);
      await waitFor(() => proxy.acked.length === 1, 15_000, 10, 'the first zero acknowledged');
      proxy.blockUpstream();
      for (const p of [LOAD, LOAD, ZERO]) await publish(pub, topic, p);
      await waitFor(() => committed() && proxy.swallowed.length === swallowed, 15_000, 10, `A committed; ${swallowed} PUBACKs swallowed`);
      // kill -9: nothing more reaches the journal or the broker.
      journal.frozen = true;
      await proxy.close();
      await a.stop();
    }

    const marksDup = name === 'mosquitto';
    it(`18.9 ${name}: the load and the zero after it committed, their PUBACKs lost — after the restart ${marksDup ? 'the redelivered load is not captured again' : '(no DUP flag) the redelivered load is captured again, nothing is held'}; a new one is captured`, async () => {
      const topic = `it/redeliver/${process.pid}/${++seq}`;
      const clientId = `lg-redeliver-${process.pid}-${seq}`;
      const journal: Journal = { records: [], state: null, frozen: false };
      await crashAfterLostPubacks(topic, clientId, journal, () => journal.records.length === 1 && journal.state?.phase === 'empty', 3);
      expect(journal.records).toEqual(['2.000']);
      expect(journal.state?.through?.id).toBeGreaterThan(0);

      const journalB: Journal = { records: [], state: journal.state, frozen: false };
      const proxyB = await startMqttProxy(broker.port);
      const b = driverFor(proxyB.url, clientId, topic, journalB);
      try {
        await b.start(new AbortController().signal);
        // They are redelivered (same packet ids) and acknowledged, in order.
        await waitFor(() => proxyB.acked.length === 3, 15_000, 10, 'the redelivered messages acknowledged');
        expect(proxyB.acked.map((x) => x.payload)).toEqual([LOAD, LOAD, ZERO]);
        expect(proxyB.delivered.slice(0, 3).map((x) => x.messageId)).toEqual(proxyB.acked.map((x) => x.messageId));
        expect(proxyB.delivered.slice(0, 3).every((x) => x.dup)).toBe(marksDup);
        const replayed = marksDup ? [] : ['2.000'];
        expect(journalB.records).toEqual(replayed);
        expect(details(b).replaysSkipped).toBe(marksDup ? 3 : 0);
        // What follows is new: captured once.
        await publish(pub, topic, LOAD2);
        await publish(pub, topic, ZERO);
        await waitFor(() => journalB.records.length === replayed.length + 1 && journalB.state?.phase === 'empty', 15_000, 10, 'the new load captured');
        expect(journalB.records).toEqual([...replayed, '3.000']);
      } finally {
        await b.stop();
        await proxyB.close();
      }
    });

    it(`18.10 ${name}: the load committed but not the zero — ${marksDup ? 'only the load is skipped, ' : ''}the rest is processed: nothing that was not applied is dropped, no second capture`, async () => {
      const topic = `it/redeliver/${process.pid}/${++seq}`;
      const clientId = `lg-redeliver-${process.pid}-${seq}`;
      const journal: Journal = { records: [], state: null, frozen: false, hangs: (s) => s.phase === 'empty' && s.lastCapture !== null };
      await crashAfterLostPubacks(topic, clientId, journal, () => journal.records.length === 1 && journal.state?.phase === 'captured', 2);
      const journalB: Journal = { records: [], state: journal.state, frozen: false };
      const b = driverFor(broker.url, clientId, topic, journalB);
      try {
        await b.start(new AbortController().signal);
        // LOAD (the one that made the state) is skipped; LOAD again and ZERO are processed from it.
        await waitFor(() => journalB.state?.phase === 'empty', 15_000, 10, 'the redelivered zero applied');
        expect(details(b).replaysSkipped).toBe(marksDup ? 1 : 0);
        expect(journalB.records).toEqual([]);
        await publish(pub, topic, LOAD);
        await waitFor(() => journalB.records.length === 1, 15_000, 10, 'the next placement of the same weight captured');
        expect(journalB.records).toEqual(['2.000']);
      } finally {
        await b.stop();
      }
    });

    it(`18.11 ${name}: nothing to skip — messages arriving while the window looks for the state's message are held, then processed in order, none lost`, async () => {
      const topic = `it/redeliver/${process.pid}/${++seq}`;
      const clientId = `lg-redeliver-${process.pid}-${seq}`;
      const journal: Journal = { records: [], state: null, frozen: false };
      const a = driverFor(broker.url, clientId, topic, journal);
      await a.start(new AbortController().signal);
      await waitFor(() => a.state === 'online', 15_000, 10, 'A online');
      for (const p of [ZERO, LOAD, ZERO]) await publish(pub, topic, p);
      await waitFor(() => journal.records.length === 1 && journal.state?.phase === 'empty', 15_000, 10, 'A captured and emptied');
      await a.stop();

      const journalB: Journal = { records: [], state: journal.state, frozen: false };
      const proxyB = await startMqttProxy(broker.port);
      const b = driverFor(proxyB.url, clientId, topic, journalB);
      try {
        await b.start(new AbortController().signal);
        await waitFor(() => b.state === 'online', 15_000, 10, 'B online');
        expect(details(b).redeliveryWindows).toBe(1);
        // The same payloads as before, as NEW messages (new packet ids): all processed.
        for (const p of [LOAD, ZERO, LOAD2, ZERO]) await publish(pub, topic, p);
        await waitFor(() => journalB.records.length === 2 && journalB.state?.phase === 'empty', 15_000, 10, 'both new loads captured');
        expect(journalB.records).toEqual(['2.000', '3.000']);
        expect(details(b).replaysSkipped).toBe(0);
        await waitFor(() => proxyB.acked.length === 4, 15_000, 10, 'all four acknowledged');
        expect(proxyB.acked.map((x) => x.index)).toEqual([0, 1, 2, 3]);
      } finally {
        await b.stop();
        await proxyB.close();
      }
    });

    // Holding needs DUP messages: only a marking broker's redelivery is held (aedes: nothing is).
    if (marksDup)
      it(`18.12 ${name}: a stop while redelivered messages are held acknowledges none of them; the next start gets them again and captures the load once`, async () => {
        const topic = `it/redeliver/${process.pid}/${++seq}`;
        const clientId = `lg-redeliver-${process.pid}-${seq}`;
        const journal: Journal = { records: [], state: null, frozen: false };
        const proxy = await startMqttProxy(broker.port);
        const a = driverFor(proxy.url, clientId, topic, journal);
        await a.start(new AbortController().signal);
        await waitFor(() => a.state === 'online', 15_000, 10, 'A online');
        for (const p of [ZERO, LOAD, ZERO]) await publish(pub, topic, p);
        await waitFor(() => journal.records.length === 1 && journal.state?.phase === 'empty' && proxy.acked.length === 3, 15_000, 10, 'A captured, emptied, acknowledged');
        // LOAD2 reaches A, but A dies before its commit: the broker redelivers it (DUP).
        journal.frozen = true;
        proxy.blockUpstream();
        await publish(pub, topic, LOAD2);
        await waitFor(() => proxy.delivered.length === 4, 15_000, 10, 'LOAD2 delivered to A');
        await proxy.close();
        await a.stop();
        journal.frozen = false;

        const proxyB = await startMqttProxy(broker.port);
        // A window longer than the test: the stop comes while LOAD2 is held.
        const b = driverFor(proxyB.url, clientId, topic, journal, 120_000);
        await b.start(new AbortController().signal);
        await waitFor(() => details(b).holding === 1, 30_000, 10, 'the redelivered LOAD2 held by B').catch((err: Error) => {
          throw new Error(`${err.message}; the proxy saw ${JSON.stringify(proxyB.delivered)}; B: ${JSON.stringify(b.health().details)}`);
        });
        expect(proxyB.delivered.map((x) => [x.payload, x.dup])).toEqual([[LOAD2, true]]);
        await b.stop();
        await proxyB.close();
        expect(proxyB.acked).toEqual([]);
        expect(journal.records).toEqual(['2.000']);

        const c = driverFor(broker.url, clientId, topic, journal);
        try {
          await c.start(new AbortController().signal);
          await waitFor(() => journal.records.length === 2, 15_000, 10, 'LOAD2 redelivered and captured');
          expect(journal.records).toEqual(['2.000', '3.000']);
        } finally {
          await c.stop();
        }
      });
  });
}
