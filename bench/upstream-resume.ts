/**
 * Resume delay after an ERP outage (issue 11.10): the ERP is down for `outageMs` while records keep
 * arriving, then comes back; the figure is the time from the ERP answering again to the first record
 * delivered. Measured with the shipped defaults (backoff 500 ms → 10 s, probe every 2 s) and, as the
 * peer in the same run, the same backoff without probes (the pre-fix behaviour was worse still: every
 * in-flight failure counted, so the delay had grown to the 60 s cap).
 *
 *   npm run build && node dist/bench/upstream-resume.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/db.js';
import { Dispatcher } from '../src/upstream/dispatcher.js';
import { HttpSink } from '../src/upstream/sinks/http.js';
import { ErpSimulator } from '../simulators/erp/erp.js';
import { deliveredCount, seedRecords } from './upstream-common.js';

async function resumeDelay(probeMs: number, outageMs: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-resume-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'NORMAL' });
  const erp = new ErpSimulator();
  await erp.start();
  await erp.stop(); // keeps its port; nobody listens now
  const d = new Dispatcher(
    db,
    [new HttpSink({ id: 'erp', kind: 'http', url: erp.url, timeoutMs: 10_000, mode: 'batched', maxInFlight: 4, batch: { maxRecords: 500, maxBytes: 1_048_576, lingerMs: 20 }, backoff: { baseMs: 500, maxMs: 10_000, probeMs } })],
    { gatewayId: 'bench' },
  );
  try {
    await d.start();
    const t0 = Date.now();
    while (Date.now() - t0 < outageMs) {
      seedRecords(db, 20, { sinks: ['erp'], batches: 4, payloadBytes: 200 });
      d.notify();
      await new Promise((r) => setTimeout(r, 100));
    }
    await erp.start();
    const back = performance.now();
    while (deliveredCount(db, 'erp') === 0) await new Promise((r) => setTimeout(r, 5));
    return Math.round(performance.now() - back);
  } finally {
    await d.stop({ timeoutMs: 500 });
    await erp.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchUpstreamResume(opts: { outageMs?: number; rounds?: number } = {}): Promise<Record<string, number>> {
  const outageMs = opts.outageMs ?? 20_000;
  const rounds = opts.rounds ?? 3;
  const withProbe: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < rounds; i++) {
    withProbe.push(await resumeDelay(2000, outageMs));
    without.push(await resumeDelay(0, outageMs));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    upstream_resume_after_outage_ms_median: med(withProbe),
    upstream_resume_after_outage_ms_max: Math.max(...withProbe),
    upstream_resume_without_probe_ms_median: med(without),
    upstream_resume_ratio_probe_vs_backoff_only: med(withProbe) / Math.max(1, med(without)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchUpstreamResume({ outageMs: Number(process.env.OUTAGE_MS ?? 20_000), rounds: Number(process.env.ROUNDS ?? 3) });
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(48)} ${v}`);
}
