/**
 * clock-jump — the gateway runs under libfaketime (Debian `faketime`; LD_PRELOAD of
 * libfaketimeMT with FAKETIME_TIMESTAMP_FILE re-read every second and FAKETIME_DONT_FAKE_MONOTONIC=1,
 * so only CLOCK_REALTIME moves, as when someone or something steps the system clock) with
 * LINEGATE_CLOCK_SYNCED=1 (the plant says its clock is synchronised: a jump is then an anomaly).
 * While scans, loads, labels and counters come in, the clock steps back by `--hours` (default 13:
 * into the previous day in UTC), then forward by 2 × hours (into the next day), then back to true
 * time. Two batches are created in each phase (batch numbering is by day). Before the step back the
 * ERP refuses everything for a few seconds, so records wait with a retry time in the future.
 * Checked: records whose time goes backwards are flagged (clock_synced = 0; the step itself is a
 * clock.stepped record, LG_ERR_CLOCK_STEPPED),
 * batch numbers never repeat, the ERP receives every record once and in journal order, what
 * waited for a retry is delivered promptly after the step back, nothing acknowledged is lost.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAvg, num, Rig, sleep, until, type Args, type Figures } from './rig.js';
import { check, drained, Traffic } from './traffic.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

export async function clockJump(args: Args): Promise<Figures> {
  const hours = num(args, 'hours', 13);
  const phaseS = num(args, 'phase-s', 20);
  const dir = mkdtempSync(join(resolve('var'), 'faults-clock-'));
  const rig = new Rig({ dir, broker: args.broker === 'aedes' ? 'aedes' : 'mosquitto', upstream: { backoff: { baseMs: 200, maxMs: 2000, probeMs: 500 } } });
  const ft = join(dir, 'faketime.txt');
  writeFileSync(ft, '+0\n');
  const out: Figures = { hours, started: new Date().toISOString(), load_at_start: loadAvg() };
  const batches: Array<{ phase: string; number: string }> = [];
  try {
    await rig.start();
    await rig.spawn({ env: { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: ft, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1', LINEGATE_CLOCK_SYNCED: '1' } });
    await rig.seed();
    batches.push({ phase: 'seed', number: rig.batch });
    const tr = new Traffic(rig, { scanGapMs: 200, scaleHz: 10, scaleCycle: 4, labelGapMs: 500, plcPerSecond: 20 });
    tr.setUp(true);
    tr.start();
    const newBatch = async (phase: string): Promise<void> => {
      const r = await rig.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [] });
      if (r.status >= 300) throw new Error(`batch in phase ${phase}: ${r.status} ${JSON.stringify(r.body)}`);
      batches.push({ phase, number: r.body.number as string });
    };
    const phases: Array<[string, string]> = [
      ['true time', '+0'],
      [`back ${hours} h`, `-${hours}h`],
      [`forward ${hours} h`, `+${hours}h`],
      ['true time again', '+0'],
    ];
    const jumpSeq: Array<{ phase: string; seq: number }> = [];
    let retryWaitingAtJump = 0;
    for (const [i, [name, spec]] of phases.entries()) {
      if (i === 1) {
        // Records that wait for a retry when the clock steps back.
        rig.erp.setFaults({ failRate: 1 });
        await sleep(4000);
        const db = rig.journal();
        retryWaitingAtJump = (db.prepare(`SELECT count(*) AS n FROM outbox WHERE sink='erp' AND state='pending' AND attempts > 0`).get() as { n: number }).n;
        db.close();
      }
      const db = rig.journal();
      jumpSeq.push({ phase: name, seq: (db.prepare('SELECT coalesce(max(seq),0) AS n FROM records').get() as { n: number }).n });
      db.close();
      writeFileSync(ft, `${spec}\n`);
      await sleep(1500); // libfaketime re-reads the file each second
      if (i === 1) {
        rig.erp.setFaults({});
        const t = Date.now();
        const ok = await drained(rig, 60_000);
        out.retry_backlog_at_step_back = retryWaitingAtJump;
        out.retry_backlog_delivered_after_step_back_ms = ok ? Date.now() - t : 'not within 60 s';
      }
      await newBatch(name);
      await sleep((phaseS * 1000) / 2);
      await newBatch(name);
      await sleep((phaseS * 1000) / 2);
    }
    await tr.stop();
    out.drained = String(await drained(rig, 120_000));
    await until(async () => (await rig.call('GET', '/health/ready')).status === 200, 10_000, 'health').catch(() => undefined);
    const db = rig.journal();
    try {
      const rows = db.prepare(`SELECT seq, received_at, clock_synced, error_code, type FROM records ORDER BY seq`).all() as Array<{ seq: number; received_at: string; clock_synced: number; error_code: string | null; type: string }>;
      let maxT = '';
      let backwards = 0;
      let backwardsFlagged = 0;
      for (const r of rows) {
        // More than 1 s before a record journaled earlier (concurrent sources reorder by milliseconds).
        if (maxT && Date.parse(r.received_at) < Date.parse(maxT) - 1000) {
          backwards++;
          if (r.clock_synced === 0) backwardsFlagged++;
        }
        if (r.received_at > maxT) maxT = r.received_at;
      }
      out.records = rows.length;
      out.records_over_1s_before_an_earlier_record = backwards;
      out.of_those_flagged_clock_synced_0 = backwardsFlagged;
      out.records_flagged_clock_synced_0 = rows.filter((r) => r.clock_synced === 0).length;
      out.clock_jump_records = rows.filter((r) => r.type === 'clock.stepped').map((r) => r.seq).join(' ') || 'none';
      out.records_per_phase_first_seq = jumpSeq.map((j) => `${j.phase}: after seq ${j.seq}`).join('; ');
      const nums = batches.map((b) => b.number);
      out.batch_numbers = batches.map((b) => `${b.phase}=${b.number}`).join(' ');
      out.batch_numbers_repeated = nums.length - new Set(nums).size;
      const ids = db.prepare('SELECT count(*) AS n, count(DISTINCT id) AS d FROM records').get() as { n: number; d: number };
      out.record_ids_repeated = ids.n - ids.d;
    } finally {
      db.close();
    }
    // ERP arrival order vs journal order, over all records.
    const ev = rig.erp.events({ limit: 10_000_000 });
    let inversions = 0;
    let last = 0;
    for (const e of ev) {
      if (e.lgseq !== null && e.lgseq < last) inversions++;
      if (e.lgseq !== null) last = Math.max(last, e.lgseq);
    }
    out.erp_arrivals_before_an_earlier_seq = inversions;
    Object.assign(out, check(rig, tr));
    out.load_at_end = loadAvg();
  } finally {
    await rig.close();
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
