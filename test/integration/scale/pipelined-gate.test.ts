/**
 * Issue 18: the pipelined commit gate of the MQTT scale driver, on aedes and on Mosquitto, seen on
 * the wire (a proxy that reads the packets between the gateway and the broker):
 * - captures of one connection reach the journal while earlier commits are still pending (the
 *   pump no longer waits for each commit: one fsync per capture was the old limit);
 * - no PUBACK goes out before the commit that holds its message, and PUBACKs keep the order in
 *   which the PUBLISH packets arrived (MQTT 3.1.1 §4.6);
 * - a failed commit acknowledges nothing: the broker redelivers and the capture is made again;
 * - kill -9 of the gateway process mid-stream: every message it acknowledged is in the journal,
 *   in order, and after the restart every published load is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MqttScaleDriver, loadScaleProfile } from '../../../src/drivers/mqtt-scale/index.js';
import type { WeightReading } from '../../../src/drivers/driver.js';
import type { MqttScaleConfig } from '../../../src/config/devices/mqtt-scale.js';
import { LgError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/util/log.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { baseConfig } from '../../helpers/gateway.js';
import { startDaemon, writeConfig, type Daemon } from '../../helpers/daemon.js';
import { aedesBroker, hasMosquitto, mosquittoBroker, type TestBroker } from './brokers.js';
import { startMqttProxy, type MqttProxy } from '../../../simulators/mqtt-proxy.js';

const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
const load = (i: number): string => `{"weight":{"gross":${(1 + i / 1000).toFixed(3)},"unit":"kg","stable":true}}`;
const netOf = (i: number): string => (1 + i / 1000).toFixed(3);

let seq = 0;
async function driverVia(proxy: MqttProxy, topic: string): Promise<{ driver: MqttScaleDriver; stop: () => Promise<void> }> {
  const id = `it.pipe.${process.pid}.${++seq}`;
  const config: MqttScaleConfig = { kind: 'mqtt-scale', id, station: 'WEIGH-1', profile: 'json-generic', topic, broker: { url: proxy.url, clientId: `lg-pipe-${process.pid}-${seq}` }, silenceTimeoutMs: 60_000 };
  const state = tempDir('lg-pipe-state-');
  const profile = loadScaleProfile(devicesDir, config.profile, { device: id });
  const driver = new MqttScaleDriver({ config, profile, logger: silentLogger(), stateDir: state.path, backoff: { baseMs: 50, maxMs: 300 } });
  await driver.start(new AbortController().signal);
  await waitFor(() => driver.state === 'online', 10_000, 10, `${id} online`);
  return {
    driver,
    stop: async () => {
      await driver.stop();
      state.cleanup();
    },
  };
}

async function publisher(url: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId: `pub-${process.pid}-${++seq}`, reconnectPeriod: 0 });
  await new Promise<void>((res, rej) => c.once('connect', () => res()).once('error', rej));
  return c;
}

const publish = (c: mqtt.MqttClient, topic: string, payload: string): Promise<void> =>
  new Promise((res, rej) => c.publish(topic, payload, { qos: 1 }, (err) => (err ? rej(err) : res())));

/** Settle a little so that a PUBACK that should NOT go out would have been seen. */
const settle = (ms = 200): Promise<void> => new Promise((r) => setTimeout(r, ms));

const brokers: Array<[string, () => Promise<TestBroker>]> = [['aedes', aedesBroker]];
if (hasMosquitto) brokers.push(['mosquitto', mosquittoBroker]);

