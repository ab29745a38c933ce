/**
 * README screenshots of the station pages, regenerated, never made by hand:
 *   npm run build && node dist/bench/ui-screenshots.js
 * Runs `linegate demo` (every device simulated over its real protocol, the scripted shift) on
 * free ports with a throw-away state folder, opens every station page it prints in Debian's
 * chromium (playwright-core), waits until the shift has produced verdicts there, and writes
 * docs/station-<ID>.png (1280×800 page, saved at half size to keep the PNGs small).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { packageRoot } from '../src/util/paths.js';
import { officeGenealogyScreenshot } from './trace-picture.js';

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
  } finally {
    await browser.close();
    demo.kill('SIGTERM');
    await new Promise((r) => demo.once('exit', r));
    rmSync(state, { recursive: true, force: true });
  }
  process.stdout.write(`${await officeGenealogyScreenshot(root)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
