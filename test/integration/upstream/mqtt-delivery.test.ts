import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { openDatabase } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import { MqttSink } from '../../../src/upstream/sinks/mqtt.js';
import { AedesBroker, Mosquitto, countOutbox, mqttSinkConfig, orderViolations, seedRecords, waitUntil } from './harness.js';

const N = 6000;

describe('MQTT sink through a broker restart', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function run(url: string, restart: () => Promise<void>): Promise<{ deliveredAtRestart: number }> {
    const db = openDatabase(':memory:', { synchronous: 'NORMAL' });
    cleanups.push(() => {
      db.close();
    });
    seedRecords(db, N, { sinks: ['uns'], batches: 4, run: 9 });
    const d = new Dispatcher(
      db,
      [new MqttSink(mqttSinkConfig(url, { clientId: 'lg-test-pub', timeoutMs: 1500, batch: { maxRecords: 100, maxBytes: 1_048_576, lingerMs: 5 } }))],
      { gatewayId: 'gw1', pollMs: 100 },
    );
    cleanups.push(() => d.stop({ timeoutMs: 500 }));
    await d.start();
    await waitUntil(() => countOutbox(db, 'uns').delivered >= 500, 20_000, 'some delivered', 2);
    const deliveredAtRestart = countOutbox(db, 'uns').delivered;
    await restart();
    await waitUntil(() => countOutbox(db, 'uns').delivered === N, 40_000, 'all delivered');
    expect(countOutbox(db, 'uns')).toEqual({ pending: 0, delivered: N, quarantined: 0 });
    return { deliveredAtRestart };
  }

  it('aedes (sessions lost on restart; arrivals observed at the broker): every record arrives, in order per batch', async () => {
    const broker = new AedesBroker();
    await broker.start();
    cleanups.push(() => broker.stop());
    const { deliveredAtRestart } = await run(broker.url, async () => {
      await broker.stop();
      await new Promise((r) => setTimeout(r, 300));
      await broker.start();
    });
    expect(deliveredAtRestart).toBeLessThan(N);
    expect(broker.arrivals.length).toBe(N);
    expect(orderViolations(broker.arrivals)).toBe(0);
    expect(broker.arrivals[0]!.topic).toMatch(/^linegate\/plant1\/line1\/(lot\.scanned|material\.consumed|case\.weighed)$/);
  }, 60_000);

  it.skipIf(!Mosquitto.available())('mosquitto (own instance, persistent sessions): a persistent subscriber gets every record through the restart', async () => {
    const broker = new Mosquitto({ persistence: true });
    await broker.start();
    cleanups.push(() => broker.dispose());
    const seen = new Map<string, number>();
    const arrivals: Array<{ lgseq: number; subject: string | undefined }> = [];
    const sub = mqtt.connect(broker.url, { clientId: 'lg-test-sub', clean: false, protocolVersion: 4, reconnectPeriod: 200 });
    cleanups.push(() => sub.endAsync(true));
    let subscribed = false;
    let resumed = false;
    sub.on('connect', (connack) => {
      if (connack.sessionPresent) resumed = true;
      if (!connack.sessionPresent) sub.subscribe('linegate/#', { qos: 1 }, () => (subscribed = true));
      else subscribed = true;
    });
    sub.on('message', (_topic, payload) => {
      const ev = JSON.parse(payload.toString()) as { id: string; lgseq: number; subject?: string };
      const n = seen.get(ev.id) ?? 0;
      seen.set(ev.id, n + 1);
      if (n === 0) arrivals.push({ lgseq: ev.lgseq, subject: ev.subject });
    });
    await waitUntil(() => subscribed, 10_000, 'subscriber ready');
    const { deliveredAtRestart } = await run(broker.url, () => broker.restart());
    expect(deliveredAtRestart).toBeLessThan(N);
    await waitUntil(() => seen.size === N, 20_000, 'subscriber has every record').catch((err: Error) => {
      throw new Error(`${err.message}: ${seen.size} of ${N} (delivered at restart ${deliveredAtRestart})`);
    });
    expect(seen.size).toBe(N);
    expect(resumed).toBe(true); // the broker kept the subscriber's session across the restart
    expect(orderViolations(arrivals)).toBe(0);
  }, 60_000);
});
