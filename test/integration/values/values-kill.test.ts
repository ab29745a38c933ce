/**
 * Issue 18, process values: kill -9 of the gateway process mid-stream (aedes, and Mosquitto where
 * installed), the values seen on the wire through a packet-reading proxy. Every value whose PUBACK
 * went out is in the journal; after the restart every published value is, exactly once — the
 * values carry source timestamps, so a message the broker redelivers whose record had committed
 * before the kill is recognised as a duplicate (src/domain/process-value.ts).
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { baseConfig } from '../../helpers/gateway.js';
import { startDaemon, writeConfig, type Daemon } from '../../helpers/daemon.js';
import { aedesBroker, hasMosquitto, mosquittoBroker, type TestBroker } from '../scale/brokers.js';
import { startMqttProxy } from '../../../simulators/mqtt-proxy.js';

const brokers: Array<[string, () => Promise<TestBroker>]> = [['aedes', aedesBroker]];
if (hasMosquitto) brokers.push(['mosquitto', mosquittoBroker]);
const T0 = Date.parse('2026-12-01T06:00:00.000Z');
const msg = (i: number): string => JSON.stringify({ value: i, ts: new Date(T0 + i * 10).toISOString(), quality: 'good' });

let seq = 0;
for (const [name, make] of brokers) {
  describe(`process values, kill -9 on ${name}`, () => {
    it(`${name}: every acknowledged value is journaled; after the restart every value is, exactly once`, async () => {
      const broker = await make();
      const dir = tempDir('lg-values-kill-');
      const proxy = await startMqttProxy(broker.port);
      const topic = `it/values-kill/${process.pid}/${++seq}`;
      const device = 'reactor.sensors';
      const file = writeConfig(dir.path, {
        ...baseConfig(dir.path),
        devices: [{ id: device, kind: 'mqtt-values', station: 'FILL-1', profile: 'json-value', broker: { url: proxy.url, clientId: `gw-values-${process.pid}-${seq}` }, values: [{ name: 'temp', unit: '°C', topic }] }],
        log: { level: 'info' },
      });
      let d: Daemon | null = await startDaemon(file, dir.path);
      const journaled = (): number[] => {
        const db = new Database(join(dir.path, 'journal.sqlite'), { readonly: true });
        try {
          return (db.prepare(`SELECT json_extract(payload, '$.value') AS v FROM records WHERE device = ? AND type = 'process.value' AND status = 'accepted' ORDER BY seq`).all(device) as Array<{ v: number }>).map((x) => x.v);
        } finally {
          db.close();
        }
      };
      const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-values-${process.pid}-${seq}`, reconnectPeriod: 0 });
      const N = 600;
      try {
        // Value 0 until the gateway acknowledges one (its subscription exists from then on).
        await waitFor(() => {
          pub.publish(topic, msg(0), { qos: 1 });
          return proxy.acked.length >= 1;
        }, 30_000, 200, 'gateway subscribed and acknowledging');
        const sent = (async () => {
          for (let i = 1; i <= N; i++) await pub.publishAsync(topic, msg(i), { qos: 1 });
        })();
        const ackedValues = (): number[] => proxy.acked.map((a) => (/"value":(\d+)/.exec(a.payload)?.[1] ?? null)).filter((x): x is string => x !== null).map(Number).filter((v) => v > 0);
        await waitFor(() => ackedValues().length >= 200, 60_000, 10, '200 values acknowledged');
        d.proc.kill('SIGKILL');
        await d.exited;
        d = null;
        const ackedBefore = ackedValues();
        const inJournal = journaled();
        const have = new Set(inJournal);
        const lost = ackedBefore.filter((v) => !have.has(v));
        console.log(`values ${name}: ${ackedBefore.length} acknowledged before kill -9, ${inJournal.length} journaled, ${lost.length} acknowledged but missing`);
        expect(lost).toEqual([]);
        expect(inJournal.every((v, i) => i === 0 || v > inJournal[i - 1]!)).toBe(true);

        await sent;
        d = await startDaemon(file, dir.path);
        const all = Array.from({ length: N }, (_, i) => i + 1);
        await waitFor(() => {
          const s = new Set(journaled());
          return all.every((v) => s.has(v));
        }, 240_000, 200, 'every value journaled after the restart');
        const final = journaled().filter((v) => v > 0);
        // Exactly once and in order: a redelivered value whose record had committed is a duplicate.
        expect(final).toEqual(all);
      } finally {
        pub.end(true);
        d?.proc.kill('SIGKILL');
        if (d) await d.exited;
        await proxy.close();
        await broker.close();
        dir.cleanup();
      }
    }, 420_000);
  });
}
