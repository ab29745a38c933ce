import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { countOutbox, httpSinkConfig, seedRecords, waitUntil } from './harness.js';

/**
 * Issue 18, found by the fsync-eio fault script: when the journal could not record a delivery
 * outcome (fsync EIO, disk full) the dispatcher re-sent the same records at once, in a loop: the ERP
 * got ~26,000 re-sends in 20 s. Now it pauses, says why, and delivers once the journal writes again.
 */
describe('dispatcher while the journal refuses to record outcomes', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('pauses instead of re-sending in a loop, reports LG_ERR_STORE_WRITE_FAILED, resumes when writes work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-storefail-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = openDatabase(join(dir, 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => {
      db.close();
    });
    seedRecords(db, 50, { sinks: ['erp'], batches: 1 });
    // Every outcome write fails, as with an fsync EIO on the journal.
    db.exec(`CREATE TRIGGER fail_outcomes BEFORE UPDATE ON outbox BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    const erp = new ErpSimulator();
    await erp.start();
    cleanups.push(() => erp.close());
    const d = new Dispatcher(db, [new HttpSink(httpSinkConfig(erp.url))], { gatewayId: 'gw1', pollMs: 100 });
    cleanups.push(() => d.stop({ timeoutMs: 500 }));
    await d.start();
    d.notify();
    await waitUntil(() => erp.report().requests >= 1, 10_000, 'first request');
    await new Promise((r) => setTimeout(r, 3000));
    const requests = erp.report().requests;
    // One request a second at most (plus the first); the loop made thousands.
    expect(requests).toBeLessThanOrEqual(6);
    expect(d.stats()[0]!.lastError?.code).toBe('LG_ERR_STORE_WRITE_FAILED');
    expect(countOutbox(db, 'erp').delivered).toBe(0);
    db.exec('DROP TRIGGER fail_outcomes');
    await waitUntil(() => countOutbox(db, 'erp').delivered === 50, 10_000, 'delivered once writes work');
    expect(erp.report().unique).toBe(50);
  }, 30_000);
});
