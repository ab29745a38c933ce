/**
 * Plant store figures (PostgreSQL at $LINEGATE_BENCH_PG, default postgres://postgres@127.0.0.1:5432/test;
 * a database of its own is created and dropped):
 *  - sink throughput: records/s from a journal backlog into PostgreSQL, side by side with the HTTP
 *    sink to the ERP simulator in the same run (same records: one in three a material.consumed);
 *  - backlog drain: LG_BENCH_PLANT_BACKLOG records (default 200,000) accumulated, then drained: time and peak RSS;
 *  - plant trace p50/p99 (supplier lot → every batch on every line, through intermediates) over a
 *    generated plant: 10 lines, batches consuming 3 supplier lots each and producing one lot, 30 %
 *    of batches also consuming an intermediate made on another line. Scales "1M" and "10M" records
 *    mean the genealogy such a record count implies (≈ 1 consumption per 3 records, ≈ 10 additions
 *    per lot and batch): 10,000 / 100,000 batches. The records table is not part of a trace query.
 *
 *   npm run build && node dist/bench/plant.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { openDatabase, type Db } from '../src/store/db.js';
import { Dispatcher } from '../src/upstream/dispatcher.js';
import { HttpSink } from '../src/upstream/sinks/http.js';
import { PostgresSink } from '../src/upstream/sinks/postgres.js';
import { migrate } from '../src/upstream/sinks/postgres-schema.js';
import { PlantTrace } from '../src/upstream/plant-trace.js';
import type { Sink } from '../src/upstream/sinks/sink.js';
import { uuidv7 } from '../src/util/ids.js';
import { deliveredCount, spawnErpChild } from './upstream-common.js';

const ADMIN = process.env.LINEGATE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

function seed(db: Db, n: number, sink: string): void {
  const insR = db.prepare(
    `INSERT INTO records (id,type,status,site,line,station,batch,lot,operator,device,payload,source_time,received_at,clock_synced) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1)`,
  );
  const insO = db.prepare(`INSERT INTO outbox (sink, seq) VALUES (?, ?)`);
  const types = ['lot.scanned', 'material.consumed', 'weight.captured'];
  for (let start = 0; start < n; start += 5000) {
    db.transaction(() => {
      for (let i = start; i < Math.min(n, start + 5000); i++) {
        const type = types[i % 3]!;
        const payload = type === 'material.consumed' ? { material: 'RM-1', quantity: '1.250', quantityUnit: 'kg', net: '1.250', unit: 'kg' } : { net: '1.250', unit: 'kg', stable: true, raw: 'x'.repeat(120) };
        const now = new Date().toISOString();
        const info = insR.run(uuidv7(), type, 'accepted', 'PLANT1', 'L1', 'WEIGH-1', `B${Math.floor(i / 50) % 4}`, `LOT${i % 97}`, 'op1', 'scale1', JSON.stringify(payload), now, now);
        insO.run(sink, Number(info.lastInsertRowid));
      }
    })();
  }
}

async function drain(sink: Sink, n: number): Promise<{ rate: number; seconds: number; peakRssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-plant-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'FULL' });
  try {
    seed(db, n, sink.id);
    const d = new Dispatcher(db, [sink], { gatewayId: 'bench' });
    let peak = process.memoryUsage().rss;
    const t0 = performance.now();
    await d.start();
    while (deliveredCount(db, sink.id) < n) {
      await new Promise((r) => setTimeout(r, 20));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - t0) / 1000;
    await d.stop();
    return { rate: Math.round(n / seconds), seconds, peakRssMb: Math.round(peak / 1e6) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A generated plant genealogy in `schema` (see the header). */
