import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { LgError } from '../errors.js';
import type { Db } from '../store/db.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { verifyAudit } from '../store/repo.js';

/**
 * Online backup and offline restore of the journal (issue 17).
 *
 * Backup uses SQLite's backup API (better-sqlite3 `db.backup`) from a connection of its own (it
 * only reads), so the daemon keeps committing while it runs. The copy is one consistent snapshot:
 * after a first small step the rest goes in a single step, inside one read transaction, so a
 * commit by the daemon cannot make it restart over and over under load. The copy is written to
 * FILE.partial, verified (PRAGMA integrity_check, the audit hash chain, schema version) and only
 * then renamed to FILE. Every record committed before the backup began is in it.
 *
 * Restore replaces <stateDir>/journal.sqlite with a verified backup, only while no linegate runs
 * on that state folder (the daemon holds <stateDir>/linegate.pid; a stale file of a dead process
 * does not count). The journal it replaces is kept as journal.sqlite.before-restore-<time>.
 * Records delivered upstream after the backup was taken are pending again in the restored outbox
 * and are sent again with the same record ids (CloudEvent `id`): receivers deduplicate by id, so
 * nothing is booked twice. Records acknowledged after the backup are NOT in the restored journal
 * (they may exist only at the receivers): restore the newest backup.
 */

export const JOURNAL_FILE = 'journal.sqlite';
export const LOCK_FILE = 'linegate.pid';

export interface BackupResult {
  file: string;
  bytes: number;
  records: number;
  lastSeq: number;
  auditEntries: number;
  schemaVersion: number;
  ms: number;
}

/** Verify a journal file: integrity_check, audit chain, schema not newer than this build. */
export function verifyJournalFile(file: string): Omit<BackupResult, 'file' | 'ms'> {
  if (!existsSync(file)) throw new LgError('LG_ERR_BACKUP_INVALID', { file, detail: 'no such file' });
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new LgError('LG_ERR_BACKUP_INVALID', { file, detail: (err as Error).message });
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
    const bad = integrity.map((r) => r.integrity_check).filter((v) => v !== 'ok');
    if (bad.length) throw new LgError('LG_ERR_BACKUP_INVALID', { file, detail: `integrity_check: ${bad.slice(0, 3).join('; ')}` });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new LgError('LG_ERR_STORE_TOO_NEW', { found: version, supported: SCHEMA_VERSION });
    const audit = verifyAudit(db);
    if (!audit.ok) throw new LgError('LG_ERR_BACKUP_INVALID', { file, detail: `audit chain broken at entry ${audit.firstBroken!.seq}: ${audit.firstBroken!.reason}` });
    const r = db.prepare('SELECT count(*) AS n, coalesce(max(seq),0) AS last FROM records').get() as { n: number; last: number };
    return { bytes: statSync(file).size, records: r.n, lastSeq: r.last, auditEntries: audit.checked, schemaVersion: version };
  } catch (err) {
    if (err instanceof LgError) throw err;
    throw new LgError('LG_ERR_BACKUP_INVALID', { file, detail: (err as Error).message });
  } finally {
    db.close();
  }
}

/** Online backup of the journal at `source` (a path, opened read-only) to `target`. */
export async function backupJournal(source: string, target: string): Promise<BackupResult> {
  const t0 = Date.now();
  const out = resolve(target);
  const partial = `${out}.partial`;
  try {
    mkdirSync(dirname(out), { recursive: true });
    rmSync(partial, { force: true });
  } catch (err) {
    throw new LgError('LG_ERR_BACKUP_FAILED', { file: out, detail: (err as Error).message });
  }
  if (!existsSync(source)) throw new LgError('LG_ERR_BACKUP_FAILED', { file: out, detail: `no journal at ${source}` });
  // Read-write handle, never written through: a read-only one fails ("attempt to write a readonly
  // database") when the daemon checkpoints the WAL during the copy.
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // First step: 100 pages (the default); then everything at once, in one read transaction.
    await db.backup(partial, { progress: () => 1 << 30 });
  } catch (err) {
    rmSync(partial, { force: true });
    throw new LgError('LG_ERR_BACKUP_FAILED', { file: out, detail: (err as Error).message });
  } finally {
    db.close();
  }
  let v: Omit<BackupResult, 'file' | 'ms'>;
  try {
    // A backup copies the database as one file in rollback mode: no -wal beside it is needed.
    const fix = new Database(partial);
    fix.pragma('journal_mode = DELETE');
    fix.close();
    v = verifyJournalFile(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  renameSync(partial, out);
  return { file: out, ...v, ms: Date.now() - t0 };
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** The daemon's claim on its state folder (removed at a clean stop; a stale one is ignored). */
export function writeLock(stateDir: string): () => void {
  const file = join(stateDir, LOCK_FILE);
  writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }) + '\n', { mode: 0o640 });
  return () => {
    try {
      const cur = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      if (cur.pid === process.pid) unlinkSync(file);
    } catch {
      /* gone already */
    }
  };
}

/** The live daemon holding the state folder, or null. */
export function runningDaemon(stateDir: string): LockInfo | null {
  const file = join(stateDir, LOCK_FILE);
  if (!existsSync(file)) return null;
  let info: LockInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
  if (info.host && info.host !== hostname()) return info; // another machine on a shared folder: assume it runs
  try {
    process.kill(info.pid, 0);
    return info;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? info : null;
  }
}

/** Replace the state folder's journal with a verified backup; refused while linegate runs. */
export function restoreJournal(stateDir: string, backup: string, now = new Date()): { replaced: string | null; restored: Omit<BackupResult, 'file' | 'ms'> } {
  const running = runningDaemon(stateDir);
  if (running) throw new LgError('LG_ERR_RESTORE_RUNNING', { stateDir, pid: running.pid });
  const restored = verifyJournalFile(backup);
  const target = join(stateDir, JOURNAL_FILE);
  mkdirSync(stateDir, { recursive: true });
  let replaced: string | null = null;
  if (existsSync(target)) {
    replaced = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    // Fold the WAL into the old journal first, so that what is kept aside is one complete file.
    try {
      const old = new Database(target);
      old.pragma('wal_checkpoint(TRUNCATE)');
      old.close();
    } catch {
      /* a damaged journal is kept aside as it is, with its -wal */
    }
    renameSync(target, replaced);
    for (const ext of ['-wal', '-shm']) if (existsSync(target + ext)) renameSync(target + ext, replaced + ext);
  }
  copyFileSync(backup, `${target}.restoring`);
  renameSync(`${target}.restoring`, target);
  return { replaced, restored };
}

/** Scheduled backups: linegate-<time>.sqlite in `dir`, the newest `keep` kept. */
export function scheduledName(now: Date): string {
  return `linegate-${now.toISOString().replace(/[:.]/g, '-')}.sqlite`;
}

export function pruneBackups(dir: string, keep: number): string[] {
  const files = readdirSync(dir)
    .filter((f) => /^linegate-\d{4}-\d{2}-\d{2}T[\d-]+Z\.sqlite$/.test(f))
    .sort();
  const gone = files.slice(0, Math.max(0, files.length - keep));
  for (const f of gone) rmSync(join(dir, f), { force: true });
  return gone.map((f) => basename(f));
}
