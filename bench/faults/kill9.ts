/**
 * kill9 — `kill -9` of the gateway process `--kills` times (default 1000, or fewer when
 * `--max-minutes` runs out) during mixed ingest: scans over a socat pty, loads over MQTT, the PLC's
 * counters over OPC UA, case labels to a TCP printer, every record delivered to an HTTP ERP (rig.ts).
 * Each round the gateway runs for a random time (seeded, `--seed`) between `--min-ms` and
 * `--max-ms` of serving (default 300–2,500 ms) and is killed; one round in ten (`--early=0.1`) it is
 * killed while still starting (50–1,500 ms after the spawn: migrations, device start-up). After the
 * last kill it starts once more, the traffic stops, the broker's queue and the ERP outbox drain, and
 * the checks of traffic.ts run: nothing acknowledged lost, duplicates counted, journal
 * integrity_check, `linegate audit verify`. Scale payloads carry the scale's timestamp (`ts`, as a
 * json-generic scale sends it) unless `--scale-ts=0`: without it a redelivered load that the journaled
 * state already applied cannot be told from a new one, and can be journaled twice (never lost).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAvg, num, Rig, sleep, until, type Args, type Figures } from './rig.js';
import { check, drained, Traffic } from './traffic.js';
import { mulberry32 } from '../../src/util/random.js';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

export async function kill9(args: Args): Promise<Figures> {
  const kills = num(args, 'kills', 1000);
  const maxMinutes = num(args, 'max-minutes', Infinity);
  const minMs = num(args, 'min-ms', 300);
  const maxMs = num(args, 'max-ms', 2500);
  const early = num(args, 'early', 0.1);
  const rnd = mulberry32(num(args, 'seed', 18));
  const dir = mkdtempSync(join(resolve('var'), 'faults-kill9-'));
  const rig = new Rig({ dir, broker: args.broker === 'aedes' ? 'aedes' : 'mosquitto' });
  const out: Figures = { broker: args.broker === 'aedes' ? 'aedes' : 'mosquitto', kills_asked: kills, started: new Date().toISOString(), load_at_start: loadAvg() };
  const startMs: number[] = [];
  let killsDone = 0;
  let earlyKills = 0;
  let startFailures = 0;
  let roundsOnline = 0;
  let devicesLate = 0;
  const t0 = Date.now();
  try {
    await rig.start();
    await rig.spawn();
    await rig.seed();
    const tr = new Traffic(rig, { scanGapMs: 20, scaleHz: 20, scaleCycle: 2, labelGapMs: 150, plcPerSecond: 50, scaleTimestamps: args['scale-ts'] !== '0' });
    out.scale_payload_timestamps = args['scale-ts'] !== '0' ? 'yes' : 'no (--scale-ts=0)';
    tr.setUp(true);
    tr.start();
    while (killsDone < kills && Date.now() - t0 < maxMinutes * 60_000) {
      if (rnd() < early) {
        // Killed while starting.
        tr.setUp(false);
        await rig.kill9();
        const p = rig.spawn().catch(() => undefined);
        await sleep(50 + rnd() * 1450);
        await rig.kill9();
        await p;
        earlyKills++;
        killsDone++;
      } else {
        // Half the rounds: killed at a random moment after every device is online (else the
        // OPC UA session, the slowest to come up, would hardly ever deliver between kills).
        if (rnd() < 0.5) {
          await until(() => rig.devicesOnline(), 30_000, 'devices online', 100).catch(() => (devicesLate++));
          roundsOnline++;
        }
        await sleep(minMs + rnd() * (maxMs - minMs));
        tr.setUp(false);
        await rig.kill9();
        killsDone++;
      }
      const s = Date.now();
      for (;;) {
        try {
          await rig.spawn();
          break;
        } catch (err) {
          startFailures++;
          process.stdout.write(`  start failed after kill ${killsDone}: ${(err as Error).message.slice(0, 2000)}\n`);
          await rig.kill9();
          if (startFailures > 20) throw err;
        }
      }
      startMs.push(Date.now() - s);
      tr.setUp(true);
      if (killsDone % 50 === 0) process.stdout.write(`  … ${killsDone} kills, ${((Date.now() - t0) / 60_000).toFixed(1)} min, load ${loadAvg()}\n`);
    }
    out.kills_done = killsDone;
    out.kills_while_starting = earlyKills;
    out.start_failures = startFailures;
    out.rounds_killed_after_all_devices_online = roundsOnline;
    out.rounds_devices_not_online_in_30s = devicesLate;
    out.minutes = ((Date.now() - t0) / 60_000).toFixed(1);
    out.restart_to_serving_ms_p50_p99 = `${pct(startMs, 50)} / ${pct(startMs, 99)}`;
    await sleep(3000);
    await tr.stop();
    // Everything the broker still delivers to the gateway's session, and everything owed to the ERP, arrives:
    // wait until the proxy has seen no new delivery for 10 s and the print queue is settled.
    let lastN = -1;
    let quietSince = Date.now();
    await until(
      () => {
        if (rig.proxy.delivered.length !== lastN) {
          lastN = rig.proxy.delivered.length;
          quietSince = Date.now();
        }
        return Date.now() - quietSince > 10_000;
      },
      300_000,
      'broker deliveries settled',
      250,
    ).catch((e: Error) => (out.loads_wait = e.message));
    const db = rig.journal();
    try {
      await until(() => (db.prepare(`SELECT count(*) AS n FROM print_jobs WHERE state IN ('queued','sending')`).get() as { n: number }).n === 0, 120_000, 'print queue empty', 500).catch((e: Error) => (out.print_wait = e.message));
    } finally {
      db.close();
    }
    out.drained = String(await drained(rig, 180_000));
    Object.assign(out, check(rig, tr));
    // What the scale's redelivery window did across the restarts (src/drivers/redelivery-window.ts).
    out.scale_redelivery_windows_opened = rig.redelivery.windows;
    out.scale_redelivery_windows_that_held = rig.redelivery.closedWithHeld;
    out.scale_messages_held = rig.redelivery.held;
    out.scale_redelivered_skipped_as_applied = rig.redelivery.skipped;
    out.load_at_end = loadAvg();
  } finally {
    await rig.close();
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
