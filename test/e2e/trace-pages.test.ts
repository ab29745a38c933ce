import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveChromium, launchBrowser } from '../helpers/browser.js';
import { officeSignIn } from '../helpers/office.js';
import { tempDir } from '../helpers/tmp.js';
import { traceWorld, type TraceWorld } from './trace-world.js';

/**
 * Issue 14, office trace pages in Debian's chromium against a running gateway with a traced world
 * (trace-world.ts: supplier lot → two batches, one through an intermediate → pallets → two
 * customers): the genealogy picture shows every node of the API's trace and its nodes lead to their
 * pages; the recall page answers the supplier-lot question and its CSV and PDF hold the answer;
 * the audit filter narrows the trail; lots, print jobs (with the label picture) and device health.
 */
const havePdfToText = (() => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!haveChromium())('office trace pages (issue 14)', { timeout: 180_000 }, () => {
  let w: TraceWorld;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const tmp = tempDir('linegate-trace-e2e-');

  beforeAll(async () => {
    w = await traceWorld();
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await officeSignIn(page, w.t.url, w.qa.id, w.qa.secret);
  }, 170_000);
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
  const svgNodeIds = async () => {
    const svg = page.locator('[data-testid=genealogy-svg][data-drawn="1"]');
    await svg.waitFor({ timeout: 20_000 });
    return (await svg.locator('[data-node-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id')!))).sort();
  };
  const slot = (l: { supplier: string | null; supplierLot: string | null }) => (l.supplierLot ? [`supplier-lot:${l.supplier ?? ''}|${l.supplierLot}`] : []);

  /** The node ids the existing trace APIs name, forward from a supplier lot (independent of the graph API). */
  async function expectedForward(supplierLot: string, supplier: string): Promise<string[]> {
    const ids = new Set<string>();
    const walk = (n: any) => {
      ids.add(`lot:${n.lot.id}`);
      for (const s of slot(n.lot)) ids.add(s);
      for (const u of n.usedIn) {
        ids.add(`batch:${u.batch.number}`);
        for (const o of u.outputs) if (o.usedIn) walk(o);
      }
    };
    const r = await api(`/genealogy/supplier-lot?supplierLot=${supplierLot}&supplier=${supplier}`);
    for (const t of r.trees) walk(t);
    const c = await api(`/genealogy/customers?supplierLot=${supplierLot}&supplier=${supplier}`);
    for (const h of c.handlingUnits) ids.add(`pallet:${h.pallet}`);
    for (const cu of c.customers) {
      ids.add(`customer:${cu.id}`);
      for (const d of cu.deliveries) ids.add(`delivery:${d.number}`);
    }
    return [...ids].sort();
  }

  it('the genealogy picture of a supplier lot shows every node of the trace (SVG node ids = the trace APIs), through the intermediate to both customers', async () => {
    await page.goto(`${w.t.url}/ui/office/genealogy?supplierLot=ACME-77&supplier=Acme`);
    const drawn = await svgNodeIds();
    const expected = await expectedForward('ACME-77', 'Acme');
    expect(drawn).toEqual(expected);
    // The world as built: both paths, the pallets, deliveries and customers.
    expect(drawn).toEqual(expect.arrayContaining([`batch:${w.A}`, `batch:${w.INT}`, 'lot:L-INT', `batch:${w.B}`, `pallet:${w.P1.id}`, `pallet:${w.P2.id}`, 'delivery:D-1', 'delivery:D-2', 'customer:C1', 'customer:C2']));
    // Every edge drawn joins two drawn nodes, and the supplier lot is the start.
    const edges = await page.locator('[data-testid=genealogy-svg] path.gedge').evaluateAll((els) => els.map((e) => [e.getAttribute('data-from'), e.getAttribute('data-to')]));
    expect(edges.length).toBeGreaterThanOrEqual(drawn.length - 1);
    for (const [a, b] of edges) expect(drawn).toEqual(expect.arrayContaining([a, b]));
    expect(await page.locator('[data-node-id="supplier-lot:Acme|ACME-77"]').getAttribute('class')).toContain('gstart');
    expect(errors).toEqual([]);
  });

  it('the picture of a batch goes backward to every supplier lot and forward to its customer', async () => {
    await page.goto(`${w.t.url}/ui/office/genealogy?batch=${w.B}`);
    const drawn = await svgNodeIds();
    const ids = new Set<string>();
    const back = (n: any) => {
      ids.add(`batch:${n.batch.number}`);
      for (const i of n.inputs) {
        ids.add(`lot:${i.lot.id}`);
        for (const s of slot(i.lot)) ids.add(s);
        if (i.producedBy?.inputs) back(i.producedBy);
      }
    };
    back(await api(`/batches/${w.B}/genealogy`));
    const c = await api(`/genealogy/customers?batch=${w.B}`);
    for (const h of c.handlingUnits) ids.add(`pallet:${h.pallet}`);
    for (const cu of c.customers) for (const d of cu.deliveries) (ids.add(`customer:${cu.id}`), ids.add(`delivery:${d.number}`));
    expect(drawn).toEqual([...ids].sort());
    expect(drawn).toEqual(expect.arrayContaining(['supplier-lot:Acme|ACME-77', 'supplier-lot:Beta|BETA-5', `batch:${w.INT}`, 'customer:C2']));
    expect(drawn).not.toContain('customer:C1'); // A's customer is not in B's trace
  });

  it('clicking a node opens its page: a batch → the batch page, a lot → the lot page, a supplier lot → the recall question', async () => {
    await page.goto(`${w.t.url}/ui/office/genealogy?supplierLot=ACME-77`);
    await svgNodeIds();
    await page.locator(`[data-node-id="batch:${w.A}"]`).click();
    await page.waitForURL(`**/ui/office/batches/${w.A}`, { timeout: 15_000 });
    // The batch page is the office shell's (its route title names the batch).
    await expect.poll(() => page.title(), { timeout: 15_000 }).toBe(`Batch ${w.A} — linegate`);

    await page.goto(`${w.t.url}/ui/office/genealogy?supplierLot=ACME-77`);
    await svgNodeIds();
    await page.locator('[data-node-id="lot:L-INT"]').click();
    await page.waitForURL('**/ui/office/lots/L-INT', { timeout: 15_000 });
    const lot = await api('/lots/L-INT');
    await expect.poll(() => page.getByTestId('lot-balance').textContent(), { timeout: 15_000 }).toBe(`${lot.quantity} ${lot.unit}`);
    await expect.poll(() => page.locator(`[data-testid=lot-used] tr[data-batch="${w.B}"]`).count(), { timeout: 15_000 }).toBe(1);

    await page.goto(`${w.t.url}/ui/office/genealogy?batch=${w.B}`);
    await svgNodeIds();
    await page.locator('[data-node-id="supplier-lot:Beta|BETA-5"]').click();
    await page.waitForURL('**/ui/office/recall?supplierLot=BETA-5&supplier=Beta', { timeout: 15_000 });
    await page.locator(`[data-testid=recall-batches] tr[data-batch="${w.B}"]`).waitFor({ timeout: 15_000 });
    // A node without a page (a customer) shows its details instead.
    await page.goto(`${w.t.url}/ui/office/genealogy?batch=${w.B}`);
    await svgNodeIds();
    await page.locator('[data-node-id="customer:C2"]').click();
    await expect.poll(() => page.getByTestId('node-detail').textContent(), { timeout: 10_000 }).toContain('Shop Two');
  });

  it('the recall page answers "who received Acme\'s lot ACME-77": batches, pallets, customers; CSV and PDF exports hold them', async () => {
    await page.goto(`${w.t.url}/ui/office/recall`);
    await page.locator('[data-testid=recall-form] input[name=supplierLot]').fill('ACME-77');
    await page.locator('[data-testid=recall-form] input[name=supplier]').fill('Acme');
    await page.locator('[data-testid=recall-form] button[type=submit]').click();
    await page.getByTestId('recall-answer').waitFor({ timeout: 15_000 });
    const answer = await api('/genealogy/customers?supplierLot=ACME-77&supplier=Acme');
    const rows = (sel: string, attr: string) => page.locator(`[data-testid=${sel}] tr[${attr}]`).evaluateAll((els, a) => els.map((e) => e.getAttribute(a)!).sort(), attr);
    expect(await rows('recall-batches', 'data-batch')).toEqual([...answer.batches].sort());
    expect(await rows('recall-batches', 'data-batch')).toEqual([w.A, w.B, w.INT].sort());
    expect(await rows('recall-units', 'data-sscc')).toEqual([w.P1.sscc, w.P2.sscc].sort());
    expect(await rows('recall-customers', 'data-customer')).toEqual(['C1', 'C2']);
    expect(await rows('recall-lots', 'data-lot')).toEqual(['L-ACME']);
    expect(await page.getByTestId('recall-action-slot').count()).toBe(1);

    const [csvDl] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.getByTestId('export-csv').click()]);
    expect(csvDl.suggestedFilename()).toBe('recall-Acme-ACME-77.csv');
    const csvFile = join(tmp.path, 'recall.csv');
    await csvDl.saveAs(csvFile);
    const csv = readFileSync(csvFile, 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('supplier,supplier_lot,lot,batch,product,batch_status,pallet,sscc,pallet_status,on_hold,cases,delivery,delivery_status,shipped_at,customer,customer_name,customer_gln,ship_to_gln');
    const cells = csv.slice(1).map((l) => l.split(','));
    expect(cells.map((c) => c[3]).sort()).toEqual([w.A, w.B, w.INT].sort()); // INT has no pallet: one row with empty pallet columns
    expect(cells.find((c) => c[3] === w.A)).toEqual(expect.arrayContaining(['Acme', 'ACME-77', 'L-ACME', w.P1.sscc, 'D-1', 'C1', 'Shop One']));
    expect(cells.find((c) => c[3] === w.B)).toEqual(expect.arrayContaining([w.P2.sscc, 'D-2', 'C2', 'Shop Two']));

    if (!havePdfToText) return;
    const [pdfDl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByTestId('export-pdf').click()]);
    const pdfFile = join(tmp.path, 'recall.pdf');
    await pdfDl.saveAs(pdfFile);
    expect(readFileSync(pdfFile).subarray(0, 5).toString()).toBe('%PDF-');
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    for (const s of ['ACME-77', 'L-ACME', w.A, w.B, w.INT, w.P1.sscc, w.P2.sscc, 'D-1', 'D-2', 'Shop One', 'Shop Two', 'Page 1 of']) expect(text).toContain(s);
    expect(text).toMatch(/content SHA-256 [0-9a-f]{64}/);
  });

  it('the audit filter narrows the trail to one entity, as the API answers it', async () => {
    await page.goto(`${w.t.url}/ui/office/audit`);
    const rows = page.locator('[data-testid=audit] tr[data-seq]');
    await rows.first().waitFor({ timeout: 15_000 });
    const all = await rows.count();
    const entities = new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-entity'))));
    expect(entities.size).toBeGreaterThan(2);
    await page.locator('[data-testid=audit-filters] input[name=entity]').fill('lot');
    await page.locator('[data-testid=audit-filters] input[name=entityId]').fill('L-ACME');
    await page.locator('[data-testid=audit-filters] button[type=submit]').click();
    await page.waitForURL('**/ui/office/audit?entity=lot&entityId=L-ACME', { timeout: 10_000 });
    const expected = (await api('/audit?entity=lot&entityId=L-ACME&limit=200')).items.map((a: any) => String(a.seq));
    expect(expected.length).toBeGreaterThan(0);
    await expect.poll(async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-seq')))).join(','), { timeout: 15_000 }).toBe(expected.join(','));
    expect(expected.length).toBeLessThan(all);
    for (const who of await rows.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-entity')}/${e.getAttribute('data-entity-id')}`))) expect(who).toBe('lot/L-ACME');
    await page.getByTestId('audit-verify').click();
    await expect.poll(() => page.getByTestId('audit-verify-result').textContent(), { timeout: 15_000 }).toContain('Chain intact');
  });

  it('lots list with balance and status; print-job queue with the label picture; device health', async () => {
    await page.goto(`${w.t.url}/ui/office/lots`);
    const row = page.locator('[data-testid=lots] tr[data-lot="L-ACME"]');
    await row.waitFor({ timeout: 15_000 });
    const lot = await api('/lots/L-ACME');
    expect(await row.textContent()).toContain(`${lot.quantity} ${lot.unit}`);
    await page.locator('[data-testid=lot-filters] select[name=status]').selectOption('on_hold');
    await page.locator('[data-testid=lot-filters] button[type=submit]').click();
    await page.waitForURL('**/ui/office/lots?status=on_hold', { timeout: 10_000 });
    await expect.poll(() => page.locator('[data-testid=lots] tr[data-lot="L-ACME"]').count(), { timeout: 10_000 }).toBe(0);

    await page.goto(`${w.t.url}/ui/office/print-jobs`);
    const jobs = (await api('/print-jobs')).items as Array<{ id: string; state: string }>;
    expect(jobs.length).toBeGreaterThanOrEqual(6); // 4 case labels + 2 SSCC labels
    await page.locator('[data-testid=print-jobs] tr[data-job]').first().waitFor({ timeout: 15_000 });
    expect((await page.locator('[data-testid=print-jobs] tr[data-job]').evaluateAll((els) => els.map((e) => e.getAttribute('data-job')))).sort()).toEqual(jobs.map((j) => j.id).sort());
    await page.locator(`[data-testid=print-jobs] tr[data-job="${jobs[0]!.id}"] [data-testid=show-label]`).click();
    const img = page.locator(`[data-testid=label-picture][data-job="${jobs[0]!.id}"] img`);
    await img.waitFor({ timeout: 30_000 });
    await expect.poll(() => img.evaluate((e) => ((e as unknown as { complete: boolean; naturalWidth: number }).complete ? (e as unknown as { naturalWidth: number }).naturalWidth : 0)), { timeout: 30_000 }).toBeGreaterThan(100);

    await page.goto(`${w.t.url}/ui/office/devices`);
    await page.locator('[data-testid=subsystems] tr[data-subsystem="journal"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=subsystems] tr[data-subsystem="printers"]').textContent()).toContain('pack.printer');
    expect(await page.getByTestId('gateway-status').textContent()).toMatch(/ready|degraded/);
    expect(errors).toEqual([]);
  });

  it('the trace APIs refuse a bad question with its code, never an empty answer', async () => {
    const code = async (path: string) => {
      const r = await w.t.call('GET', path, undefined, w.qa.token);
      return `${r.status} ${r.body?.code}`;
    };
    expect(await code('/genealogy/graph')).toBe('400 LG_ERR_VALIDATION');
    expect(await code(`/genealogy/graph?batch=${w.A}&lot=L-ACME`)).toBe('400 LG_ERR_VALIDATION');
    expect(await code('/genealogy/graph?batch=NOPE')).toBe('404 LG_ERR_BATCH_NOT_FOUND');
    expect(await code('/genealogy/graph?lot=NOPE')).toBe('404 LG_ERR_LOT_NOT_FOUND');
    expect(await code('/genealogy/graph?supplierLot=ACME-77&supplier=Nobody')).toBe('404 LG_ERR_LOT_NOT_FOUND');
    expect(await code('/print-jobs/NOPE/label.png')).toBe('404 LG_ERR_PRINT_JOB_NOT_FOUND');
    expect(await code('/genealogy/recall')).toBe('400 LG_ERR_VALIDATION');
    // A supplier lot nobody received is an answer with nothing in it (the question was valid).
    const none = await w.t.call('GET', '/genealogy/recall?supplierLot=NEVER-SEEN', undefined, w.qa.token);
    expect(none.status).toBe(200);
    expect(none.body.totals).toEqual({ lots: 0, batches: 0, pallets: 0, shipped: 0, onSite: 0, customers: 0, deliveries: 0 });
  });

  it('an operator cannot open the recall page, and the API refuses the recall export to them', async () => {
    const op = await w.t.call('POST', '/users', { id: 'op-olga', name: 'Olga', role: 'operator' });
    await w.t.call('PUT', '/me/signing-secret', { kind: 'password', secret: 'olga-secret-1' }, op.body.token);
    const c2 = await browser.newContext();
    try {
      const p2 = await c2.newPage();
      await officeSignIn(p2, w.t.url, 'op-olga', 'olga-secret-1', '/ui/office/recall?supplierLot=ACME-77');
      await p2.getByTestId('refused').waitFor({ timeout: 15_000 });
      expect(await p2.getByTestId('recall-answer').count()).toBe(0);
      expect((await w.t.call('GET', '/genealogy/recall.csv?supplierLot=ACME-77', undefined, op.body.token)).status).toBe(403);
    } finally {
      await c2.close();
    }
  });
});
