/**
 * Issue 18, the mqtt-values driver's commit gate seen on the wire (a packet-reading proxy between
 * the driver and the broker, aedes and Mosquitto where installed):
 * - records of one connection are handed to the journal while earlier commits are pending; no
 *   PUBACK before its commit; PUBACKs in PUBLISH order; filtered messages (inside the deadband)
 *   wait for the earlier ones;
 * - a failed commit acknowledges nothing, health says why, the filter rolls back to the last
 *   acknowledged state, and the broker's redelivery records the value again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MqttValuesDriver, loadValueProfile } from '../../../src/drivers/mqtt-values/index.js';
import type { MqttValuesConfig } from '../../../src/config/devices/mqtt-values.js';
import type { ValueReading } from '../../../src/readings/reading.js';
import { LgError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/util/log.js';
import { waitFor } from '../../helpers/net.js';
import { aedesBroker, hasMosquitto, mosquittoBroker, type TestBroker } from '../scale/brokers.js';
import { startMqttProxy, type MqttProxy } from '../../../simulators/mqtt-proxy.js';

const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
let seq = 0;

async function driverVia(proxy: MqttProxy, topic: string): Promise<MqttValuesDriver> {
  const id = `it.values.${process.pid}.${++seq}`;
  const config: MqttValuesConfig = { kind: 'mqtt-values', id, station: 'FILL-1', profile: 'plain-number', broker: { url: proxy.url, clientId: `lg-values-gate-${process.pid}-${seq}` }, values: [{ name: 't', unit: '°C', topic, deadband: { absolute: 0.5 } }] };
  const driver = new MqttValuesDriver({ config, profile: loadValueProfile(devicesDir, 'plain-number', id), logger: silentLogger(), backoff: { baseMs: 50, maxMs: 300 } });
  await driver.start(new AbortController().signal);
  await waitFor(() => driver.health().state === 'online', 10_000, 10, `${id} online`);
  return driver;
}

const settle = (ms = 200): Promise<void> => new Promise((r) => setTimeout(r, ms));

const brokers: Array<[string, () => Promise<TestBroker>]> = [['aedes', aedesBroker]];
if (hasMosquitto) brokers.push(['mosquitto', mosquittoBroker]);

for (const [name, make] of brokers) {
  describe(`mqtt-values commit gate on ${name}`, () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await make();
    });
    afterAll(async () => {
      await broker?.close();
    });

    it(`${name}: pipelined — records handed on while commits are pending; PUBACK only after its commit, in PUBLISH order`, async () => {
      const proxy = await startMqttProxy(broker.port);
      const topic = `it/values-gate/${process.pid}/${++seq}`;
      const driver = await driverVia(proxy, topic);
      const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-vg-${process.pid}-${seq}`, reconnectPeriod: 0 });
      try {
        const gated: Array<{ r: ValueReading; commit: () => void }> = [];
        driver.setCommitGate((r) => new Promise<void>((resolve) => gated.push({ r, commit: resolve })));
        // 10 (record), 10.2 (inside the band), 11 (record), 11.1 (band), 12 (record)
        for (const v of ['10', '10.2', '11', '11.1', '12']) await pub.publishAsync(topic, v, { qos: 1 });
        await waitFor(() => gated.length === 3, 10_000, 10, 'three records handed to the journal, none committed');
        expect(gated.map((g) => g.r.value)).toEqual([10, 11, 12]);
        await waitFor(() => proxy.delivered.length === 5, 5000, 10, 'all five delivered');
        await settle();
        expect(proxy.acked).toEqual([]);
        gated[1]!.commit();
        await settle();
        expect(proxy.acked).toEqual([]);
        gated[0]!.commit();
        // 10, 10.2 (filtered, waited for 10), 11, 11.1 — then 12 still waits.
        await waitFor(() => proxy.acked.length === 4, 5000, 10, 'acks up to 11.1');
        expect(proxy.acked.map((a) => a.payload)).toEqual(['10', '10.2', '11', '11.1']);
        gated[2]!.commit();
        await waitFor(() => proxy.acked.length === 5, 5000, 10, 'all acknowledged');
        expect(proxy.acked.map((a) => a.index)).toEqual([0, 1, 2, 3, 4]);
      } finally {
        pub.end(true);
        await driver.stop();
        await proxy.close();
      }
    });

    it(`${name}: a failed commit acknowledges nothing; health says why; the redelivered value is recorded again`, async () => {
      const proxy = await startMqttProxy(broker.port);
      const topic = `it/values-gate/${process.pid}/${++seq}`;
      const driver = await driverVia(proxy, topic);
      const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-vg-${process.pid}-${seq}`, reconnectPeriod: 0 });
      try {
        const calls: number[] = [];
        let failing = false;
        driver.setCommitGate(async (r) => {
          calls.push(r.value!);
          if (failing) throw new LgError('LG_ERR_STORE_WRITE_FAILED', { detail: 'SQLITE_FULL: database or disk is full' });
        });
        await pub.publishAsync(topic, '20', { qos: 1 });
        await waitFor(() => proxy.acked.length === 1, 5000, 10, '20 acknowledged');
        failing = true;
        await pub.publishAsync(topic, '25', { qos: 1 });
        await waitFor(() => driver.pipeline.commitFailures >= 1, 10_000, 10, 'the failed commit');
        expect(driver.health().lastError?.code).toBe('LG_ERR_STORE_WRITE_FAILED');
        expect(proxy.acked.some((a) => a.payload === '25')).toBe(false);
        // The filter rolled back to 20 (the last acknowledged record): the redelivered 25 is a change again.
        failing = false;
        await waitFor(() => proxy.acked.some((a) => a.payload === '25'), 15_000, 20, 'PUBACK after the redelivered value committed');
        expect(calls.filter((c) => c === 25).length).toBeGreaterThanOrEqual(2);
        expect(calls.filter((c) => c === 20).length).toBe(1);
      } finally {
        pub.end(true);
        await driver.stop();
        await proxy.close();
      }
    });
  });
}
