import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { countOutbox, httpSinkConfig, seedRecords, waitUntil } from './harness.js';

describe('poison records', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(): Promise<{ db: Db; erp: ErpSimulator; d: Dispatcher }> {
    const db = openDatabase(':memory:', { synchronous: 'NORMAL' });
    const erp = new ErpSimulator({ seed: 7 });
    await erp.start();
    const d = new Dispatcher(db, [new HttpSink(httpSinkConfig(erp.url, { batch: { maxRecords: 40, maxBytes: 1_048_576, lingerMs: 5 } }))], {
      gatewayId: 'gw1',
      pollMs: 100,
    });
    cleanups.push(() => {
      db.close();
    });
    cleanups.push(() => erp.close());
    cleanups.push(() => d.stop({ timeoutMs: 1000 }));
    return { db, erp, d };
  }

  for (const whole of [false, true]) {
    it(`is quarantined (${whole ? 'whole-request 422 → split' : 'per-record 207 results'}), listed, exported, replayed; the records behind it are not held up`, async () => {
      const { db, erp, d } = await setup();
      const seeded = seedRecords(db, 300, { sinks: ['erp'], batches: 3, run: 10 });
      const poison = seeded[123]!;
      erp.setFaults({ refuseIds: [poison.id], refuseWhole: whole });
      await d.start();
      await waitUntil(() => countOutbox(db, 'erp').delivered === 299, 20_000, '299 delivered');
      expect(countOutbox(db, 'erp')).toEqual({ pending: 0, delivered: 299, quarantined: 1 });
      expect(erp.has(poison.id)).toBe(false);
      // Records after the poison — including those of its own batch — arrived.
      const sameBatchLater = seeded.filter((s) => s.batch === poison.batch && s.seq > poison.seq);
      expect(sameBatchLater.length).toBeGreaterThan(50);
      for (const s of sameBatchLater) expect(erp.has(s.id)).toBe(true);
      expect(erp.report().orderViolations).toBe(0);

      const q = d.listQuarantined('erp');
      expect(q).toHaveLength(1);
      expect(q[0]!.id).toBe(poison.id);
      expect(q[0]!.error?.code).toBe('LG_ERR_SINK_REFUSED');
      expect(q[0]!.error?.status).toBe(422);
      expect(d.listQuarantined('erp', { after: poison.seq })).toHaveLength(0);
      const exported = [...d.exportQuarantined('erp')];
      expect(exported.map((e) => e.event.id)).toEqual([poison.id]);
      expect(exported[0]!.event.lgseq).toBe(poison.seq);
      expect(d.stats()[0]!.quarantinedTotal).toBe(1);

      // The ERP is fixed; replay.
      erp.setFaults({});
      expect(d.replayQuarantined('erp', [poison.seq, 999_999])).toBe(1);
      await waitUntil(() => countOutbox(db, 'erp').delivered === 300, 10_000, 'poison delivered after replay');
      expect(erp.has(poison.id)).toBe(true);
      expect(erp.report().unique).toBe(300);
      expect(d.listQuarantined('erp')).toHaveLength(0);
      expect(d.replayQuarantined('erp', 'all')).toBe(0);
    });
  }

  it('a quarantined record stays quarantined across a restart and unknown sinks are an LgError', async () => {
    const { db, erp, d } = await setup();
    const seeded = seedRecords(db, 20, { sinks: ['erp'], batches: 1 });
    erp.setFaults({ refuseTypes: ['com.linegate.case.weighed.v1'] });
    await d.start();
    await waitUntil(() => countOutbox(db, 'erp').pending === 0, 10_000, 'drained');
    const q = countOutbox(db, 'erp').quarantined;
    expect(q).toBe(seeded.filter((_, i) => i % 3 === 2).length);
    await d.stop();
    await d.start();
    seedRecords(db, 5, { sinks: ['erp'], batches: 1, types: ['lot.scanned'] });
    d.notify();
    await waitUntil(() => countOutbox(db, 'erp').delivered === 20 - q + 5, 10_000, 'delivery after a restart');
    expect(countOutbox(db, 'erp').quarantined).toBe(q);
    expect(() => d.listQuarantined('nope')).toThrow(expect.objectContaining({ code: 'LG_ERR_SINK_NOT_FOUND' }));
  });
});
