/**
 * Issue 13: electronic signatures per 21 CFR Part 11, through the real API and the real CLI.
 * Two components (user id + signing secret, never the token), meaning from a vocabulary, the
 * SHA-256 of the batch record bound, failed attempts counted and locking, an admin-set secret that
 * must be changed, and `linegate verify batch` failing after a direct SQLite edit of a signed
 * consumption.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../../helpers/daemon.js';
import { acknowledgeAllExceptions, seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

let t: TestGateway;
let batch: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestGateway();
  ({ batch } = await seedReferenceLine(t));
  for (const [id, name, role] of [['qa1', 'Quinn QA', 'qa'], ['qa2', 'Rita QA', 'qa'], ['sup1', 'Sam Supervisor', 'supervisor'], ['admin2', 'Ada Admin', 'admin']] as const) {
    const r = await t.call('POST', '/users', { id, name, role });
    expect(r.status).toBe(201);
    tokens[id] = r.body.token;
  }
  expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1)).status).toBe(200);
  expect((await t.call('PUT', '/me/signing-secret', { kind: 'password', secret: 'correct horse battery' }, tokens.qa2)).status).toBe(200);
  expect((await t.call('PUT', '/me/signing-secret', { kind: 'password', secret: 'admin2 signs here' }, tokens.admin2)).status).toBe(200);
  // A batch with a consumption in its record: weigh-station context and a hand-entered quantity.
  await t.call('PUT', '/stations/WEIGH-1/context', { batch });
  expect((await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' })).status).toBe(200);
  const lot = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' });
  expect(lot.body.record.status).toBe('accepted');
  const c = await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '50.000', unit: 'kg' });
  expect(c.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('electronic signatures (21 CFR Part 11)', () => {
  it('refuses a signing secret that breaks the policy, and audits none of the secret', async () => {
    for (const [secret, kind] of [['1234', 'pin'], ['123456', 'pin'], ['777777', 'pin'], ['12a456', 'pin'], ['short', 'password']] as const) {
      const r = await t.call('PUT', '/me/signing-secret', { kind, secret }, tokens.sup1);
      expect(r.body.code, `${kind} ${secret}`).toBe('LG_ERR_SECRET_POLICY');
    }
    const audit = await t.call('GET', '/audit?entity=user&entityId=qa1');
    expect(JSON.stringify(audit.body)).not.toContain('482915');
    expect(audit.body.items.some((a: any) => a.action === 'signing_secret.set')).toBe(true);
  });

  it('a release needs both components and an allowed meaning; the token is not a secret', async () => {
    const n = (await t.call('POST', '/batches', { product: 'GADGET-B', plannedQty: '10', unit: 'pcs', bom: [] })).body.number;
    await t.call('POST', `/batches/${n}/transitions`, { to: 'in_process' });
    expect((await t.call('POST', `/batches/${n}/production`, { good: '10', reason: 'counted' }, tokens.sup1)).status).toBeLessThan(300);
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'completed' })).status).toBe(200);
    const rel = (signature: unknown) => t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'record reviewed', signature }, tokens.qa2);
    expect((await rel(undefined)).body.code).toBe('LG_ERR_SIGNATURE_REQUIRED');
    expect((await rel({ userId: 'qa2', meaning: 'released' })).status).toBe(400);
    expect((await rel({ userId: 'qa2', secret: tokens.qa2, meaning: 'released' })).body.code).toBe('LG_ERR_SIGNATURE_INVALID');
    expect((await rel({ userId: 'qa2', secret: 'correct horse battery', meaning: 'authored' })).body.code).toBe('LG_ERR_SIGNATURE_MEANING');
    // a supervisor's valid signature is not a QA release
    expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '902614' }, tokens.sup1)).status).toBe(200);
    expect((await rel({ userId: 'sup1', secret: '902614', meaning: 'released' })).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('GET', `/batches/${n}`)).body.status).toBe('completed');
    await acknowledgeAllExceptions(t, n, tokens.qa2!);
    const ok = await rel({ userId: 'qa2', secret: 'correct horse battery', meaning: 'released' });
    expect(ok.status).toBe(200);
    expect(ok.body.batch.status).toBe('released');
    expect(ok.body.record.payload.signature).toMatchObject({ by: 'qa2', name: 'Rita QA', meaning: 'released' });
    expect(ok.body.record.payload.signature.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const sigs = await t.call('GET', `/batches/${n}/signatures`);
    expect(sigs.body.ok).toBe(true);
    expect(sigs.body.items).toHaveLength(1);
    expect(sigs.body.items[0]).toMatchObject({ signer: 'qa2', signerName: 'Rita QA', meaning: 'released', action: 'batch.release' });
    const applied = await t.call('GET', `/records?batch=${n}&type=signature.applied`);
    expect(applied.body.items).toHaveLength(1);
    const failed = await t.call('GET', '/audit?entity=user&entityId=qa2');
    expect(failed.body.items.filter((a: any) => a.action === 'signature.failed').length).toBe(1);
  });

  it('three wrong secrets in a row lock signing (an alert record); another admin unlocks with their signature', async () => {
    const sign = (secret: string) => t.call('POST', '/signatures', { entity: 'batch', entityId: batch, signature: { userId: 'qa1', secret, meaning: 'reviewed' } }, tokens.qa1);
    for (let i = 0; i < 3; i++) expect((await sign('000001')).body.code).toBe('LG_ERR_SIGNATURE_INVALID');
    expect((await sign('482915')).body.code).toBe('LG_ERR_SIGNATURE_LOCKED');
    const alert = await t.call('GET', '/records?type=user.signing_locked');
    expect(alert.body.items.some((r: any) => r.payload.user === 'qa1')).toBe(true);
    // unlocking: admin only, signed, and never by the locked user
    const unlock = (signature: unknown, token = t.adminToken) => t.call('POST', '/users/qa1/signing-unlock', { reason: 'user confirmed typo', signature }, token);
    expect((await unlock({ userId: 'admin2', secret: 'admin2 signs here', meaning: 'approved' }, tokens.qa2)).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await unlock({ userId: 'admin2', secret: 'wrong wrong wrong', meaning: 'approved' })).body.code).toBe('LG_ERR_SIGNATURE_INVALID');
    expect((await unlock({ userId: 'admin2', secret: 'admin2 signs here', meaning: 'approved' })).status).toBe(200);
    const ok = await sign('482915');
    expect(ok.status).toBe(201);
    expect(ok.body.signature).toMatchObject({ entity: 'batch', entityId: batch, meaning: 'reviewed', signer: 'qa1' });
  });

  it('a secret set by an admin is expired at once: it must be changed before signing', async () => {
    expect((await t.call('PUT', '/users/sup1/signing-secret', { kind: 'pin', secret: '551873' })).body.expiresAt).toBeTruthy();
    const r = await t.call('POST', '/signatures', { entity: 'batch', entityId: batch, signature: { userId: 'sup1', secret: '551873', meaning: 'reviewed' } }, tokens.sup1);
    expect(r.body.code).toBe('LG_ERR_SIGNATURE_SECRET_EXPIRED');
    expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '551873', current: '551873' }, tokens.sup1)).body.code).toBe('LG_ERR_SECRET_POLICY');
    expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '640218', current: '551873' }, tokens.sup1)).status).toBe(200);
    const ok = await t.call('POST', '/signatures', { entity: 'batch', entityId: batch, signature: { userId: 'sup1', secret: '640218', meaning: 'reviewed' } }, tokens.sup1);
    expect(ok.status).toBe(201);
  });

  it('linegate verify batch passes, and fails after a direct SQLite edit of a signed consumption', async () => {
    const sigs = await t.call('GET', `/batches/${batch}/signatures`);
    expect(sigs.body.ok).toBe(true);
    expect(sigs.body.items.length).toBeGreaterThanOrEqual(2);
    await t.gw.journal.drain();
    const copy = tempDir('lg-sig-copy-');
    try {
      // A consistent copy of the live journal (SQLite's online backup).
      await t.gw.db.backup(join(copy.path, 'journal.sqlite'));
      const okRun = await runCli(['verify', 'batch', batch, '--db', join(copy.path, 'journal.sqlite')]);
      expect(okRun.stdout).toMatch(/signatures? verified/);
      expect(okRun.code).toBe(0);
      const db = new Database(join(copy.path, 'journal.sqlite'));
      const changed = db.prepare(`UPDATE consumptions SET quantity = '5.000' WHERE batch = ?`).run(batch).changes;
      db.close();
      expect(changed).toBe(1);
      const bad = await runCli(['verify', 'batch', batch, '--db', join(copy.path, 'journal.sqlite')]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('LG_ERR_SIGNATURE_BROKEN');
      expect(bad.stdout).toMatch(/signed content changed/);
    } finally {
      copy.cleanup();
    }
  }, 60_000);
});
