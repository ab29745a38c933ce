import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { PrinterSimulator } from '../../simulators/printer/printer-sim.js';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/net.js';
import { haveChromium, launchBrowser } from '../helpers/browser.js';

/**
 * Issue 12, packing station in a real browser (German catalogue): a ZPL printer simulator on a
 * TCP socket; a reset in the middle of a job leaves it for the operator to confirm, at the panel.
 */
describe.skipIf(!haveChromium())('packing station page (issue 12)', { timeout: 90_000 }, () => {
  let printer: PrinterSimulator;
  let t: TestGateway;
  let browser: Browser;
  let page: Page;
  let batch: string;

  beforeAll(async () => {
    printer = new PrinterSimulator({ port: 0 });
    const port = await printer.start();
    t = await startTestGateway({
      stations: [
        { id: 'WEIGH-1', role: 'weighing' },
        { id: 'FILL-1', role: 'filling' },
        { id: 'PACK-1', name: 'Verpackung', role: 'packing', ui: { lang: 'de' } },
      ],
      devices: [{ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port }, timing: { pollIntervalMs: 100, idleStatusMs: 500, confirmTimeoutMs: 3000 } }],
    });
    ({ batch } = await seedReferenceLine(t));
    await t.call('POST', '/users', { id: 'op-dora', name: 'Dora', role: 'operator', badge: 'EMP-DORA' });
    await t.call('PUT', '/stations/PACK-1/context', { batch, operator: 'op-dora' });
    const p = await t.call('POST', '/ui/api/pairings', { station: 'PACK-1' });
    const k = await t.call('POST', '/ui/api/pair', { code: p.body.code }, null);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(`localStorage.setItem('linegate.kiosk.PACK-1', ${JSON.stringify(k.body.token)})`);
    await page.goto(`${t.url}/ui/stations/PACK-1`);
    await page.locator('main.station[data-conn=live]').waitFor({ timeout: 15_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await printer?.stop();
  });

  const caseLabel = async () => {
    const r = await t.call('POST', '/stations/PACK-1/labels', { kind: 'case', netWeight: '6.125' });
    expect(r.status).toBe(201);
    return r.body.jobId as string;
  };

  it('speaks the station\'s language (German at PACK-1), every string from the catalogue', async () => {
    const text = (await page.locator('main.station').textContent()) ?? '';
    expect(text).toContain('Charge');
    expect(text).toContain('Bediener');
    expect(text).toContain('Kartons');
    expect(text).not.toContain('Operator');
  });

  it('a printer reset mid-job shows a job to confirm; the Printed button resolves it, audited under the operator', async () => {
    printer.resetMidNextJob(16);
    const job = await caseLabel();
    await waitFor(async () => (await t.call('GET', `/print-jobs?state=needs_confirmation`)).body.items.some((j: { id: string }) => j.id === job), 20_000, 50, 'needs_confirmation');
    const row = page.locator(`[data-testid=to-confirm] [data-job="${job}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.getByTestId('printed').click();
    await waitFor(async () => (await t.call('GET', `/print-jobs?state=confirmed`)).body.items.some((j: { id: string; decidedBy: string }) => j.id === job && j.decidedBy === 'op-dora'), 10_000, 50, 'confirmed by the operator');
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    const audit = await t.call('GET', `/audit?entity=print_job&entityId=${job}`);
    expect(audit.body.items).toEqual([expect.objectContaining({ actor: 'op-dora', action: 'label.confirm_printed' })]);
    await expect.poll(async () => Number(await page.getByTestId('cases').innerText()), { timeout: 10_000 }).toBe(1);
  });

  it('Reprint needs a reason; it queues a new job that prints, and the last label is shown as a picture', async () => {
    printer.resetMidNextJob(16);
    const job = await caseLabel();
    const row = page.locator(`[data-testid=to-confirm] [data-job="${job}"]`);
    await row.waitFor({ timeout: 20_000 });
    expect(await row.getByTestId('reprint').isDisabled()).toBe(true);
    await row.locator('input[name=reprint-reason]').fill('Etikett nicht gekommen');
    await row.getByTestId('reprint').click();
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    const jobs = (await t.call('GET', '/print-jobs')).body.items as Array<{ id: string; reprintOf: string | null; state: string; reprintReason: string | null }>;
    const again = jobs.find((j) => j.reprintOf === job);
    expect(again?.reprintReason).toBe('Etikett nicht gekommen');
    await waitFor(async () => (await t.call('GET', '/print-jobs')).body.items.find((j: { id: string }) => j.id === again!.id)?.state === 'confirmed', 20_000, 50, 'reprint printed');
    // The picture of the last label, rendered from its ZPL (off the print path) and loaded by the page.
    await page.getByTestId('label-image').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.evaluate(`document.querySelector('[data-testid=label-image]')?.naturalWidth ?? 0`), { timeout: 30_000 }).toBeGreaterThan(100);
  });
});
