/**
 * README screenshots of the station pages, regenerated, never made by hand:
 *   npm run build && node dist/bench/ui-screenshots.js
 * Runs `linegate demo` (every device simulated over its real protocol, the scripted shift) on
 * free ports with a throw-away state folder, opens every station page it prints in Debian's
 * chromium (playwright-core), waits until the shift has produced verdicts there, and writes
 * docs/station-<ID>.png (1280×800 page, saved at half size to keep the PNGs small).
 * Then the supervisor/QA pages (issue 14): the demo's QA user (seeded with its signing secret), signs
 * in through the sign-in form, and the demo batch's page (once the filler's PackML states are on its
 * timeline) and its review page are saved as docs/office-batch.png and docs/office-review.png.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { packageRoot } from '../src/util/paths.js';
import { officeGenealogyScreenshot } from './trace-picture.js';
import { DEMO_DESK_USERS } from '../src/demo.js';

const root = packageRoot();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), 'linegate-shots-'));
  const env: NodeJS.ProcessEnv = { ...process.env, LINEGATE_DEMO_STATE: join(state, 'state'), LINEGATE_LOG_LEVEL: 'warn' };
  for (const n of ['LINEGATE_PORT', 'LINEGATE_DEMO_MQTT_PORT', 'LINEGATE_DEMO_OPCUA_PORT', 'LINEGATE_DEMO_SCANNER1_PORT', 'LINEGATE_DEMO_SCANNER2_PORT', 'LINEGATE_DEMO_PRINTER_PORT', 'LINEGATE_DEMO_ERP_PORT']) {
    env[n] = String(await freePort());
  }
  const demo = spawn(process.execPath, [join(root, 'dist', 'src', 'main.js'), 'demo', '--config', join(root, 'config', 'demo.yaml')], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  demo.stdout!.on('data', (d) => (out += d));
  const browser = await chromium.launch({
    executablePath: process.env.LINEGATE_CHROMIUM ?? '/usr/bin/chromium',
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const deadline = Date.now() + 60_000;
    let urls: Array<{ id: string; url: string }> = [];
    while (Date.now() < deadline) {
      urls = [...out.matchAll(/^\s+(\S+)\s+(http:\/\/\S+\/ui\/stations\/\S+#pair=\S+)$/gm)].map((m) => ({ id: m[1]!, url: m[2]! }));
      if (urls.length > 0 && out.includes('state:')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!urls.length) throw new Error(`the demo printed no station URLs:\n${out}`);
    mkdirSync(join(root, 'docs'), { recursive: true });
    for (const { id, url } of urls) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 0.5 });
      await page.goto(url);
      await page.locator('main.station[data-conn=live]').waitFor({ timeout: 30_000 });
      // Let the scripted shift produce something to show at this station (a verdict, a weight, a state).
      await page
        .locator('[data-testid=verdicts] li')
        .first()
        .waitFor({ timeout: 45_000 })
        .catch(() => undefined);
      await page.waitForTimeout(2500);
      const file = join(root, 'docs', `station-${id}.png`);
      await page.screenshot({ path: file });
      process.stdout.write(`${file}\n`);
      await page.close();
    }
    await officeShots(browser, out);
  } finally {
    await browser.close();
    demo.kill('SIGTERM');
    await new Promise((r) => demo.once('exit', r));
    rmSync(state, { recursive: true, force: true });
  }
  process.stdout.write(`${await officeGenealogyScreenshot(root)}\n`);
}

/** The supervisor/QA pages of the running demo: batch page and review page of the demo batch. */
async function officeShots(browser: import('playwright-core').Browser, out: string): Promise<void> {
  const base = /API:\s+(http:\/\/[^\s/]+)/.exec(out)?.[1];
  const tokenFile = /admin token:\s+(\S+)/.exec(out)?.[1];
  if (!base || !tokenFile) throw new Error(`the demo printed no API address or admin token file:\n${out}`);
  const admin = readFileSync(tokenFile, 'utf8').trim();
  const call = async (method: string, path: string, body: unknown, token: string): Promise<any> => {
    const r = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const j = await r.json().catch(() => null);
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  };
  // The demo seeds its QA user with a signing secret (src/demo.ts, printed at start).
  const qaUser = DEMO_DESK_USERS.find((u) => u.role === 'qa')!;
  const secret = qaUser.secret;
  const batch = (await call('GET', '/batches?limit=1', null, admin)).items[0]?.number as string | undefined;
  if (!batch) throw new Error('the demo has no batch');
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 0.6 });
  const page = await ctx.newPage();
  await page.goto(`${base}/ui/office/batches/${encodeURIComponent(batch)}`);
  await page.locator('[data-testid=signin] input[name=userId]').fill(qaUser.id);
  await page.locator('[data-testid=signin] input[name=secret]').fill(secret);
  await page.locator('[data-testid=signin] button[type=submit]').click();
  await page.locator('[data-testid=batch-page]').waitFor({ timeout: 30_000 });
  // The scripted shift runs the filler through Execute, Held, Execute, Stopped: wait for the strip to show it.
  await page.locator('[data-testid=timeline] rect[data-state=Stopped]').waitFor({ timeout: 120_000 }).catch(() => undefined);
  await page.waitForTimeout(1000);
  for (const [name, path, ready] of [
    ['office-batch', `/ui/office/batches/${encodeURIComponent(batch)}`, '[data-testid=timeline]'],
    ['office-review', `/ui/office/batches/${encodeURIComponent(batch)}/review`, '[data-testid=exceptions] tr[data-exception]'],
  ] as const) {
    await page.goto(base + path);
    await page.locator(ready).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1500);
    const file = join(root, 'docs', `${name}.png`);
    await page.screenshot({ path: file });
    process.stdout.write(`${file}\n`);
  }
  await ctx.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
