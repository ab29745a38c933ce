import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { officeUser } from '../../helpers/office.js';

/**
 * Sign-in to the supervisor/QA pages over HTTP (issue 14): the lock-out of signatures is reused
 * (3 wrong secrets in a row lock signing AND sign-in; an admin unlocks with a signature), failures
 * count against the source address (429), a disabled user's session ends at once, and a session
 * token works only as a bearer token of that user — never to change data through the cookie.
 */
describe('office sign-in: lock-out, source limit, sessions (issue 14)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ stations: [{ id: 'WEIGH-1', role: 'weighing' }], security: { failedAuthLimit: { maxFailures: 5, windowSeconds: 60 } } });
    await officeUser(t, 'qa1', 'Quinn QA', 'qa', 'quinn-secret-1');
    await officeUser(t, 'qa2', 'Rita QA', 'qa', 'rita-secret-1');
    await officeUser(t, 'adm2', 'Second Admin', 'admin', 'admin-secret-2');
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });
  const signIn = (userId: string, secret: string) => t.call('POST', '/ui/api/office/session', { userId, secret }, null);

  it('3 wrong secrets in a row lock the user (the right one is then refused too) until an admin unlocks with a signature', async () => {
    for (let i = 1; i <= 3; i++) {
      const r = await signIn('qa1', `wrong-${i}`);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('LG_ERR_SIGNATURE_INVALID');
      expect(r.body.details).toMatchObject({ failedAttempts: i, maxFailedAttempts: 3, locked: i === 3 });
    }
    const locked = await signIn('qa1', 'quinn-secret-1');
    expect(locked.status).toBe(403);
    expect(locked.body.code).toBe('LG_ERR_SIGNATURE_LOCKED');
    const recs = (await t.call('GET', '/records?type=user.signing_locked')).body.items;
    expect(recs.map((r: { payload: { user: string } }) => r.payload.user)).toContain('qa1');
    const unlock = await t.call('POST', '/users/qa1/signing-unlock', { reason: 'mistyped after a password change', signature: { userId: 'adm2', secret: 'admin-secret-2', meaning: 'approved' } });
    expect(unlock.status, JSON.stringify(unlock.body)).toBe(200);
    const ok = await signIn('qa1', 'quinn-secret-1');
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ user: { id: 'qa1', role: 'qa' }, idleSeconds: 900 });
    expect(String(ok.body.token)).toMatch(/^lgo_/);
  });

  it('a session is the user: their role on the API, GET via the cookie only, ended by sign-out and when the user is disabled', async () => {
    const s = (await signIn('qa2', 'rita-secret-1')).body;
    expect((await t.call('GET', '/ui/api/office/session', undefined, s.token)).body.user).toEqual({ id: 'qa2', name: 'Rita QA', role: 'qa' });
    expect((await t.call('POST', '/users', { id: 'x', name: 'x', role: 'operator' }, s.token)).status).toBe(403);
    const viaCookie = await fetch(`${t.url}/ui/api/office/session`, { headers: { cookie: `lg_office=${s.token}` } });
    expect(viaCookie.status).toBe(200);
    const del = await fetch(`${t.url}/ui/api/office/session`, { method: 'DELETE', headers: { cookie: `lg_office=${s.token}` } });
    expect(del.status).toBe(401);
    // Disabled: the next request with the session is refused.
    const s2 = (await signIn('qa2', 'rita-secret-1')).body;
    expect((await t.call('PATCH', '/users/qa2', { disabled: true })).status).toBeLessThan(300);
    const after = await t.call('GET', '/batches', undefined, s2.token);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('LG_ERR_SESSION_EXPIRED');
    // Sign-out of the first session: its token stops at once.
    expect((await t.call('DELETE', '/ui/api/office/session', undefined, s.token)).status).toBe(401); // already ended by the disable
  });

  it('failed sign-ins count against the source: over the limit, sign-ins answer 429 with Retry-After', async () => {
    let limited: Response | null = null;
    let refused = 0;
    for (let i = 0; i < 8 && !limited; i++) {
      const r = await fetch(`${t.url}/ui/api/office/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'nobody', secret: `guess-${i}` }) });
      const body = (await r.json()) as { code: string };
      if (r.status === 429) {
        limited = r;
        expect(body.code).toBe('LG_ERR_AUTH_LIMITED');
      } else {
        expect(body.code).toBe('LG_ERR_SIGNATURE_INVALID');
        refused++;
      }
    }
    expect(limited, 'the source was limited').not.toBeNull();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Earlier tests' failures from this source count too: at most the limit (5) were let through.
    expect(refused).toBeLessThanOrEqual(5);
    // Each refused guess is in the audit trail (read from the journal: the API is limited for this source now).
    await t.gw.journal.drain();
    const n = (t.gw.db.prepare(`SELECT COUNT(*) AS n FROM audit WHERE entity_id = 'nobody' AND action = 'signature.failed'`).get() as { n: number }).n;
    expect(n).toBe(refused);
  });
});
