/**
 * Scanner path benchmark: simulator → socat pty → SerialScannerDriver → `reading`.
 * Prints figures only (no pass/fail). The lead extends this to scan-to-verdict once the gateway
 * exists: replace the `reading` listener with the binder's verdict event.
 *
 *   node dist/bench/scan-serial.js [--scans 250] [--rate 50] [--burst 5000]
 *
 * - latency: one scan every 1000/rate ms (a fast operator does ~2/s; 50/s is a stress figure);
 *   time from handing the scan to the simulator's port to the driver emitting the reading.
 * - framesPerSec: `burst` scans written back to back in 64 KiB writes; frames the driver delivers
 *   per second until the last one arrives (framing + serialport + pty throughput).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ScanReading } from '../src/drivers/driver.js';
import { SerialScannerDriver } from '../src/drivers/serial/driver.js';
import { silentLogger } from '../src/util/log.js';
import { ScannerSimulator } from '../simulators/scanner/simulator.js';

const GS = '\x1d';

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

export async function benchSerial(opts: { scans?: number; rate?: number; burst?: number } = {}): Promise<Record<string, number>> {
  const scans = opts.scans ?? 250;
  const rate = opts.rate ?? 50;
  const burst = opts.burst ?? 5000;
  const sim = new ScannerSimulator({ mode: 'pty' });
  await sim.start();
  const driver = new SerialScannerDriver(
    { kind: 'serial-scanner', id: 'bench.scanner', station: 'BENCH', profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath } },
    { logger: silentLogger() },
  );
  const arrivals = new Map<string, number>();
  let count = 0;
  let errors = 0;
  driver.on('reading', (r: ScanReading) => {
    arrivals.set(r.raw.toString('latin1'), performance.now());
    count++;
    if (r.error) errors++;
  });
  try {
    await driver.start(new AbortController().signal);
    const t0 = Date.now();
    while (driver.state !== 'online') {
      if (Date.now() - t0 > 10_000) throw new Error('driver did not come online');
      await new Promise((r) => setTimeout(r, 10));
    }

    // 1. Latency at a steady rate.
    const sent = new Map<string, number>();
    const interval = 1000 / rate;
    const start = performance.now();
    for (let i = 0; i < scans; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const text = `]C10109506000134352${'10'}L${String(i).padStart(6, '0')}${GS}17261231`;
      sent.set(text, performance.now());
      await sim.scan(text);
    }
    const deadline = Date.now() + 5000;
    while (count < scans && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const lat = [...sent].flatMap(([k, t]) => (arrivals.has(k) ? [arrivals.get(k)! - t] : [])).sort((a, b) => a - b);
    const latencyLost = scans - lat.length;

    // 2. Throughput: a burst of frames.
    arrivals.clear();
    count = 0;
    const frames: Buffer[] = [];
    for (let i = 0; i < burst; i++) frames.push(Buffer.from(`]C1010950600013435210B${String(i).padStart(7, '0')}\r`, 'latin1'));
    const all = Buffer.concat(frames);
    const b0 = performance.now();
    for (let off = 0; off < all.length; off += 65_536) await sim.sendRaw(all.subarray(off, off + 65_536));
    const bDeadline = Date.now() + 20_000;
    while (count < burst && Date.now() < bDeadline) await new Promise((r) => setImmediate(r));
    const bMs = performance.now() - b0;

    return {
      scans,
      ratePerSec: rate,
      latencyP50Ms: round(pct(lat, 50)),
      latencyP99Ms: round(pct(lat, 99)),
      latencyMaxMs: round(lat[lat.length - 1] ?? NaN),
      latencyLost,
      burstFrames: burst,
      burstDelivered: count,
      framesPerSec: Math.round((count / bMs) * 1000),
      errorReadings: errors,
    };
  } finally {
    await driver.stop();
    await sim.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { scans: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' } } });
  benchSerial({
    ...(values.scans ? { scans: Number(values.scans) } : {}),
    ...(values.rate ? { rate: Number(values.rate) } : {}),
    ...(values.burst ? { burst: Number(values.burst) } : {}),
  }).then(
    (r) => {
      process.stdout.write(`${JSON.stringify({ bench: 'scan-serial', ...r })}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
