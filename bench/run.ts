import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `npm run bench`: every benchmark, one after the other, printing figures. Timing targets live
 * here, never in tests. Run it on an otherwise idle machine: figures on a loaded one are lower.
 * `npm run bench -- journal scale` runs only those; `--quick` runs smaller sizes of the ones
 * that take long and skips the ones not in QUICK_SET (issue 18: under 2 minutes in all, printing
 * every ratio the issue lists). Benches write their files under ./var (the real disk, not a tmpfs
 * where fsync is free), created here: a fresh clone has none.
 *
 * The run ends with a summary: every figure named in TARGETS (each a ratio against a peer measured
 * in the same run, or an absolute target the issues set) with its target and ok / missed, then
 * every other `ratio` figure printed, as a comparison without a target.
 */
type Bench = () => Promise<Record<string, number>>;
const QUICK = process.argv.includes('--quick');

/** What `--quick` runs (when no names are given): the benches whose ratios issue 18 lists, plus the cheap ones. */
const QUICK_SET = new Set(['journal', 'journal-peers', 'queries', 'gs1', 'scale', 'durable', 'durable-latency', 'opcua', 'labels', 'labels-load', 'upstream']);

interface Target {
  bench: string;
  key: string;
  op: '>=' | '<=';
  target: number;
  what: string;
}

/** Targets from the issues (timing targets live here, never in tests). */
export const TARGETS: Target[] = [
  { bench: 'journal', key: 'group_appends_per_s', op: '>=', target: 20_000, what: 'journal durable appends/s (group commit)' },
  { bench: 'journal', key: 'group_ack_p99_ms_at_1000_per_s', op: '<=', target: 10, what: 'journal ack p99 at 1,000/s, ms' },
  { bench: 'journal-peers', key: 'ratio_journal_vs_raw_same_schema', op: '>=', target: 0.5, what: 'journal vs raw better-sqlite3, same schema and group' },
  { bench: 'queries', key: 'recall_supplier_lot_p99_ms', op: '<=', target: 10, what: 'recall by supplier lot p99, ms' },
  { bench: 'queries', key: 'records_status_rejected_p99_ms', op: '<=', target: 10, what: 'records status= p99, ms' },
  { bench: 'queries', key: 'recall_supplier_lot_cpu_p99_ms', op: '<=', target: 10, what: 'recall by supplier lot p99, CPU time, ms' },
  { bench: 'queries', key: 'records_status_rejected_cpu_p99_ms', op: '<=', target: 10, what: 'records status= p99, CPU time, ms' },
  { bench: 'scale', key: 'scale.mosquitto.ratio_pct', op: '>=', target: 50, what: 'scale messages vs bare MQTT.js subscriber (Mosquitto), %' },
  { bench: 'scale', key: 'scale.aedes.ratio_pct', op: '>=', target: 50, what: 'scale messages vs bare MQTT.js subscriber (aedes), %' },
  { bench: 'durable', key: 'ratio_gateway_captures_vs_fsync_peer_messages', op: '>=', target: 20, what: 'durable scale captures vs fsync-each-message subscriber' },
  { bench: 'durable', key: 'ratio_gateway_values_vs_fsync_peer', op: '>=', target: 20, what: 'durable process values vs fsync-each-message subscriber' },
  { bench: 'durable', key: 'gateway_values_1000_per_s_ack_p99_ms', op: '<=', target: 20, what: 'durable values at 1,000/s, ack p99 ms' },
  { bench: 'opcua', key: 'ratio_wall', op: '>=', target: 0.8, what: 'OPC UA notifications vs bare node-opcua client (wall)' },
  { bench: 'opcua', key: 'ratio_bind_wall', op: '>=', target: 0.8, what: 'OPC UA with binding vs bare node-opcua client (wall)' },
  { bench: 'labels', key: 'labels_trigger_to_printer_p99_ms', op: '<=', target: 50, what: 'label trigger → printer p99, idle, ms' },
  { bench: 'labels-load', key: 'load_trigger_to_printer_p99_ms', op: '<=', target: 10, what: 'label trigger → printer p99 at 1,000 readings/s, ms' },
  { bench: 'upstream', key: 'upstream_http_records_per_s', op: '>=', target: 5_000, what: 'upstream drain over HTTP, records/s' },
];

