import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { OpcuaLineSimulator } from '../../simulators/opcua-line/line.js';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { haveChromium, launchBrowser } from '../helpers/browser.js';

/** Issue 12, filling station in a real browser: a PackML PLC as a real node-opcua server. */
describe.skipIf(!haveChromium())('filling station page (issue 12)', { timeout: 90_000 }, () => {
  let line: OpcuaLineSimulator;
  let t: TestGateway;
  let browser: Browser;
  let page: Page;
  let batch: string;
  const pki = tempDir('linegate-e2e-simpki-');
  const DEV = 'fill.plc';

  beforeAll(async () => {
    line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', initial: { state: 'Idle', good: 1000, reject: 7 } });
    const endpoint = await line.start();
    t = await startTestGateway({
      devices: [{ id: DEV, kind: 'opcua-machine', station: 'FILL-1', endpoint, securityMode: 'None', securityPolicy: 'None', nodeMap: 'packml-generic', samplingIntervalMs: 0, publishingIntervalMs: 50, autoBatchTransitions: true }],
    });
    ({ batch } = await seedReferenceLine(t));
    await waitFor(() => t.gw.drivers.get(DEV)?.health().state === 'online', 30_000, 50, 'PLC online');
    await t.call('PUT', '/stations/FILL-1/context', { batch });
    const p = await t.call('POST', '/ui/api/pairings', { station: 'FILL-1' });
    const k = await t.call('POST', '/ui/api/pair', { code: p.body.code }, null);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(`localStorage.setItem('linegate.kiosk.FILL-1', ${JSON.stringify(k.body.token)})`);
    await page.goto(`${t.url}/ui/stations/FILL-1`);
    await page.locator('main.station[data-conn=live]').waitFor({ timeout: 15_000 });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await line?.stop();
    pki.cleanup();
  });

  it('shows the PackML state with time in it, good and reject counters, the link and the batch\'s produced quantity, live', async () => {
    line.setState('Starting');
    line.setState('Execute');
    await expect.poll(() => page.getByTestId('packml').getAttribute('data-state'), { timeout: 15_000 }).toBe('Execute');
    expect(await page.getByTestId('packml').innerText()).toMatch(/\d+ s/);
    line.produce(40, 3);
    await expect.poll(async () => Number(await page.getByTestId('good').innerText()), { timeout: 15_000 }).toBe(1040);
    await expect.poll(async () => Number(await page.getByTestId('rejected').innerText()), { timeout: 15_000 }).toBe(10);
    await expect.poll(async () => (await page.getByTestId('produced').innerText()).trim(), { timeout: 15_000 }).toMatch(/^40\b/);
    expect(await page.getByTestId('link').getAttribute('data-state')).toBe('online');
    expect(Number((await page.getByTestId('rate').innerText()).split(' ')[0])).toBeGreaterThanOrEqual(40);
    // The batch moved to in_process on Execute: the header says so.
    await expect.poll(() => page.getByTestId('batch').innerText(), { timeout: 10_000 }).toContain('in_process');
    line.setState('Held');
    await expect.poll(() => page.getByTestId('packml').getAttribute('data-state'), { timeout: 15_000 }).toBe('Held');
  });
});
