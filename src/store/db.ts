import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
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
  const file = path !== ':memory:' && !opts.readonly;
  if (file) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Owner-only whatever the umask: created 0600 here, and SQLite creates its -wal and -shm files
    // with the database file's mode. Files from older versions are tightened on open.
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    restrictMode(path);
  }
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
  if (file) restrictMode(path);
  return db;
}

/** chmod 0600 the database and its -wal/-shm files where they exist (and we own them). */
function restrictMode(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch (err) {
      // Gone, or not ours (another user's file opened with group rights): nothing to tighten.
      if (!['ENOENT', 'EPERM'].includes(String((err as NodeJS.ErrnoException).code))) throw err;
    }
  }
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
