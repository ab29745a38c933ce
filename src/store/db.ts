import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LgError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

export type Db = Database.Database;
export type Synchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

export interface OpenOptions {
  /**
   * better-sqlite3 is compiled with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1, so a WAL database silently
   * gets NORMAL unless told otherwise: we always set it explicitly. FULL (the default) fsyncs the
   * WAL on every commit — an acknowledged record survives a power cut, not only a crash.
   */
  synchronous?: Synchronous;
  readonly?: boolean;
}

/** Open (creating if needed) the journal database, set pragmas, run pending migrations. */
export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: opts.readonly ?? false });
  // WAL is persistent in the file; a read-only handle cannot set it (a backup copy is in rollback
  // mode, and `audit verify --db backup.sqlite` must still read it).
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Keep the WAL from growing without bound under a steady write load.
  db.pragma('wal_autocheckpoint = 1000');
  if (!opts.readonly) migrate(db);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db): { from: number; to: number } {
  const from = schemaVersion(db);
  if (from > SCHEMA_VERSION) throw new LgError('LG_ERR_STORE_TOO_NEW', { found: from, supported: SCHEMA_VERSION });
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    try {
      db.transaction(() => {
        if (m.sql.trim()) db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      })();
    } catch (err) {
      throw new LgError('LG_ERR_STORE_MIGRATION', { version: m.version, detail: (err as Error).message }, { cause: err });
    }
  }
  return { from, to: SCHEMA_VERSION };
}
