/**
 * Outage bench: the ERP is down while 100,000 records accumulate in the journal; then it comes back and
 * the dispatcher drains the backlog. Prints RSS once a second. The dispatcher's memory is bounded by
 * its window (default max(1000, 2 × maxInFlight × maxRecords) records, ≤ 32 MiB of serialised events),
 * not by the backlog: RSS is expected to stay under ~150 MB (Node baseline + SQLite page cache + window).
 *
 *   npm run build && node dist/bench/upstream-backlog.js [--records 100000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/db.js';
import { Dispatcher } from '../src/upstream/dispatcher.js';
import { HttpSink } from '../src/upstream/sinks/http.js';
import { deliveredCount, freePort, seedRecords, spawnErpChild } from './upstream-common.js';

const mb = (n: number): number => Math.round(n / 1e5) / 10;

export async function benchUpstreamBacklog(opts: { records?: number; log?: (s: string) => void } = {}): Promise<Record<string, number>> {
  const n = opts.records ?? 100_000;
  const log = opts.log ?? ((s: string) => console.log(s));
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-backlog-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'FULL' });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/events`;
  const d = new Dispatcher(
    db,
    [
      new HttpSink({
        id: 'erp', kind: 'http', url, timeoutMs: 10_000, mode: 'batched', maxInFlight: 4,
        batch: { maxRecords: 500, maxBytes: 1_048_576, lingerMs: 20 }, backoff: { baseMs: 100, maxMs: 2000, probeMs: 0 },
      }),
    ],
    { gatewayId: 'bench' },
  );
  let peakRss = 0;
  let peakWindow = 0;
  const sample = (phase: string): void => {
    const m = process.memoryUsage();
    const st = d.stats()[0]!;
    peakRss = Math.max(peakRss, m.rss);
    peakWindow = Math.max(peakWindow, st.windowRecords);
    log(`${phase.padEnd(10)} rss ${mb(m.rss)} MB heap ${mb(m.heapUsed)} MB ext ${mb(m.external)} MB ab ${mb(m.arrayBuffers)} MB  backlog ${st.backlog}  window ${st.windowRecords}  delivered ${st.deliveredTotal}  state ${st.state}`);
  };
  const timer = setInterval(() => sample('sample'), 1000);
  try {
    await d.start();
    // Accumulate while the ERP is down (nothing listens on the port): 1,000 records per commit.
    const t0 = performance.now();
    for (let i = 0; i < n; i += 1000) {
      seedRecords(db, Math.min(1000, n - i), { sinks: ['erp'], batches: 2, run: 50, payloadBytes: 200 });
      d.notify();
      await new Promise((r) => setImmediate(r));
    }
    sample('outage');
    log(`accumulated ${n} records in ${Math.round(performance.now() - t0)} ms with the ERP down`);
    const erp = await spawnErpChild(['--port', String(port)]);
    const t1 = performance.now();
    try {
      while (deliveredCount(db, 'erp') < n) await new Promise((r) => setTimeout(r, 50));
      const secs = (performance.now() - t1) / 1000;
      sample('drained');
      const r = await fetch(url.replace('/events', '/_report')).then((x) => x.json() as Promise<{ unique: number; orderViolations: number }>);
      log(`drained ${n} in ${secs.toFixed(1)} s; ERP holds ${r.unique} unique, ${r.orderViolations} order violations`);
      return {
        upstream_backlog_records: n,
        upstream_backlog_drain_records_per_s: Math.round(n / secs),
        upstream_backlog_peak_rss_mb: mb(peakRss),
        upstream_backlog_peak_window_records: peakWindow,
        upstream_backlog_erp_unique: r.unique,
      };
    } finally {
      await erp.stop();
    }
  } finally {
    clearInterval(timer);
    await d.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' } } });
  const r = await benchUpstreamBacklog({ records: Number(values.records) });
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(44)} ${v}`);
}
