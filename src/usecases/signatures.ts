/**
 * Electronic signatures per 21 CFR Part 11.
 *
 * - §11.200(a): every signing takes TWO components — the signer's user id and their signing secret
 *   (a password or a PIN, argon2id-hashed, independent of the bearer token the request carries).
 *   Both are asked at every signing, so "a later signing within one period of use needs at least
 *   the secret" holds trivially. The caller (a station kiosk, a QA desk) is recorded separately as
 *   `requestedBy`: the signer is identified by the two components, not by the token.
 * - §11.50: a signature carries the signer's printed name, the date and time, and its meaning,
 *   from a controlled vocabulary per action (MEANINGS).
 * - §11.70: it binds the SHA-256 of a canonical snapshot of what was signed (for a batch: its
 *   master data, bill of materials, every record and consumption up to the signing), so a later
 *   edit of that content is detected by `verify` (API and `linegate verify batch`).
 * - §11.300: secrets have a policy (length, digits for PINs, ageing; a secret set by an admin must be
 *   changed before use); failed attempts are counted, `maxFailedAttempts` in a row lock the user's
 *   signing and raise a `user.signing_locked` record (an alert upstream); unlocking is itself a
 *   signed admin action.
 *
 * A signature is a journal record (`signature.applied`), an audit entry and a row in `signatures`,
 * in the same transaction as the action it signs. Nothing about a secret is ever logged or audited
 * except that it was set, by whom, and when.
 */
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import type { JournalRecord } from '../binding/types.js';
import type { Role } from '../domain/batch.js';
import { contentHash } from '../domain/snapshot.js';
import { LgError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { Journal, TxContext } from '../store/journal.js';
import type { Clock } from '../util/clock.js';

export interface SigningPolicy {
  maxFailedAttempts: number;
  passwordMinLength: number;
  pinMinLength: number;
  maxAgeDays: number;
}

export const DEFAULT_SIGNING_POLICY: SigningPolicy = { maxFailedAttempts: 3, passwordMinLength: 10, pinMinLength: 6, maxAgeDays: 180 };

/** What a signature may mean, per action (§11.50(a)(3)). */
export const MEANINGS: Record<string, readonly string[]> = {
  'batch.release': ['released'],
  'batch.review': ['reviewed', 'approved'],
  'deviation.close': ['closed', 'approved'],
  'qc.approve': ['approved', 'reviewed'],
  'lot.override': ['approved'],
  'user.unlock': ['approved'],
  'record.review': ['reviewed', 'approved'],
};

/** The two components a person gives to sign. */
export interface SignatureInput {
  userId: string;
  secret: string;
  meaning: string;
  /** Optional free text shown with the signature ("Reviewed batch record incl. deviation D-…"). */
  statement?: string | null;
}

export interface VerifiedSigner {
  id: string;
  name: string;
  role: Role;
}

export interface SignatureView {
  id: string;
  recordSeq: number;
  entity: string;
  entityId: string;
  meaning: string;
  action: string;
  signer: string;
  signerName: string;
  signedAt: string;
  coveredSeq: number;
  contentHash: string;
}

export interface SignatureCheck extends SignatureView {
  ok: boolean;
  /** Why it does not verify (null when ok). */
  problem: string | null;
}

type Snapshotter = (db: Db, entityId: string, coveredSeq: number) => unknown;

/** Columns of a record that a snapshot binds (everything but delivery state). */
const RECORD_COLS = 'seq, id, type, status, error_code, message, station, batch, lot, operator, device, payload, source_time, received_at, clock_synced';

/** The batch record as of `coveredSeq`: master data, BOM, every record and consumption up to it. */
export function batchSnapshot(db: Db, number: string, coveredSeq: number): unknown {
  const b = db
    .prepare(`SELECT number, product, product_name, gtin, planned_qty, unit, line, work_order, planned_start, created_at FROM batches WHERE number = ?`)
    .get(number);
  if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
  return {
    kind: 'batch-record',
    v: 1,
    batch: b,
    bom: db.prepare(`SELECT material, quantity, unit, tolerance_pct FROM batch_bom WHERE batch = ? ORDER BY material`).all(number),
    records: db.prepare(`SELECT ${RECORD_COLS} FROM records WHERE batch = ? AND seq <= ? ORDER BY seq`).all(number, coveredSeq),
    consumptions: db.prepare(`SELECT record_seq, lot, material, quantity, unit, at FROM consumptions WHERE batch = ? AND record_seq <= ? ORDER BY record_seq`).all(number, coveredSeq),
  };
}

function recordSnapshot(db: Db, id: string): unknown {
  const r = db.prepare(`SELECT ${RECORD_COLS} FROM records WHERE id = ?`).get(id);
  if (!r) throw new LgError('LG_ERR_RECORD_NOT_FOUND', { id });
  return { kind: 'record', v: 1, record: r };
}

function userSnapshot(db: Db, id: string): unknown {
  const u = db.prepare(`SELECT id, name, role, disabled FROM users WHERE id = ?`).get(id);
  if (!u) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: id });
  return { kind: 'user', v: 1, user: u };
}

