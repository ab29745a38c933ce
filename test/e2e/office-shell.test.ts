import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../helpers/gateway.js';
import { haveChromium, launchBrowser } from '../helpers/browser.js';
import { officeSignIn, officeToken, officeUser } from '../helpers/office.js';

/**
 * Issue 14, supervisor/QA pages: the shell in a real browser — sign-in with user id + signing
 * secret, navigation by role, the route guard AND the API refusing an operator, sign-out ending
 * the session server-side, the session cookie opening report links (GET only).
 */
describe.skipIf(!haveChromium())('office pages: sign-in, roles, sign-out (issue 14)', { timeout: 120_000 }, () => {
  let t: TestGateway;
  let browser: Browser;
  let batch: string;

  beforeAll(async () => {
    t = await startTestGateway({ stations: [{ id: 'WEIGH-1', role: 'weighing' }] });
    ({ batch } = await seedReferenceLine(t));
    await officeUser(t, 'qa-quinn', 'Quinn QA', 'qa', 'quinn-secret-1');
    await officeUser(t, 'op-olga', 'Olga Operator', 'operator', 'olga-secret-1');
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const errors: string[] = [];
  const fresh = async (): Promise<BrowserContext> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    ctx.on('page', (p) => p.on('pageerror', (e) => errors.push(e.message)));
    return ctx;
  };

  it('a wrong secret is refused with its code; QA signs in and sees the QA navigation', async () => {
    const ctx = await fresh();
    try {
      const page = await ctx.newPage();
      await page.goto(`${t.url}/ui/office`);
      await page.locator('input[name=userId]').fill('qa-quinn');
      await page.locator('input[name=secret]').fill('not-the-secret');
      await page.locator('[data-testid=signin] button[type=submit]').click();
      await expect.poll(() => page.locator('[data-testid=error]').getAttribute('data-code'), { timeout: 15_000 }).toBe('LG_ERR_SIGNATURE_INVALID');
      // The failure is audited against the user.
      const audit = await t.call('GET', '/audit?entity=user&entityId=qa-quinn');
      expect(audit.body.items.map((a: { action: string }) => a.action)).toContain('signature.failed');
      await officeSignIn(page, t.url, 'qa-quinn', 'quinn-secret-1').catch((e) => {
        throw new Error(`${(e as Error).message.slice(0, 200)} page errors: ${errors.join(' | ')}`);
      });
      await page.locator('[data-testid=batches] tr[data-batch]').first().waitFor({ timeout: 15_000 });
      const nav = await page.locator('[data-testid=nav] a').allTextContents();
      expect(nav).toEqual(expect.arrayContaining(['Batches', 'Deviations', 'QC']));
      // Filters of the batches list: status, product, date (the API does the filtering).
      const filters = page.locator('[data-testid=batch-filters]');
      await filters.locator('select[name=status]').selectOption('planned');
      await filters.locator('input[name=product]').fill('WIDGET-A');
      await filters.locator('button[type=submit]').click();
      await expect.poll(() => page.locator(`[data-testid=batches] tr[data-batch="${batch}"]`).count(), { timeout: 15_000 }).toBe(1);
      expect(page.url()).toContain('status=planned');
      await filters.locator('input[name=product]').fill('NO-SUCH-PRODUCT');
      await filters.locator('button[type=submit]').click();
      await expect.poll(() => page.locator('[data-testid=batches] tr[data-batch]').count(), { timeout: 15_000 }).toBe(0);
      await filters.locator('input[name=product]').fill('');
      await filters.locator('select[name=status]').selectOption('');
      await filters.locator('input[name=from]').fill('2099-01-01');
      await filters.locator('button[type=submit]').click();
      await expect.poll(() => page.locator('[data-testid=batches] tr[data-batch]').count(), { timeout: 15_000 }).toBe(0);
      expect((await t.call('GET', `/batches?product=WIDGET-A&from=2000-01-01&to=2099-01-01`)).body.items.map((b: { number: string }) => b.number)).toEqual([batch]);
      expect((await t.call('GET', `/batches?to=2000-01-01`)).body.items).toEqual([]);
      expect((await t.call('GET', `/batches?from=yesterday`)).status).toBe(400);
      // The token is a page session: the API accepts it with QA's role.
      const token = await officeToken(page);
      expect(token.startsWith('lgo_')).toBe(true);
      expect((await t.call('GET', `/batches/${batch}/exceptions`, undefined, token)).status).toBe(200);
      // The httpOnly cookie opens the report as a plain link (GET), but never changes anything alone.
      const cookies = await ctx.cookies(t.url);
      const c = cookies.find((x) => x.name === 'lg_office');
      expect(c?.httpOnly).toBe(true);
      expect(c?.sameSite).toBe('Strict');
      const viaCookie = await fetch(`${t.url}/batches/${batch}/report.json`, { headers: { cookie: `lg_office=${c!.value}` } });
      expect(viaCookie.status).toBe(200);
      const postViaCookie = await fetch(`${t.url}/batches/${batch}/exceptions/acknowledge`, { method: 'POST', headers: { cookie: `lg_office=${c!.value}`, 'content-type': 'application/json' }, body: JSON.stringify({ all: true, comment: 'csrf' }) });
      expect(postViaCookie.status).toBe(401);
      // Sign-out ends the session on the server at once.
      expect((await t.call('GET', '/audit?entity=user&entityId=qa-quinn')).body.items.map((a: { action: string }) => a.action)).toContain('office.signed_in');
      await page.locator('[data-testid=signout]').click();
      await page.locator('[data-testid=signin]').waitFor({ timeout: 15_000 });
      const after = await t.call('GET', `/batches/${batch}`, undefined, token);
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('LG_ERR_SESSION_EXPIRED');
    } finally {
      await ctx.close();
    }
  });

  it('QC entry shows the spec and the gateway\'s verdict; a deviation raised from the form opens its page', async () => {
    expect((await t.call('PUT', '/inspection-plans/IPC-FILL', {
      scope: 'in_process', product: 'WIDGET-A', name: 'Fill weight', sampleSize: 5, frequency: { everyMinutes: 60 },
      characteristics: [{ code: 'FILL', name: 'Fill weight', kind: 'measurement', unit: 'g', lower: '498', upper: '505' }],
    })).status).toBeLessThan(300);
    const ctx = await fresh();
    try {
      const page = await ctx.newPage();
      await officeSignIn(page, t.url, 'qa-quinn', 'quinn-secret-1', `/ui/office/qc?batch=${encodeURIComponent(batch)}`);
      await page.locator('[data-testid=qc-entry] select[name=plan] option[value=IPC-FILL]').waitFor({ state: 'attached', timeout: 15_000 });
      await page.locator('[data-testid=qc-entry] select[name=plan]').selectOption('IPC-FILL');
      const row = page.locator('[data-testid=characteristics] tr[data-characteristic=FILL]');
      expect(await row.locator('[data-testid=spec]').textContent()).toContain('498 … 505 g');
      await row.locator('input[name=value-FILL]').fill('506.5');
      expect(await row.locator('[data-testid=preview]').textContent()).toContain('fail');
      await page.locator('[data-testid=qc-submit]').click();
      const answer = page.locator('[data-testid=qc-answer]');
      await answer.waitFor({ timeout: 15_000 });
      expect(await answer.getAttribute('data-verdict')).toBe('failed');
      const stored = (await t.call('GET', `/qc/inspections?batch=${batch}`)).body.items as Array<{ verdict: string; results: Array<{ value: string }> }>;
      expect(stored.map((i) => [i.verdict, i.results[0]!.value])).toEqual([['failed', '506.5']]);

      await page.goto(`${t.url}/ui/office/deviations`);
      await page.locator('[data-testid=raise-open]').click();
      const form = page.locator('[data-testid=raise]');
      await form.locator('input[name=batch]').fill(batch);
      await form.locator('select[name=category]').selectOption('major');
      await form.locator('input[name=title]').fill('Fill weight over the limit');
      await form.locator('textarea[name=description]').fill('IPC fill weight 506.5 g, limit 505 g');
      await form.locator('[data-testid=raise-submit]').click();
      await page.locator('[data-testid=deviation-page]').waitFor({ timeout: 15_000 });
      const number = decodeURIComponent(page.url().split('/').pop()!);
      const d = (await t.call('GET', `/deviations/${number}`)).body;
      expect(d).toMatchObject({ batch, category: 'major', title: 'Fill weight over the limit', status: 'open', raisedBy: 'qa-quinn', source: 'manual' });
    } finally {
      await ctx.close();
    }
  });

  it("an operator's credential cannot open QA pages: the page refuses and the API answers 403", async () => {
    const ctx = await fresh();
    try {
      const page = await ctx.newPage();
      await officeSignIn(page, t.url, 'op-olga', 'olga-secret-1', `/ui/office/batches/${encodeURIComponent(batch)}/review`);
      await page.locator('[data-testid=refused]').waitFor({ timeout: 15_000 });
      expect(await page.locator('[data-testid=refused]').textContent()).toContain('operator');
      const nav = await page.locator('[data-testid=nav] a').allTextContents();
      expect(nav).not.toContain('Deviations');
      const token = await officeToken(page);
      for (const [m, p, body] of [
        ['GET', `/batches/${batch}/exceptions`, undefined],
        ['POST', `/batches/${batch}/exceptions/acknowledge`, { all: true, comment: 'operator tries' }],
        ['GET', `/batches/${batch}/report.pdf`, undefined],
      ] as const) {
        const r = await t.call(m, p, body, token);
        expect(r.status, `${m} ${p}`).toBe(403);
        expect(r.body.code).toBe('LG_ERR_FORBIDDEN');
      }
    } finally {
      await ctx.close();
    }
  });
});
