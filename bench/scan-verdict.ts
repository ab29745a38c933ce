import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { silentLogger } from '../src/util/log.js';
import { ScannerSimulator } from '../simulators/scanner/simulator.js';

/**
 * Scan-to-verdict latency (issue 3): bytes written into a socat pty → serial driver → GS1 parse →
 * binder → durable commit (synchronous=FULL) → verdict event. 50 scans/s of a GS1-128 lot label.
 * Target: p99 ≤ 50 ms.
 */
export async function benchScanVerdict(opts: { scans?: number; rate?: number } = {}): Promise<Record<string, number>> {
  const scans = opts.scans ?? 500;
  const rate = opts.rate ?? 50;
  const dir = mkdtempSync(join(resolve('var'), 'bench-scan-'));
  const sim = new ScannerSimulator({ mode: 'pty' });
  await sim.start();
  const cfg = parseConfig(
    stringify({
      site: { id: 'S', timezone: 'UTC' },
      line: { id: 'L1' },
      stations: [{ id: 'WEIGH-1', role: 'weighing', policies: { duplicateWindowMs: 0 } }],
      devices: [{ id: 'scanner', kind: 'serial-scanner', station: 'WEIGH-1', profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath }, overrides: { aimIds: true } }],
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
  while (gw.drivers.get('scanner')!.health().state !== 'online') await new Promise((r) => setTimeout(r, 20));

  const sentAt: number[] = [];
  const lat: number[] = [];
  let accepted = 0;
  const done = new Promise<void>((resolveDone) => {
    gw.events.subscribe('WEIGH-1', (e) => {
      if (e.event !== 'record') return;
      const i = lat.length;
      lat.push(performance.now() - sentAt[i]!);
      if (e.data.accepted) accepted++;
      if (lat.length === scans) resolveDone();
    });
  });
  const t0 = performance.now();
  for (let i = 0; i < scans; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt.push(performance.now());
    await sim.scan(`0109506000134369` + `10ACME-77\x1d17451231`, { aim: ']C1' });
  }
  await done;
  await gw.stop();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
  const sorted = [...lat].sort((a, b) => a - b);
  const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const out = { scans, rate_per_s: rate, accepted, p50_ms: p(0.5), p99_ms: p(0.99), max_ms: sorted[sorted.length - 1]! };
  process.stdout.write(`scan → verdict through a pty at ${rate}/s: p50 ${out.p50_ms.toFixed(2)} ms, p99 ${out.p99_ms.toFixed(2)} ms, max ${out.max_ms.toFixed(2)} ms (target p99 ≤ 50 ms); ${accepted}/${scans} accepted\n`);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  benchScanVerdict().then(() => process.exit(0), (err: unknown) => (console.error(err), process.exit(1)));
}
