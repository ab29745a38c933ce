/**
 * soak — the mixed line at line rates for `--minutes` (default 60): a scan every second (each waits
 * for its beep), a 10 Hz scale (one placement a second), the PLC counting 20 units/s, a case label
 * every 2 s, everything delivered to the ERP. Every `--sample-s` (default 60) the gateway process's
 * RSS (and its anonymous part: heap and native allocations, without the file-backed code pages),
 * V8 heap in use (its own /metrics, `linegate_process_heap_used_bytes`), open file
 * descriptors, journal and WAL size, record count and ERP backlog are printed as a table row.
 * Checked at the end: the same checks as kill9 (nothing acknowledged lost), and whether RSS, heap
 * and fds are bounded (growth over the second half of the run). The heap is what a leak of
 * JavaScript objects grows; RSS also holds SQLite's page cache (bounded by its cache_size) and the
 * allocator's slack, which settle more slowly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileSize, loadAvg, num, procStats, Rig, sleep, type Args, type Figures } from './rig.js';
import { check, drained, Traffic } from './traffic.js';

export async function soak(args: Args): Promise<Figures> {
  const minutes = num(args, 'minutes', 60);
  const sampleS = num(args, 'sample-s', 60);
  const dir = mkdtempSync(join(resolve('var'), 'faults-soak-'));
  // /metrics on a free loopback port: its URL is in the gateway's log.
  const rig = new Rig({ dir, configExtra: { ops: { metrics: { enabled: true, host: '127.0.0.1', port: 0 } } } });
  const out: Figures = { minutes, started: new Date().toISOString(), load_at_start: loadAvg() };
  const samples: Array<{ t: number; rss: number; anon: number; heap: number; fds: number; journal: number; wal: number; records: number; backlog: number }> = [];
  let url: string | undefined; // read once: the log ring is trimmed during a long run
  const heapMb = async (): Promise<number> => {
    if (!url) {
      const line = rig.child?.logs.find((l) => l.includes('Prometheus metrics listening'));
      url = line ? (JSON.parse(line) as { url?: string }).url : undefined;
    }
    if (!url) return NaN;
    const text = await (await fetch(url)).text().catch(() => '');
    const m = /^linegate_process_heap_used_bytes\s+([\d.e+]+)/m.exec(text);
    return m ? Number(m[1]) / 1e6 : NaN;
  };
  try {
    await rig.start();
    await rig.spawn();
    await rig.seed();
    const tr = new Traffic(rig, { scanGapMs: 1000, scaleHz: 10, scaleCycle: 10, labelGapMs: 2000, plcPerSecond: 20 });
    tr.setUp(true);
    tr.start();
    const t0 = Date.now();
    const w = (s: string): boolean => process.stdout.write(s);
    w(`  ${'min'.padStart(5)} ${'rss MB'.padStart(8)} ${'anon MB'.padStart(8)} ${'heap MB'.padStart(8)} ${'fds'.padStart(5)} ${'journal MB'.padStart(11)} ${'wal MB'.padStart(7)} ${'records'.padStart(9)} ${'erp backlog'.padStart(12)}  load\n`);
    const db = rig.journal();
    try {
      for (let i = 0; ; i++) {
        const due = t0 + i * sampleS * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        const pid = rig.gatewayPid();
        const ps = procStats(pid);
        const records = (db.prepare('SELECT max(seq) AS n FROM records').get() as { n: number | null }).n ?? 0;
        const backlog = (db.prepare(`SELECT count(*) AS n FROM outbox WHERE sink='erp' AND state <> 'delivered'`).get() as { n: number }).n;
        const s = { t: (Date.now() - t0) / 60_000, rss: ps.rssMb, anon: ps.anonMb, heap: await heapMb(), fds: ps.fds, journal: fileSize(join(rig.stateDir, 'journal.sqlite')) / 1e6, wal: fileSize(join(rig.stateDir, 'journal.sqlite-wal')) / 1e6, records, backlog };
        samples.push(s);
        w(`  ${s.t.toFixed(1).padStart(5)} ${s.rss.toFixed(1).padStart(8)} ${s.anon.toFixed(1).padStart(8)} ${s.heap.toFixed(1).padStart(8)} ${String(s.fds).padStart(5)} ${s.journal.toFixed(2).padStart(11)} ${s.wal.toFixed(2).padStart(7)} ${String(s.records).padStart(9)} ${String(s.backlog).padStart(12)}  ${loadAvg()}\n`);
        if (rig.child && (rig.child.proc.exitCode !== null || rig.child.proc.signalCode)) throw new Error(`the gateway exited during the soak:\n${rig.child.logs.slice(-20).join('\n')}`);
        if (Date.now() - t0 >= minutes * 60_000) break;
      }
    } finally {
      db.close();
    }
    await tr.stop();
    out.drained_after_stop = String(await drained(rig, 120_000));
    const half = samples.filter((s) => s.t >= minutes / 2);
    const rssHalf = half.map((s) => s.rss);
    const fdHalf = half.map((s) => s.fds);
    out.rss_mb_min_max = `${Math.min(...samples.map((s) => s.rss)).toFixed(1)} .. ${Math.max(...samples.map((s) => s.rss)).toFixed(1)}`;
    out.rss_mb_second_half_first_last = `${rssHalf[0]?.toFixed(1)} → ${rssHalf[rssHalf.length - 1]?.toFixed(1)} (max ${Math.max(...rssHalf).toFixed(1)})`;
    const anonHalf = half.map((s) => s.anon);
    out.rss_anon_mb_second_half_first_last = `${anonHalf[0]?.toFixed(1)} → ${anonHalf[anonHalf.length - 1]?.toFixed(1)} (max ${Math.max(...anonHalf).toFixed(1)})`;
    const heapHalf = half.map((s) => s.heap);
    out.heap_mb_min_max = `${Math.min(...samples.map((s) => s.heap)).toFixed(1)} .. ${Math.max(...samples.map((s) => s.heap)).toFixed(1)}`;
    out.heap_mb_second_half_first_last = `${heapHalf[0]?.toFixed(1)} → ${heapHalf[heapHalf.length - 1]?.toFixed(1)} (max ${Math.max(...heapHalf).toFixed(1)})`;
    out.fds_min_max = `${Math.min(...samples.map((s) => s.fds))} .. ${Math.max(...samples.map((s) => s.fds))}`;
    out.fds_second_half_first_last = `${fdHalf[0]} → ${fdHalf[fdHalf.length - 1]}`;
    const last = samples[samples.length - 1]!;
    out.journal_mb_end = last.journal.toFixed(2);
    out.wal_mb_max = Math.max(...samples.map((s) => s.wal)).toFixed(2);
    out.records_end = last.records;
    out.journal_bytes_per_record = last.records ? Math.round((last.journal * 1e6) / last.records) : 'n/a';
    out.erp_backlog_max = Math.max(...samples.map((s) => s.backlog));
    out.scans_per_min = (tr.scansSent / minutes).toFixed(1);
    out.loads_per_min = (tr.loadsPublished / minutes).toFixed(1);
    out.labels_per_min = (tr.labelsAsked / minutes).toFixed(1);
    Object.assign(out, check(rig, tr));
    out.load_at_end = loadAvg();
  } finally {
    await rig.close();
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
