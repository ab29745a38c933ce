import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { countOutbox, httpSinkConfig, seedRecords, waitUntil } from './harness.js';

describe('HTTP delivery to the ERP simulator', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(faults = {}, over = {}): Promise<{ db: Db; erp: ErpSimulator; d: Dispatcher }> {
    const db = openDatabase(':memory:', { synchronous: 'NORMAL' });
    const erp = new ErpSimulator({ faults, seed: 42 });
    await erp.start();
    const d = new Dispatcher(db, [new HttpSink(httpSinkConfig(erp.url, over))], { gatewayId: 'gw1', pollMs: 100 });
    cleanups.push(() => {
      db.close();
    });
    cleanups.push(() => erp.close());
    cleanups.push(() => d.stop({ timeoutMs: 1000 }));
    return { db, erp, d };
  }

  it('delivers 10,000 records through random 500s, 429s, timeouts and lost replies: exactly once each, in order per batch', async () => {
    const { db, erp, d } = await setup(
      // Timeouts: the latency (2.5 s) is far above the client timeout (1.2 s) and ordinary requests far
      // below it, so the receiver can tell which replies were lost (it sees the client gone).
      { failRate: 0.08, throttleRate: 0.05, retryAfterS: 0, dropRate: 0.05, latencyRate: 0.02, latencyMs: 2500 },
      { timeoutMs: 1200, batch: { maxRecords: 25, maxBytes: 1_048_576, lingerMs: 5 } },
    );
    const seeded = seedRecords(db, 10_000, { sinks: ['erp'], batches: 5, run: 13 });
    await d.start();
    await waitUntil(() => countOutbox(db, 'erp').delivered === 10_000, 60_000, 'all delivered');
    const rep = erp.report();
    console.log('10k fault run', JSON.stringify(rep));
    expect(rep.unique).toBe(10_000);
    expect(rep.orderViolations).toBe(0);
    // Faults really happened
    expect(rep.faults.fail).toBeGreaterThan(0);
    expect(rep.faults.throttle).toBeGreaterThan(0);
    expect(rep.faults.drop).toBeGreaterThan(0);
    expect(rep.faults.latency).toBeGreaterThan(0);
    // Duplicates only where a reply was lost
    expect(rep.duplicatesWithoutLostReply).toBe(0);
    expect(rep.lostReplies).toBeGreaterThan(0);
    for (const s of seeded.slice(0, 50)) expect(erp.has(s.id)).toBe(true);
    // First arrivals per batch are in seq order (independently of the simulator's own counter)
    const lastByBatch = new Map<string, number>();
    let after = 0;
    for (;;) {
      const evs = erp.events({ after, limit: 2000 });
      if (evs.length === 0) break;
      for (const e of evs) {
        const prev = lastByBatch.get(e.batch!) ?? 0;
        expect(e.lgseq!).toBeGreaterThan(prev);
        lastByBatch.set(e.batch!, e.lgseq!);
        after = e.arrival;
      }
    }
    expect(lastByBatch.size).toBe(5);
    const st = d.stats()[0]!;
    expect(st.backlog).toBe(0);
    expect(st.deliveredTotal).toBe(10_000);
    expect(st.lastError?.code).toBe('LG_ERR_SINK_UNREACHABLE');
  }, 90_000);

  it('single mode: one event per request, Retry-After as an HTTP date honoured', async () => {
    const { db, erp, d } = await setup({ throttleRate: 0.15, retryAfterS: 1, retryAfterAsDate: true }, { mode: 'single', maxInFlight: 4 });
    seedRecords(db, 30, { sinks: ['erp'], batches: 3, run: 2 });
    const t0 = Date.now();
    await d.start();
    await waitUntil(() => countOutbox(db, 'erp').delivered === 30, 30_000, 'all delivered');
    const rep = erp.report();
    expect(rep.unique).toBe(30);
    expect(rep.orderViolations).toBe(0);
    expect(rep.faults.throttle).toBeGreaterThan(0);
    // A 429 with Retry-After (a date ≥ ~1 s ahead, second resolution) pauses the sink: the run cannot finish sooner.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });
});
