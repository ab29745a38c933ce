import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { Journal, rowToRecord } from '../../../src/store/journal.js';
import { ManualClock } from '../../../src/util/clock.js';
import { LgError } from '../../../src/errors.js';

describe('Journal', () => {
  let db: Db;
  afterEach(() => db?.close());

  function make(sinks = ['erp', 'uns']): Journal {
    db = openDatabase(':memory:');
    return new Journal(db, { site: 'S1', line: 'L1', sinks, clock: new ManualClock('2026-11-22T08:00:00Z', false) });
  }

  it('groups concurrent appends into one transaction and gives each a seq, id and outbox rows', async () => {
    const j = make();
    const recs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => j.append({ type: 'test.x', status: 'accepted', station: 'A', payload: { i } })),
    );
    expect(j.stats.groups).toBe(1);
    expect(new Set(recs.map((r) => r.seq)).size).toBe(50);
    expect(new Set(recs.map((r) => r.id)).size).toBe(50);
    expect(recs.map((r) => r.seq)).toEqual([...recs.map((r) => r.seq)].sort((a, b) => a - b));
    expect(recs[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(recs[0]!.clockSynced).toBe(false);
    expect(db.prepare('SELECT COUNT(*) c FROM outbox').get()).toEqual({ c: 100 });
    const stored = rowToRecord(db.prepare('SELECT * FROM records WHERE seq = ?').get(recs[7]!.seq) as Record<string, unknown>);
    expect(stored).toEqual(recs[7]);
  });

  it('rolls back only the failing item of a group; the others commit', async () => {
    const j = make([]);
    const ok1 = j.append({ type: 'a', status: 'accepted', payload: {} });
    const bad = j.submit((tx) => {
      tx.append({ type: 'b', status: 'accepted', payload: {} });
      throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: 'X' });
    });
    const ok2 = j.append({ type: 'c', status: 'accepted', payload: {} });
    await expect(bad).rejects.toMatchObject({ code: 'LG_ERR_BATCH_NOT_FOUND' });
    await Promise.all([ok1, ok2]);
    const types = (db.prepare('SELECT type FROM records ORDER BY seq').all() as Array<{ type: string }>).map((r) => r.type);
    expect(types).toEqual(['a', 'c']);
  });

  describe('submitLatest (a device state document: only the latest of a group is written)', () => {
    const state = (j: Journal, v: string, ran: string[]) =>
      j.submitLatest('dev:s1', (tx) => {
        ran.push(v);
        tx.db.prepare('INSERT INTO device_state (device, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (device, key) DO UPDATE SET value = excluded.value').run('s1', 'k', JSON.stringify(v), tx.now.toISOString());
        return v;
      });
    const stored = () => { const r = db.prepare("SELECT value FROM device_state WHERE device = 's1'").get() as { value: string } | undefined; return r ? JSON.parse(r.value) : undefined; };

    it('superseded submissions run nothing and resolve with the latest one; records in between commit with it', async () => {
      const j = make([]);
      const ran: string[] = [];
      const got = await Promise.all([state(j, 'a', ran), j.append({ type: 'r1', status: 'accepted', payload: {} }), state(j, 'b', ran), state(j, 'c', ran)]);
      expect(ran).toEqual(['c']);
      expect([got[0], got[2], got[3]]).toEqual(['c', 'c', 'c']);
      expect(stored()).toBe('c');
      expect(j.stats.groups).toBe(1);
    });

    it('nothing moves between groups: a state runs in the group it was submitted into, with the records before it', async () => {
      db = openDatabase(':memory:');
      const j = new Journal(db, { site: 'S1', line: 'L1', sinks: [], clock: new ManualClock('2026-11-22T08:00:00Z', false), maxGroup: 2 });
      const ran: string[] = [];
      const order: string[] = [];
      const track = <T>(name: string, p: Promise<T>) => p.then((v) => (order.push(name), v));
      // Queue: r1, s(a), r2, s(b) → groups [r1, a] and [r2, b]: both states run, each with its record.
      const got = await Promise.all([
        track('r1', j.append({ type: 'r1', status: 'accepted', payload: {} })),
        track('a', state(j, 'a', ran)),
        track('r2', j.append({ type: 'r2', status: 'accepted', payload: {} })),
        track('b', state(j, 'b', ran)),
      ]);
      expect(ran).toEqual(['a', 'b']);
      expect([got[1], got[3]]).toEqual(['a', 'b']);
      expect(j.stats.groups).toBe(2);
      expect(order).toEqual(['r1', 'a', 'r2', 'b']);
    });

    it('once a group is being committed, a new submission is queued anew (both run)', async () => {
      const j = make([]);
      const ran: string[] = [];
      const first = state(j, 'a', ran);
      await first;
      await state(j, 'b', ran);
      expect(ran).toEqual(['a', 'b']);
      expect(stored()).toBe('b');
    });

    it('when the latest fails, every superseded caller is told so', async () => {
      const j = make([]);
      const a = state(j, 'a', []);
      const bad = j.submitLatest('dev:s1', () => {
        throw new LgError('LG_ERR_STORE_WRITE_FAILED', { detail: 'test' });
      });
      await expect(bad).rejects.toMatchObject({ code: 'LG_ERR_STORE_WRITE_FAILED' });
      await expect(a).rejects.toMatchObject({ code: 'LG_ERR_STORE_WRITE_FAILED' });
      expect(stored()).toBeUndefined();
    });
  });

  it('tells listeners only about committed records', async () => {
    const j = make([]);
    const seen: string[] = [];
    j.onCommitted((rs) => seen.push(...rs.map((r) => r.type)));
    await Promise.allSettled([
      j.append({ type: 'a', status: 'accepted', payload: {} }),
      j.submit((tx) => {
        tx.append({ type: 'gone', status: 'accepted', payload: {} });
        throw new Error('boom');
      }),
    ]);
    expect(seen).toEqual(['a']);
  });

  it('rejects every waiter when the commit itself fails, and nothing is stored', async () => {
    const j = make([]);
    // A CHECK violation inside the outer transaction would roll back only the item; make COMMIT fail instead
    // by closing the database under the journal.
    db.close();
    await expect(j.append({ type: 'a', status: 'accepted', payload: {} })).rejects.toMatchObject({ code: 'LG_ERR_STORE_WRITE_FAILED' });
    db = openDatabase(':memory:');
  });

  it('refuses work after close, having committed what was queued', async () => {
    const j = make([]);
    const p = j.append({ type: 'a', status: 'accepted', payload: {} });
    await j.close();
    await expect(p).resolves.toMatchObject({ type: 'a' });
    await expect(j.append({ type: 'b', status: 'accepted', payload: {} })).rejects.toMatchObject({ code: 'LG_ERR_STORE_CLOSED' });
  });

  it('chains audit entries by hash', async () => {
    const j = make([]);
    await j.submit((tx) => {
      tx.audit({ actor: 'u1', action: 'create', entity: 'batch', entityId: 'B1', new: { a: 1 } });
      tx.audit({ actor: 'u1', action: 'update', entity: 'batch', entityId: 'B1', old: { a: 1 }, new: { a: 2 }, reason: 'fix' });
    });
    const rows = db.prepare('SELECT seq, prev_hash, hash FROM audit ORDER BY seq').all() as Array<{ seq: number; prev_hash: string; hash: string }>;
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
  });
});
