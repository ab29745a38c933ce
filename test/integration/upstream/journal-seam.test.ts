import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { createDispatcher } from '../../../src/upstream/index.js';
import { validateCloudEvent } from '../../../src/upstream/cloudevents.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { countOutbox, httpSinkConfig, waitUntil } from './harness.js';

describe('journal → dispatcher → ERP', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('records appended through the Journal are sent at once on notify (no polling), as valid CloudEvents; stop() is bounded with a hung receiver', async () => {
    const db = openDatabase(':memory:', { synchronous: 'NORMAL' });
    cleanups.push(() => {
      db.close();
    });
    const erp = new ErpSimulator();
    await erp.start();
    cleanups.push(() => erp.close());
    const d = createDispatcher(db, { gatewayId: 'gw7', sinks: [httpSinkConfig(erp.url, { timeoutMs: 20_000 })] }, { pollMs: 60_000 });
    const journal = new Journal(db, { site: 'plant1', line: 'line2', sinks: ['erp'] });
    cleanups.push(() => journal.close());
    journal.onCommitted(() => d.notify());
    await d.start();
    const recs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        journal.append({ type: 'case.weighed', status: 'accepted', station: 'pack', batch: 'B-1', lot: 'L1', device: 'scale1', payload: { net: `${i}.5`, unit: 'kg' }, sourceTime: '2026-11-22T04:00:00Z' }),
      ),
    );
    await waitUntil(() => countOutbox(db, 'erp').delivered === 50, 5000, 'delivered without polling');
    const ev = erp.event(recs[7]!.id)!;
    expect(validateCloudEvent(ev)).toEqual([]);
    expect(ev).toMatchObject({ source: 'urn:linegate:plant1:line2:gw7', type: 'com.linegate.case.weighed.v1', subject: 'B-1', lgseq: recs[7]!.seq, time: '2026-11-22T04:00:00.000Z' });
    expect((ev.data as { payload: unknown }).payload).toEqual({ net: '7.5', unit: 'kg' });

    // A receiver that hangs: stop() gives up after its timeout, the record stays pending.
    erp.setFaults({ latencyRate: 1, latencyMs: 10_000 });
    await journal.append({ type: 'case.weighed', status: 'accepted', batch: 'B-1', payload: {} });
    await waitUntil(() => d.stats()[0]!.inFlightRequests === 1, 5000, 'request in flight');
    const t0 = Date.now();
    await d.stop({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(countOutbox(db, 'erp').pending).toBe(1);
    expect(d.stats()[0]!.state).toBe('stopped');
  });
});
