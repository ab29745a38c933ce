import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NOT_AT_STATION } from '../src/events.js';
import { migrate, openDatabase } from '../src/store/db.js';
import { Repo } from '../src/store/repo.js';

/**
 * The station pages' record queries once process values are left out (issue 18 leftover): the
 * panel's "recent" list (newest 12 of the station) and the stream's replay after a reconnect, with
 * N process values at the station after its last scan (an MQTT / OPC UA device at up to 1,000 a
 * second, e.g. 500,000 ≈ 8 minutes of that). Peer in the same run: the same "recent" query that
 * does not leave them out. Without an index that excludes process values (a partial index needs a
 * migration: not built yet), the cost grows with the process values after the last scan — these
 * figures show how much.
 */
export async function benchStationRecent(opts: { sizes?: number[] } = {}): Promise<Record<string, number>> {
  const sizes = opts.sizes ?? [10_000, 100_000, 500_000];
  const dir = mkdtempSync(join(resolve('var'), 'bench-station-recent-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'OFF' });
  const out: Record<string, number> = {};
  try {
    migrate(db);
    const repo = new Repo(db);
    const ins = db.prepare(`INSERT INTO records (id, type, status, site, station, device, payload, received_at, clock_synced) VALUES (?, ?, 'accepted', 'S', 'FILL-1', 'd', '{}', ?, 1)`);
    let n = 0;
    const add = (type: string) => ins.run(`r-${++n}`, type, new Date().toISOString());
    for (let i = 0; i < 12; i++) add('lot.scanned');
    const ms = (f: () => unknown, reps: number): number => {
      f();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reps; i++) f();
      return Number(process.hrtime.bigint() - t0) / 1e6 / reps;
    };
    let have = 0;
    for (const size of sizes) {
      db.transaction(() => {
        for (; have < size; have++) add(NOT_AT_STATION);
      })();
      const reps = size > 100_000 ? 5 : 20;
      const peer = ms(() => repo.listRecords({ station: 'FILL-1', limit: 12, order: 'desc' }), reps);
      const recent = ms(() => repo.listRecords({ station: 'FILL-1', notType: NOT_AT_STATION, limit: 12, order: 'desc' }), reps);
      const replay = ms(() => repo.listRecords({ station: 'FILL-1', notType: NOT_AT_STATION, after: 0, limit: 1000, order: 'asc' }), reps);
      out[`recent_ms_${size}`] = recent;
      out[`replay_ms_${size}`] = replay;
      out[`recent_vs_unfiltered_${size}`] = recent / Math.max(peer, 1e-3);
    }
    return out;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
