import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { baseConfig, seedReferenceLine, startTestGateway } from '../../helpers/gateway.js';
import { startDaemon, writeConfig, type Daemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 7 through the running gateway: journal → outbox → dispatcher → ERP receiver (HTTP). */
describe('upstream delivery from the running gateway', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('loses nothing when the gateway is kill -9ed 20 times during delivery', async () => {
    const erp = new ErpSimulator({ port: 0, faults: { latencyRate: 0.3, latencyMs: 20 }, seed: 7 });
    await erp.start();
    cleanups.push(() => erp.close());
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = writeConfig(dir.path, {
      ...baseConfig(dir.path),
      upstream: { sinks: [{ id: 'erp', kind: 'http', url: erp.url, batch: { maxRecords: 50, lingerMs: 5 } }] },
      log: { level: 'info' },
    });
    const acked = new Set<string>();
    let d: Daemon | null = null;
    cleanups.push(() => d?.proc.kill('SIGKILL'));
    for (let round = 0; round < 20; round++) {
      d = await startDaemon(file, dir.path);
      const dd = d;
      let stop = false;
      const post = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const r = await fetch(`${dd.url}/stations/PACK-1/scans`, {
              method: 'POST',
              headers: { authorization: `Bearer ${dd.token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ data: `R${round}-W${w}-${i}`, device: `kill-test-${w}` }),
            });
            if (r.status === 201) acked.add(((await r.json()) as { record: { id: string } }).record.id);
          } catch {
            return; // killed
          }
        }
      };
      const posters = [0, 1, 2, 3].map(post);
      await new Promise((r) => setTimeout(r, 150 + ((round * 97) % 400)));
      d.proc.kill('SIGKILL');
      await d.exited;
      stop = true;
      await Promise.all(posters);
    }
    // Final start: the dispatcher drains what earlier lives left in the outbox.
    d = await startDaemon(file, dir.path);
    const db = new Database(join(dir.path, 'journal.sqlite'), { readonly: true });
    cleanups.push(() => db.close());
    const total = (db.prepare('SELECT COUNT(*) c FROM records').get() as { c: number }).c;
    await waitFor(() => erp.report().unique >= total, 60_000, 100, `ERP to hold all ${total} records`);
    const missing = [...acked].filter((id) => !erp.has(id));
    // The last replies may still be on their way back: wait for the gateway to mark them delivered.
    const countPending = () => (db.prepare(`SELECT COUNT(*) c FROM outbox WHERE state <> 'delivered'`).get() as { c: number }).c;
    await waitFor(() => countPending() === 0, 30_000, 100, 'outbox fully delivered').catch(() => undefined);
    const pending = countPending();
    const rep = erp.report();
    console.log(`20× kill -9: ${acked.size} acknowledged, ${total} records in the journal, ERP unique ${rep.unique}, duplicates ${rep.duplicates}, order violations ${JSON.stringify((rep as { orderViolations?: unknown }).orderViolations ?? 'n/a')}, pending ${pending}`);
    expect(acked.size).toBeGreaterThan(100);
    expect(missing).toEqual([]);
    expect(rep.unique).toBe(total);
    expect(pending).toBe(0);
  }, 240_000);

  it('an ERP push that puts a lot on hold refuses the next scan of it; a poison record is quarantined, shown, and replayed', async () => {
    const erp = new ErpSimulator({ port: 0 });
    await erp.start();
    cleanups.push(() => erp.close());
    const t = await startTestGateway({ upstream: { sinks: [{ id: 'erp', kind: 'http', url: erp.url, batch: { lingerMs: 5 } }] } });
    cleanups.push(() => t.stop());
    const { batch } = await seedReferenceLine(t);
    const erpUser = await t.call('POST', '/users', { id: 'erp', name: 'ERP', role: 'erp' });
    await t.call('PUT', '/stations/WEIGH-1/context', { batch });
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' })).body.record.status).toBe('accepted');

    const pushed = await erp.pushMasterData(t.url, 'lots', [{ id: 'L-1001-A', material: 'RM-1001', status: 'on_hold', quantity: '500.000', reason: 'supplier recall' }], erpUser.body.token);
    expect(pushed[0]!.status).toBe(200);
    // Idempotent: the same push again changes nothing.
    const again = await erp.pushMasterData(t.url, 'lots', [{ id: 'L-1001-A', material: 'RM-1001', status: 'on_hold', quantity: '500.000', reason: 'supplier recall' }], erpUser.body.token);
    expect((again[0]!.body as { changed: boolean }).changed).toBe(false);
    await new Promise((r) => setTimeout(r, 400)); // past the duplicate-scan window
    const refused = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' });
    expect(refused.body.record.errorCode).toBe('LG_ERR_LOT_ON_HOLD');

    // Poison: the ERP refuses unrecognised scans with 422; the records behind it still flow.
    erp.setFaults({ refuseTypes: ['scan.unrecognised'] });
    const poison = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'GARBAGE-XYZ' });
    const behind = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-EXP' });
    await waitFor(() => erp.has(behind.body.record.id), 10_000, 50, 'record behind the poison delivered');
    const q = await waitFor(async () => {
      const r = await t.call('GET', '/upstream/sinks/erp/quarantine');
      return r.body.items.length > 0 ? r.body.items : null;
    }, 10_000, 50, 'quarantine entry');
    expect(q[0]).toMatchObject({ id: poison.body.record.id, type: 'scan.unrecognised' });
    expect((await t.call('GET', '/health/ready', undefined, null)).body.status).toBe('degraded');
    const exported = await fetch(`${t.url}/upstream/sinks/erp/quarantine/export`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(await exported.text()).toContain(poison.body.record.id);
    erp.setFaults({});
    const replay = await t.call('POST', '/upstream/sinks/erp/quarantine/replay', { seqs: 'all' });
    expect(replay.body.replayed).toBe(1);
    await waitFor(() => erp.has(poison.body.record.id), 10_000, 50, 'poison delivered after replay');
    const sinks = await t.call('GET', '/upstream/sinks');
    expect(sinks.body.items[0]).toMatchObject({ sink: 'erp', quarantined: 0 });
  });
});
