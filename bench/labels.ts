/**
 * Label latency: trigger (LabelService.createLabel) → the complete format at the printer (the
 * simulator has parsed `^XZ`), with a healthy simulated printer on a real TCP socket and the
 * journal on a real SQLite file with synchronous=FULL (as in production). Every label takes the
 * full path: one commit for identity + record + job, `~HS` before sending, one commit for
 * `sending`, the write. Figures only; the target (issue 6) is p99 ≤ 50 ms.
 *
 *   npm run build && node dist/bench/labels.js [labels]
 * `benchLabels()` is also called by bench/run.ts (npm run bench).
 */
import { join, resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/db.js';
import { Journal } from '../src/store/journal.js';
import { LabelService } from '../src/labels/queue.js';
import { loadPrinterModels, loadTemplates } from '../src/labels/template.js';
import { TcpPrinterTransport } from '../src/labels/transport.js';
import { PrinterSimulator } from '../simulators/printer/printer-sim.js';

function findRoot(): string {
  // works from src (tsx/vitest) and from dist/bench
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes(`${'/dist/'}`) ? join(here, '..', '..') : join(here, '..');
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)]! * 100) / 100;
}

export async function benchLabels(opts: { labels?: number; burst?: number } = {}): Promise<Record<string, number>> {
  const labels = opts.labels ?? 300;
  const burst = opts.burst ?? 200;
  const root = findRoot();
  const dir = mkdtempSync(join(tmpdir(), 'linegate-bench-labels-'));
  const sim = new PrinterSimulator();
  const port = await sim.start();
  const db = openDatabase(join(dir, 'journal.db'), { synchronous: 'FULL' });
  const journal = new Journal(db, { site: 'S1', line: 'L1', sinks: ['erp'] });
  const svc = new LabelService({
    journal,
    db,
    templates: loadTemplates(join(root, 'devices', 'labels')),
    companyPrefix: '9506000',
    printers: [
      {
        id: 'bench.printer',
        model: loadPrinterModels(join(root, 'devices', 'printers')).get('zebra-203dpi-4in')!,
        transport: new TcpPrinterTransport('127.0.0.1', port),
        timing: { idleStatusMs: 0, pollIntervalMs: 2 },
      },
    ],
  });
  const fields = {
    productName: 'Widget A',
    lot: 'RM-1001-L7',
    gtin: '09506000134352',
    batch: '20261122-001',
    productionDate: '2026-11-22',
    expiry: '2027-05-22',
    netWeight: '3.25',
  };
  try {
    await svc.start();
    const received = (): Promise<number> => new Promise((res) => sim.once('received', () => res(performance.now())));
    const confirmed = (jobId: string): Promise<void> =>
      new Promise((res) => {
        const on = (j: { id: string; state: string }): void => {
          if (j.id === jobId && j.state === 'confirmed') {
            svc.off('job', on);
            res();
          }
        };
        svc.on('job', on);
      });
    // warm-up
    for (let i = 0; i < 20; i++) {
      const got = received();
      const q = await svc.createLabel({ template: 'case', printer: 'bench.printer', fields });
      await got;
      await confirmed(q.jobId).catch(() => undefined);
    }
    const lat: number[] = [];
    const conf: number[] = [];
    for (let i = 0; i < labels; i++) {
      const got = received();
      const t0 = performance.now();
      const q = await svc.createLabel({ template: 'case', printer: 'bench.printer', fields, trigger: { type: 'bench' } });
      const done = confirmed(q.jobId);
      lat.push((await got) - t0);
      await done;
      conf.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    conf.sort((a, b) => a - b);
    // burst: many triggers at once (a case count jumping); throughput until all are confirmed
    const before = sim.jobs.length;
    const tb = performance.now();
    await Promise.all(Array.from({ length: burst }, () => svc.createLabel({ template: 'case', printer: 'bench.printer', fields })));
    while (sim.jobs.length - before < burst || (db.prepare(`SELECT COUNT(*) AS n FROM print_jobs WHERE state <> 'confirmed'`).get() as { n: number }).n > 0) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const burstMs = performance.now() - tb;
    return {
      labels_trigger_to_printer_p50_ms: pct(lat, 50),
      labels_trigger_to_printer_p99_ms: pct(lat, 99),
      labels_trigger_to_printer_max_ms: pct(lat, 100),
      labels_trigger_to_confirmed_p50_ms: pct(conf, 50),
      labels_trigger_to_confirmed_p99_ms: pct(conf, 99),
      labels_burst_per_s: Math.round((burst * 1000) / burstMs),
      labels_measured: labels,
    };
  } finally {
    await svc.stop();
    await journal.close();
    db.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  const figures = await benchLabels(n ? { labels: n } : {});
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(40)} ${v}\n`);
}
