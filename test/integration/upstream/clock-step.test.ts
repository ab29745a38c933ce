import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { countOutbox, httpSinkConfig, seedRecords, waitUntil } from './harness.js';

/**
 * Issue 18, found by the clock-jump fault script: the dispatcher scheduled its backoff pause on the
 * wall clock, so a step of the system clock back by 13 h held every retry for 13 h. Pauses, probes
 * and linger now run on the monotonic clock.
 */
describe('dispatcher across a step of the wall clock', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('records waiting for a retry when the clock steps back 13 h are delivered as soon as the receiver answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-clockstep-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = openDatabase(join(dir, 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => {
      db.close();
    });
    const erp = new ErpSimulator({ faults: { failRate: 1 } });
    await erp.start();
    cleanups.push(() => erp.close());
    // A long backoff (5 s), no probe: only the pause decides when the next attempt goes out.
    const d = new Dispatcher(db, [new HttpSink(httpSinkConfig(erp.url, { backoff: { baseMs: 5000, maxMs: 5000, probeMs: 0 } }))], { gatewayId: 'gw1', pollMs: 100 });
    cleanups.push(() => d.stop({ timeoutMs: 500 }));
    seedRecords(db, 200, { sinks: ['erp'], batches: 2 });
    await d.start();
    d.notify();
    await waitUntil(() => d.stats()[0]!.state === 'backoff', 10_000, 'backing off after the 500s');
    // The clock steps back by 13 h (NTP after an outage, a person setting the time).
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() - 13 * 3_600_000);
    erp.setFaults({});
    // Within the 5 s pause plus slack — not 13 h.
    await waitUntil(() => countOutbox(db, 'erp').delivered === 200, 20_000, 'all 200 delivered after the step back');
    const rep = erp.report();
    expect(rep.unique).toBe(200);
    expect(rep.orderViolations).toBe(0);
  }, 40_000);
});
