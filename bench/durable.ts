import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { startEmbeddedBroker } from '../src/broker/embedded.js';
import { silentLogger } from '../src/util/log.js';

/**
 * Issue 18: durable captures from ONE MQTT connection, through the whole gateway (scale driver,
 * pipelined commit gate, binder, journal with synchronous=FULL on the real disk), against a bare
 * MQTT.js subscriber that appends each message to a file and fsyncs it before its PUBACK (what a
 * "durable" Node-RED flow does), on the same broker, in the same run.
 *
 * Method: each consumer is connected and subscribed; the stream is published live (QoS 1, up to
 * 500 in flight) through the embedded aedes broker, timed until all of it is durable. (Draining a
 * queue aedes kept for an offline session was tried first: aedes replays it one message per PUBACK,
 * which measures aedes, not the consumer.) The stream is
 * 0, w1, 0, w2, …: every load is one capture (a rejected LG_ERR_NO_ACTIVE_BATCH consumption record:
 * no batch is selected — still a journaled record with its outbox row).
 */
const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
const stream = (loads: number): string[] => {
  const out: string[] = [];
  for (let i = 1; i <= loads; i++) out.push(ZERO, `{"weight":{"gross":${(1 + i / 1000).toFixed(3)},"unit":"kg","stable":true}}`);
  return out;
};

async function publishAll(url: string, topic: string, payloads: string[]): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: `bench-dpub-${process.pid}`, reconnectPeriod: 0 });
  let i = 0;
  await new Promise<void>((res, rej) => {
    let acked = 0;
    const next = (): void => {
      while (i < payloads.length && i - acked < 500) {
        c.publish(topic, payloads[i++]!, { qos: 1 }, (err) => {
          if (err) return rej(err);
          if (++acked === payloads.length) res();
          else next();
        });
      }
    };
    next();
  });
  await c.endAsync();
}

async function fsyncPeer(url: string, topic: string, payloads: string[], dir: string): Promise<number> {
  const fd = openSync(join(dir, 'peer.log'), 'a');
  let n = 0;
  const c = await mqtt.connectAsync(url, { clientId: `bench-fsync-${process.pid}`, reconnectPeriod: 0 });
  const done = new Promise<void>((res) => {
    c.handleMessage = (packet, cb) => {
      writeSync(fd, Buffer.concat([Buffer.from(packet.payload as Buffer), Buffer.from('\n')]));
      fsyncSync(fd);
      cb();
      if (++n === payloads.length) res();
    };
  });
  await c.subscribeAsync(topic, { qos: 1 });
  const t0 = performance.now();
  await publishAll(url, topic, payloads);
  await done;
  const s = (performance.now() - t0) / 1000;
  await c.endAsync();
  closeSync(fd);
  return payloads.length / s;
}

function gatewayConfig(stateDir: string, url: string, topic: string) {
  return parseConfig(
    stringify({
      site: { id: 'S', timezone: 'UTC' },
      line: { id: 'L1' },
      stations: [{ id: 'WEIGH-1', role: 'weighing' }],
      devices: [{ id: 'scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', topic, broker: { url, clientId: `bench-gw-${process.pid}` } }],
      upstream: { sinks: [] },
      api: { host: '127.0.0.1', port: 0 },
      storage: { stateDir, synchronous: 'FULL' },
      log: { level: 'silent' },
    }),
  );
}

async function gatewayRun(url: string, topic: string, payloads: string[], dir: string): Promise<{ capturesPerS: number; messagesPerS: number; avgGroup: number; maxQueued: number }> {
  const stateDir = join(dir, 'gw');
  const gw = new Gateway(gatewayConfig(stateDir, url, topic), { logger: silentLogger() });
  await gw.start();
  while (gw.drivers.get('scale')!.health().state !== 'online') await new Promise((r) => setTimeout(r, 10));
  const loads = payloads.length / 2;
  const db = new Database(join(stateDir, 'journal.sqlite'), { readonly: true });
  const count = db.prepare(`SELECT COUNT(*) AS n FROM records WHERE type = 'material.consumed'`);
  const g0 = { ...gw.journal.stats };
  const t0 = performance.now();
  await publishAll(url, topic, payloads);
  while ((count.get() as { n: number }).n < loads) await new Promise((r) => setTimeout(r, 5));
  const s = (performance.now() - t0) / 1000;
  db.close();
  const st = { items: gw.journal.stats.items - g0.items, groups: gw.journal.stats.groups - g0.groups };
  if (process.env.LG_BENCH_DEBUG) console.error({ groups: st.groups, items: st.items, seconds: s, lastCommitMs: gw.journal.stats.lastCommitMs });
  const pipe = (gw.drivers.get('scale') as unknown as { pipeline: { maxQueued: number } }).pipeline;
  await gw.stop();
  return { capturesPerS: loads / s, messagesPerS: payloads.length / s, avgGroup: st.items / Math.max(1, st.groups), maxQueued: pipe.maxQueued };
}

export async function benchDurable(opts: { loads?: number } = {}): Promise<Record<string, number>> {
  const loads = opts.loads ?? 10_000;
  const dir = mkdtempSync(join(resolve('var'), 'bench-durable-'));
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const url = `mqtt://127.0.0.1:${broker.port}`;
  try {
    const payloads = stream(loads);
    const peer = await fsyncPeer(url, `bench/durable/peer/${process.pid}`, payloads, dir);
    const gw = await gatewayRun(url, `bench/durable/gw/${process.pid}`, payloads, dir);
    return {
      loads,
      messages: payloads.length,
      gateway_durable_captures_per_s: gw.capturesPerS,
      gateway_messages_per_s: gw.messagesPerS,
      gateway_avg_items_per_commit: gw.avgGroup,
      gateway_max_unacknowledged: gw.maxQueued,
      peer_fsync_each_message_per_s: peer,
      ratio_gateway_captures_vs_fsync_peer_messages: gw.capturesPerS / peer,
      ratio_gateway_messages_vs_fsync_peer_messages: gw.messagesPerS / peer,
    };
  } finally {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  benchDurable({ loads: Number(process.argv[2] ?? 10_000) }).then((r) => (console.log(r), process.exit(0)), (err: unknown) => (console.error(err), process.exit(1)));
}