for (const [name, make] of brokers) {
  describe(`18 pipelined commit gate on ${name}`, () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await make();
    });
    afterAll(async () => {
      await broker?.close();
    });

    it(`18.1 ${name}: captures reach the journal while earlier commits are pending; no PUBACK before its commit; PUBACKs in arrival order`, async () => {
      const proxy = await startMqttProxy(broker.port);
      const topic = `it/pipe/${process.pid}/${++seq}`;
      const r = await driverVia(proxy, topic);
      const pub = await publisher(broker.url);
      try {
        const gated: Array<{ r: WeightReading; commit: () => void }> = [];
        r.driver.setCommitGate((reading) => new Promise<void>((resolve) => gated.push({ r: reading, commit: resolve })));
        // 0, w1, 0, w2, … 0, w5: each load is one capture.
        for (let i = 1; i <= 5; i++) {
          await publish(pub, topic, ZERO);
          await publish(pub, topic, load(i));
        }
        // The old gate held the pump until each commit: only the first capture would ever arrive.
        await waitFor(() => gated.length === 5, 10_000, 10, 'five captures handed to the journal, none committed');
        expect(gated.map((g) => g.r.value!.net)).toEqual([1, 2, 3, 4, 5].map(netOf));
        await waitFor(() => proxy.delivered.length === 10, 5000, 10, 'all ten delivered');
        await settle();
        // Only the first message (a zero before any capture) may be acknowledged.
        expect(proxy.acked.map((a) => a.payload)).toEqual([ZERO]);

        // Later commits finishing first release nothing: w1 still waits.
        gated[2]!.commit();
        gated[1]!.commit();
        await settle();
        expect(proxy.acked.length).toBe(1);
        // w1 commits: everything up to the next pending commit (w4) is acknowledged, in order.
        gated[0]!.commit();
        await waitFor(() => proxy.acked.length === 7, 5000, 10, 'acks up to w4');
        expect(proxy.acked.map((a) => a.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        gated[4]!.commit();
        await settle();
        expect(proxy.acked.length).toBe(7);
        gated[3]!.commit();
        await waitFor(() => proxy.acked.length === 10, 5000, 10, 'all acknowledged');
        expect(proxy.acked.map((a) => a.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(r.driver.pipeline.maxQueued).toBeGreaterThan(1);
      } finally {
        pub.end(true);
        await r.stop();
        await proxy.close();
      }
    });

    it(`18.2 ${name}: a failed commit acknowledges nothing; health says why; the broker redelivers and the capture is made again`, async () => {
      const proxy = await startMqttProxy(broker.port);
      const topic = `it/pipe/${process.pid}/${++seq}`;
      const r = await driverVia(proxy, topic);
      const pub = await publisher(broker.url);
      try {
        const calls: string[] = [];
        let failing = true;
        r.driver.setCommitGate(async (reading) => {
          calls.push(reading.value!.net);
          if (failing) throw new LgError('LG_ERR_STORE_WRITE_FAILED', { detail: 'SQLITE_FULL: database or disk is full' });
        });
        await publish(pub, topic, ZERO);
        await publish(pub, topic, load(7));
        await waitFor(() => r.driver.pipeline.commitFailures >= 1, 10_000, 10, 'the failed commit');
        expect(r.driver.health().lastError?.code).toBe('LG_ERR_STORE_WRITE_FAILED');
        expect(proxy.acked.some((a) => a.payload === load(7))).toBe(false);
        // The journal works again: the redelivered message is captured again and only then acknowledged.
        failing = false;
        await waitFor(() => proxy.acked.some((a) => a.payload === load(7)), 15_000, 20, 'PUBACK after the redelivered capture committed');
        expect(calls.length).toBeGreaterThanOrEqual(2);
        expect(calls.every((c) => c === netOf(7))).toBe(true);
        expect(r.driver.pipeline.commitFailures).toBeGreaterThanOrEqual(1);
      } finally {
        pub.end(true);
        await r.stop();
        await proxy.close();
      }
    });

    it(`18.3 ${name}: kill -9 of the gateway mid-stream — every acknowledged load is journaled, in order; after the restart every load is`, async () => {
      const dir = tempDir('lg-pipe-kill-');
      const proxy = await startMqttProxy(broker.port);
      const topic = `it/pipe-kill/${process.pid}/${++seq}`;
      const device = 'line1.weigh.scale';
      const file = writeConfig(dir.path, {
        ...baseConfig(dir.path),
        devices: [{ id: device, kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', broker: { url: proxy.url, clientId: `gw-pipe-${process.pid}-${seq}` }, topic }],
        log: { level: 'info' },
      });
      let d: Daemon | null = await startDaemon(file, dir.path);
      const journaled = (): string[] => {
        const db = new Database(join(dir.path, 'journal.sqlite'), { readonly: true });
        try {
          return (db.prepare(`SELECT json_extract(payload, '$.net') AS net FROM records WHERE device = ? AND type = 'material.consumed' ORDER BY seq`).all(device) as Array<{ net: string }>).map((x) => x.net);
        } finally {
          db.close();
        }
      };
      const pub = await publisher(broker.url);
      // 600 loads: enough to be mid-stream at the kill (200 acknowledged) with a backlog the broker
      // redelivers after the restart; more only makes the redelivery slower on a loaded machine.
      const N = 600;
      try {
        // Wait until the gateway is subscribed (its first message arrives), then stream.
        // (A message published before the gateway's subscription exists is not delivered to it.)
        await waitFor(() => {
          pub.publish(topic, ZERO, { qos: 1 });
          return proxy.acked.length >= 1;
        }, 30_000, 200, 'gateway subscribed and acknowledging');
        const sent = (async () => {
          for (let i = 1; i <= N; i++) {
            pub.publish(topic, ZERO, { qos: 1 });
            await publish(pub, topic, load(i));
          }
        })();
        const ackedLoads = (): string[] => proxy.acked.map((a) => /"gross":([\d.]+)/.exec(a.payload)?.[1] ?? null).filter((x): x is string => x !== null && x !== '0');
        await waitFor(() => ackedLoads().length >= 200, 60_000, 10, '200 loads acknowledged');
        d.proc.kill('SIGKILL');
        await d.exited;
        d = null;
        const ackedBefore = ackedLoads().map((n) => Number(n).toFixed(3));
        const inJournal = journaled();
        const have = new Set(inJournal);
        const lost = ackedBefore.filter((n) => !have.has(n));
        console.log(`18.3 ${name}: ${ackedBefore.length} loads acknowledged before kill -9, ${inJournal.length} journaled, ${lost.length} acknowledged but missing`);
        expect(lost).toEqual([]);
        // Acknowledged in arrival order; journaled in the order of the loads.
        const idx = proxy.acked.map((a) => a.index);
        expect(idx.every((v, i) => i === 0 || v > idx[i - 1]!)).toBe(true);
        expect(inJournal.every((v, i) => i === 0 || Number(v) > Number(inJournal[i - 1]))).toBe(true);

        await sent;
        const deliveredBefore = proxy.delivered.length;
        d = await startDaemon(file, dir.path);
        const all = Array.from({ length: N }, (_, i) => netOf(i + 1));
        await waitFor(() => {
          const s = new Set(journaled());
          return all.every((n) => s.has(n));
        }, 240_000, 200, 'every load journaled after the restart').catch((err: Error) => {
          // Say what is missing and what the broker redelivered, in the order it did (a failure
          // here once under load, on aedes, could not be reproduced: this is what tells why).
          const s = new Set(journaled());
          const missing = all.filter((n) => !s.has(n));
          const after = proxy.delivered.slice(deliveredBefore).map((x) => `${x.dup ? 'D' : ''}${/"gross":([\d.]+)/.exec(x.payload)?.[1] ?? '?'}`);
          const state = (() => {
            const db = new Database(join(dir.path, 'journal.sqlite'), { readonly: true });
            try {
              return JSON.stringify(db.prepare(`SELECT * FROM device_state WHERE device = ?`).all(device));
            } finally {
              db.close();
            }
          })();
          throw new Error(`${err.message}: ${missing.length} loads missing (first ${missing.slice(0, 10).join(', ')}); ${after.length} deliveries after the restart, first 60: ${after.slice(0, 60).join(' ')}; device_state ${state.slice(0, 600)}; gateway log tail: ${(d?.logs ?? []).slice(-15).join(' | ').slice(0, 3000)}`);
        });
      } finally {
        pub.end(true);
        d?.proc.kill('SIGKILL');
        if (d) await d.exited;
        await proxy.close();
        dir.cleanup();
      }
    }, 420_000);
  });
}