async function generatePlant(pool: pg.Pool, schema: string, batchesPerLine: number): Promise<void> {
  const c = await pool.connect();
  try {
    await migrate(c, schema);
    const s = `"${schema}"`;
    const lines = 10;
    const total = lines * batchesPerLine;
    const rawLots = Math.max(500, Math.floor(total / 2));
    await c.query(`INSERT INTO ${s}.lots (site, id, material, supplier, supplier_lot, status, line, record_id, updated_at)
      SELECT 'PLANT1', 'R' || g, 'RM-' || (g % 50), 'Supplier' || (g % 20), 'SL-' || g, 'released', 'L' || (g % 10), gen_random_uuid(), now() FROM generate_series(1, ${rawLots}) g`);
    await c.query(`INSERT INTO ${s}.batches (site, line, number, product, status, updated_at)
      SELECT 'PLANT1', 'L' || (g % 10), 'B' || g, 'P' || (g % 30), 'completed', now() FROM generate_series(1, ${total}) g`);
    await c.query(`INSERT INTO ${s}.lots (site, id, material, status, produced_by_line, produced_by_batch, line, record_id, updated_at)
      SELECT 'PLANT1', 'I' || g, 'INT-' || (g % 30), 'released', 'L' || (g % 10), 'B' || g, 'L' || (g % 10), gen_random_uuid(), now() FROM generate_series(1, ${total}) g`);
    // consumed: 3 raw lots per batch
    await c.query(`INSERT INTO ${s}.edges (site, kind, from_node, to_node, line, quantity, unit, additions, first_record, last_record, first_at, last_at)
      SELECT 'PLANT1', 'consumed', 'lot:R' || (1 + ((g * 7919 + k * 104729) % ${rawLots})), 'batch:L' || (g % 10) || '/B' || g, 'L' || (g % 10), 12.5, 'kg', 10, gen_random_uuid(), gen_random_uuid(), now(), now()
      FROM generate_series(1, ${total}) g, generate_series(1, 3) k ON CONFLICT DO NOTHING`);
    // produced: batch → its lot
    await c.query(`INSERT INTO ${s}.edges (site, kind, from_node, to_node, line, additions, first_record, last_record, first_at, last_at)
      SELECT 'PLANT1', 'produced', 'batch:L' || (g % 10) || '/B' || g, 'lot:I' || g, 'L' || (g % 10), 1, gen_random_uuid(), gen_random_uuid(), now(), now() FROM generate_series(1, ${total}) g`);
    // 30 % of batches consume an intermediate made earlier on another line
    await c.query(`INSERT INTO ${s}.edges (site, kind, from_node, to_node, line, quantity, unit, additions, first_record, last_record, first_at, last_at)
      SELECT 'PLANT1', 'consumed', 'lot:I' || (g - 1 - (g * 31 % 50)), 'batch:L' || (g % 10) || '/B' || g, 'L' || (g % 10), 5, 'kg', 10, gen_random_uuid(), gen_random_uuid(), now(), now()
      FROM generate_series(100, ${total}) g WHERE g % 10 < 3 AND ((g - 1 - (g * 31 % 50)) % 10) <> (g % 10) ON CONFLICT DO NOTHING`);
    await c.query(`ANALYZE ${s}.edges; ANALYZE ${s}.lots; ANALYZE ${s}.batches`);
  } finally {
    c.release();
  }
}

async function traceLatency(pool: pg.Pool, schema: string, rawLots: number, n = 200): Promise<{ p50: number; p99: number; batches: number }> {
  const trace = new PlantTrace(pool, schema, 'PLANT1');
  const times: number[] = [];
  let reached = 0;
  for (let i = 0; i < n; i++) {
    const lot = `SL-${1 + ((i * 2654435761) % rawLots)}`;
    const t0 = performance.now();
    const r = await trace.supplierLot(lot);
    times.push(performance.now() - t0);
    reached += r.batches.length;
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n * 0.5)]!, p99: times[Math.floor(n * 0.99)]!, batches: Math.round(reached / n) };
}

export async function benchPlant(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const name = `lg_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(ADMIN);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on("error", () => undefined);
  const erp = await spawnErpChild(['--port', '0']);
  try {
    const n = 30_000;
    const pgSink = (schema: string) =>
      new PostgresSink({ id: 'plant', kind: 'postgres', url, schema, timeoutMs: 30_000, batch: { maxRecords: 500, maxBytes: 4_194_304, lingerMs: 20 }, maxInFlight: 2, backoff: { baseMs: 100, maxMs: 5000, probeMs: 0 } });
    const httpSink = new HttpSink({ id: 'erp', kind: 'http', url: erp.url, timeoutMs: 10_000, mode: 'batched', maxInFlight: 4, batch: { maxRecords: 500, maxBytes: 1_048_576, lingerMs: 20 }, backoff: { baseMs: 100, maxMs: 5000, probeMs: 0 } });
    out['postgres sink records/s (30k, 4 batches)'] = (await drain(pgSink('tput'), n)).rate;
    out['http sink records/s, same records'] = (await drain(httpSink, n)).rate;
    const backlog = Number(process.env.LG_BENCH_PLANT_BACKLOG ?? 200_000);
    const b = await drain(pgSink('backlog'), backlog);
    out[`postgres backlog ${backlog} drained, s`] = b.seconds;
    out['postgres backlog records/s'] = b.rate;
    out['postgres backlog peak RSS MB'] = b.peakRssMb;
    for (const [label, perLine] of [['1M', 1000], ['10M', 10_000]] as const) {
      const schema = `trace_${label.toLowerCase()}`;
      await generatePlant(pool, schema, perLine);
      const t = await traceLatency(pool, schema, Math.max(500, Math.floor((perLine * 10) / 2)));
      out[`plant trace supplier-lot at ${label}: p50 ms`] = t.p50;
      out[`plant trace supplier-lot at ${label}: p99 ms`] = t.p99;
      out[`plant trace supplier-lot at ${label}: batches reached (mean)`] = t.batches;
    }
  } finally {
    await erp.stop();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchPlant().then(
    (r) => {
      for (const [k, v] of Object.entries(r)) process.stdout.write(`  ${k.padEnd(56)} ${Number.isInteger(v) ? v : v.toFixed(2)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
