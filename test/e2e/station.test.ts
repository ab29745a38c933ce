import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ScannerSimulator } from '../../simulators/scanner/simulator.js';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/net.js';
import { BlipProxy, haveChromium, launchBrowser } from '../helpers/browser.js';

/**
 * Issue 12 in a real browser: Debian's chromium driven by playwright-core, against a running
 * gateway with a scanner on a real pty (socat), reached through a TCP proxy that can drop the
 * network. Everything the page shows comes from the gateway's API and its live stream.
 */
const DEV = 'weigh.scanner';
// The wedge window is wide here (300 ms; 40 ms in production): on a loaded test machine each key
// of Playwright's typing is its own round trip to the browser. Slow typing below is slower still.
const STATIONS = [
  { id: 'WEIGH-1', name: 'Dispensing', role: 'weighing', commands: { 'CMD-CLEAR': 'clear_lots', 'CMD-SIGNOUT': 'sign_out' }, ui: { verdictFreshSeconds: 3, idleSignOutSeconds: 0, wedge: { maxKeyIntervalMs: 300, minLength: 4 } } },
  { id: 'FILL-1', role: 'filling' },
  { id: 'PACK-1', role: 'packing', ui: { lang: 'de' } },
];

describe.skipIf(!haveChromium())('station page in a real browser (issue 12)', { timeout: 90_000 }, () => {
  let sim: ScannerSimulator;
  let t: TestGateway;
  /** The first gateway owns the temp state folder (its stop() removes it). */
  let first: TestGateway | undefined;
  let proxy: BlipProxy;
  let browser: Browser;
  let page: Page;
  let batch: string;
  let base: string;

  const gwTarget = (tg: TestGateway) => {
    const u = new URL(tg.url);
    return { host: u.hostname, port: Number(u.port) };
  };

  async function startGateway(stateDir?: string): Promise<TestGateway> {
    return startTestGateway(
      {
        stations: STATIONS,
        devices: [{ id: DEV, kind: 'serial-scanner', station: 'WEIGH-1', profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath }, overrides: { aimIds: true } }],
      },
      stateDir ? { stateDir } : {},
    );
  }

  beforeAll(async () => {
    sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
    t = await startGateway();
    ({ batch } = await seedReferenceLine(t));
    expect((await t.call('POST', '/users', { id: 'op-anna', name: 'Anna Operator', role: 'operator', badge: 'EMP-ANNA' })).status).toBe(201);
    expect((await t.call('POST', '/users', { id: 'sup-sue', name: 'Sue Supervisor', role: 'supervisor', badge: 'EMP-SUE' })).status).toBe(201);
    expect((await t.call('PUT', '/ui/api/users/sup-sue/pin', { pin: '4711' })).status).toBe(200);
    await waitFor(() => t.gw.drivers.get(DEV)?.health().state === 'online', 15_000, 25, 'scanner online');
    proxy = new BlipProxy(gwTarget(t));
    await proxy.start();
    base = `http://127.0.0.1:${proxy.port}`;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await t?.stop();
    if (first && first !== t) await first.stop();
    await sim?.stop();
  });

  /** Scan on the pty and wait until the gateway journaled it (the page is then told). */
  async function scanPty(text: string, aim?: string): Promise<{ seq: number; status: string; errorCode: string | null }> {
    const before = (await t.call('GET', `/records?station=WEIGH-1&order=desc&limit=1`)).body.items[0]?.seq ?? 0;
    await sim.scan(text, aim ? { aim } : {});
    return waitFor(async () => {
      const r = await t.call('GET', `/records?station=WEIGH-1&after=${before}&limit=10`);
      return r.body.items.find((x: { device: string }) => x.device === DEV) ?? null;
    }, 15_000, 20, `record for ${text}`);
  }

  const verdict = () => page.getByTestId('verdict');

  it('the index lists every configured station with a link to its page', async () => {
    await page.goto(`${base}/ui`);
    for (const s of STATIONS) await expect.poll(() => page.locator(`a[data-station="${s.id}"]`).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('a[data-station="WEIGH-1"]').getAttribute('href')).toBe('/ui/stations/WEIGH-1');
  });

  it('an unpaired panel asks for a pairing code; the admin\'s code pairs it once, with WEIGH-1 only', async () => {
    await page.goto(`${base}/ui/stations/WEIGH-1`);
    await page.locator('input[name=code]').waitFor({ timeout: 10_000 });
    const p = await t.call('POST', '/ui/api/pairings', { station: 'WEIGH-1', name: 'Dispensing panel' });
    expect(p.status).toBe(201);
    await page.fill('input[name=code]', p.body.code);
    await page.click('button[type=submit]');
    await page.locator('main.station[data-conn=live]').waitFor({ timeout: 15_000 });
    // Single use: the same code pairs nothing else.
    expect((await t.call('POST', '/ui/api/pair', { code: p.body.code }, null)).body.code).toBe('LG_ERR_KIOSK_PAIRING_INVALID');
    const kiosks = await t.call('GET', '/ui/api/kiosks');
    expect(kiosks.body.items).toEqual([expect.objectContaining({ station: 'WEIGH-1', pairedBy: 'admin', revokedAt: null })]);
    const audit = await t.call('GET', `/audit?entity=kiosk&entityId=${kiosks.body.items[0].id}`);
    expect(audit.body.items.map((a: { action: string }) => a.action)).toContain('kiosk.paired');
  });

  it('a scan written to the pty turns the verdict panel green (accepted, with a tick and the word)', async () => {
    const rec = await scanPty(batch);
    expect(rec.status).toBe('accepted');
    await expect.poll(() => verdict().getAttribute('data-seq'), { timeout: 10_000 }).toBe(String(rec.seq));
    expect(await verdict().getAttribute('data-verdict')).toBe('accepted');
    expect(await verdict().getAttribute('data-fresh')).toBe('fresh');
    const text = await verdict().innerText();
    expect(text).toContain('✔');
    expect(text).toContain('ACCEPTED');
    await expect.poll(() => page.getByTestId('batch').innerText(), { timeout: 10_000 }).toContain(batch);
  });

  it('a lot on hold turns it red with the reason in plain words and what to do', async () => {
    const rec = await scanPty('L-1001-HOLD');
    expect(rec.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
    await expect.poll(() => verdict().getAttribute('data-seq'), { timeout: 10_000 }).toBe(String(rec.seq));
    expect(await verdict().getAttribute('data-verdict')).toBe('refused');
    expect(await verdict().getAttribute('data-code')).toBe('LG_ERR_LOT_ON_HOLD');
    const text = await verdict().innerText();
    expect(text).toContain('✖');
    expect(text).toContain('REFUSED');
    expect(text).toMatch(/ON HOLD/);
    expect(text).toMatch(/What to do/i);
    expect(text).toContain('L-1001-HOLD'); // the gateway's message names the lot
    // Listed with its time among the last verdicts.
    expect(await page.locator(`[data-testid=verdicts] li[data-seq="${rec.seq}"]`).innerText()).toMatch(/\d{1,2}:\d{2}:\d{2}/);
  });

  it('a verdict older than the fresh window is marked OLD, never shown as the current one', async () => {
    await expect.poll(() => verdict().getAttribute('data-fresh'), { timeout: 15_000 }).toBe('old');
    expect(await page.getByTestId('old').innerText()).toMatch(/OLD/);
  });

  it('a keyboard-wedge burst is posted as this station\'s scan; typing in a form field is not', { timeout: 60_000 }, async () => {
    const before = (await t.call('GET', '/records?station=WEIGH-1&order=desc&limit=1')).body.items[0].seq;
    // A scanner types a key every few ms and ends with Enter.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.type('L-1001-A', { delay: 4 });
    await page.keyboard.press('Enter');
    const rec = await waitFor(async () => (await t.call('GET', `/records?station=WEIGH-1&after=${before}`)).body.items[0] ?? null, 10_000, 25, 'wedge record');
    expect(rec).toMatchObject({ type: 'lot.scanned', status: 'accepted', lot: 'L-1001-A' });
    expect(rec.device).toMatch(/^kiosk-.+:wedge$/);
    await expect.poll(() => verdict().getAttribute('data-seq'), { timeout: 10_000 }).toBe(String(rec.seq));
    // The same burst typed into an input field stays in the field.
    // (Code evaluated in the page is passed as text: the test files are type-checked without the DOM library.)
    await page.evaluate(`(() => { const i = document.createElement('input'); i.id = 'probe'; document.body.appendChild(i); })()`);
    await page.focus('#probe');
    await page.keyboard.type('L-1001-A', { delay: 4 });
    await page.keyboard.press('Enter');
    // And slow typing outside a field is not a scan either (a person, not a scanner).
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.type('EMP-ANNA', { delay: 700 });
    await page.keyboard.press('Enter');
    // A marker scan afterwards proves the page is still posting; nothing came between.
    await page.keyboard.type('L-1001-EXP', { delay: 4 });
    await page.keyboard.press('Enter');
    const after = await waitFor(async () => {
      const items = (await t.call('GET', `/records?station=WEIGH-1&after=${rec.seq}`)).body.items;
      return items.length ? items : null;
    }, 10_000, 25, 'marker record');
    expect(after.map((r: { lot: string }) => r.lot)).toEqual(['L-1001-EXP']);
    expect(await page.inputValue('#probe')).toBe('L-1001-A');
    await page.evaluate(`document.getElementById('probe')?.remove()`);
  });

  it('badge sign-in on the pty shows the operator; the button signs out, attributed to the operator at this station', async () => {
    await scanPty('EMP-ANNA');
    await expect.poll(() => page.getByTestId('operator').innerText(), { timeout: 10_000 }).toContain('Anna Operator');
    await page.getByTestId('sign-out').click();
    await expect.poll(() => page.getByTestId('operator').innerText(), { timeout: 10_000 }).not.toContain('Anna Operator');
    const out = (await t.call('GET', '/records?station=WEIGH-1&type=operator.signed_out&order=desc&limit=1')).body.items[0];
    expect(out).toMatchObject({ station: 'WEIGH-1', operator: 'op-anna' });
    expect(out.payload.by).toBe('op-anna');
    expect(out.payload.reason).toMatch(/panel kiosk-.+ \(button\)/);
    // The sign-out command barcode, typed by a wedge scanner, signs out too.
    await scanPty('EMP-ANNA');
    await expect.poll(() => page.getByTestId('operator').innerText(), { timeout: 10_000 }).toContain('Anna Operator');
    await page.keyboard.type('CMD-SIGNOUT', { delay: 4 });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('operator').innerText(), { timeout: 10_000 }).not.toContain('Anna Operator');
  });

  it('a network blip: the page says so across the screen, refuses wedge scans loudly, and replays every verdict it missed', async () => {
    await proxy.cut();
    await page.getByTestId('unreachable').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('unreachable').innerText()).toMatch(/UNREACHABLE/);
    // A wedge scan now is not silently dropped: the page says it was not recorded.
    await page.keyboard.type('L-1001-A', { delay: 4 });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('flash').innerText(), { timeout: 5000 }).toMatch(/NOT RECORDED/);
    // Meanwhile the scanner on the pty goes on; the gateway records it all.
    const missed = [await scanPty('L-1001-Q'), await scanPty('L-1001-EXP'), await scanPty(batch)];
    await proxy.restore();
    await page.locator('main.station[data-conn=live]').waitFor({ timeout: 30_000 });
    for (const m of missed) await page.locator(`[data-testid=verdicts] li[data-seq="${m.seq}"]`).waitFor({ timeout: 15_000 });
    expect(await verdict().getAttribute('data-seq')).toBe(String(missed[2]!.seq));
  });

  it('a gateway restart loses no verdict: records committed while the page was away are replayed by event id', async () => {
    const stateDir = t.stateDir;
    first = t;
    await t.gw.stop();
    await page.getByTestId('unreachable').waitFor({ timeout: 60_000 });
    t = await startGateway(stateDir);
    await waitFor(() => t.gw.drivers.get(DEV)?.health().state === 'online', 15_000, 25, 'scanner online again');
    // Cut the browser off until these are journaled, so they can only arrive by replay.
    await proxy.cut();
    proxy.target = gwTarget(t);
    const during = [await scanPty('L-1001-HOLD'), await scanPty('L-1010-A')];
    await proxy.restore();
    await page.locator('main.station[data-conn=live]').waitFor({ timeout: 30_000 });
    for (const m of during) await page.locator(`[data-testid=verdicts] li[data-seq="${m.seq}"]`).waitFor({ timeout: 15_000 });
    // And live again after the replay.
    const next = await scanPty('L-1001-A');
    await expect.poll(() => verdict().getAttribute('data-seq'), { timeout: 10_000 }).toBe(String(next.seq));
  });

  it('a supervisor overrides a refused lot at the panel with badge and PIN; who asked, who granted and why are recorded', async () => {
    await scanPty('EMP-ANNA');
    const refused = await scanPty('L-1001-HOLD');
    await expect.poll(() => verdict().getAttribute('data-seq'), { timeout: 10_000 }).toBe(String(refused.seq));
    await page.getByTestId('override').click();
    const form = page.getByTestId('override-form');
    // The supervisor's badge, typed by a wedge scanner into the focused field: not taken as a station scan.
    await form.locator('input[name=badge]').focus();
    await page.keyboard.type('EMP-SUE', { delay: 4 });
    await page.keyboard.press('Enter');
    await form.locator('input[name=pin]').fill('0000');
    await form.locator('input[name=reason]').fill('QA released it on paper, form 12');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => page.getByTestId('override-error').innerText(), { timeout: 10_000 }).toMatch(/PIN/);
    await form.locator('input[name=pin]').fill('4711');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => verdict().getAttribute('data-verdict'), { timeout: 10_000 }).toBe('accepted');
    const o = (await t.call('GET', '/records?station=WEIGH-1&type=lot.override&order=desc&limit=1')).body.items[0];
    expect(o).toMatchObject({ status: 'accepted', lot: 'L-1001-HOLD', operator: 'op-anna' });
    expect(o.payload).toMatchObject({ overrides: expect.any(String), by: 'sup-sue', role: 'supervisor' });
    expect(o.payload.reason).toMatch(/QA released it on paper, form 12.*asked by op-anna/);
    // The badge typed into the field never became a station scan (no sign-in of Sue).
    expect((await t.call('GET', '/stations/WEIGH-1')).body.operator).toBe('op-anna');
  });
});
