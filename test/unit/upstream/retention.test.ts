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
    const recs = seedRecords(db, 40, { sinks: ['erp', 'uns'] });
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
});
