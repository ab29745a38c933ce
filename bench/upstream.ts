/**
 * Upstream drain rate: records/s from a journal backlog to the ERP simulator over HTTP (batched
 * CloudEvents, the simulator in its own process committing to its own SQLite) and to an MQTT broker
 * (our own mosquitto when installed, else aedes in-process), QoS 1, delivered on PUBACK.
 * Journal on disk with synchronous=FULL, as in production. Target: ≥ 5,000 records/s over HTTP.
 *
 * Peer (issue 18), same ERP process, same run: a bare node:http client (keep-alive agent) POSTing
 * the same kind of batches — the same number of records, as CloudEvents built by the same
 * function, 500 per request, with the same number of requests in flight (1 for one production
 * batch, 4 for eight) — built before the clock starts, so it measures only HTTP + the ERP. The
 * gateway's drain additionally reads the outbox, builds the events and commits every delivery
 * (synchronous=FULL). Ratios gateway / peer.
 *
 *   npm run build && node dist/bench/upstream.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import nodeHttp from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/db.js';
import { rowToRecord } from '../src/store/journal.js';
import { CE_BATCH_CONTENT_TYPE, toCloudEvent } from '../src/upstream/cloudevents.js';
import { Dispatcher } from '../src/upstream/dispatcher.js';
import { HttpSink } from '../src/upstream/sinks/http.js';
import { MqttSink } from '../src/upstream/sinks/mqtt.js';
import type { Sink } from '../src/upstream/sinks/sink.js';
import { deliveredCount, seedRecords, spawnErpChild, spawnMosquitto } from './upstream-common.js';

async function drain(sinkFactory: () => Sink, sinkId: string, n: number, batches: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-up-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'FULL' });
  try {
    seedRecords(db, n, { sinks: [sinkId], batches, run: 50, payloadBytes: 200 });
    const d = new Dispatcher(db, [sinkFactory()], { gatewayId: 'bench' });
    const t0 = performance.now();
    await d.start();
    while (deliveredCount(db, sinkId) < n) await new Promise((r) => setTimeout(r, 10));
    const rate = n / ((performance.now() - t0) / 1000);
    await d.stop();
    return Math.round(rate);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The bare peer: n freshly seeded records (their own ids, so the ERP never sees a duplicate), as
 * CloudEvent batches of `perRequest`, POSTed with `inFlight` requests at a time; records/s.
 */
async function barePost(url: string, n: number, perRequest: number, inFlight: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-up-peer-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'OFF' });
  const bodies: Buffer[] = [];
  try {
    seedRecords(db, n, { sinks: [], batches: 1, run: 50, payloadBytes: 200 });
    const rows = db.prepare(`SELECT * FROM records ORDER BY seq`).all() as Array<Record<string, unknown>>;
    for (let i = 0; i < rows.length; i += perRequest) {
      const events = rows.slice(i, i + perRequest).map((r) => JSON.stringify(toCloudEvent(rowToRecord(r), { gatewayId: 'bench-peer' })));
      bodies.push(Buffer.from(`[${events.join(',')}]`, 'utf8'));
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: inFlight + 1 });
  const post = (body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = nodeHttp.request(url, { method: 'POST', agent, headers: { 'content-type': CE_BATCH_CONTENT_TYPE, 'content-length': body.length, accept: 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`ERP answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < bodies.length) await post(bodies[next++]!);
  }));
  const rate = n / ((performance.now() - t0) / 1000);
  agent.destroy();
  return Math.round(rate);
}

export async function benchUpstream(opts: { records?: number } = {}): Promise<Record<string, number>> {
  const n = opts.records ?? 30_000;
  const out: Record<string, number> = {};

  const erp = await spawnErpChild(['--port', '0']);
  try {
    const http = (maxInFlight: number) => () =>
      new HttpSink({
        id: 'erp', kind: 'http', url: erp.url, timeoutMs: 10_000, mode: 'batched', maxInFlight,
        batch: { maxRecords: 500, maxBytes: 1_048_576, lingerMs: 20 }, backoff: { baseMs: 100, maxMs: 5000, probeMs: 0 },
      });
    // One batch: the usual line (one request in flight for it, per-batch order rule).
    out.upstream_http_records_per_s = await drain(http(4), 'erp', n, 1);
    // Eight batches in parallel (several lines/stations): uses maxInFlight.
    out.upstream_http_8_batches_records_per_s = await drain(http(4), 'erp', n, 8);
    out.peer_bare_http_records_per_s = await barePost(erp.url, n, 500, 1);
    out.peer_bare_http_4_in_flight_records_per_s = await barePost(erp.url, n, 500, 4);
    out.ratio_upstream_http_vs_bare_client = out.upstream_http_records_per_s / out.peer_bare_http_records_per_s;
    out.ratio_upstream_http_8_batches_vs_bare_client_4_in_flight = out.upstream_http_8_batches_records_per_s / out.peer_bare_http_4_in_flight_records_per_s;
  } finally {
    await erp.stop();
  }

  const mosq = await spawnMosquitto();
  let aedesStop: (() => Promise<void>) | undefined;
  let url = mosq?.url;
  if (!url) {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle as never);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    aedesStop = async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    };
  }
  try {
    out[mosq ? 'upstream_mqtt_mosquitto_records_per_s' : 'upstream_mqtt_aedes_records_per_s'] = await drain(
      () =>
        new MqttSink({
          id: 'uns', kind: 'mqtt', url: url!, clientId: `lg-bench-${process.pid}`, protocolVersion: 4, topic: 'linegate/{site}/{line}/{type}', qos: 1,
          keepaliveS: 30, timeoutMs: 10_000, batch: { maxRecords: 500, maxBytes: 1_048_576, lingerMs: 20 }, maxInFlight: 2,
          backoff: { baseMs: 100, maxMs: 5000, probeMs: 0 },
        }),
      'uns',
      n,
      1,
    );
  } finally {
    await mosq?.stop();
    await aedesStop?.();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchUpstream(process.argv[2] ? { records: Number(process.argv[2]) } : {});
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(44)} ${v}`);
}
