/**
 * Found by the kill9 fault script (bench/faults/kill9.ts: 41 acknowledged loads lost and 131
 * journaled twice in 527 kills): the scale's placement state (empty / settling / captured, last
 * capture) went to a file asynchronously AFTER the PUBACK of the message that changed it, so a
 * kill -9 in that window restored a stale phase and a redelivered load was ignored or captured
 * again. Now the state is journaled (device_state) in the commit that the PUBACK waits for.
 * Checked on the wire, against the gateway as a child process killed with SIGKILL: when the PUBACK
 * of the message that emptied the platform has been seen, the journal already says "empty"; after
 * the restart the next load is captured exactly once and the earlier one is not captured again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { baseConfig } from '../../helpers/gateway.js';
import { startDaemon, writeConfig, type Daemon } from '../../helpers/daemon.js';
import { aedesBroker, type TestBroker } from './brokers.js';
import { startMqttProxy } from '../../../simulators/mqtt-proxy.js';

const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
const LOAD1 = '{"weight":{"gross":1.234,"unit":"kg","stable":true}}';
const LOAD2 = '{"weight":{"gross":2.345,"unit":"kg","stable":true}}';

let broker: TestBroker;
beforeAll(async () => {
  broker = await aedesBroker();
});
afterAll(async () => {
  await broker?.close();
});

describe('scale placement state is durable before its PUBACK', () => {
  it('kill -9 right after the PUBACK of the emptying message: the journal says empty; after the restart each load is captured once', async () => {
    const dir = tempDir('lg-place-');
    const proxy = await startMqttProxy(broker.port);
    const topic = `it/place/${process.pid}`;
    const device = 'line1.weigh.scale';
    const file = writeConfig(dir.path, {
      ...baseConfig(dir.path),
      devices: [{ id: device, kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', broker: { url: proxy.url, clientId: `gw-place-${process.pid}` }, topic }],
      log: { level: 'info' },
    });
    const db = (): Database.Database => new Database(join(dir.path, 'journal.sqlite'), { readonly: true });
    const captures = (): string[] => {
      const d = db();
      try {
        return (d.prepare(`SELECT json_extract(payload, '$.net') AS net FROM records WHERE device = ? AND type = 'material.consumed' ORDER BY seq`).all(device) as Array<{ net: string }>).map((x) => x.net);
      } finally {
        d.close();
      }
    };
    const placement = (): { phase?: string } | null => {
      const d = db();
      try {
        const r = d.prepare(`SELECT value FROM device_state WHERE device = ? AND key = 'placement'`).get(device) as { value: string } | undefined;
        return r ? (JSON.parse(r.value) as { phase?: string }) : null;
      } finally {
        d.close();
      }
    };
    const pub = mqtt.connect(broker.url, { clientId: `pub-place-${process.pid}`, reconnectPeriod: 0 });
    await new Promise<void>((res, rej) => pub.once('connect', () => res()).once('error', rej));
    const publish = (payload: string): Promise<void> => new Promise((res, rej) => pub.publish(topic, payload, { qos: 1 }, (err) => (err ? rej(err) : res())));
    const zeroAcks = (): number => proxy.acked.filter((a) => a.payload === ZERO).length;
    let d: Daemon | null = await startDaemon(file, dir.path);
    try {
      await waitFor(() => {
        pub.publish(topic, ZERO, { qos: 1 });
        return zeroAcks() >= 1;
      }, 60_000, 200, 'gateway subscribed and acknowledging');
      await publish(LOAD1);
      await waitFor(() => captures().length === 1, 60_000, 20, 'load 1 captured');
      expect(placement()?.phase).toBe('captured');
      const before = zeroAcks();
      await publish(ZERO);
      await waitFor(() => zeroAcks() > before, 60_000, 1, 'PUBACK of the emptying message');
      d.proc.kill('SIGKILL');
      await d.exited;
      d = null;
      // What the PUBACK promised is in the journal: the platform was emptied.
      expect(placement()?.phase).toBe('empty');

      d = await startDaemon(file, dir.path);
      await publish(LOAD2);
      await waitFor(() => captures().length >= 2, 60_000, 20, 'load 2 captured after the restart');
      // Give a second capture of either load the time it would need to show up.
      await publish(ZERO);
      const acks = zeroAcks();
      await waitFor(() => zeroAcks() > acks, 60_000, 20, 'the next emptying acknowledged');
      expect(captures()).toEqual(['1.234', '2.345']);
    } finally {
      pub.end(true);
      d?.proc.kill('SIGKILL');
      if (d) await d.exited;
      await proxy.close();
      dir.cleanup();
    }
  }, 240_000);
});
