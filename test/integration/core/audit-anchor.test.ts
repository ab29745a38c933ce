/**
 * Issue 13 (audit trail): the hash chain alone cannot see a truncation of its newest entries. Signed
 * checkpoints of the head (Ed25519, beside the journal and upstream) can: these tests cut, rewrite
 * and forge a copy of a real gateway's journal and run the real CLI on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../../helpers/daemon.js';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';
import { auditHash } from '../../../src/store/journal.js';
import { keyFingerprint } from '../../../src/store/anchor.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A gateway with some audited history and a final checkpoint, stopped; returns a copy of its state. */
async function journalWithCheckpoints(): Promise<{ dir: string; t: TestGateway; publicKeyPem: string; fingerprint: string }> {
  const state = tempDir('lg-anchor-state-');
  cleanups.push(state.cleanup);
  const t = await startTestGateway({}, { stateDir: state.path });
  await seedReferenceLine(t);
  const key = await t.call('GET', '/audit/public-key');
  expect(key.status).toBe(200);
  const cp = await t.gw.anchor!.checkpoint('test');
  expect(cp).not.toBeNull();
  // More history after that checkpoint, then the stop checkpoint covers it.
  expect((await t.call('PUT', '/materials/RM-9999', { name: 'Salt', unit: 'kg' })).status).toBeLessThan(300);
  const verified = await t.call('GET', '/audit/verify');
  expect(verified.body).toMatchObject({ ok: true });
  expect(verified.body.checkpoints).toBeGreaterThanOrEqual(1);
  const records = await t.call('GET', '/records?type=audit.checkpoint');
  expect(records.body.items.length).toBeGreaterThanOrEqual(1);
  await t.stop();
  const copy = tempDir('lg-anchor-copy-');
  cleanups.push(copy.cleanup);
  for (const f of ['journal.sqlite', 'audit-checkpoints.jsonl', 'audit-key.pem']) copyFileSync(join(state.path, f), join(copy.path, f));
  return { dir: copy.path, t, publicKeyPem: key.body.publicKeyPem, fingerprint: key.body.fingerprintSha256 };
}

function writable(dir: string): Database.Database {
  const db = new Database(join(dir, 'journal.sqlite'));
  db.exec('DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update;');
  return db;
}

describe('audit trail anchored by signed checkpoints', () => {
  it('an intact journal verifies: chain and every checkpoint, with the key the API published', async () => {
    const j = await journalWithCheckpoints();
    const r = await runCli(['audit', 'verify', '--db', join(j.dir, 'journal.sqlite')]);
    expect(r.stdout).toMatch(/audit trail intact: \d+ entries verified; \d+ signed checkpoints? match/);
    expect(r.code).toBe(0);
    expect(keyFingerprint(createPublicKey(j.publicKeyPem))).toBe(j.fingerprint);
    const k = await runCli(['audit', 'key', '--db', join(j.dir, 'journal.sqlite')]);
    expect(k.code).toBe(0);
    expect(k.stdout).toContain(j.fingerprint);
  }, 60_000);

  it('deleting the newest audit entries is named as a truncation (the chain alone still verifies)', async () => {
    const j = await journalWithCheckpoints();
    const db = writable(j.dir);
    const max = (db.prepare('SELECT MAX(seq) AS n FROM audit').get() as { n: number }).n;
    db.prepare('DELETE FROM audit WHERE seq > ?').run(max - 2);
    db.close();
    const r = await runCli(['audit', 'verify', '--db', join(j.dir, 'journal.sqlite')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('LG_ERR_AUDIT_CHAIN_BROKEN');
    expect(r.stdout).toMatch(/truncation/);
    expect(r.stdout).toContain(`entry ${max - 1}`);
  }, 60_000);

  it('a rewritten tail with a valid hash chain is named (entry differs from the signed checkpoint)', async () => {
    const j = await journalWithCheckpoints();
    const db = writable(j.dir);
    const last = db.prepare('SELECT * FROM audit ORDER BY seq DESC LIMIT 1').get() as Record<string, string | number | null>;
    db.prepare('DELETE FROM audit WHERE seq = ?').run(last.seq);
    const row = {
      seq: Number(last.seq), at: String(last.at), actor: 'someone-else', action: String(last.action), entity: String(last.entity), entityId: String(last.entity_id),
      reason: last.reason as string | null, oldValue: last.old_value as string | null, newValue: last.new_value as string | null, prevHash: String(last.prev_hash),
    };
    db.prepare(
      `INSERT INTO audit (seq,at,actor,action,entity,entity_id,reason,old_value,new_value,prev_hash,hash) VALUES (@seq,@at,@actor,@action,@entity,@entityId,@reason,@oldValue,@newValue,@prevHash,@hash)`,
    ).run({ ...row, hash: auditHash(row) });
    db.close();
    const r = await runCli(['audit', 'verify', '--db', join(j.dir, 'journal.sqlite')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`entry ${row.seq} differs from the checkpoint`));
  }, 60_000);

  it('a forged checkpoint (moved back to hide a truncation) fails its signature', async () => {
    const j = await journalWithCheckpoints();
    const file = join(j.dir, 'audit-checkpoints.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const newest = JSON.parse(lines[lines.length - 1]!) as { seq: number; hash: string };
    const db = writable(j.dir);
    db.prepare('DELETE FROM audit WHERE seq >= ?').run(newest.seq);
    const head = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    db.close();
    // Keep only checkpoints at or below the new head, and forge the newest one to point there.
    const kept = lines.map((l) => JSON.parse(l) as { seq: number; hash: string }).filter((c) => c.seq <= head.seq);
    const forged = { ...newest, seq: head.seq, hash: head.hash };
    writeFileSync(file, [...kept, forged].map((c) => JSON.stringify(c)).join('\n') + '\n');
    const r = await runCli(['audit', 'verify', '--db', join(j.dir, 'journal.sqlite')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/invalid signature/);
  }, 60_000);
});
