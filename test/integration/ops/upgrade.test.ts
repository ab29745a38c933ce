import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion, type Db } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src/store/migrations.js';
import { verifyAudit } from '../../../src/store/repo.js';
import { isLgError } from '../../../src/errors.js';
import { runCli, writeConfig } from '../../helpers/daemon.js';
import { baseConfig, startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A journal as linegate at schema version `n` left it: the migrations up to n only, then data. */
async function journalAtVersion(file: string, n: number): Promise<void> {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  for (const m of MIGRATIONS.filter((x) => x.version <= n)) {
    db.transaction(() => {
      if (m.sql.trim()) db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  const now = new Date().toISOString();
  db.prepare("INSERT INTO materials (code,name,unit,tracking,created_at,updated_at) VALUES ('RM-1001','Sugar','kg','lot',?,?)").run(now, now);
  db.prepare("INSERT INTO lots (id,material,supplier_lot,expiry,status,quantity,unit,created_at,updated_at) VALUES ('L-1','RM-1001','ACME-1','2099-12-31','released','500.000','kg',?,?)").run(now, now);
  const journal = new Journal(db as Db, { site: 'PLANT1', line: 'L1', sinks: [] });
  for (let i = 0; i < 25; i++) {
    await journal.submit((tx) => {
      tx.append({ type: 'lot.scanned', status: i % 5 === 0 ? 'rejected' : 'accepted', errorCode: i % 5 === 0 ? 'LG_ERR_LOT_ON_HOLD' : null, station: 'WEIGH-1', lot: 'L-1', payload: { i, text: `v${n}-${i}` } });
      tx.audit({ actor: 'admin', action: 'test.write', entity: 'lot', entityId: 'L-1', reason: `at schema ${n}`, old: { i }, new: { i: i + 1 } });
    });
  }
  await journal.close();
  db.close();
}

const snapshot = (db: Db) => ({
  records: db.prepare('SELECT seq,id,type,status,error_code,station,lot,payload,received_at FROM records ORDER BY seq').all(),
  audit: db.prepare('SELECT seq,at,actor,action,entity,entity_id,reason,old_value,new_value,prev_hash,hash FROM audit ORDER BY seq').all(),
  lots: db.prepare('SELECT id,material,status,quantity,unit FROM lots ORDER BY id').all(),
});

describe('17 upgrades', () => {
  const earlier = MIGRATIONS.map((m) => m.version).filter((v) => v < SCHEMA_VERSION);

  it.each(earlier)('17 upgrade: a journal of schema %i goes through today\'s migrations with its records, audit trail and lots intact', async (n) => {
    const dir = tempDir(`linegate-up${n}-`);
    cleanups.push(dir.cleanup);
    const file = join(dir.path, 'journal.sqlite');
    await journalAtVersion(file, n);
    const before = (() => {
      const db = new Database(file, { readonly: true });
      try {
        expect(schemaVersion(db as Db)).toBe(n);
        return snapshot(db as Db);
      } finally {
        db.close();
      }
    })();
    expect(before.records).toHaveLength(25);

    const db = openDatabase(file);
    try {
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(snapshot(db)).toEqual(before);
      expect(verifyAudit(db).ok).toBe(true);
    } finally {
      db.close();
    }
    // And today's gateway runs on it: the old records are served, new ones continue the sequence.
    const t = await startTestGateway({}, { stateDir: dir.path });
    cleanups.push(() => t.stop());
    const r = await t.call('GET', '/records?type=lot.scanned&limit=100');
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(25);
    const rec = await t.gw.ops.ingestScan('WEIGH-1', { raw: Buffer.from('JUNK'), device: 'test' });
    expect(rec.seq).toBeGreaterThan(25);
  }, 60_000);

  it('17 downgrade: a journal written by a newer linegate is refused with LG_ERR_STORE_TOO_NEW and left untouched', async () => {
    const dir = tempDir('linegate-down-');
    cleanups.push(dir.cleanup);
    const state = join(dir.path, 'state');
    const file = join(state, 'journal.sqlite');
    openDatabase(file).close();
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    let err: unknown = null;
    try {
      openDatabase(file).close();
    } catch (e) {
      err = e;
    }
    expect(isLgError(err) && err.code).toBe('LG_ERR_STORE_TOO_NEW');
    const cfg = writeConfig(dir.path, baseConfig(state));
    const r = await runCli(['run', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LG_ERR_STORE_TOO_NEW');
    expect(r.stderr).toContain(`schema ${SCHEMA_VERSION + 1} > ${SCHEMA_VERSION}`);
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    after.close();
  }, 60_000);
});
