import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import { PostgresSink } from '../../../src/upstream/sinks/postgres.js';
import type { PostgresSinkConfig } from '../../../src/config/upstream.js';
import { countOutbox, killChild, spawnNode, waitUntil } from '../upstream/harness.js';
import { uuidv7 } from '../../../src/util/ids.js';
import { createTestDatabase, PgProxy, type TestDatabase } from './pg.js';

function pgSinkConfig(url: string, over: Partial<PostgresSinkConfig> = {}): PostgresSinkConfig {
  return {
    id: 'plant',
    kind: 'postgres',
    url,
    schema: 'plant1',
    timeoutMs: 5000,
    batch: { maxRecords: 200, maxBytes: 4_194_304, lingerMs: 5 },
    maxInFlight: 2,
    backoff: { baseMs: 20, maxMs: 300, probeMs: 0 },
    ...over,
  };
}

/**
 * Like the harness's seedRecords, with real payloads: every third record is a material.consumed of
 * 1.5 kg (records are append-only, so the payload is chosen at insert time).
 */
function seed(db: Db, n: number, opts: { line: string; batches: number; payload?: (i: number) => Record<string, unknown> }): void {
  const insR = db.prepare(
    `INSERT INTO records (id,type,status,site,line,station,batch,lot,operator,device,payload,source_time,received_at,clock_synced)
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1)`,
  );
  const insO = db.prepare(`INSERT INTO outbox (sink, seq) VALUES ('plant', ?)`);
  const types = ['lot.scanned', 'material.consumed', 'case.weighed'];
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const type = types[i % 3]!;
      const payload = opts.payload?.(i) ?? (type === 'material.consumed' ? { material: 'RM-1', quantity: '1.5', quantityUnit: 'kg' } : { i });
      const now = new Date().toISOString();
      const info = insR.run(uuidv7(), type, 'accepted', 'PLANT1', opts.line, 'WEIGH-1', `B${String(Math.floor(i / 7) % opts.batches).padStart(3, '0')}`, `LOT${i % 11}`, 'op1', 'scale1', JSON.stringify(payload), now, now);
      insO.run(Number(info.lastInsertRowid));
    }
  })();
}

function expectedConsumedPerLot(db: Db): Map<string, number> {
  const rows = db.prepare(`SELECT lot, COUNT(*) AS n FROM records WHERE type = 'material.consumed' GROUP BY lot`).all() as Array<{ lot: string; n: number }>;
  return new Map(rows.map((r) => [r.lot, r.n * 1.5]));
}

