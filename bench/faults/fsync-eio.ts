/**
 * fsync-eio — the gateway runs under
 *   strace -f --seccomp-bpf -e trace=fsync,fdatasync -e inject=fsync,fdatasync:error=EIO:when=N+
 * so from its N-th fsync/fdatasync on (per thread; SQLite commits on the main thread, `--after=N`,
 * default 400) every sync fails with EIO without reaching the disk, while scans (pty), loads (MQTT)
 * and labels (API) keep coming. Checked:
 *  - from the first injected EIO on, nothing is acknowledged: no PUBACK for a load, no 201 for a
 *    label (a few in flight at that instant may complete: counted separately), scans get the bad
 *    beep (Host ACK "not recorded");
 *  - health names the cause (LG_ERR_STORE_WRITE_FAILED), and how fast;
 *  - what the process does next (keeps running and refusing; exits?);
 *  - after a restart WITHOUT the fault: every load the broker still holds is journaled (nothing
 *    acknowledged is lost), integrity_check and the audit chain are ok; and which of the records
 *    reported as failed turn up anyway (an EIO'd commit whose WAL frames were written: SQLite's
 *    recovery finds a valid commit frame — "reported not recorded" although it is).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ackedLoads, countBeeps, loadAvg, num, Rig, sleep, until, type Args, type Figures } from './rig.js';
import { check, drained, Traffic } from './traffic.js';

export async function fsyncEio(args: Args): Promise<Figures> {
  const after = num(args, 'after', 400);
  const dir = mkdtempSync(join(resolve('var'), 'faults-fsync-eio-'));
  const rig = new Rig({ dir, broker: args.broker === 'aedes' ? 'aedes' : 'mosquitto', noMachine: true });
  const trace = join(dir, 'strace.txt');
  const out: Figures = { after_n_syncs: after, started: new Date().toISOString(), load_at_start: loadAvg() };
  try {
    await rig.start();
    // First start without the fault: master data, batch (so the syncs of seeding do not count).
    await rig.spawn();
    await rig.seed();
    await rig.stopChild();
    await rig.spawn({ wrap: ['strace', '-f', '--seccomp-bpf', '-qq', '-tt', '-o', trace, '-e', 'trace=fsync,fdatasync', '-e', `inject=fsync,fdatasync:error=EIO:when=${after}+`] });
    const tr = new Traffic(rig, { scanGapMs: 50, scaleHz: 40, scaleCycle: 2, labelGapMs: 100, plcPerSecond: 0 });
    tr.setUp(true);
    tr.start();
    const injected = (): boolean => existsSync(trace) && readFileSync(trace, 'utf8').includes('INJECTED');
    const tStart = Date.now();
    await until(injected, 300_000, 'first injected EIO', 5);
    // strace -tt stamps each syscall (local wall time, microseconds): the true moment of the first
    // EIO, a little before this process noticed it in the file.
    const first = readFileSync(trace, 'utf8').split('\n').find((l) => l.includes('INJECTED'));
    const hms = first ? /\s(\d{2}):(\d{2}):(\d{2})\.(\d{3})/.exec(first) : null;
    const noticed = Date.now();
    let tEio = noticed;
    if (hms) {
      const d = new Date();
      d.setHours(Number(hms[1]), Number(hms[2]), Number(hms[3]), Number(hms[4]));
      if (d.getTime() <= noticed) tEio = d.getTime();
    }
    out.eio_noticed_after_it_happened_ms = noticed - tEio;
    out.first_eio_after_s = ((tEio - tStart) / 1000).toFixed(1);
    const at = { puback: rig.proxy.acked.length, loads: ackedLoads(rig.proxy).size, labels: tr.labelsAcked.length, beeps: countBeeps(rig.scanner.received()), records: 0 };
    const db0 = rig.journal();
    at.records = (db0.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
    db0.close();
    out.acknowledged_before_eio = `${at.loads} loads, ${at.labels} labels, ${at.beeps} scan beeps, ${at.records} records`;
    // Health within a bound.
    let health = '';
    const h = await until(
      async () => {
        try {
          const r = await rig.call('GET', '/health/ready', undefined, 3000);
          const s = JSON.stringify(r.body);
          const m = /LG_ERR_STORE_WRITE_FAILED|LG_ERR_STORE_[A-Z_]+/.exec(s);
          health = `${r.status} ${r.body?.status}`;
          return m ? m[0] : null;
        } catch (err) {
          health = `no answer: ${(err as Error).message}`;
          return rig.child && rig.child.proc.exitCode !== null ? 'exited' : null;
        }
      },
      30_000,
      'health names the store error',
      50,
    ).catch(() => 'not named within 30 s');
    out.health_names = h;
    out.health_named_after_ms = Date.now() - tEio;
    out.health_http = health;
    // Keep the traffic going for a while: what is acknowledged now?
    await sleep(num(args, 'hold-s', 15) * 1000);
    const loadsNow = ackedLoads(rig.proxy).size;
    out.loads_acknowledged_after_eio = loadsNow - at.loads;
    out.labels_acknowledged_after_eio = tr.labelsAcked.length - at.labels;
    out.label_requests_refused_after_eio = tr.labelErrors;
    const rx = rig.scanner.received();
    out.scan_beeps_after_eio = countBeeps(rx) - at.beeps;
    out.scan_good_beeps_total = rx.toString('latin1').split('\x1b7,').length - 1;
    out.gateway_process = rig.child && rig.child.proc.exitCode === null ? 'still running' : `exited ${rig.child?.proc.exitCode}`;
    try {
      const r = await rig.call('GET', '/health/ready', undefined, 3000);
      out.health_after_hold = `${r.status} ${r.body?.status} journal=${r.body?.subsystems?.journal?.state} failures=${r.body?.subsystems?.journal?.failures}`;
      const drv = (r.body?.subsystems?.drivers as Array<{ id: string; state: string; lastError?: { code: string } }>) ?? [];
      out.drivers_after_hold = drv.map((d) => `${d.id}:${d.state}${d.lastError ? '/' + d.lastError.code : ''}`).join(' ');
    } catch (err) {
      out.health_after_hold = `no answer: ${(err as Error).message}`;
    }
    const logs = rig.child?.logs ?? [];
    out.log_lines_commit_failed = logs.filter((l) => l.includes('journal commit failed')).length;
    out.syncs_injected = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('INJECTED')).length;
    // Restart without the fault: nothing acknowledged may be missing.
    tr.setUp(false);
    const tRestart = Date.now();
    await rig.kill9();
    await rig.spawn();
    tr.setUp(true);
    await sleep(3000);
    await tr.stop();
    const db = rig.journal();
    try {
      await until(
        () => {
          const have = new Set((db.prepare(`SELECT json_extract(payload,'$.net') AS n FROM records WHERE type = 'material.consumed'`).all() as Array<{ n: string }>).map((r) => r.n));
          return [...ackedLoads(rig.proxy)].every((n) => have.has(n));
        },
        120_000,
        'acknowledged loads journaled after the restart',
        500,
      ).catch((e: Error) => (out.loads_wait = e.message));
    } finally {
      db.close();
    }
    out.drained = String(await drained(rig, 120_000));
    Object.assign(out, check(rig, tr));
    // Host ACK has two answers only: after a failed commit the scanner gets the BAD beep and the
    // station page says NOT RECORDED (LG_ERR_STORE_WRITE_FAILED) — a refusal, not an acknowledgement.
    // So for scans: answered before the first EIO → must be journaled; answered after → refusals.
    {
      const j = rig.journal();
      const have = new Set((j.prepare(`SELECT payload FROM records WHERE device = 'weigh.scanner'`).all() as Array<{ payload: string }>).map((r) => Number(/FLT-(\d+)/.exec(r.payload)?.[1])));
      j.close();
      const before = [...tr.scanAnsweredAt].filter(([, t]) => t < tEio).map(([n]) => n);
      const afterEio = [...tr.scanAnsweredAt].filter(([, t]) => t >= tEio && t < tRestart).map(([n]) => n);
      out.scans_answered_before_eio_not_journaled = before.filter((n) => !have.has(n)).length;
      out.scans_answered_between_eio_and_restart_bad_beep = afterEio.length;
      out.scans_answered_between_eio_and_restart_journaled_anyway = afterEio.filter((n) => have.has(n)).length;
      delete out.scans_acknowledged_not_journaled;
    }
    out.load_at_end = loadAvg();
  } finally {
    await rig.close();
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