export class Signatures {
  private readonly snapshotters = new Map<string, Snapshotter>([
    ['batch', batchSnapshot],
    ['record', (db, id) => recordSnapshot(db, id)],
    ['user', (db, id) => userSnapshot(db, id)],
  ]);
  /** Called after a signature committed (the gateway signs an audit checkpoint). */
  onSigned: ((sig: SignatureView) => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly clock: Clock,
    readonly policy: SigningPolicy = DEFAULT_SIGNING_POLICY,
  ) {}

  /** Deviations, QC results… register how their content is snapshotted. */
  registerSnapshot(entity: string, fn: Snapshotter): void {
    this.snapshotters.set(entity, fn);
  }

  snapshot(entity: string, entityId: string, coveredSeq: number): unknown {
    const fn = this.snapshotters.get(entity);
    if (!fn) throw new LgError('LG_ERR_VALIDATION', { detail: `nothing of kind "${entity}" can be signed` });
    return fn(this.db, entityId, coveredSeq);
  }

  // ── secrets ────────────────────────────────────────────────────────────────

  /**
   * Set a signing secret. For oneself: the current secret is needed when one exists; the new one
   * must satisfy the policy and differ from it. By an admin for someone else: a temporary secret,
   * expired at once, so the user must choose their own before signing. Audited without the secret.
   */
  async setSecret(userId: string, input: { secret: string; kind: 'password' | 'pin'; current?: string | null }, by: { id: string; role: Role }): Promise<{ expiresAt: string | null }> {
    const self = by.id === userId;
    if (!self && by.role !== 'admin') throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: "set another user's signing secret", allowed: 'admin' });
    const user = this.db.prepare('SELECT id, disabled FROM users WHERE id = ?').get(userId) as { id: string; disabled: number } | undefined;
    if (!user) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: userId });
    this.checkPolicy(input.secret, input.kind);
    const existing = this.secretRow(userId);
    if (self && existing) {
      if (!input.current) throw new LgError('LG_ERR_SIGNATURE_INVALID', { detail: 'send your current signing secret as "current" to change it' });
      if (!(await safeVerify(existing.hash, input.current))) {
        await this.countFailure(userId, by.id, 'change of signing secret');
        throw new LgError('LG_ERR_SIGNATURE_INVALID', { detail: 'the current signing secret is wrong' });
      }
      if (await safeVerify(existing.hash, input.secret)) throw new LgError('LG_ERR_SECRET_POLICY', { detail: 'the new secret must differ from the current one' });
    }
    const hash = await argonHash(input.secret);
    return this.journal.submit((tx) => {
      const now = tx.now.toISOString();
      const expiresAt = self ? new Date(tx.now.getTime() + this.policy.maxAgeDays * 86_400_000).toISOString() : now;
      this.db
        .prepare(
          `INSERT INTO signing_secrets (user_id, kind, hash, set_at, set_by, expires_at, failed_attempts, locked_at, updated_at)
           VALUES (@user, @kind, @hash, @now, @by, @expiresAt, 0, NULL, @now)
           ON CONFLICT(user_id) DO UPDATE SET kind = @kind, hash = @hash, set_at = @now, set_by = @by, expires_at = @expiresAt,
             failed_attempts = CASE WHEN @self THEN 0 ELSE failed_attempts END, updated_at = @now`,
        )
        .run({ user: userId, kind: input.kind, hash, now, by: by.id, expiresAt, self: self ? 1 : 0 });
      tx.audit({
        actor: by.id,
        action: 'signing_secret.set',
        entity: 'user',
        entityId: userId,
        reason: self ? 'changed by the user' : 'temporary secret set by an admin (must be changed before signing)',
        new: { kind: input.kind, expiresAt, temporary: !self },
      });
      return { expiresAt };
    });
  }

  private checkPolicy(secret: string, kind: 'password' | 'pin'): void {
    if (kind === 'pin') {
      if (!/^\d+$/.test(secret)) throw new LgError('LG_ERR_SECRET_POLICY', { detail: 'a PIN is digits only' });
      if (secret.length < this.policy.pinMinLength) throw new LgError('LG_ERR_SECRET_POLICY', { detail: `a PIN needs at least ${this.policy.pinMinLength} digits` });
      if (/^(\d)\1+$/.test(secret) || '01234567890'.includes(secret) || '09876543210'.includes(secret)) {
        throw new LgError('LG_ERR_SECRET_POLICY', { detail: 'a PIN may not be one repeated digit or a run' });
      }
    } else if (secret.length < this.policy.passwordMinLength) {
      throw new LgError('LG_ERR_SECRET_POLICY', { detail: `a password needs at least ${this.policy.passwordMinLength} characters` });
    }
    if (secret.length > 256) throw new LgError('LG_ERR_SECRET_POLICY', { detail: 'at most 256 characters' });
  }

  private secretRow(userId: string): { kind: string; hash: string; expires_at: string | null; failed_attempts: number; locked_at: string | null } | undefined {
    return this.db.prepare('SELECT kind, hash, expires_at, failed_attempts, locked_at FROM signing_secrets WHERE user_id = ?').get(userId) as never;
  }

  /** Count a failed attempt (its own transaction: it must stay even though the signing fails); lock at the limit. */
  private async countFailure(userId: string, caller: string, what: string): Promise<{ failedAttempts: number; maxFailedAttempts: number; locked: boolean } | null> {
    return this.journal.submit((tx) => {
      const row = this.secretRow(userId);
      const now = tx.now.toISOString();
      if (!row) {
        tx.audit({ actor: caller, action: 'signature.failed', entity: 'user', entityId: userId, reason: `${what}: no such signer or no signing secret` });
        return null;
      }
      const n = row.failed_attempts + 1;
      const lock = n >= this.policy.maxFailedAttempts && !row.locked_at;
      this.db.prepare('UPDATE signing_secrets SET failed_attempts = ?, locked_at = COALESCE(locked_at, ?), updated_at = ? WHERE user_id = ?').run(n, lock ? now : null, now, userId);
      tx.audit({ actor: caller, action: 'signature.failed', entity: 'user', entityId: userId, reason: `${what}: wrong signing secret (${n} in a row)` });
      if (lock) {
        tx.audit({ actor: 'system', action: 'user.signing_locked', entity: 'user', entityId: userId, reason: `${n} failed signing attempts in a row` });
        tx.append({
          type: 'user.signing_locked',
          status: 'accepted',
          operator: userId,
          payload: { user: userId, failedAttempts: n, requestedBy: caller, what },
        });
      }
      return { failedAttempts: n, maxFailedAttempts: this.policy.maxFailedAttempts, locked: n >= this.policy.maxFailedAttempts };
    });
  }

  /**
   * Check the two components. Throws a clear code on any failure (and counts it); returns the signer.
   * Async (argon2 runs off the event loop), so it runs BEFORE the signing transaction.
   */
  async authenticate(input: SignatureInput, action: string, caller: string): Promise<VerifiedSigner> {
    const allowed = MEANINGS[action];
    if (!allowed) throw new LgError('LG_ERR_VALIDATION', { detail: `unknown signing action ${action}` });
    if (!allowed.includes(input.meaning)) throw new LgError('LG_ERR_SIGNATURE_MEANING', { meaning: input.meaning, action, allowed: allowed.join(', ') });
    const user = this.db.prepare('SELECT id, name, role, disabled FROM users WHERE id = ?').get(input.userId) as { id: string; name: string; role: Role; disabled: number } | undefined;
    const row = user ? this.secretRow(user.id) : undefined;
    if (!user || user.disabled || !row) {
      await this.countFailure(input.userId, caller, action);
      throw new LgError('LG_ERR_SIGNATURE_INVALID', { detail: 'unknown signer, disabled user, or no signing secret set (PUT /me/signing-secret)' });
    }
    if (row.locked_at) throw new LgError('LG_ERR_SIGNATURE_LOCKED', { user: user.id, since: row.locked_at });
    if (!(await safeVerify(row.hash, input.secret))) {
      // The count goes back to the person (the sign dialog says "2 of 3 in a row", then "locked").
      const f = await this.countFailure(user.id, caller, action);
      throw new LgError('LG_ERR_SIGNATURE_INVALID', { detail: 'user id and signing secret do not match', ...(f ?? {}) });
    }
    if (row.expires_at && Date.parse(row.expires_at) <= this.clock.now().getTime()) {
      throw new LgError('LG_ERR_SIGNATURE_SECRET_EXPIRED', { user: user.id, since: row.expires_at });
    }
    return { id: user.id, name: user.name, role: user.role };
  }

  /**
   * Check a user id + signing secret for a sign-in (the supervisor/QA pages, src/ui/server/office.ts):
   * the same two components, the same failure counting and lock-out as a signing (`what` names the
   * attempt in the audit trail), but no meaning — a sign-in signs nothing. An expired secret is
   * refused like at a signing (the user must choose a new one first).
   */
  async authenticateSignIn(userId: string, secret: string, caller: string, what = 'sign-in to the supervisor/QA pages'): Promise<VerifiedSigner> {
    const user = this.db.prepare('SELECT id, name, role, disabled FROM users WHERE id = ?').get(userId) as { id: string; name: string; role: Role; disabled: number } | undefined;
    const row = user ? this.secretRow(user.id) : undefined;
    if (!user || user.disabled || !row) {
      await this.countFailure(userId, caller, what);
      throw new LgError('LG_ERR_SIGNATURE_INVALID', { detail: 'unknown user, disabled user, or no signing secret set (PUT /me/signing-secret)' });
    }
    if (row.locked_at) throw new LgError('LG_ERR_SIGNATURE_LOCKED', { user: user.id, since: row.locked_at });
    if (!(await safeVerify(row.hash, secret))) {
      const f = await this.countFailure(user.id, caller, what);
      throw new LgError('LG_ERR_SIGNATURE_INVALID', { detail: 'user id and signing secret do not match', ...(f ?? {}) });
    }
    if (row.expires_at && Date.parse(row.expires_at) <= this.clock.now().getTime()) {
      throw new LgError('LG_ERR_SIGNATURE_SECRET_EXPIRED', { user: user.id, since: row.expires_at });
    }
    return { id: user.id, name: user.name, role: user.role };
  }

  /**
   * Apply a signature inside the caller's transaction (after the state change it signs, so the
   * snapshot holds what was signed). Returns the `signature.applied` record.
   */
  signTx(
    tx: TxContext,
    signer: VerifiedSigner,
    s: { action: string; meaning: string; entity: string; entityId: string; requestedBy: string; statement?: string | null; batch?: string | null },
  ): { record: JournalRecord; signature: SignatureView } {
    const coveredSeq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM records').get() as { n: number }).n;
    const hash = contentHash(this.snapshot(s.entity, s.entityId, coveredSeq));
    const signedAt = tx.now.toISOString();
    const payload = {
      signer: signer.id,
      signerName: signer.name,
      signerRole: signer.role,
      meaning: s.meaning,
      action: s.action,
      entity: s.entity,
      entityId: s.entityId,
      statement: s.statement ?? null,
      signedAt,
      coveredSeq,
      contentHash: hash,
      hashAlgorithm: 'SHA-256',
      components: ['user-id', 'signing-secret'],
      requestedBy: s.requestedBy,
    };
    const record = tx.append({ type: 'signature.applied', status: 'accepted', batch: s.batch ?? (s.entity === 'batch' ? s.entityId : null), operator: signer.id, payload });
    this.db
      .prepare(
        `INSERT INTO signatures (id, record_seq, entity, entity_id, meaning, action, signer, signer_name, signed_at, covered_seq, content_hash)
         VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(record.id, record.seq, s.entity, s.entityId, s.meaning, s.action, signer.id, signer.name, signedAt, coveredSeq, hash);
    this.db.prepare('UPDATE signing_secrets SET failed_attempts = 0, updated_at = ? WHERE user_id = ?').run(signedAt, signer.id);
    tx.audit({
      actor: signer.id,
      action: 'signature.applied',
      entity: s.entity,
      entityId: s.entityId,
      reason: s.statement ?? null,
      new: { meaning: s.meaning, action: s.action, signerName: signer.name, signedAt, contentHash: hash, coveredSeq, record: record.id, requestedBy: s.requestedBy },
    });
    const signature: SignatureView = {
      id: record.id, recordSeq: record.seq, entity: s.entity, entityId: s.entityId, meaning: s.meaning, action: s.action,
      signer: signer.id, signerName: signer.name, signedAt, coveredSeq, contentHash: hash,
    };
    const cb = this.onSigned;
    if (cb) queueMicrotask(() => cb(signature));
    return { record, signature };
  }

  /** Sign something on its own (a QA review of a batch record, a record review). */
  async sign(
    entity: string,
    entityId: string,
    action: string,
    input: SignatureInput,
    caller: { id: string },
  ): Promise<{ record: JournalRecord; signature: SignatureView }> {
    const signer = await this.authenticate(input, action, caller.id);
    // signTx snapshots the entity before it appends anything: a missing one is refused with nothing written.
    return this.journal.submit((tx) => {
      return this.signTx(tx, signer, { action, meaning: input.meaning, entity, entityId, requestedBy: caller.id, statement: input.statement ?? null });
    });
  }

  /** Unlock a user's signing: an admin action, itself signed by the admin. */
  async unlock(userId: string, reason: string, input: SignatureInput, caller: { id: string; role: Role }): Promise<JournalRecord> {
    if (caller.role !== 'admin') throw new LgError('LG_ERR_FORBIDDEN', { role: caller.role, action: "unlock a user's signing", allowed: 'admin' });
    if (!reason.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: "unlock a user's signing" });
    const signer = await this.authenticate(input, 'user.unlock', caller.id);
    if (signer.role !== 'admin') throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: "unlock a user's signing", allowed: 'admin' });
    if (signer.id === userId) throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: 'unlock your own signing', allowed: 'another admin' });
    return this.journal.submit((tx) => {
      const row = this.secretRow(userId);
      if (!row?.locked_at) throw new LgError('LG_ERR_VALIDATION', { detail: `signing of ${userId} is not locked` });
      this.db.prepare('UPDATE signing_secrets SET failed_attempts = 0, locked_at = NULL, updated_at = ? WHERE user_id = ?').run(tx.now.toISOString(), userId);
      tx.audit({ actor: signer.id, action: 'user.signing_unlocked', entity: 'user', entityId: userId, reason, old: { lockedAt: row.locked_at } });
      return this.signTx(tx, signer, { action: 'user.unlock', meaning: input.meaning, entity: 'user', entityId: userId, requestedBy: caller.id, statement: reason }).record;
    });
  }

  list(entity: string, entityId: string): SignatureView[] {
    return (this.db.prepare('SELECT * FROM signatures WHERE entity = ? AND entity_id = ? ORDER BY record_seq').all(entity, entityId) as Array<Record<string, unknown>>).map(rowToView);
  }

  /** Recompute every signature's binding of an entity; also checks the signature record is intact. */
  verify(entity: string, entityId: string): SignatureCheck[] {
    const rec = this.db.prepare('SELECT payload FROM records WHERE seq = ?');
    return this.list(entity, entityId).map((s) => {
      let problem: string | null = null;
      try {
        const now = contentHash(this.snapshot(s.entity, s.entityId, s.coveredSeq));
        if (now !== s.contentHash) problem = `the signed content changed since ${s.signedAt} (hash ${now.slice(0, 12)}… ≠ signed ${s.contentHash.slice(0, 12)}…)`;
      } catch (err) {
        problem = `the signed content cannot be read: ${(err as Error).message}`;
      }
      const r = rec.get(s.recordSeq) as { payload: string } | undefined;
      if (!problem) {
        if (!r) problem = `the signature record ${s.id} is missing`;
        else {
          const p = JSON.parse(r.payload) as { contentHash?: string; signer?: string; meaning?: string };
          if (p.contentHash !== s.contentHash || p.signer !== s.signer || p.meaning !== s.meaning) problem = `the signature record ${s.id} does not match the signature index`;
        }
      }
      return { ...s, ok: problem === null, problem };
    });
  }
}

/** Read-only verification on a journal file (the CLI: no journal writer, no clock needed). */
export function verifySignaturesOffline(db: Db, entity: string, entityId: string): SignatureCheck[] {
  const readOnly = new Signatures(db, undefined as unknown as Journal, { now: () => new Date() } as Clock);
  return readOnly.verify(entity, entityId);
}

function rowToView(r: Record<string, unknown>): SignatureView {
  return {
    id: String(r.id),
    recordSeq: Number(r.record_seq),
    entity: String(r.entity),
    entityId: String(r.entity_id),
    meaning: String(r.meaning),
    action: String(r.action),
    signer: String(r.signer),
    signerName: String(r.signer_name),
    signedAt: String(r.signed_at),
    coveredSeq: Number(r.covered_seq),
    contentHash: String(r.content_hash),
  };
}

async function safeVerify(hash: string, secret: string): Promise<boolean> {
  try {
    return await argonVerify(hash, secret);
  } catch {
    return false;
  }
}
