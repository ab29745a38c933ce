import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { applyRetention, purgeDelivered } from '../../../src/upstream/retention.js';
import { seedRecords } from '../../integration/upstream/harness.js';

describe('retention', () => {
  let db: Db;
  beforeEach(() => {
    db = openDatabase(':memory:', { synchronous: 'NORMAL' });
  });
  afterEach(() => {
    db.close();
  });

  it('purges only old records delivered to every sink and not referenced elsewhere', () => {
    // Telemetry types: the delivery rules alone decide (a batch record is kept longer: see below).
    const recs = seedRecords(db, 40, { sinks: ['erp', 'uns'], types: ['counter.updated', 'machine.state_changed', 'weight.captured'] });
    // Records are append-only (no UPDATE), so instead of backdating them the cut-off is moved.
    expect(purgeDelivered(db, { before: new Date(Date.now() + 60_000) })).toBe(0); // nothing delivered yet
    const mark = db.prepare(`UPDATE outbox SET state = ?, delivered_at = ? WHERE sink = ? AND seq = ?`);
    const now = new Date().toISOString();
    for (const r of recs.slice(0, 20)) {
      mark.run('delivered', now, 'erp', r.seq);
      mark.run('delivered', now, 'uns', r.seq);
    }
    for (const r of recs.slice(20, 25)) mark.run('delivered', now, 'erp', r.seq); // uns still pending
    for (const r of recs.slice(25, 28)) {
      mark.run('delivered', now, 'erp', r.seq);
      mark.run('quarantined', null, 'uns', r.seq);
    }
    // Genealogy reference keeps record 0
    db.prepare(`INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, 'B', 'L', 'M', '1', 'kg', ?)`).run(recs[0]!.seq, now);
    expect(purgeDelivered(db, { before: new Date(Date.now() - 86_400_000) })).toBe(0); // too young
    expect(purgeDelivered(db, { before: new Date(Date.now() + 60_000), chunk: 7 })).toBe(19);
    const left = (db.prepare(`SELECT COUNT(*) AS n FROM records`).get() as { n: number }).n;
    expect(left).toBe(21);
    expect((db.prepare(`SELECT COUNT(*) AS n FROM outbox`).get() as { n: number }).n).toBe(42);
    expect(applyRetention(db, undefined)).toBe(0);
    expect(applyRetention(db, { deliveredDays: 1 }, new Date(Date.now() + 2 * 86_400_000))).toBe(0);
  });

  const iso = (d: string) => new Date(d).toISOString();
  function batchRow(number: string, status: string, completedAt: string | null) {
    db.prepare(`INSERT INTO batches (number, product, planned_qty, unit, line, status, completed_at, created_at, updated_at) VALUES (?, 'P', '1', 'pcs', 'L1', ?, ?, ?, ?)`).run(
      number, status, completedAt, '2026-01-01T00:00:00.000Z', completedAt ?? '2026-01-01T00:00:00.000Z',
    );
  }
  function record(type: string, batch: string | null, lot: string | null = null): number {
    const seq = Number(
      db.prepare(`INSERT INTO records (id, type, status, site, batch, lot, payload, received_at, clock_synced) VALUES (?, ?, 'accepted', 'S', ?, ?, '{}', ?, 1)`)
        .run(`${type}-${batch}-${lot}-${Math.random()}`, type, batch, lot, '2026-01-01T00:00:00.000Z').lastInsertRowid,
    );
    db.prepare(`INSERT INTO outbox (sink, seq, state, delivered_at) VALUES ('erp', ?, 'delivered', ?)`).run(seq, '2026-01-01T00:00:00.000Z');
    return seq;
  }
  const alive = (seq: number) => !!db.prepare('SELECT 1 FROM records WHERE seq = ?').get(seq);
  const purge = (now: string, years?: number) => purgeDelivered(db, { before: new Date(Date.parse(now) - 86_400_000), now: new Date(now), batchRecordYears: years });

  it('10.8 a batch record without an expiry is kept batchRecordYears past its completion; telemetry of the same batch goes after deliveredDays', () => {
    batchRow('B1', 'released', '2026-03-01T10:00:00.000Z');
    const status = record('batch.status_changed', 'B1');
    const refused = record('lot.scanned', 'B1', 'L-X');
    const counter = record('counter.updated', 'B1');
    expect(purge('2026-06-01T00:00:00Z')).toBe(1);
    expect([alive(status), alive(refused), alive(counter)]).toEqual([true, true, false]);
    expect(purge('2031-02-28T00:00:00Z')).toBe(0); // within 5 years of completion
    expect(purge('2031-03-02T00:00:00Z')).toBe(2);
  });

  it('10.8 the horizon is configurable, and an open batch has none (kept whatever its age)', () => {
    batchRow('B2', 'rejected', null); // rejected without completion: counted from the rejection (updated_at)
    batchRow('B3', 'completed', '2026-01-02T00:00:00.000Z'); // awaiting QA release: open
    const rejected = record('batch.status_changed', 'B2');
    const waiting = record('batch.status_changed', 'B3');
    expect(purge('2027-06-01T00:00:00Z', 1)).toBe(1);
    expect([alive(rejected), alive(waiting)]).toEqual([false, true]);
    expect(purge('2300-01-01T00:00:00Z', 1)).toBe(0);
    expect(() => purge('2027-01-01T00:00:00Z', 0)).toThrow(RangeError);
  });

  it('10.8 a lot record without a batch is kept as long as the latest batch that consumed or produced the lot, and past its own expiry', () => {
    batchRow('B4', 'released', '2026-02-01T00:00:00.000Z');
    batchRow('B5', 'in_process', null);
    const ins = db.prepare(`INSERT INTO lots (id, material, expiry, status, quantity, unit, produced_by, created_at, updated_at) VALUES (?, 'M', ?, 'released', '1', 'kg', ?, ?, ?)`);
    db.prepare(`INSERT INTO materials (code, name, unit, tracking, created_at, updated_at) VALUES ('M', 'M', 'kg', 'lot', ?, ?)`).run(iso('2026-01-01'), iso('2026-01-01'));
    ins.run('RAW-1', '2026-06-30', null, iso('2026-01-01'), iso('2026-01-01'));
    ins.run('RAW-2', '2026-06-30', null, iso('2026-01-01'), iso('2026-01-01'));
    ins.run('FG-4', '2028-12-31', 'B4', iso('2026-02-01'), iso('2026-02-01'));
    const consumption = record('material.consumed', 'B4', 'RAW-1');
    db.prepare(`INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, 'B4', 'RAW-1', 'M', '1', 'kg', ?)`).run(consumption, iso('2026-01-15'));
    const c5 = record('material.consumed', 'B5', 'RAW-2');
    db.prepare(`INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, 'B5', 'RAW-2', 'M', '1', 'kg', ?)`).run(c5, iso('2026-01-15'));
    const raw1 = record('lot.status_changed', null, 'RAW-1'); // QA released the raw lot
    const raw2 = record('lot.status_changed', null, 'RAW-2'); // consumed by an open batch
    const fg = record('lot.created', null, 'FG-4');
    // B4's horizon: 5 years past its finished lot's expiry (2028-12-31) = 2034-01-01; RAW-1's own would be 2031-07-01.
    purge('2033-12-30T00:00:00Z');
    expect([alive(raw1), alive(raw2), alive(fg)]).toEqual([true, true, true]);
    purge('2034-01-02T00:00:00Z');
    expect([alive(raw1), alive(raw2), alive(fg), alive(consumption)]).toEqual([false, true, false, true]);
  });

  it('10.8 a purge is linear in the journal: outbox lookups by seq use an index (20,000 records took 215 s before, quadratic)', () => {
    for (const sql of [`SELECT 1 FROM outbox WHERE seq = 1`, `SELECT 1 FROM outbox WHERE seq = 1 AND state <> 'delivered'`]) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan).toMatch(/USING (COVERING )?INDEX outbox_seq/);
    }
    seedRecords(db, 10_000, { sinks: ['erp', 'uns'], types: ['counter.updated', 'lot.scanned'] });
    db.prepare(`UPDATE outbox SET state = 'delivered'`).run();
    const t0 = Date.now();
    expect(purgeDelivered(db, { before: new Date(Date.now() + 60_000) })).toBe(5_000); // the counters; the scans are batch record
    expect(Date.now() - t0).toBeLessThan(20_000); // ~0.3 s here; the quadratic purge needed ~50 s for this
  }, 60_000);
});
