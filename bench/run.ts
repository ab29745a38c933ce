import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `npm run bench`: every benchmark, one after the other, printing figures. Timing targets live
 * here, never in tests. Run it on an otherwise idle machine: figures on a loaded one are lower.
 * `npm run bench -- journal scale` runs only those; `--quick` runs smaller sizes of the ones
 * that take long (issue 18: under 2 minutes in all). Benches write their files under ./var (the
 * real disk, not a tmpfs where fsync is free), created here: a fresh clone has none.
 */
type Bench = () => Promise<Record<string, number>>;
const QUICK = process.argv.includes('--quick');

const BENCHES: Array<[string, () => Promise<Bench>]> = [
  ['journal', async () => { const { benchJournal } = await import('./journal.js'); return () => benchJournal(QUICK ? { n: 10_000, seconds: 2 } : {}); }],
  ['journal-peers', async () => { const { benchJournalPeers } = await import('./peers.js'); return () => benchJournalPeers(QUICK ? { n: 10_000 } : {}); }],
  ['queries', async () => { const { benchQueries } = await import('./peers.js'); return () => benchQueries(QUICK ? { records: 200_000, lots: 20_000 } : {}); }],
  ['gs1', async () => (await import('./gs1.js')).benchGs1],
  ['scan-serial', async () => (await import('./scan-serial.js')).benchSerial],
  ['scan-verdict', async () => (await import('./scan-verdict.js')).benchScanVerdict],
  ['scale', async () => (await import('./scale.js')).benchScale],
  ['durable', async () => { const { benchDurable } = await import('./durable.js'); return () => benchDurable(QUICK ? { loads: 3000, values: 10_000, pacedSeconds: 5 } : {}); }],
  ['opcua', async () => (await import('./opcua.js')).benchOpcua],
  ['labels', async () => (await import('./labels.js')).benchLabels],
  ['upstream', async () => (await import('./upstream.js')).benchUpstream],
  ['upstream-resume', async () => (await import('./upstream-resume.js')).benchUpstreamResume],
  ['release-checks', async () => (await import('./release-checks.js')).benchReleaseChecks],
  ['ui', async () => (await import('./ui.js')).benchUi],
  ['plant', async () => (await import('./plant.js')).benchPlant],
  ['report', async () => (await import('./report.js')).benchReport],
  ['trace-customers', async () => (await import('./trace-customers.js')).benchTraceCustomers],
  ['station-recent', async () => { const { benchStationRecent } = await import('./station-recent.js'); return () => benchStationRecent(QUICK ? { sizes: [10_000, 100_000] } : {}); }],
];

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  mkdirSync(resolve('var'), { recursive: true });
  const results: Record<string, Record<string, number> | string> = {};
  for (const [name, load] of BENCHES) {
    if (only.length && !only.includes(name)) continue;
    process.stdout.write(`\n── ${name} ${'─'.repeat(60 - name.length)}\n`);
    try {
      const fn = await load();
      results[name] = await fn();
      for (const [k, v] of Object.entries(results[name] as Record<string, number>)) {
        process.stdout.write(`  ${k.padEnd(44)} ${Number.isInteger(v) ? v : v.toFixed(3)}\n`);
      }
    } catch (err) {
      results[name] = `failed: ${(err as Error).message}`;
      process.stdout.write(`  FAILED: ${(err as Error).stack}\n`);
    }
  }
  process.stdout.write(`\n${JSON.stringify({ node: process.version, at: new Date().toISOString(), results })}\n`);
  // Some libraries keep handles open (OPC UA, MQTT reconnect timers): the run is over.
  process.exit(Object.values(results).some((r) => typeof r === 'string') ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main();
