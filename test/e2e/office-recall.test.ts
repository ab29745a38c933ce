import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveChromium, launchBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/net.js';
import { officeSignIn } from '../helpers/office.js';
import { tempDir } from '../helpers/tmp.js';
import { traceWorld, type TraceWorld } from './trace-world.js';

/**
 * Issue 15 × 14, the recall ACTION on the office pages, in Debian's chromium against a running
 * gateway with the traced world (trace-world.ts: supplier lot ACME-77 → batches A, INT → B →
 * pallets shipped to C1 and C2) plus one pallet of A still on site. QA starts the recall from the
 * recall question (a wrong secret refused with its attempt count, then the right one), the recall
 * page shows what went on hold (with each object's state now) and what had shipped to both
 * customers, its CSV holds the SSCCs; a supervisor reads but gets no action (and the API refuses
 * their POST /recalls); a second start of the same scope is refused naming the open recall.
 */
const GS = '\x1d';

describe.skipIf(!haveChromium())('office recall action (issue 15)', { timeout: 240_000 }, () => {
  let w: TraceWorld;
  let P3: { id: string; sscc: string };
  let browser: Browser;
  let qaCtx: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const tmp = tempDir('linegate-recall-e2e-');
  let number = '';

  beforeAll(async () => {
    w = await traceWorld();
    // A third pallet of batch A that never left the site: the recall must put it on hold.
    const label = await w.t.call('POST', '/stations/PACK-1/labels', { kind: 'case', batch: w.A, netWeight: '6.000' });
    if (label.status >= 300) throw new Error(`case label: ${label.status} ${JSON.stringify(label.body)}`);
    await waitFor(async () => (await w.t.call('GET', '/print-jobs?state=confirmed')).body.items.length >= 5 || null, 30_000, 100, 'the fifth case label printed');
    const packed = (await w.t.call('POST', '/stations/PALLET-1/scans', { data: `]C110${w.A}${GS}21${label.body.serial}` })).body.record;
    if (packed.status !== 'accepted') throw new Error(`pack: ${JSON.stringify(packed)}`);
    const closed = await w.t.call('POST', '/stations/PALLET-1/pallet/close');
    if (closed.status >= 300) throw new Error(`close pallet: ${closed.status} ${JSON.stringify(closed.body)}`);
    P3 = { id: closed.body.id, sscc: closed.body.sscc };

    browser = await launchBrowser();
    qaCtx = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    page = await qaCtx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await officeSignIn(page, w.t.url, w.qa.id, w.qa.secret);
  }, 230_000);
  afterAll(async () => {
    await browser?.close();
    await w?.stop();
    tmp.cleanup();
  });

  const api = async (path: string) => {
    const r = await w.t.call('GET', path);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const attr = (p: Page, sel: string, a: string) => p.locator(`${sel}`).evaluateAll((els, x) => els.map((e) => e.getAttribute(x)!).sort(), a);
  const openQuestion = async (p: Page) => {
    await p.goto(`${w.t.url}/ui/office/recall?supplierLot=ACME-77&supplier=Acme`);
    await p.getByTestId('recall-answer').waitFor({ timeout: 20_000 });
  };

  it('QA starts the recall from the question page: a wrong secret is refused with its attempt count, the right one opens the recall page', async () => {
    await openQuestion(page);
    await page.getByTestId('recall-start-open').click();
    const dialog = page.getByTestId('sign-dialog');
    await dialog.waitFor();
    expect(await dialog.getByTestId('sign-meaning').textContent()).toBe('approved');
    await dialog.locator('input[name=secret]').fill('000000');
    expect(await dialog.getByTestId('sign-submit').isDisabled()).toBe(true); // the reason is required
    await dialog.getByTestId('recall-reason').fill('Supplier notice: foreign body in ACME-77');
    await dialog.getByTestId('sign-submit').click();
    await dialog.getByTestId('sign-failures').waitFor({ timeout: 15_000 });
    expect(await dialog.getByTestId('sign-failures').textContent()).toContain('1 of 3');
    expect(await dialog.getByTestId('error').getAttribute('data-code')).toBe('LG_ERR_SIGNATURE_INVALID');
    expect((await api('/recalls')).items).toEqual([]); // nothing started, nothing held
    expect((await api('/lots/L-ACME')).status).toBe('released');

    await dialog.locator('input[name=secret]').fill(w.qa.secret);
    await dialog.getByTestId('sign-submit').click();
    await page.waitForURL(/\/ui\/office\/recalls\/RC-\d{4}-\d{4}$/, { timeout: 20_000 });
    number = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.getByTestId('recall').waitFor({ timeout: 15_000 });
    const r = await api(`/recalls/${number}`);
    expect(r.status).toBe('open');
    expect(r.startedBy).toBe(w.qa.id);
    expect(r.scope).toEqual({ kind: 'supplier_lot', value: 'ACME-77', supplier: 'Acme' });
    expect(await page.getByTestId('recall-scope').textContent()).toBe('supplier lot ACME-77 of Acme');
    expect(errors).toEqual([]);
  });

  it('the recall page lists what went on hold with its state now and what had left the site, to both customers', async () => {
    const r = await api(`/recalls/${number}`);
    // Every object of the recall is a row, with its action and its state now as the API says.
    const rows = await page.locator('[data-testid=recall-held] tbody tr').evaluateAll((els) => els.map((e) => [e.getAttribute('data-kind'), e.getAttribute('data-ref'), e.getAttribute('data-action'), e.getAttribute('data-now')].join(' ')).sort());
    const expected = r.items.filter((i: any) => i.kind !== 'delivery').map((i: any) => [i.kind, i.ref, i.action, i.now?.status ?? ''].join(' ')).sort();
    expect(rows).toEqual(expected);
    // The world: the supplier lot's lot and the intermediate lot held, the three batches held, the pallet on site held, the shipped ones listed.
    expect(rows).toEqual(
      expect.arrayContaining([
        'lot L-ACME held on_hold',
        'lot L-INT held on_hold',
        `batch ${w.A} held on_hold`,
        `batch ${w.INT} held on_hold`,
        `batch ${w.B} held on_hold`,
        `pallet ${P3.id} held closed`,
        `pallet ${w.P1.id} shipped shipped`,
        `pallet ${w.P2.id} shipped shipped`,
      ]),
    );
    expect(await page.locator(`[data-testid=recall-held] tr[data-ref="${P3.id}"]`).textContent()).toContain(P3.sscc);
    expect(await page.locator(`[data-testid=recall-held] tr[data-ref="${P3.id}"]`).textContent()).toContain('on hold');
    expect((await api(`/lots/L-ACME`)).status).toBe('on_hold');
    // Links to the lot and batch pages.
    await page.locator('[data-testid=recall-held] tr[data-ref="L-ACME"] a', { hasText: 'L-ACME' }).click();
    await page.waitForURL(/\/ui\/office\/lots\/L-ACME$/);
    await page.goBack();
    await page.getByTestId('recall').waitFor();

    const shipped = await page.locator('[data-testid=recall-shipped] tbody tr').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-delivery')} ${e.getAttribute('data-customer')}`).sort());
    expect(shipped).toEqual(['D-1 C1', 'D-2 C2']);
    expect(await page.locator('[data-testid=recall-shipped] tr[data-delivery=D-1]').textContent()).toContain(w.P1.sscc);
    expect(await page.locator('[data-testid=recall-shipped] tr[data-delivery=D-2]').textContent()).toContain(w.P2.sscc);
    expect(await page.locator('[data-testid=recall-shipped] tr[data-delivery=D-1]').textContent()).toContain('Shop One');

    // The nav marks Recalls, not the recall question (whose path is a prefix of it).
    expect(await page.locator('[data-testid=nav] a[data-nav="/ui/office/recalls"]').getAttribute('class')).toBe('on');
    expect(await page.locator('[data-testid=nav] a[data-nav="/ui/office/recall"]').getAttribute('class')).toBe('');
    // The list page.
    await page.goto(`${w.t.url}/ui/office/recalls`);
    const row = page.locator(`[data-testid=recalls] tr[data-recall="${number}"]`);
    await row.waitFor({ timeout: 15_000 });
    const heldNow = r.counts.lotsHeld + r.counts.batchesHeld + r.counts.palletsHeld;
    expect(heldNow).toBe(6); // 2 lots, 3 batches, 1 pallet
    expect(await row.locator('[data-col=held]').textContent()).toBe(String(heldNow));
    expect(await row.locator('[data-col=shipped]').textContent()).toContain('2');
    expect(await row.textContent()).toContain('Supplier notice: foreign body in ACME-77');
    expect(await row.textContent()).toContain(w.qa.id);
  });

  it('the CSV export holds every SSCC (shipped and held); the EPCIS export is the API\'s document', async () => {
    await page.goto(`${w.t.url}/ui/office/recalls/${number}`);
    await page.getByTestId('recall').waitFor({ timeout: 15_000 });
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.getByTestId('recall-export-csv').click()]);
    expect(dl.suggestedFilename()).toBe(`recall-${number}.csv`);
    const file = join(tmp.path, 'recall.csv');
    await dl.saveAs(file);
    const lines = readFileSync(file, 'utf8').trim().split('\r\n');
    expect(lines[0]!.split(',').slice(0, 8)).toEqual(['recall', 'kind', 'ref', 'action', 'status_before', 'status_now', 'on_hold_now', 'sscc']);
    const ssccs = lines.slice(1).map((l) => l.split(',')[7]).filter(Boolean);
    expect(ssccs).toEqual(expect.arrayContaining([w.P1.sscc, w.P2.sscc, P3.sscc]));
    const byDelivery = (d: string) => lines.slice(1).filter((l) => l.split(',')[1] === 'delivery' && l.split(',')[2] === d);
    expect(byDelivery('D-1').join('\n')).toContain(w.P1.sscc);
    expect(byDelivery('D-2').join('\n')).toContain(w.P2.sscc);

    // EPCIS: the events of every batch the recall reached, as the API gives them.
    const [ep] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.getByTestId('recall-export-epcis').click()]);
    const epFile = join(tmp.path, 'recall.jsonld');
    await ep.saveAs(epFile);
    const doc = JSON.parse(readFileSync(epFile, 'utf8'));
    expect(doc.type).toBe('EPCISDocument');
    const fromApi = (await api(`/recalls/${number}/export?format=epcis`)).epcisBody.eventList.map((e: any) => e.eventID).sort();
    expect(doc.epcisBody.eventList.map((e: any) => e.eventID).sort()).toEqual(fromApi);
    expect(fromApi.length).toBeGreaterThan(0);
    expect(fromApi.every((x: unknown) => typeof x === 'string' && x.length > 0)).toBe(true);
  });

  it('a recall of a supplier lot nobody knows is refused on the page (LG_ERR_RECALL_NOTHING_FOUND), and nothing is recorded as a recall', async () => {
    await page.goto(`${w.t.url}/ui/office/recall?supplierLot=NOPE-1`);
    await page.getByTestId('recall-answer').waitFor({ timeout: 20_000 });
    await page.getByTestId('recall-start-open').click();
    const dialog = page.getByTestId('sign-dialog');
    await dialog.getByTestId('recall-reason').fill('typo test');
    await dialog.locator('input[name=secret]').fill(w.qa.secret);
    await dialog.getByTestId('sign-submit').click();
    const refused = page.getByTestId('recall-start-refused');
    await refused.waitFor({ timeout: 15_000 });
    expect(await refused.getAttribute('data-code')).toBe('LG_ERR_RECALL_NOTHING_FOUND');
    expect(await refused.textContent()).toContain('NOPE-1');
    expect(await page.getByTestId('recall-open-link').count()).toBe(0);
    expect((await api('/recalls')).items.map((x: any) => x.number)).toEqual([number]);
  });

  it('a supervisor opens the recall page but gets no start or close action, and the API refuses their POST /recalls (403)', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const sp = await ctx.newPage();
      await officeSignIn(sp, w.t.url, w.sup.id, w.sup.secret);
      expect(await sp.locator('[data-testid=nav] a', { hasText: 'Recalls' }).count()).toBe(1);
      await sp.goto(`${w.t.url}/ui/office/recalls/${number}`);
      await sp.getByTestId('recall').waitFor({ timeout: 15_000 });
      expect(await sp.locator('[data-testid=recall-held] tbody tr').count()).toBeGreaterThan(0);
      expect(await sp.getByTestId('recall-close-open').count()).toBe(0);
      expect(await sp.getByTestId('recall-close-not-allowed').isVisible()).toBe(true);
      await openQuestion(sp);
      expect(await sp.getByTestId('recall-start-open').count()).toBe(0);
      expect(await sp.getByTestId('recall-start-not-allowed').textContent()).toContain('supervisor');
      const r = await w.t.call('POST', '/recalls', { lot: 'L-BETA', reason: 'not mine to start', signature: { userId: w.sup.id, secret: w.sup.secret, meaning: 'approved' } }, w.sup.token);
      expect(r.status).toBe(403);
      expect((await api('/recalls')).items.length).toBe(1);
      expect((await api('/lots/L-BETA')).status).toBe('released');
    } finally {
      await ctx.close();
    }
  });

  it('starting the same recall again is refused naming the open one, with a link to it; QA then closes it (signed) and the holds stay', async () => {
    await openQuestion(page);
    await page.getByTestId('recall-start-open').click();
    const dialog = page.getByTestId('sign-dialog');
    await dialog.getByTestId('recall-reason').fill('again');
    await dialog.locator('input[name=secret]').fill(w.qa.secret);
    await dialog.getByTestId('sign-submit').click();
    const refused = page.getByTestId('recall-start-refused');
    await refused.waitFor({ timeout: 15_000 });
    expect(await refused.getAttribute('data-code')).toBe('LG_ERR_RECALL_ALREADY_OPEN');
    expect(await dialog.count()).toBe(0);
    expect((await api('/recalls')).items.length).toBe(1);
    const link = page.getByTestId('recall-open-link');
    expect(await link.textContent()).toBe(number);
    await link.click();
    await page.waitForURL(new RegExp(`/ui/office/recalls/${number}$`));
    await page.getByTestId('recall').waitFor({ timeout: 15_000 });

    await page.getByTestId('recall-close-open').click();
    const close = page.getByTestId('sign-dialog');
    expect(await close.getByTestId('sign-meaning').textContent()).toBe('closed');
    await close.getByTestId('recall-outcome').fill('Customers C1 and C2 informed; stock on site quarantined');
    await close.locator('input[name=secret]').fill(w.qa.secret);
    await close.getByTestId('sign-submit').click();
    await page.locator('[data-testid=recall][data-status=closed]').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('recall-closed').textContent()).toContain('Customers C1 and C2 informed');
    expect(await page.getByTestId('recall-close-open').count()).toBe(0);
    const r = await api(`/recalls/${number}`);
    expect(r.status).toBe('closed');
    expect(r.counts.stillOnHold).toBe(6);
    expect((await api('/lots/L-ACME')).status).toBe('on_hold');
    expect(errors).toEqual([]);
  });
});
