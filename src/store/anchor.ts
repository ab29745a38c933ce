/**
 * Audit chain anchoring (issue 13, SOP 6): the hash chain in the `audit` table proves that no entry
 * was edited or removed from the middle, but not that the newest entries were not cut off — a
 * truncated chain is still a valid chain. So the gateway signs a **checkpoint** of the chain's head
 * (sequence, hash, time) with its own Ed25519 key, at an interval and whenever something is signed:
 *
 * - appended as one JSON line to `audit-checkpoints.jsonl` beside the journal (append-only, fsynced);
 * - journaled as an `audit.checkpoint` record, so every upstream sink (the ERP, the plant broker)
 *   receives a copy that nobody on the line PC can take back.
 *
 * `linegate audit verify` checks the chain against every checkpoint it has (the file, or a copy of
 * checkpoints exported from upstream): a checkpoint whose entry is missing names a truncation or a
 * deletion, one whose hash differs names an edit. The public key is shown by `GET /audit/public-key`
 * and `linegate audit key`; give it to QA once, and they can verify a journal offline.
 *
 * Key material: `audit-key.pem` (PKCS#8, mode 0600) in the state folder, created on first start.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.js';
import type { Journal } from './journal.js';

export const CHECKPOINT_FILE = 'audit-checkpoints.jsonl';
export const KEY_FILE = 'audit-key.pem';

export interface Checkpoint {
  v: 1;
  gatewayId: string;
  /** Sequence of the newest audit entry covered. */
  seq: number;
  /** Its hash (the chain's head). */
  hash: string;
  at: string;
  /** Why it was taken: interval, signature, stop, start. */
  reason: string;
  /** Ed25519 signature (base64) over `canonicalCheckpoint()`. */
  sig: string;
}

/** The exact bytes that are signed. */
export function canonicalCheckpoint(c: Omit<Checkpoint, 'sig'>): Buffer {
  return Buffer.from(JSON.stringify(['linegate-audit-checkpoint', c.v, c.gatewayId, c.seq, c.hash, c.at, c.reason]), 'utf8');
}

export function keyFingerprint(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Load the gateway's signing key, creating it (0600) on first use. */
export function loadOrCreateKey(stateDir: string): { privateKey: KeyObject; publicKey: KeyObject } {
  const file = join(stateDir, KEY_FILE);
  if (existsSync(file)) {
    const privateKey = createPrivateKey(readFileSync(file));
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { privateKey, publicKey };
}

/** The public key of a state folder (for `linegate audit key`), or null when none was created yet. */
export function readPublicKey(stateDir: string): KeyObject | null {
  const file = join(stateDir, KEY_FILE);
  return existsSync(file) ? createPublicKey(createPrivateKey(readFileSync(file))) : null;
}

export class AuditAnchor {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  private readonly file: string;
  private last: { seq: number; hash: string } | null = null;
  private readonly head;

  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    stateDir: string,
    private readonly gatewayId: string,
  ) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = loadOrCreateKey(stateDir));
    this.file = join(stateDir, CHECKPOINT_FILE);
    this.head = db.prepare(`SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`);
    const cps = readCheckpoints(this.file);
    const newest = cps.reduce<Checkpoint | null>((m, c) => (!m || c.seq > m.seq ? c : m), null);
    if (newest) this.last = { seq: newest.seq, hash: newest.hash };
  }

  get publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  get fingerprint(): string {
    return keyFingerprint(this.publicKey);
  }

  get checkpointFile(): string {
    return this.file;
  }

  /**
   * Sign the current head. Skipped (null) when the head has not moved since the last checkpoint,
   * unless `force`. The record is committed before the file line is written, so a checkpoint in the
   * file always has its upstream copy.
   */
  async checkpoint(reason: string, force = false): Promise<Checkpoint | null> {
    const cp = await this.journal.submit((tx) => {
      const h = this.head.get() as { seq: number; hash: string } | undefined;
      if (!h) return null;
      if (!force && this.last && this.last.seq === h.seq && this.last.hash === h.hash) return null;
      const body: Omit<Checkpoint, 'sig'> = { v: 1, gatewayId: this.gatewayId, seq: h.seq, hash: h.hash, at: tx.now.toISOString(), reason };
      const c: Checkpoint = { ...body, sig: sign(null, canonicalCheckpoint(body), this.privateKey).toString('base64') };
      tx.append({ type: 'audit.checkpoint', status: 'accepted', payload: { ...c, keyFingerprint: this.fingerprint } });
      return c;
    });
    if (!cp) return null;
    appendLine(this.file, JSON.stringify(cp));
    this.last = { seq: cp.seq, hash: cp.hash };
    return cp;
  }
}