const BENCHES: Array<[string, () => Promise<Bench>]> = [
  ['journal', async () => { const { benchJournal } = await import('./journal.js'); return () => benchJournal(QUICK ? { n: 10_000, seconds: 2, singleN: 1000 } : {}); }],
  ['journal-peers', async () => { const { benchJournalPeers } = await import('./peers.js'); return () => benchJournalPeers(QUICK ? { n: 10_000 } : {}); }],
  ['queries', async () => { const { benchQueries } = await import('./peers.js'); return () => benchQueries(QUICK ? { records: 200_000, lots: 20_000, rounds: 500 } : {}); }],
  ['gs1', async () => (await import('./gs1.js')).benchGs1],
  ['scan-serial', async () => (await import('./scan-serial.js')).benchSerial],
  ['scan-verdict', async () => (await import('./scan-verdict.js')).benchScanVerdict],
  ['scale', async () => (await import('./scale.js')).benchScale],
  ['durable', async () => { const { benchDurable } = await import('./durable.js'); return () => benchDurable(QUICK ? { loads: 6000, values: 20_000, pacedSeconds: 5 } : {}); }],
  ['durable-latency', async () => { const { benchDurableLatency } = await import('./durable-latency.js'); return () => benchDurableLatency(QUICK ? { delaysMs: [2], sizes: { loads: 3000, values: 6000, pacedSeconds: 2, peerFraction: 0.2 } } : {}); }],
  ['opcua', async () => (await import('./opcua.js')).benchOpcua],
  ['labels', async () => { const { benchLabels } = await import('./labels.js'); return () => benchLabels(QUICK ? { labels: 100, burst: 100 } : {}); }],
  ['labels-load', async () => { const { benchLabelsLoad } = await import('./labels-load.js'); return () => benchLabelsLoad(QUICK ? { labels: 100 } : {}); }],
  ['upstream', async () => { const { benchUpstream } = await import('./upstream.js'); return () => benchUpstream(QUICK ? { records: 6000 } : {}); }],
  ['upstream-resume', async () => (await import('./upstream-resume.js')).benchUpstreamResume],
  ['release-checks', async () => (await import('./release-checks.js')).benchReleaseChecks],
  ['ui', async () => (await import('./ui.js')).benchUi],
  ['plant', async () => (await import('./plant.js')).benchPlant],
  ['report', async () => (await import('./report.js')).benchReport],
  ['trace-customers', async () => (await import('./trace-customers.js')).benchTraceCustomers],
  ['trace-pages', async () => (await import('./trace-pages.js')).benchTracePages],
  ['station-recent', async () => { const { benchStationRecent } = await import('./station-recent.js'); return () => benchStationRecent(QUICK ? { sizes: [10_000, 100_000] } : {}); }],
];

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3);
}

/** The closing table: every target of a bench that ran, then the other ratios. */
export function summary(results: Record<string, Record<string, number> | string>): string[] {
  const lines: string[] = [];
  const row = (bench: string, what: string, value: string, target: string, verdict: string): void =>
    void lines.push(`  ${bench.padEnd(14)} ${what.padEnd(62)} ${value.padStart(10)}  ${target.padEnd(10)} ${verdict}`);
  lines.push('', `── summary ${'─'.repeat(52)}`);
  row('bench', 'figure', 'measured', 'target', 'verdict');
  const named = new Set<string>();
  for (const t of TARGETS) {
    const r = results[t.bench];
    if (r === undefined) continue;
    named.add(`${t.bench}|${t.key}`);
    const target = `${t.op} ${t.target}`;
    if (typeof r === 'string') {
      row(t.bench, t.what, '-', target, 'FAILED (bench did not finish)');
      continue;
    }
    const v = r[t.key];
    if (v === undefined || !Number.isFinite(v)) {
      row(t.bench, t.what, '-', target, 'not printed by this bench');
      continue;
    }
    const ok = t.op === '>=' ? v >= t.target : v <= t.target;
    row(t.bench, t.what, fmt(v), target, ok ? 'ok' : 'MISSED');
  }
  for (const [bench, r] of Object.entries(results)) {
    if (typeof r === 'string') continue;
    for (const [k, v] of Object.entries(r)) {
      if (!/ratio/i.test(k) || named.has(`${bench}|${k}`)) continue;
      row(bench, k, fmt(v), '-', 'comparison (no target)');
    }
  }
  return lines;
}

/** Smaller sizes under --quick for benches whose BENCHES entry takes none. */
const QUICK_LOADERS: Record<string, () => Promise<Bench>> = {
  scale: async () => { const { benchScale } = await import('./scale.js'); return () => benchScale(10_000, 2); },
  opcua: async () => { const { benchOpcua } = await import('./opcua.js'); return () => benchOpcua(1000, 1, 300); },
};

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  mkdirSync(resolve('var'), { recursive: true });
  const results: Record<string, Record<string, number> | string> = {};
  const skipped: string[] = [];
  const started = performance.now();
  for (const [name, load] of BENCHES) {
    if (only.length && !only.includes(name)) continue;
    if (!only.length && QUICK && !QUICK_SET.has(name)) {
      skipped.push(name);
      continue;
    }
    process.stdout.write(`\n── ${name} ${'─'.repeat(60 - name.length)}\n`);
    const t0 = performance.now();
    try {
      const fn = await ((QUICK && QUICK_LOADERS[name]) || load)();
      results[name] = await fn();
      for (const [k, v] of Object.entries(results[name] as Record<string, number>)) {
        process.stdout.write(`  ${k.padEnd(44)} ${Number.isInteger(v) ? v : v.toFixed(3)}\n`);
      }
    } catch (err) {
      results[name] = `failed: ${(err as Error).message}`;
      process.stdout.write(`  FAILED: ${(err as Error).stack}\n`);
    }
    process.stdout.write(`  (${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  for (const l of summary(results)) process.stdout.write(`${l}\n`);
  if (skipped.length) process.stdout.write(`  skipped by --quick: ${skipped.join(', ')} (name them, or run without --quick)\n`);
  process.stdout.write(`  total ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`\n${JSON.stringify({ node: process.version, at: new Date().toISOString(), quick: QUICK, results })}\n`);
  // Some libraries keep handles open (OPC UA, MQTT reconnect timers): the run is over.
  process.exit(Object.values(results).some((r) => typeof r === 'string') ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main();
