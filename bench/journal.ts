import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/db.js';
import { Journal } from '../src/store/journal.js';
import type { RecordDraft } from '../src/binding/types.js';

/**
 * Journal figures (issue 2): durable appends per second and acknowledgement latency with group
 * commit versus one transaction per reading, synchronous=FULL, on the real disk (a folder under
 * the project, not /tmp, which may be tmpfs where fsync is free).
 *
 * A "reading" here is a realistic ~300-byte record with one outbox row (one upstream sink).
 */
function draft(i: number): RecordDraft {
  return {
    type: 'lot.scanned',
    status: 'accepted',
    station: 'WEIGH-1',
    batch: '20261122-001',
    lot: 'L-1001-A',
    operator: 'op-anna',
    device: 'line1.weigh.scanner',
    payload: { raw: `]C10109506000134369` + `10ACME-2611<GS>17271101`, bytes: 38, material: 'RM-1001', lotCode: 'ACME-2611', expiry: '2027-11-01', i },
  };
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function open(dir: string, name: string, maxGroup?: number): { journal: Journal; close: () => void } {
  const db = openDatabase(join(dir, `${name}.sqlite`), { synchronous: 'FULL' });
  const journal = new Journal(db, { site: 'S', line: 'L1', sinks: ['erp'], ...(maxGroup ? { maxGroup } : {}) });
  return { journal, close: () => db.close() };
}

/** Throughput: keep `inFlight` appends outstanding until `n` are durable. */
async function throughput(journal: Journal, n: number, inFlight: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await journal.append(draft(i));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return n / ((performance.now() - t0) / 1000);
}

/** Latency at a fixed offered rate: submit on schedule, measure submit → durable. */
async function latencyAtRate(journal: Journal, ratePerS: number, seconds: number): Promise<{ p50: number; p99: number; max: number; achieved: number }> {
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  const total = ratePerS * seconds;
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * ratePerS));
    for (; sent < due; sent++) {
      const s = performance.now();
      pending.push(journal.append(draft(sent)).then(() => void lat.push(performance.now() - s)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1]!, achieved: sent / elapsed };
}

export async function benchJournal(opts: { n?: number; seconds?: number; singleN?: number; log?: (s: string) => void } = {}): Promise<Record<string, number>> {
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const n = opts.n ?? 50_000;
  const seconds = opts.seconds ?? 5;
  const dir = mkdtempSync(join(resolve('var'), 'bench-journal-'));
  const out: Record<string, number> = {};
  try {
    const g = open(dir, 'group');
    out.group_appends_per_s = await throughput(g.journal, n, 2000);
    const gl = await latencyAtRate(g.journal, 1000, seconds);
    out.group_ack_p50_ms_at_1000_per_s = gl.p50;
    out.group_ack_p99_ms_at_1000_per_s = gl.p99;
    out.group_ack_max_ms_at_1000_per_s = gl.max;
    out.group_avg_items_per_commit = g.journal.stats.items / g.journal.stats.groups;
    g.close();

    // One transaction (one fsync) per reading: the same journal with groups of one.
    const s = open(dir, 'single', 1);
    out.single_tx_appends_per_s = await throughput(s.journal, opts.singleN ?? Math.min(n, 5000), 2000);
    const sl = await latencyAtRate(s.journal, 1000, seconds);
    out.single_tx_ack_p50_ms_at_1000_per_s = sl.p50;
    out.single_tx_ack_p99_ms_at_1000_per_s = sl.p99;
    out.single_tx_achieved_per_s = sl.achieved;
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The peer in the same run: the same journal committing one reading per transaction.
  out.ratio_group_vs_single_tx_appends = out.group_appends_per_s! / out.single_tx_appends_per_s!;
  log('journal (synchronous=FULL, WAL, ~300-byte records + 1 outbox row):');
  log(`  group commit:        ${out.group_appends_per_s!.toFixed(0)} durable appends/s; at 1,000 readings/s ack p50 ${out.group_ack_p50_ms_at_1000_per_s!.toFixed(2)} ms, p99 ${out.group_ack_p99_ms_at_1000_per_s!.toFixed(2)} ms (targets: ≥ 20,000/s, p99 ≤ 10 ms)`);
  log(`  one tx per reading:  ${out.single_tx_appends_per_s!.toFixed(0)} durable appends/s; at 1,000 readings/s ack p50 ${out.single_tx_ack_p50_ms_at_1000_per_s!.toFixed(2)} ms, p99 ${out.single_tx_ack_p99_ms_at_1000_per_s!.toFixed(2)} ms (achieved ${out.single_tx_achieved_per_s!.toFixed(0)}/s)`);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  benchJournal().then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
