/**
 * `linegate audit verify` and `linegate audit key`: the hash chain, then the signed checkpoints
 * (src/store/anchor.ts), so a truncation of the newest entries is named too. Works offline on a
 * copy of the journal: `--db FILE` (the checkpoint file and key are looked up beside it) or
 * `--checkpoints FILE` / `--public-key FILE` for copies received from upstream or from QA.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CHECKPOINT_FILE, keyFingerprint, readCheckpoints, readPublicKey, verifyCheckpoints } from '../store/anchor.js';
import { openDatabase } from '../store/db.js';
import { verifyAudit } from '../store/repo.js';
import { verifySignaturesOffline } from '../usecases/signatures.js';

export interface AuditCliOptions {
  dbFile: string;
  checkpoints?: string;
  publicKey?: string;
}

export function auditVerify(o: AuditCliOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  if (!existsSync(o.dbFile)) {
    err.write(`no journal at ${o.dbFile}\n`);
    return 1;
  }
  const db = openDatabase(o.dbFile, { readonly: true });
  try {
    const r = verifyAudit(db);
    if (!r.ok) {
      out.write(`audit trail BROKEN at entry ${r.firstBroken!.seq}: ${r.firstBroken!.reason} (${r.checked} entries before it verified; LG_ERR_AUDIT_CHAIN_BROKEN)\n`);
      return 1;
    }
    const cpFile = o.checkpoints ?? join(dirname(o.dbFile), CHECKPOINT_FILE);
    let key: KeyObject | null = null;
    if (o.publicKey) key = createPublicKey(readFileSync(o.publicKey));
    else key = readPublicKey(dirname(o.dbFile));
    const cps = readCheckpoints(cpFile);
    if (cps.length === 0) {
      out.write(`audit trail intact: ${r.checked} entries verified (hash chain only: no signed checkpoints at ${cpFile}, so a truncation of the newest entries cannot be ruled out)\n`);
      return 0;
    }
    const a = verifyCheckpoints(db, cps, key);
    if (!a.ok) {
      out.write(`audit trail BROKEN at entry ${a.problem!.seq}: ${a.problem!.reason} (LG_ERR_AUDIT_CHAIN_BROKEN)\n`);
      return 1;
    }
    out.write(
      `audit trail intact: ${r.checked} entries verified; ${a.checkpoints} signed checkpoint${a.checkpoints === 1 ? '' : 's'} match` +
        (a.newest ? ` (newest covers entry ${a.newest.seq}, signed ${a.newest.at})` : '') +
        (key ? `; key ${keyFingerprint(key).slice(0, 16)}…` : '; signatures NOT checked (no public key: pass --public-key FILE)') +
        '\n',
    );
    return 0;
  } finally {
    db.close();
  }
}

export function auditKey(stateDir: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const key = readPublicKey(stateDir);
  if (!key) {
    err.write(`no audit key in ${stateDir} yet (it is created on the gateway's first start)\n`);
    return 1;
  }
  out.write(key.export({ type: 'spki', format: 'pem' }).toString());
  out.write(`# Ed25519, SHA-256 fingerprint ${keyFingerprint(key)}\n`);
  return 0;
}

/** `linegate verify batch N`: recompute every signature's binding of a batch from the journal alone. */
export function verifyBatch(dbFile: string, number: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  if (!existsSync(dbFile)) {
    err.write(`no journal at ${dbFile}\n`);
    return 1;
  }
  const db = openDatabase(dbFile, { readonly: true });
  try {
    if (!db.prepare('SELECT 1 FROM batches WHERE number = ?').get(number)) {
      err.write(`batch ${number} not found (LG_ERR_BATCH_NOT_FOUND)\n`);
      return 1;
    }
    const checks = verifySignaturesOffline(db, 'batch', number);
    if (checks.length === 0) {
      out.write(`batch ${number}: no signatures\n`);
      return 0;
    }
    for (const c of checks) {
      out.write(`${c.ok ? 'ok    ' : 'BROKEN'} ${c.signedAt} ${c.meaning} by ${c.signerName} (${c.signer}) — ${c.action}, sha256 ${c.contentHash.slice(0, 16)}…${c.problem ? `: ${c.problem} (LG_ERR_SIGNATURE_BROKEN)` : ''}\n`);
    }
    const bad = checks.filter((c) => !c.ok).length;
    out.write(bad === 0 ? `batch ${number}: ${checks.length} signature${checks.length === 1 ? '' : 's'} verified\n` : `batch ${number}: ${bad} of ${checks.length} signatures BROKEN\n`);
    return bad === 0 ? 0 : 1;
  } finally {
    db.close();
  }
}
