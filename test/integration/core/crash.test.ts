import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { baseConfig } from '../../helpers/gateway.js';
import { startDaemon, writeConfig, type Daemon } from '../../helpers/daemon.js';
import { tempDir } from '../../helpers/tmp.js';

describe('durability: kill -9 mid-stream', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('every reading acknowledged with 2xx before the kill is in the journal after restart', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = writeConfig(dir.path, { ...baseConfig(dir.path), log: { level: 'info' } });
    let d: Daemon = await startDaemon(file, dir.path);
    cleanups.push(() => d.proc.kill('SIGKILL'));
    const post = (data: string) =>
      fetch(`${d.url}/stations/WEIGH-1/scans`, {
        method: 'POST',
        headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data, device: 'crash-test' }),
      });

    const acked = new Set<string>();
    let sent = 0;
    let failed = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        sent++;
        try {
          const r = await post(`SCAN-${w}-${i}`);
          if (r.status === 201) acked.add(((await r.json()) as { record: { id: string } }).record.id);
          else failed++;
        } catch {
          failed++; // connection reset by the kill: not acknowledged, may or may not be stored
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    // Kill mid-stream once a good number of readings were acknowledged (time-bounded: a loaded
    // machine is slower, not wrong).
    const deadline = Date.now() + 15_000;
    while (acked.size < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    d.proc.kill('SIGKILL');
    await d.exited;
    stop = true;
    await Promise.all(workers);
    expect(acked.size).toBeGreaterThan(50);

    d = await startDaemon(file, dir.path);
    const db = new Database(join(dir.path, 'journal.sqlite'), { readonly: true });
    cleanups.push(() => db.close());
    const has = db.prepare('SELECT 1 FROM records WHERE id = ?');
    const missing = [...acked].filter((id) => !has.get(id));
    const stored = (db.prepare(`SELECT COUNT(*) c FROM records WHERE device = 'crash-test'`).get() as { c: number }).c;
    console.log(`kill -9 test: sent ${sent}, acknowledged ${acked.size}, stored ${stored}, unacknowledged/failed ${failed}, missing ${missing.length}`);
    expect(missing).toEqual([]);
    expect(stored).toBeGreaterThanOrEqual(acked.size);
    // the restarted daemon takes new readings
    const r = await post('AFTER-RESTART');
    expect(r.status).toBe(201);
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });
});
