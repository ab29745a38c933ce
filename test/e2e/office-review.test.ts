import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { haveChromium, launchBrowser } from '../helpers/browser.js';
import { runCli } from '../helpers/daemon.js';
import { officeSignIn, officeUser } from '../helpers/office.js';
import { completedBatchForReview, REVIEW_STATIONS, type ReviewFixture } from '../helpers/office-batch.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 14 in a real browser (Debian's chromium, playwright-core) against a running gateway with a
 * completed batch that has everything QA must look at (override, two automatic deviations, a failed
 * QC check, refused readings, the unsynchronised clock). QA reviews and releases it in the pages:
 * the exceptions are listed, the release stays disabled until the checks pass and each exception is
 * acknowledged, the sign dialog refuses a wrong secret (and locks another QA user after 3), then
 * signs. The batch page's PDF is the batch record: its text holds the batch, every lot and every
 * signature, and its content hash verifies against the journal.
 */
const hasPdftotext = existsSync('/usr/bin/pdftotext');

describe.skipIf(!haveChromium() || !hasPdftotext)('office pages: review and release in a real browser (issue 14)', { timeout: 240_000 }, () => {
  let t: TestGateway;
  let browser: Browser;
  let f: ReviewFixture;
  let qa2: { id: string; secret: string };
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    t = await startTestGateway({ stations: REVIEW_STATIONS });
    f = await completedBatchForReview(t);
    qa2 = await officeUser(t, 'qa2', 'Rita Second-QA', 'qa', 'rita-secret-99');
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.stop();
  });

  async function pageAs(userId: string, secret: string, path: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await officeSignIn(page, t.url, userId, secret, path);
    return page;
  }

  const releaseButton = (p: Page) => p.locator('[data-testid=release]');

  it('lists the exceptions; release stays disabled until each is acknowledged; the sign dialog refuses a wrong secret, locks after 3, and signs with the right one', async () => {
    const reviewPath = `/ui/office/batches/${encodeURIComponent(f.batch)}/review`;
    const page = await pageAs(f.qa.id, f.qa.secret, reviewPath);
    // Every exception of the API is a row, with its kind.
    const api = (await t.call('GET', `/batches/${f.batch}/exceptions`)).body;
    expect(api.items.length).toBeGreaterThanOrEqual(6);
    const rows = page.locator('[data-testid=exceptions] tr[data-exception]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(api.items.length);
    for (const e of api.items) {
      const row = page.locator(`[data-testid=exceptions] tr[data-exception="${e.key}"]`);
      expect(await row.getAttribute('data-kind')).toBe(e.kind);
      expect(await row.textContent()).toContain(e.summary.slice(0, 30));
    }
    expect(await releaseButton(page).isDisabled()).toBe(true);
    // The checks name what is missing, with the gateway's codes.
    const codes = await page.locator('[data-testid=checks] li[data-code]').evaluateAll((els) => els.map((e) => e.getAttribute('data-code')));
    expect(codes).toEqual(expect.arrayContaining(['LG_ERR_CHECK_OVERRIDE_UNREVIEWED', 'LG_ERR_DEVIATION_OPEN', 'LG_ERR_CHECK_EXCEPTIONS_UNACKNOWLEDGED']));

    // The supervisor's override: QA reviews it on the page.
    await page.locator('[data-testid=overrides] input[name=override-comment]').fill('hold was administrative; CoA checked');
    await page.locator('[data-testid=review-override]').click();
    await page.locator('[data-testid=overrides]').waitFor({ state: 'detached', timeout: 15_000 });

    // Each deviation: investigation saved, then closed with QA's signature, on the deviation page.
    const devs = (await t.call('GET', `/deviations?batch=${f.batch}`)).body.items as Array<{ number: string; title: string }>;
    expect(devs.length).toBe(2);
    for (const d of devs) {
      await page.locator(`[data-testid=deviations] tr[data-deviation="${d.number}"] a`).click();
      await page.locator('[data-testid=deviation-page]').waitFor();
      await page.locator('[data-testid=investigate] textarea[name=rootCause]').fill(`cause of: ${d.title}`);
      await page.locator('[data-testid=investigate] textarea[name=impact]').fill('none on the product: within its specification');
      await page.locator('[data-testid=investigate] input[name=capaRef]').fill('CAPA-21');
      await page.locator('[data-testid=investigate-save]').click();
      await expect.poll(() => page.locator('[data-testid=close-deviation]').isEnabled(), { timeout: 15_000 }).toBe(true);
      await page.locator('[data-testid=close-deviation]').click();
      const dlg = page.locator('[data-testid=sign-dialog]');
      expect(await dlg.locator('[data-testid=sign-meaning]').textContent()).toBe('closed');
      await dlg.locator('input[name=secret]').fill(f.qa.secret);
      await dlg.locator('[data-testid=sign-submit]').click();
      await dlg.waitFor({ state: 'detached', timeout: 15_000 });
      await expect.poll(async () => (await t.call('GET', `/deviations/${d.number}`)).body.status, { timeout: 15_000 }).toBe('closed');
      await page.goBack();
      await page.locator('[data-testid=review-page]').waitFor();
    }

    // Acknowledge the exceptions one by one: release stays disabled until the last.
    await page.reload();
    await page.locator('[data-testid=review-page]').waitFor();
    const total = (await t.call('GET', `/batches/${f.batch}/exceptions`)).body.items.length as number;
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(total);
    for (let i = 0; i < total; i++) {
      const open = page.locator('[data-testid=exceptions] tr[data-acknowledged="0"]');
      await expect.poll(() => open.count(), { timeout: 15_000 }).toBe(total - i);
      expect(await releaseButton(page).isDisabled(), `release before acknowledgement ${i + 1} of ${total}`).toBe(true);
      const row = open.first();
      const key = await row.getAttribute('data-exception');
      await row.locator('input[name=comment]').fill(`checked against the record (${i + 1})`);
      await row.locator('[data-testid=ack]').click();
      await page.locator(`[data-testid=exceptions] tr[data-exception="${key}"][data-acknowledged="1"]`).waitFor({ timeout: 15_000 });
    }
    await expect.poll(() => releaseButton(page).isEnabled(), { timeout: 15_000 }).toBe(true);
    expect((await t.call('GET', `/batches/${f.batch}/checks?stage=release`)).body.ok).toBe(true);

    // Another QA user mistypes three times: each refusal shows its code and count, the third locks.
    const p2 = await pageAs(qa2.id, qa2.secret, reviewPath);
    await expect.poll(() => releaseButton(p2).isEnabled(), { timeout: 15_000 }).toBe(true);
    await releaseButton(p2).click();
    const d2 = p2.locator('[data-testid=sign-dialog]');
    expect(await d2.locator('[data-testid=sign-user]').textContent()).toContain(qa2.id);
    for (let i = 1; i <= 3; i++) {
      await d2.locator('input[name=secret]').fill(`wrong-${i}-secret`);
      await d2.locator('[data-testid=sign-submit]').click();
      if (i < 3) await expect.poll(() => d2.locator('[data-testid=sign-failures]').textContent(), { timeout: 15_000 }).toContain(`${i} of 3`);
      await expect.poll(() => d2.locator('[data-testid=error]').getAttribute('data-code'), { timeout: 15_000 }).toBe('LG_ERR_SIGNATURE_INVALID');
    }
    await d2.locator('[data-testid=sign-locked]').waitFor({ timeout: 15_000 });
    expect(await d2.locator('input[name=secret]').isDisabled()).toBe(true);
    expect((await t.call('GET', `/batches/${f.batch}`)).body.status).toBe('completed');
    // Locked means locked: even the right secret is refused now (over the API, as the dialog would send it).
    const locked = await t.call('POST', `/batches/${f.batch}/transitions`, { to: 'released', reason: 'x', signature: { userId: qa2.id, secret: qa2.secret, meaning: 'released' } }, f.qa.token);
    expect(locked.body.code).toBe('LG_ERR_SIGNATURE_LOCKED');

    // QA: the dialog shows who signs and what it means; a wrong secret is refused, the right one releases.
    await releaseButton(page).click();
    const dlg = page.locator('[data-testid=sign-dialog]');
    expect(await dlg.locator('[data-testid=sign-user]').textContent()).toContain(f.qa.id);
    expect(await dlg.locator('[data-testid=sign-meaning]').textContent()).toBe('released');
    await dlg.locator('input[name=secret]').fill('999999');
    await dlg.locator('[data-testid=sign-submit]').click();
    await expect.poll(() => dlg.locator('[data-testid=error]').getAttribute('data-code'), { timeout: 15_000 }).toBe('LG_ERR_SIGNATURE_INVALID');
    expect(await dlg.locator('[data-testid=sign-failures]').textContent()).toContain('1 of 3');
    expect((await t.call('GET', `/batches/${f.batch}`)).body.status).toBe('completed');
    await dlg.locator('input[name=secret]').fill(f.qa.secret);
    await dlg.locator('[data-testid=sign-submit]').click();
    await dlg.waitFor({ state: 'detached', timeout: 15_000 });
    await page.locator('[data-testid=released]').waitFor({ timeout: 15_000 });
    const b = (await t.call('GET', `/batches/${f.batch}`)).body;
    expect(b.status).toBe('released');
    const sigs = (await t.call('GET', `/batches/${f.batch}/signatures`)).body;
    expect(sigs.ok).toBe(true);
    expect(sigs.items.some((s: { signer: string; meaning: string }) => s.signer === f.qa.id && s.meaning === 'released')).toBe(true);
    await expect.poll(() => page.locator('[data-testid=signatures] tr').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(errors).toEqual([]);
  });

  it('the batch page downloads the report as PDF: its text holds the batch, every lot and every signature, and its hash verifies', async () => {
    // Runs after the release above (tests of a file run in order): the record then holds QA's signature.
    expect((await t.call('GET', `/batches/${f.batch}`)).body.status, 'the batch was released by the test before').toBe('released');
    const page = await pageAs(f.qa.id, f.qa.secret, `/ui/office/batches/${encodeURIComponent(f.batch)}`);
    // Live progress: consumed vs target per material, from the gateway.
    await expect.poll(() => page.locator('[data-testid=bom] tr[data-material="RM-1001"] [data-testid=consumed]').textContent(), { timeout: 15_000 }).toBe('51.500 kg');
    expect(await page.locator('[data-testid=good]').textContent()).toBe('990 pcs');
    expect(await page.locator('[data-testid=report-html]').getAttribute('href')).toBe(`/batches/${encodeURIComponent(f.batch)}/report.html`);
    const dir = tempDir('lg-office-pdf-');
    try {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.locator('[data-testid=report-pdf]').click()]);
      const file = join(dir.path, 'record.pdf');
      await download.saveAs(file);
      expect(await download.failure()).toBeNull();
      const text = execFileSync('/usr/bin/pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      expect(text).toContain(f.batch);
      const rec = (await t.call('GET', `/batches/${f.batch}/reconciliation`)).body;
      const lots = rec.materials.flatMap((m: { byLot: Array<{ lot: string }> }) => m.byLot.map((l) => l.lot));
      expect(lots.length).toBeGreaterThanOrEqual(2);
      for (const lot of [...lots, 'L-1001-HOLD']) expect(text, `lot ${lot}`).toContain(lot);
      const sigs = (await t.call('GET', `/batches/${f.batch}/signatures`)).body.items as Array<{ signerName: string; meaning: string }>;
      expect(sigs.length).toBeGreaterThanOrEqual(1);
      for (const s of sigs) {
        expect(text).toContain(s.signerName);
        expect(text).toContain(s.meaning);
      }
      // The content SHA-256 printed on the pages is the journal's: `linegate report verify` on a copy.
      const printed = [...text.matchAll(/\b([0-9a-f]{64})\b/g)].map((m) => m[1]);
      expect(printed.length).toBeGreaterThan(0);
      const json = await page.evaluate(async (u) => (await fetch(u)).json(), `/batches/${encodeURIComponent(f.batch)}/report.json`);
      const hash = JSON.stringify(json).match(/"(?:contentSha256|sha256|contentHash)":"([0-9a-f]{64})"/)?.[1];
      expect(hash, 'content hash in the JSON export').toBeTruthy();
      expect(printed).toContain(hash);
      await t.gw.journal.drain();
      const db = join(dir.path, 'journal.sqlite');
      await t.gw.db.backup(db);
      for (const extra of ['audit-checkpoints.jsonl', 'audit-key.pem']) if (existsSync(join(t.stateDir, extra))) copyFileSync(join(t.stateDir, extra), join(dir.path, extra));
      const cfgFile = join(dir.path, 'linegate.yaml');
      writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(JSON.stringify(t.gw.cfg)), storage: { ...t.gw.cfg.storage, stateDir: dir.path } }));
      const verified = await runCli(['report', 'verify', file, '--db', db, '--config', cfgFile]);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toContain('VERIFIED');
      expect(verified.stdout).toContain(hash!);
      const vb = await runCli(['verify', 'batch', f.batch, '--db', db]);
      expect(vb.code, vb.stdout + vb.stderr).toBe(0);
      expect(vb.stdout).toContain('verified');
    } finally {
      dir.cleanup();
    }
  });
});
