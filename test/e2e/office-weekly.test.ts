import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { haveChromium, launchBrowser } from '../helpers/browser.js';
import { officeSignIn, officeUser } from '../helpers/office.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 14, the weekly review QA signs, in a real browser (Debian's chromium, playwright-core)
 * against a running gateway: the weekly page opens on the last 7 days in the site's zone
 * (Europe/Berlin in the test config), a supervisor freezes the review, QA opens the frozen review,
 * mistypes the secret (refused with the code and the count), then signs "approved". The review is
 * then listed as signed, verifies, and its PDF (downloaded through the page's link) holds QA's
 * printed name, the meaning and the content SHA-256 shown on the page.
 */
const hasPdftotext = existsSync('/usr/bin/pdftotext');

/** Today in a zone, and the default period of the weekly page (the 7 days up to today). */
const today = (zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

describe.skipIf(!haveChromium() || !hasPdftotext)('office pages: the weekly review, frozen and signed (issue 14)', { timeout: 240_000 }, () => {
  let t: TestGateway;
  let browser: Browser;
  let batch: string;
  let sup: { id: string; secret: string };
  let qa: { id: string; secret: string };
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    t = await startTestGateway({ stations: [{ id: 'WEIGH-1', role: 'weighing' }] });
    ({ batch } = await seedReferenceLine(t));
    sup = await officeUser(t, 'sup-sam', 'Sam Supervisor', 'supervisor', 'sam-secret-1');
    qa = await officeUser(t, 'qa-quinn', 'Quinn Quality', 'qa', 'quinn-secret-1');
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.stop();
  });

  async function pageAs(u: { id: string; secret: string }, path: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await officeSignIn(page, t.url, u.id, u.secret, path);
    return page;
  }

  it('a supervisor freezes the review; QA signs it (a wrong secret refused first); it is signed, verifies, and the PDF holds the signature', async () => {
    const sp = await pageAs(sup, '/ui/office/weekly');
    // The nav offers the page to a supervisor; the period defaults to the last 7 days in the site's zone.
    expect(await sp.locator('[data-testid=nav] a[data-nav="/ui/office/weekly"]').count()).toBe(1);
    const to = addDays(today('Europe/Berlin'), 1);
    const from = addDays(to, -7);
    await expect.poll(() => sp.locator('[data-testid=live-period]').textContent(), { timeout: 15_000 }).toContain(`${from} 00:00 to ${to} 00:00, Europe/Berlin`);
    expect(await sp.locator('[data-testid=weekly-period] input[name=from]').inputValue()).toBe(from);
    expect(await sp.locator('[data-testid=weekly-period] input[name=to]').inputValue()).toBe(to);
    // The live review is the gateway's: the same batches.
    const live = (await t.call('GET', `/reports/weekly?from=${from}&to=${to}`)).body;
    expect(live.batches.map((b: { number: string }) => b.number)).toContain(batch);
    await expect.poll(() => sp.locator('[data-testid=weekly-batches] tr[data-batch]').count(), { timeout: 15_000 }).toBe(live.batches.length);
    expect(await sp.locator(`[data-testid=weekly-batches] tr[data-batch="${batch}"]`).textContent()).toContain('planned');
    // A supervisor cannot sign, only freeze.
    await sp.locator('[data-testid=freeze]').click();
    await sp.locator('[data-testid=weekly-review-page]').waitFor({ timeout: 15_000 });
    const id = decodeURIComponent(new URL(sp.url()).pathname.split('/').pop()!);
    expect(id).toBe(`WR-${from}-${to}-1`);
    const frozen = (await t.call('GET', `/reports/weekly/reviews/${id}`)).body;
    expect(frozen.review.frozenBy).toBe(sup.id);
    await expect.poll(() => sp.locator('[data-testid=content-sha256]').textContent(), { timeout: 15_000 }).toBe(frozen.review.contentHash);
    expect(await sp.locator('[data-testid=review-state]').textContent()).toBe('not signed');
    expect(await sp.locator('[data-testid=sign-review]').isDisabled()).toBe(true);

    // QA: the list shows the review unsigned; open it and sign.
    const qp = await pageAs(qa, '/ui/office/weekly');
    const row = qp.locator(`[data-testid=frozen-reviews] tr[data-review="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-signed')).toBe('0');
    await row.locator('a').click();
    await qp.locator('[data-testid=weekly-review-page]').waitFor();
    await expect.poll(() => qp.locator('[data-testid=content-sha256]').textContent(), { timeout: 15_000 }).toBe(frozen.review.contentHash);
    await qp.locator('[data-testid=sign-review]').click();
    const dlg = qp.locator('[data-testid=sign-dialog]');
    expect(await dlg.locator('[data-testid=sign-user]').textContent()).toContain(qa.id);
    expect(await dlg.locator('[data-testid=sign-meaning]').textContent()).toBe('reviewed');
    await dlg.locator('select[name=meaning]').selectOption('approved');
    expect(await dlg.locator('[data-testid=sign-meaning]').textContent()).toBe('approved');
    await dlg.locator('input[name=secret]').fill('not-quinns-secret');
    await dlg.locator('[data-testid=sign-submit]').click();
    await expect.poll(() => dlg.locator('[data-testid=error]').getAttribute('data-code'), { timeout: 15_000 }).toBe('LG_ERR_SIGNATURE_INVALID');
    expect(await dlg.locator('[data-testid=sign-failures]').textContent()).toContain('1 of 3');
    expect((await t.call('GET', '/reports/weekly/reviews')).body.items.find((r: { id: string }) => r.id === id).signed).toBe(false);
    await dlg.locator('input[name=secret]').fill(qa.secret);
    await dlg.locator('[data-testid=sign-submit]').click();
    await dlg.waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => qp.locator('[data-testid=review-state]').textContent(), { timeout: 15_000 }).toBe('signed');
    expect(await qp.locator(`[data-testid=review-signatures] tr[data-signer="${qa.id}"] [data-testid=sig-meaning]`).textContent()).toBe('approved');
    await expect.poll(() => qp.locator('[data-testid=verify]').getAttribute('data-ok'), { timeout: 15_000 }).toBe('1');

    // The gateway agrees: signed, one signature by QA, it verifies.
    const list = (await t.call('GET', '/reports/weekly/reviews')).body.items;
    expect(list.find((r: { id: string }) => r.id === id).signed).toBe(true);
    const verify = (await t.call('GET', `/reports/weekly/reviews/${id}/verify`)).body;
    expect(verify.ok).toBe(true);
    expect(verify.items).toHaveLength(1);
    const signed = (await t.call('GET', `/reports/weekly/reviews/${id}`)).body;
    expect(signed.signatures.map((s: { signer: string; printedName: string; meaning: string }) => [s.signer, s.printedName, s.meaning])).toEqual([[qa.id, 'Quinn Quality', 'approved']]);
    // The supervisor's list shows it signed too.
    await sp.goto(`${t.url}/ui/office/weekly`);
    await expect.poll(() => sp.locator(`[data-testid=frozen-reviews] tr[data-review="${id}"]`).getAttribute('data-signed'), { timeout: 15_000 }).toBe('1');

    // The PDF from the page's link (the session cookie opens GET links): signer, meaning, content SHA-256.
    const dir = tempDir('lg-weekly-pdf-');
    try {
      expect(await qp.locator('[data-testid=review-pdf]').getAttribute('href')).toBe(`/reports/weekly/reviews/${id}?format=pdf`);
      const [download] = await Promise.all([qp.waitForEvent('download', { timeout: 60_000 }), qp.locator('[data-testid=review-pdf]').click()]);
      const file = join(dir.path, 'weekly.pdf');
      await download.saveAs(file);
      expect(await download.failure()).toBeNull();
      const text = execFileSync('/usr/bin/pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      expect(text).toContain('Quinn Quality');
      expect(text).toContain('approved');
      expect(text.replace(/\s+/g, '')).toContain(frozen.review.contentHash);
      expect(text).toContain(batch);
    } finally {
      dir.cleanup();
    }
    expect(errors).toEqual([]);
  });

  it('an operator is not offered the page and is refused on it', async () => {
    const op = await officeUser(t, 'op-olga', 'Olga Operator', 'operator', 'olga-secret-1');
    const page = await pageAs(op, '/ui/office/weekly');
    await page.locator('[data-testid=refused]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=nav] a[data-nav="/ui/office/weekly"]').count()).toBe(0);
    // The API says the same to the operator's own token.
    const refused = await t.call('POST', '/reports/weekly/reviews', { from: '2026-11-23' }, op.token);
    expect([refused.status, refused.body.code]).toEqual([403, 'LG_ERR_FORBIDDEN']);
  });
});
