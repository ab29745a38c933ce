/**
 * Issue 14's acceptance on the demo itself: `linegate demo` (what `npm start` runs, child process,
 * every port free, its own state folder) prints the desk users it seeded; QA signs in to the office
 * pages with the printed id and secret, opens the demo batch from the batches list, opens its report
 * as HTML and downloads it as PDF from the batch page; the PDF's text holds the batch number and its
 * content SHA-256 verifies against the demo's journal (`linegate report verify`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { MAIN, ROOT, demoEnv, runCli } from '../helpers/daemon.js';
import { haveChromium, launchBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/net.js';
import { officeSignIn } from '../helpers/office.js';
import { tempDir } from '../helpers/tmp.js';

const hasPdftotext = existsSync('/usr/bin/pdftotext');

describe.skipIf(!haveChromium() || !hasPdftotext)('the demo batch record from the office pages (issue 14 acceptance)', { timeout: 240_000 }, () => {
  let proc: ChildProcess | null = null;
  let browser: Browser | null = null;
  let out = '';
  const dir = tempDir('lg-demo-office-');
  const env: NodeJS.ProcessEnv = {};
  let api = '';

  beforeAll(async () => {
    Object.assign(env, await demoEnv(join(dir.path, 'state')));
    api = `http://127.0.0.1:${env.LINEGATE_PORT}`;
    proc = spawn(process.execPath, [MAIN, 'demo', '--config', 'config/demo.yaml'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('linegate demo is running'), 90_000, 100, `the demo banner\n${out}`);
    browser = await launchBrowser();
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    dir.cleanup();
  });

  it('QA signs in with the printed demo credentials, opens the demo batch, its report as HTML and PDF, and the PDF verifies', async () => {
    const m = /(qa-demo)\s+\/\s+(\S+)\s+\(qa; demo only\)/.exec(out);
    expect(m, `the banner names the demo QA user and secret\n${out}`).toBeTruthy();
    const [, user, secret] = m!;
    const page = await browser!.newPage({ acceptDownloads: true });
    await officeSignIn(page, api, user!, secret!, '/ui/office/batches');
    // The demo batch, from the list.
    const link = page.locator('a[href^="/ui/office/batches/"]').first();
    await link.waitFor({ timeout: 30_000 });
    const batch = decodeURIComponent((await link.getAttribute('href'))!.split('/').pop()!);
    await link.click();
    await page.locator('[data-testid=batch-page]').waitFor({ timeout: 30_000 });
    // HTML: the link opens the report (the page session's cookie is accepted for GET).
    const htmlHref = await page.locator('[data-testid=report-html]').getAttribute('href');
    expect(htmlHref).toBe(`/batches/${encodeURIComponent(batch)}/report.html`);
    const [popup] = await Promise.all([page.waitForEvent('popup', { timeout: 60_000 }), page.locator('[data-testid=report-html]').click()]);
    await popup.waitForLoadState('load', { timeout: 60_000 });
    expect(await popup.textContent('body')).toContain(batch);
    await popup.close();
    // PDF: downloaded from the same page.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 90_000 }), page.locator('[data-testid=report-pdf]').click()]);
    const file = join(dir.path, 'record.pdf');
    await download.saveAs(file);
    expect(await download.failure()).toBeNull();
    const text = execFileSync('/usr/bin/pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain(batch);
    expect(text).toMatch(/\b[0-9a-f]{64}\b/);
    // The printed hash against the running demo's journal (same config and environment as the demo).
    const verified = await runCli(['report', 'verify', file, '--db', join(env.LINEGATE_DEMO_STATE!, 'journal.sqlite'), '--config', 'config/demo.yaml'], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain('VERIFIED');
    await page.close();
  });
});
