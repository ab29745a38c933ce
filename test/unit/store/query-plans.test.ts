import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { Repo, auditQuery, lotsQuery, prefixRange, recordsQuery, supplierLotQuery, type Query, type RecordFilter } from '../../../src/store/repo.js';

/**
 * Issue 18, "queries that stay flat": every documented filter of GET /records, GET /lots,
 * GET /audit and the recall by supplier lot is answered through an index, never by walking the
 * whole table. The plans are those of the exact statements the API runs (built by the repo).
 *
 * An unfiltered page (no WHERE at all) is the one exception: it reads the table in key order and
 * stops at the page size, which SQLite reports as SCAN; it is not a filter.
 */
function plan(db: Db, q: Query): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.args) as Array<{ detail: string }>).map((r) => r.detail);
}

const FULL_SCAN = /^SCAN (records|lots|audit)\b/;

describe('18 queries that stay flat: EXPLAIN QUERY PLAN of each documented filter', () => {
  let db: Db;
  beforeAll(() => {
    db = openDatabase(':memory:');
  });
  afterAll(() => db.close());

  const recordFilters: Array<[string, Omit<RecordFilter, 'limit'>]> = [
    ['batch=', { batch: '20261122-001' }],
    ['lot=', { lot: 'L-1' }],
    ['station=', { station: 'WEIGH-1' }],
    ['device=', { device: 'line1.scale' }],
    ['status=rejected', { status: 'rejected' }],
    ['status=accepted', { status: 'accepted' }],
    ['errorCode=', { errorCode: 'LG_ERR_LOT_EXPIRED' }],
    ['type=', { type: 'lot.scanned' }],
    ['type=prefix*', { type: 'machine.*' }],
    ['from/to', { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' }],
    ['status= with a cursor, descending', { status: 'rejected', after: 1000, order: 'desc' }],
    ['type=prefix* with a cursor', { type: 'lot.*', after: 1000 }],
    ['batch= and type=prefix*', { batch: 'B', type: 'material.*' }],
    ['status= and errorCode=', { status: 'rejected', errorCode: 'LG_ERR_LOT_EXPIRED' }],
    ['station= and status=', { station: 'S', status: 'rejected' }],
  ];
  for (const [name, f] of recordFilters) {
    it(`18 GET /records?${name} uses an index, no full scan of records`, () => {
      const p = plan(db, recordsQuery({ ...f, limit: 100 }));
      expect(p.some((d) => FULL_SCAN.test(d)), p.join(' | ')).toBe(false);
      expect(p.some((d) => /^SEARCH records/.test(d)), p.join(' | ')).toBe(true);
    });
  }

  it('18 a station page\'s records without process values (recent list, SSE replay) use the partial index', () => {
    for (const order of ['asc', 'desc'] as const) {
      const p = plan(db, recordsQuery({ station: 'WEIGH-1', notType: 'process.value', after: 10, order, limit: 12 }));
      expect(p.some((d) => /^SEARCH records USING (COVERING )?INDEX records_station_shown\b/.test(d)), p.join(' | ')).toBe(true);
    }
  });

  it('18 recall by supplier lot (with and without supplier, material) uses an index, no full scan of lots', () => {
    for (const f of [{ supplierLot: 'ACME-2611' }, { supplierLot: 'ACME-2611', supplier: 'Acme' }, { supplierLot: 'ACME-2611', material: 'RM-1001' }]) {
      const p = plan(db, supplierLotQuery(f));
      expect(p.some((d) => FULL_SCAN.test(d)), p.join(' | ')).toBe(false);
      expect(p.some((d) => /^SEARCH lots USING (COVERING )?INDEX/.test(d)), p.join(' | ')).toBe(true);
    }
  });

  it('18 GET /lots?status= and ?material= use an index, no full scan of lots', () => {
    for (const f of [{ status: 'on_hold' }, { material: 'RM-1001' }, { status: 'released', after: 'L-5' }]) {
      const p = plan(db, lotsQuery({ ...f, limit: 100 }));
      expect(p.some((d) => FULL_SCAN.test(d)), p.join(' | ')).toBe(false);
    }
  });

  it('18 GET /audit?entity=&entityId= (each, both, with a cursor) uses an index, no full scan of audit', () => {
    for (const f of [{ entity: 'lot' }, { entityId: 'L-1001-A' }, { entity: 'lot', entityId: 'L-1001-A' }, { entity: 'batch', after: 50 }]) {
      const p = plan(db, auditQuery({ ...f, limit: 100 }));
      expect(p.some((d) => FULL_SCAN.test(d)), p.join(' | ')).toBe(false);
      expect(p.some((d) => /^SEARCH audit USING (COVERING )?INDEX/.test(d)), p.join(' | ')).toBe(true);
    }
  });
});

describe('18 type=prefix* as a range: same answer as a prefix, literal, case-sensitive', () => {
  it('18 prefixRange bounds exactly the strings that start with the prefix', () => {
    const r = prefixRange('lot.')!;
    for (const s of ['lot.', 'lot.scanned', 'lot.\u{10FFFF}x']) expect(s >= r.from && s < r.to!, s).toBe(true);
    for (const s of ['lot', 'lot/', 'lots', 'LOT.scanned', 'lo', 'm']) expect(s >= r.from && s < r.to!, s).toBe(false);
    expect(prefixRange('')).toBeNull();
  });

  it('18 GET /records type=prefix* and errorCode= return the matching records, and only those', async () => {
    const db = openDatabase(':memory:');
    const journal = new Journal(db, { site: 'S', line: 'L1', sinks: [] });
    const types = ['lot.scanned', 'lot.override', 'lots.imported', 'LOT.upper', 'lot_x.y', 'label.queued', 'lot%.odd'];
    for (const [i, type] of types.entries()) {
      await journal.append({ type, status: i % 2 ? 'rejected' : 'accepted', errorCode: i % 2 ? (i === 1 ? 'LG_ERR_LOT_EXPIRED' : 'LG_ERR_LOT_ON_HOLD') : null, payload: { i } });
    }
    const repo = new Repo(db);
    expect(repo.listRecords({ type: 'lot.*', limit: 100 }).items.map((r) => r.type)).toEqual(['lot.scanned', 'lot.override']);
    // % and _ are literal characters of the prefix, not wildcards.
    expect(repo.listRecords({ type: 'lot%*', limit: 100 }).items.map((r) => r.type)).toEqual(['lot%.odd']);
    expect(repo.listRecords({ type: 'lot_*', limit: 100 }).items.map((r) => r.type)).toEqual(['lot_x.y']);
    expect(repo.listRecords({ errorCode: 'LG_ERR_LOT_EXPIRED', limit: 100 }).items.map((r) => r.type)).toEqual(['lot.override']);
    const page = repo.listRecords({ type: 'l*', limit: 2, order: 'desc' });
    expect(page.items.map((r) => r.type)).toEqual(['lot%.odd', 'label.queued']);
    expect(repo.listRecords({ type: 'l*', limit: 100, after: page.next!, order: 'desc' }).items.map((r) => r.type)).toEqual(['lot_x.y', 'lots.imported', 'lot.override', 'lot.scanned']);
    db.close();
  });
});