function appendLine(file: string, line: string): void {
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, line + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every checkpoint line of a file (unparseable lines are returned as errors by `verifyCheckpoints`). */
export function readCheckpoints(file: string): Checkpoint[] {
  if (!existsSync(file)) return [];
  const out: Checkpoint[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Checkpoint);
    } catch {
      out.push({ v: 1, gatewayId: '', seq: -1, hash: '', at: '', reason: 'unparseable line', sig: '' });
    }
  }
  return out;
}

export interface AnchorVerification {
  ok: boolean;
  checkpoints: number;
  /** The newest checkpoint that verified (signature and chain). */
  newest: { seq: number; at: string } | null;
  problem: { seq: number; reason: string } | null;
}

/**
 * Check the audit table against signed checkpoints: each signature with `publicKey`, then that the
 * entry it names exists with the same hash. Run after the chain itself verified (verifyAudit).
 */
export function verifyCheckpoints(db: Db, checkpoints: Checkpoint[], publicKey: KeyObject | null): AnchorVerification {
  const entry = db.prepare(`SELECT hash FROM audit WHERE seq = ?`);
  const maxSeq = (db.prepare(`SELECT COALESCE(MAX(seq), 0) AS n FROM audit`).get() as { n: number }).n;
  let newest: { seq: number; at: string } | null = null;
  for (const [i, c] of checkpoints.entries()) {
    if (c.seq < 0 || typeof c.sig !== 'string' || c.sig === '') return { ok: false, checkpoints: i, newest, problem: { seq: c.seq, reason: `checkpoint line ${i + 1} is unreadable` } };
    if (publicKey) {
      const { sig, ...body } = c;
      let good = false;
      try {
        good = verify(null, canonicalCheckpoint(body), publicKey, Buffer.from(sig, 'base64'));
      } catch {
        good = false;
      }
      if (!good) return { ok: false, checkpoints: i, newest, problem: { seq: c.seq, reason: `checkpoint line ${i + 1} (${c.at}) has an invalid signature for this gateway's key` } };
    }
    if (c.seq > maxSeq) {
      return {
        ok: false,
        checkpoints: i,
        newest,
        problem: {
          seq: maxSeq + 1,
          reason: `the trail ends at entry ${maxSeq}, but the checkpoint signed at ${c.at} covers entries up to ${c.seq}: entries ${maxSeq + 1}–${c.seq} were removed (truncation)`,
        },
      };
    }
    const row = entry.get(c.seq) as { hash: string } | undefined;
    if (!row) return { ok: false, checkpoints: i, newest, problem: { seq: c.seq, reason: `entry ${c.seq}, signed in the checkpoint of ${c.at}, is missing (deleted)` } };
    if (row.hash !== c.hash) {
      return { ok: false, checkpoints: i, newest, problem: { seq: c.seq, reason: `entry ${c.seq} differs from the checkpoint signed at ${c.at} (the trail was rewritten from here or earlier)` } };
    }
    if (!newest || c.seq >= newest.seq) newest = { seq: c.seq, at: c.at };
  }
  return { ok: true, checkpoints: checkpoints.length, newest, problem: null };
}
