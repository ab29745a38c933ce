import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { chromium } from 'playwright-core';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { silentLogger } from '../src/util/log.js';
import { startEmbeddedBroker } from '../src/broker/embedded.js';
import { Kiosks } from '../src/ui/server/kiosks.js';
import { packageRoot } from '../src/util/paths.js';
import { ScannerSimulator } from '../simulators/scanner/simulator.js';
import { ScaleSimulator } from '../simulators/scale/simulator.js';

/**
 * Station pages (issue 12), in Debian's chromium against a running gateway:
 * - scan written to the pty → verdict painted in the page (measured in the page, after paint),
 *   50 scans/s, while the gateway also takes 1,000 readings/s at another station.
 *   Target p99 ≤ 100 ms.
 * - scale message published → weight painted, 10 Hz. Target p99 ≤ 150 ms.
 * - page ready after navigation (pairing already done) → live. Target ≤ 1 s.
 * - bundle size; the page's JS heap before and after N scale messages (UI_BENCH_SAMPLES,
 *   default 36,000 = one hour of a 10 Hz scale, sent at 200/s).
 * Clocks: the bench and the browser read the same machine clock (performance.timeOrigin + now()).
 */
const now = (): number => performance.timeOrigin + performance.now();

export async function benchUi(opts: { scans?: number; samples?: number } = {}): Promise<Record<string, number>> {
  const scans = opts.scans ?? 500;
  const samples = opts.samples ?? Number(process.env.UI_BENCH_SAMPLES ?? 36_000);
  mkdirSync(resolve('var'), { recursive: true });
  const dir = mkdtempSync(join(resolve('var'), 'bench-ui-'));
  const sim = new ScannerSimulator({ mode: 'pty' });
  await sim.start();
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const cfg = parseConfig(
    stringify({
      site: { id: 'S', timezone: 'UTC' },
      line: { id: 'L1' },
      stations: [
        { id: 'WEIGH-1', role: 'weighing', policies: { duplicateWindowMs: 0 } },
        { id: 'LOAD-1', role: 'generic', policies: { duplicateWindowMs: 0 } },
      ],
      devices: [
        { id: 'scanner', kind: 'serial-scanner', station: 'WEIGH-1', profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath }, overrides: { aimIds: true } },
        { id: 'scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', broker: { url: broker.url, clientId: 'bench-ui-scale' }, topic: 'bench/ui/scale', silenceTimeoutMs: 600_000 },
      ],
      api: { port: 0 },
      storage: { stateDir: dir, synchronous: 'FULL' },
      log: { level: 'silent' },
    }),
  );
  const gw = new Gateway(cfg, { logger: silentLogger() });
  await gw.start();
  const admin = { id: 'admin', role: 'admin' as const };
  await gw.ops.upsertMaterial({ code: 'RM-1001', name: 'Sugar', unit: 'kg', gtins: ['09506000134369'] }, admin);
  await gw.ops.upsertLot({ id: 'L-1001-A', material: 'RM-1001', supplierLot: 'ACME-77', expiry: '2099-12-31', status: 'released', quantity: '100' }, admin, null, 'create');
  const { number } = await gw.ops.createBatch({ product: 'P', plannedQty: '1', unit: 'pcs', bom: [{ material: 'RM-1001', quantity: '1', unit: 'kg' }] }, admin);
  await gw.ops.setStationContext('WEIGH-1', { batch: number }, admin, null);
  while (gw.drivers.get('scanner')!.health().state !== 'online' || gw.drivers.get('scale')!.health().state !== 'online') await new Promise((r) => setTimeout(r, 20));
  const kiosks = new Kiosks(gw.repo.db, gw.journal, gw.clock);
  const { token } = await kiosks.redeem((await kiosks.createPairing('WEIGH-1', 'bench', 'admin')).code);
  const scale = new ScaleSimulator({ url: broker.url, topic: 'bench/ui/scale', format: 'json', continuous: false, clientId: 'bench-ui-scale-sim' });
  await scale.start();

  const browser = await chromium.launch({
    executablePath: process.env.LINEGATE_CHROMIUM ?? '/usr/bin/chromium',
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-background-networking', '--disable-component-update', '--autoplay-policy=no-user-gesture-required'],
  });
  const out: Record<string, number> = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(`window.__lgMeasure = true; localStorage.setItem('linegate.kiosk.WEIGH-1', ${JSON.stringify(token)});`);
    // Page ready: navigation → stream live and the station painted (median of 5 loads).
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = now();
      await page.goto(`${gw.url}/ui/stations/WEIGH-1`);
      await page.locator('main.station[data-conn=live]').waitFor({ timeout: 10_000 });
      loads.push(now() - t0);
    }
    out.page_ready_ms_median = [...loads].sort((a, b) => a - b)[2]!;

    // Background load: 1,000 readings/s at another station (each a durable record).
    let loadCount = 0;
    let loading = true;
    const raw = Buffer.from('L-1001-A');
    const load = (async () => {
      const t0 = performance.now();
      while (loading) {
        const due = t0 + loadCount; // 1 per ms
        const wait = due - performance.now();
        if (wait > 2) await new Promise((r) => setTimeout(r, wait));
        const batch: Array<Promise<unknown>> = [];
        for (let k = 0; k < 10; k++) batch.push(gw.ops.ingestScan('LOAD-1', { raw, device: 'load' }));
        loadCount += 10;
        await Promise.all(batch);
      }
    })();

    const sentAt: number[] = [];
    const t0 = performance.now();
    const tl = performance.now();
    for (let i = 0; i < scans; i++) {
      const due = t0 + (i * 1000) / 50;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt.push(now());
      await sim.scan(`0109506000134369` + `10ACME-77\x1d17451231`, { aim: ']C1' });
    }
    const seqs = await waitForRecords(gw, scans);
    await page.waitForFunction(`(window.__lgPainted ?? []).some(([s]) => s === ${seqs[seqs.length - 1]})`, undefined, { timeout: 30_000 });
    loading = false;
    await load;
    out.load_readings_per_s = Math.round(loadCount / ((performance.now() - tl) / 1000));
    const painted = new Map<number, number>((await page.evaluate('window.__lgPainted')) as Array<[number, number]>);
    const lat = seqs.map((s, i) => (painted.get(s) ?? NaN) - sentAt[i]!).filter((x) => Number.isFinite(x));
    Object.assign(out, stats('scan_to_paint', lat), { scans_painted: lat.length, scans });

    // Scale message → weight painted, 10 Hz, distinct weights.
    const wSent = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const grossDiv = 1000 + i * 7;
      const net = (grossDiv / 1000).toFixed(3);
      const due = performance.now() + 100;
      wSent.set(net, now());
      await scale.sendRaw(scale.render(grossDiv, 0, false), 0);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await new Promise((r) => setTimeout(r, 500));
    const wp = (await page.evaluate('window.__lgWeightPainted')) as Array<[string, number]>;
    const wl: number[] = [];
    for (const [net, t] of wp) {
      const s = wSent.get(net);
      if (s !== undefined) {
        wl.push(t - s);
        wSent.delete(net);
      }
    }
    Object.assign(out, stats('weight_to_paint', wl), { weights_painted: wl.length });

    // Memory: JS heap after `samples` scale messages (200/s), after a GC on both ends — with the
    // measurement arrays above switched off and emptied, so only the page itself is weighed.
    await page.evaluate('window.__lgMeasure = false; window.__lgPainted = []; window.__lgWeightPainted = [];');
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const before = ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
    const tm = performance.now();
    for (let i = 0; i < samples; i++) {
      await scale.sendRaw(scale.render(2000 + (i % 500), 0, i % 10 === 0), 0);
      const due = tm + (i + 1) * 5;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await cdp.send('HeapProfiler.collectGarbage');
    const after = ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
    out.heap_samples = samples;
    out.heap_before_kb = Math.round(before / 1024);
    out.heap_after_kb = Math.round(after / 1024);
  } finally {
    await browser.close();
    await scale.stop();
    await gw.stop();
    await broker.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ui = join(packageRoot(), 'dist', 'ui');
  out.bundle_js_kb = Math.round(statSync(join(ui, 'app.js')).size / 102.4) / 10;
  out.bundle_css_kb = Math.round(statSync(join(ui, 'app.css')).size / 102.4) / 10;
  process.stdout.write(
    `station page: scan → verdict painted at 50/s under ${out.load_readings_per_s} readings/s: p50 ${out.scan_to_paint_p50_ms!.toFixed(1)} ms, p99 ${out.scan_to_paint_p99_ms!.toFixed(1)} ms (target ≤ 100); ` +
      `scale → weight painted p50 ${out.weight_to_paint_p50_ms!.toFixed(1)} ms, p99 ${out.weight_to_paint_p99_ms!.toFixed(1)} ms (target ≤ 150); page ready ${out.page_ready_ms_median!.toFixed(0)} ms (target ≤ 1000); ` +
      `heap ${out.heap_before_kb} kB → ${out.heap_after_kb} kB after ${samples} scale messages; bundle ${out.bundle_js_kb} kB JS + ${out.bundle_css_kb} kB CSS\n`,
  );
  return out;
}

async function waitForRecords(gw: Gateway, n: number): Promise<number[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = gw.repo.db.prepare(`SELECT seq FROM records WHERE device = 'scanner' ORDER BY seq`).all() as Array<{ seq: number }>;
    if (rows.length >= n) return rows.slice(0, n).map((r) => r.seq);
    if (Date.now() > deadline) throw new Error(`only ${rows.length}/${n} scans recorded`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stats(name: string, xs: number[]): Record<string, number> {
  const s = [...xs].sort((a, b) => a - b);
  const p = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { [`${name}_p50_ms`]: p(0.5), [`${name}_p99_ms`]: p(0.99), [`${name}_max_ms`]: s[s.length - 1] ?? NaN };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  benchUi().then(() => process.exit(0), (err: unknown) => (console.error(err), process.exit(1)));
}
