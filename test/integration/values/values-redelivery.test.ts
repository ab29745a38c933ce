/**
 * Issue 18: process values whose payloads carry no source timestamp, after a crash that lost the
 * PUBACKs of messages whose records had committed. The broker redelivers them; without the
 * redelivery window each would be recorded a second time, with a new receive time (a false step in
 * the batch record's trend). Real brokers (Mosquitto marks redeliveries DUP; aedes 1.2 does not and
 * interleaves new messages with them, so there nothing can be skipped safely and the values ARE
 * recorded again — the test shows it, and that nothing is lost); the lost
 * PUBACKs are made by a proxy that stops forwarding what the gateway sends; the journal is an
 * in-memory stand-in that keeps each record and the value state it carries (src/binding/value.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MqttValuesDriver, loadValueProfile } from '../../../src/drivers/mqtt-values/index.js';
import type { MqttValuesConfig } from '../../../src/config/devices/mqtt-values.js';
import type { ValueReading } from '../../../src/readings/reading.js';
import type { Recorded } from '../../../src/domain/process-value.js';
import { silentLogger } from '../../../src/util/log.js';
import { waitFor } from '../../helpers/net.js';
import { aedesBroker, hasMosquitto, mosquittoBroker, type TestBroker } from '../scale/brokers.js';
import { startMqttProxy } from '../../../simulators/mqtt-proxy.js';

const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
let seq = 0;
const never = new Promise<never>(() => undefined);

interface Journal {
  records: string[];
  state: Map<string, Recorded & { through?: unknown }>;
  frozen: boolean;
}

function driverFor(url: string, clientId: string, topics: { t: string; p: string }, journal: Journal): MqttValuesDriver {
  const id = `it.values-redeliver.${process.pid}.${++seq}`;
  const config: MqttValuesConfig = {
    kind: 'mqtt-values', id, station: 'FILL-1', profile: 'plain-number', broker: { url, clientId },
    values: [{ name: 't', unit: '°C', topic: topics.t, deadband: { absolute: 0.5 } }, { name: 'p', unit: 'bar', topic: topics.p, deadband: { absolute: 0.1 } }],
  };
  const driver = new MqttValuesDriver({ config, profile: loadValueProfile(devicesDir, 'plain-number', id), logger: silentLogger(), backoff: { baseMs: 50, maxMs: 200 } });
  driver.restoreRecorded(journal.state);
  driver.setCommitGate(async (r: ValueReading) => {
    if (journal.frozen) return never;
    journal.records.push(`${r.name}=${r.value}`);
    // What bindValue journals with an accepted value, in the same transaction.
    if (r.value !== null) journal.state.set(r.name, { value: r.value, at: (r.sourceTime ?? r.receivedAt).getTime(), quality: r.quality, ...(r.through ? { through: structuredClone(r.through) } : {}) });
  });
  return driver;
}
const details = (d: MqttValuesDriver) => d.health().details as { replaysSkipped: number; redeliveryWindows: number; holding: number };

const brokers: Array<[string, () => Promise<TestBroker>]> = [['aedes', aedesBroker]];
if (hasMosquitto) brokers.push(['mosquitto', mosquittoBroker]);

for (const [name, make] of brokers) {
  describe(`18 process values: redelivery after a crash, no source timestamps, on ${name}`, () => {
    let broker: TestBroker;
    let pub: mqtt.MqttClient;
    beforeAll(async () => {
      broker = await make();
      pub = await mqtt.connectAsync(broker.url, { clientId: `pub-vr-${process.pid}`, reconnectPeriod: 0 });
    });
    afterAll(async () => {
      await pub?.endAsync(true);
      await broker?.close();
    });

    const marksDup = name === 'mosquitto';
    it(`18.13 ${name}: records committed, PUBACKs lost, process killed — after the restart the redelivered values are ${marksDup ? 'not recorded again' : 'recorded again (no DUP flag), none lost'}; new ones are recorded`, async () => {
      const topics = { t: `it/vr/${process.pid}/${++seq}/t`, p: `it/vr/${process.pid}/${seq}/p` };
      const clientId = `lg-vr-${process.pid}-${seq}`;
      const journal: Journal = { records: [], state: new Map(), frozen: false };
      const proxy = await startMqttProxy(broker.port);
      const a = driverFor(proxy.url, clientId, topics, journal);
      await a.start(new AbortController().signal);
      await waitFor(() => a.health().state === 'online', 15_000, 10, 'A online');
      await pub.publishAsync(topics.t, '10', { qos: 1 });
      await waitFor(() => proxy.acked.length === 1, 15_000, 10, 'the first value acknowledged');
      proxy.blockUpstream();
      for (const [topic, v] of [[topics.t, '11'], [topics.p, '5'], [topics.t, '12'], [topics.t, '12.2']] as const) await pub.publishAsync(topic, v, { qos: 1 });
      // 11, p=5 and 12 are records; 12.2 is inside the deadband (filtered, acknowledged behind them).
      await waitFor(() => journal.records.length === 4 && proxy.swallowed.length === 4, 15_000, 10, 'A recorded; 4 PUBACKs swallowed');
      expect(journal.records).toEqual(['t=10', 't=11', 'p=5', 't=12']);
      // kill -9.
      journal.frozen = true;
      await proxy.close();
      await a.stop();

      const after: Journal = { records: [], state: new Map(journal.state), frozen: false };
      const proxyB = await startMqttProxy(broker.port);
      const b = driverFor(proxyB.url, clientId, topics, after);
      try {
        await b.start(new AbortController().signal);
        // Redelivered, in order: 11, p=5, 12 (each value's `through` seen: the window closes), then 12.2.
        await waitFor(() => proxyB.acked.length === 4, 15_000, 10, 'the redelivered messages acknowledged');
        expect(proxyB.acked.map((x) => x.payload)).toEqual(['11', '5', '12', '12.2']);
        expect(proxyB.delivered.slice(0, 4).every((x) => x.dup)).toBe(marksDup);
        // Without the window t=11 and t=12 would be recorded again (p=5 equals the restored state).
        const replayed = marksDup ? [] : ['t=11', 't=12'];
        expect(after.records).toEqual(replayed);
        expect(details(b).replaysSkipped).toBe(marksDup ? 3 : 0);
        await pub.publishAsync(topics.t, '14', { qos: 1 });
        await pub.publishAsync(topics.p, '5.05', { qos: 1 });
        await pub.publishAsync(topics.p, '6', { qos: 1 });
        await waitFor(() => after.records.length === replayed.length + 2, 15_000, 10, 'the new values recorded');
        expect(after.records).toEqual([...replayed, 't=14', 'p=6']);
      } finally {
        await b.stop();
        await proxyB.close();
      }
    });
  });
}
