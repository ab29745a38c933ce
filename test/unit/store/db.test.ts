import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from '../../../src/store/db.js';
import { SCHEMA_VERSION } from '../../../src/store/migrations.js';
import { tempDir } from '../../helpers/tmp.js';

describe('openDatabase', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));

  it('creates the schema, sets WAL and the synchronous level explicitly', () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const db = openDatabase(join(t.path, 'j.sqlite'), { synchronous: 'FULL' });
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    db.close();
    const again = openDatabase(join(t.path, 'j.sqlite'), { synchronous: 'NORMAL' });
    expect(again.pragma('synchronous', { simple: true })).toBe(1);
    again.close();
  });

  it('refuses to update or delete an undelivered record', () => {
    const db = openDatabase(':memory:');
    db.prepare(
      `INSERT INTO records (id,type,status,site,payload,received_at,clock_synced) VALUES ('a','t','accepted','S','{}','2026-01-01T00:00:00Z',1)`,
    ).run();
    db.prepare(`INSERT INTO outbox (sink, seq) VALUES ('erp', 1)`).run();
    expect(() => db.prepare(`UPDATE records SET type='x'`).run()).toThrow(/append-only/);
    expect(() => db.prepare(`DELETE FROM records`).run()).toThrow(/not yet delivered/);
    db.prepare(`UPDATE outbox SET state='delivered'`).run();
    expect(db.prepare(`DELETE FROM records`).run().changes).toBe(1);
    db.close();
  });
});