async function plantState(pgdb: TestDatabase, schema = 'plant1') {
  const [{ n, distinct }] = (await pgdb.query<{ n: string; distinct: string }>(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS distinct FROM ${schema}.records`)) as [{ n: string; distinct: string }];
  // Order per batch: arrival order (plant_seq) against the gateway's seq, within each batch.
  const [{ v }] = (await pgdb.query<{ v: string }>(
    `SELECT COUNT(*) AS v FROM (SELECT seq, lag(seq) OVER (PARTITION BY gateway, line, batch ORDER BY plant_seq) AS prev FROM ${schema}.records WHERE batch IS NOT NULL) x WHERE prev > seq`,
  )) as [{ v: string }];
  const balances = await pgdb.query<{ lot: string; consumed: string; quantity: string }>(`SELECT lot, consumed::text, quantity::text FROM ${schema}.lot_balances`);
  const edges = await pgdb.query<{ from_node: string; to_node: string; quantity: string; additions: number }>(
    `SELECT from_node, to_node, quantity::text, additions FROM ${schema}.edges WHERE kind = 'consumed'`,
  );
  return { count: Number(n), distinct: Number(distinct), orderViolations: Number(v), balances, edges };
}

describe('PostgreSQL sink (plant store)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  function tmp(): string {
    const dir = mkdtempSync(join(tmpdir(), 'lg-plant-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
  async function database(): Promise<TestDatabase> {
    const d = await createTestDatabase();
    cleanups.push(() => d.drop());
    return d;
  }

  it('16.1 every record once and in order per batch; a redelivered group adds no record and subtracts no consumption twice', async () => {
    const pgdb = await database();
    const db = openDatabase(join(tmp(), 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => void db.close());
    seed(db, 3000, { line: 'L1', batches: 4 });
    const expected = expectedConsumedPerLot(db);
    const start = async () => {
      const d = new Dispatcher(db, [new PostgresSink(pgSinkConfig(pgdb.url))], { gatewayId: 'gw1', pollMs: 100 });
      await d.start();
      return d;
    };
    let d = await start();
    await waitUntil(() => countOutbox(db, 'plant').delivered === 3000, 30_000, 'all delivered');
    await d.stop();
    const first = await plantState(pgdb);
    expect(first.count).toBe(3000);
    expect(first.orderViolations).toBe(0);
    for (const b of first.balances) expect(Number(b.consumed)).toBe(expected.get(b.lot));
    expect(first.balances.length).toBe(expected.size);
    // Every delivery answer lost: the whole outbox is pending again and sent a second time.
    db.prepare(`UPDATE outbox SET state = 'pending' WHERE sink = 'plant'`).run();
    d = await start();
    cleanups.push(() => d.stop());
    await waitUntil(() => countOutbox(db, 'plant').delivered === 3000, 30_000, 'all delivered again');
    const second = await plantState(pgdb);
    expect(second.count).toBe(3000);
    expect(second.balances).toEqual(first.balances);
    expect(second.edges).toEqual(first.edges);
    expect(second.edges.reduce((s, e) => s + e.additions, 0)).toBe(1000);
  }, 90_000);

  it('16.1 plant database away mid-delivery: the backlog waits in the outbox, shows on stats, and arrives once when it is back', async () => {
    const pgdb = await database();
    const proxy = new PgProxy();
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const db = openDatabase(join(tmp(), 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => void db.close());
    const d = new Dispatcher(db, [new PostgresSink(pgSinkConfig(proxy.url(pgdb.name), { batch: { maxRecords: 50, maxBytes: 4_194_304, lingerMs: 5 } }))], {
      gatewayId: 'gw1',
      pollMs: 100,
    });
    cleanups.push(() => d.stop({ timeoutMs: 500 }));
    await d.start();
    seed(db, 2000, { line: 'L1', batches: 3 });
    d.notify();
    await waitUntil(() => countOutbox(db, 'plant').delivered > 200, 20_000, 'delivery under way');
    await proxy.cut(); // mid-delivery: open transactions are reset
    seed(db, 1000, { line: 'L1', batches: 3 });
    d.notify();
    const st = await waitUntil(() => {
      const s = d.stats()[0]!;
      return s.lastError?.code === 'LG_ERR_SINK_UNREACHABLE' && s.backlog > 0 ? s : undefined;
    }, 20_000, 'the outage on stats');
    expect(st.kind).toBe('postgres');
    expect(st.quarantined).toBe(0);
    await proxy.start(); // same port
    await waitUntil(() => countOutbox(db, 'plant').delivered === 3000, 30_000, 'all delivered after the outage');
    expect(countOutbox(db, 'plant').quarantined).toBe(0);
    const s = await plantState(pgdb);
    expect(s.count).toBe(3000);
    expect(s.orderViolations).toBe(0);
    const expected = expectedConsumedPerLot(db);
    for (const b of s.balances) expect(Number(b.consumed)).toBe(expected.get(b.lot));
  }, 90_000);

  it('16.1 kill -9 of the delivering process, five times: the plant store has every record exactly once and every consumption once', async () => {
    const pgdb = await database();
    const path = join(tmp(), 'j.sqlite');
    const db = openDatabase(path, { synchronous: 'FULL' });
    seed(db, 6000, { line: 'L1', batches: 4 });
    const expected = expectedConsumedPerLot(db);
    db.close();
    const args = ['--db', path, '--pg', pgdb.url, '--schema', 'plant1', '--max-records', '50'];
    let before = 0;
    for (let i = 0; i < 5; i++) {
      const { child } = await spawnNode('bench/plant-worker.js', args);
      cleanups.push(() => killChild(child));
      // Killed while it is delivering: wait until the store grew, then kill -9.
      await waitUntil(async () => {
        const rows = await pgdb.query<{ n: string }>(`SELECT COUNT(*) AS n FROM plant1.records`).catch(() => [{ n: '0' }]);
        return Number(rows[0]!.n) > before;
      }, 20_000, 'progress');
      await killChild(child, 'SIGKILL');
      const rows = await pgdb.query<{ n: string }>(`SELECT COUNT(*) AS n FROM plant1.records`);
      before = Number(rows[0]!.n);
    }
    expect(before).toBeLessThan(6000);
    const { child, lines } = await spawnNode('bench/plant-worker.js', [...args, '--exit-when-drained']);
    cleanups.push(() => killChild(child));
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    expect(lines.some((l) => l.includes('"drained"'))).toBe(true);
    const s = await plantState(pgdb);
    expect(s.count).toBe(6000);
    expect(s.distinct).toBe(6000);
    expect(s.orderViolations).toBe(0);
    for (const b of s.balances) expect(Number(b.consumed)).toBe(expected.get(b.lot));
    const db2 = openDatabase(path, { synchronous: 'FULL' });
    expect(countOutbox(db2, 'plant')).toEqual({ pending: 0, delivered: 6000, quarantined: 0 });
    db2.close();
  }, 120_000);

  it('16.1 a payload carrying NUL (serial garbage) is stored: the event verbatim, the payload queryable', async () => {
    const pgdb = await database();
    const db = openDatabase(join(tmp(), 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => void db.close());
    seed(db, 3, { line: 'L1', batches: 1, payload: (i) => (i === 1 ? { raw: 'A\u0000B\\u0000C' } : { i }) });
    const d = new Dispatcher(db, [new PostgresSink(pgSinkConfig(pgdb.url))], { gatewayId: 'gw1', pollMs: 100 });
    cleanups.push(() => d.stop());
    await d.start();
    await waitUntil(() => countOutbox(db, 'plant').delivered === 3, 20_000, 'delivered');
    const [row] = await pgdb.query<{ raw: string; event: string }>(`SELECT payload->>'raw' AS raw, event::text AS event FROM plant1.records WHERE seq = 2`);
    expect(JSON.parse(row!.event).data.payload.raw).toBe('A\u0000B\\u0000C');
    expect(row!.raw).toBe('A\\u0000B\\u0000C');
  }, 30_000);

  it('16.1 a consumption whose quantity cannot be projected is stored with projection_error; the rest of its group is still projected', async () => {
    const pgdb = await database();
    const db = openDatabase(join(tmp(), 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => void db.close());
    // Records 1, 4, 7, … are consumptions of 1.5 kg; record 4 carries a quantity that is not a number.
    seed(db, 30, { line: 'L1', batches: 1, payload: (i) => (i % 3 === 1 ? { material: 'RM-1', quantity: i === 4 ? 'twelve' : '1.5', quantityUnit: 'kg' } : { i }) });
    const d = new Dispatcher(db, [new PostgresSink(pgSinkConfig(pgdb.url))], { gatewayId: 'gw1', pollMs: 100 });
    cleanups.push(() => d.stop());
    await d.start();
    await waitUntil(() => countOutbox(db, 'plant').delivered === 30, 20_000, 'delivered');
    expect(countOutbox(db, 'plant').quarantined).toBe(0);
    const bad = await pgdb.query<{ seq: string; projection_error: string }>(`SELECT seq, projection_error FROM plant1.records WHERE projection_error IS NOT NULL`);
    expect(bad.map((b) => Number(b.seq))).toEqual([5]);
    expect(bad[0]!.projection_error).toContain('SQLSTATE 22P02');
    const [sum] = await pgdb.query<{ consumed: string; additions: string }>(`SELECT sum(consumed)::float8 AS consumed FROM plant1.lot_balances`);
    const [edges] = await pgdb.query<{ additions: string }>(`SELECT sum(additions) AS additions FROM plant1.edges WHERE kind = 'consumed'`);
    expect(Number(sum!.consumed)).toBe(9 * 1.5);
    expect(Number(edges!.additions)).toBe(9);
  }, 30_000);

  it('16.1 the schema is created once by concurrent gateways, versioned; a newer schema is refused with LG_ERR_PLANT_SCHEMA_NEWER and nothing is quarantined', async () => {
    const pgdb = await database();
    const dbs = [0, 1, 2].map(() => {
      const db = openDatabase(join(tmp(), 'j.sqlite'), { synchronous: 'NORMAL' });
      cleanups.push(() => void db.close());
      return db;
    });
    const ds = dbs.map((db, i) => {
      seed(db, 100, { line: `L${i + 1}`, batches: 2 });
      return new Dispatcher(db, [new PostgresSink(pgSinkConfig(pgdb.url))], { gatewayId: `gw${i + 1}`, pollMs: 100 });
    });
    for (const d of ds) cleanups.push(() => d.stop());
    await Promise.all(ds.map((d) => d.start()));
    await waitUntil(() => dbs.every((db) => countOutbox(db, 'plant').delivered === 100), 30_000, 'all delivered');
    const versions = await pgdb.query<{ version: number }>(`SELECT version FROM plant1.schema_migrations`);
    expect(versions.map((v) => v.version)).toEqual([1]);
    const lines = await pgdb.query<{ line: string; n: string }>(`SELECT line, COUNT(*) AS n FROM plant1.records GROUP BY line ORDER BY line`);
    expect(lines).toEqual([{ line: 'L1', n: '100' }, { line: 'L2', n: '100' }, { line: 'L3', n: '100' }]);

    // A newer linegate migrated the plant schema: this one must not write with old assumptions.
    await pgdb.query(`INSERT INTO plant1.schema_migrations (version, name) VALUES (99, 'from the future')`);
    const db = openDatabase(join(tmp(), 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => void db.close());
    seed(db, 10, { line: 'L4', batches: 1 });
    const d = new Dispatcher(db, [new PostgresSink(pgSinkConfig(pgdb.url))], { gatewayId: 'gw4', pollMs: 100 });
    cleanups.push(() => d.stop());
    await d.start();
    const st = await waitUntil(() => {
      const s = d.stats()[0]!;
      return s.lastError ? s : undefined;
    }, 20_000, 'the refusal on stats');
    expect(st.lastError!.code).toBe('LG_ERR_SINK_UNREACHABLE');
    expect(st.lastError!.message).toContain('LG_ERR_PLANT_SCHEMA_NEWER');
    expect(countOutbox(db, 'plant')).toEqual({ pending: 10, delivered: 0, quarantined: 0 });
  }, 60_000);
});
