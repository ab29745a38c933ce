import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

describe('batch numbering', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const create = (t: TestGateway) => t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [] });

  it('gives 1,000 concurrent creations 1,000 distinct numbers, continues after a restart, restarts at 001 the next local day', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    // 23:50 in Berlin (UTC+1 in November) on 22 November.
    const clock = new ManualClock('2026-11-22T22:50:00Z');
    let t = await startTestGateway({}, { clock, stateDir: dir.path });
    // 1,000 creations with 100 requests in flight at any time: concurrent for the journal's group
    // commit, without 1,000 simultaneous TCP connects (which overflow the listen backlog on a loaded
    // machine and answer ECONNRESET before the gateway sees them — a test artefact, not numbering).
    const results: Array<Awaited<ReturnType<typeof create>>> = new Array(1000);
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < 1000) {
          const i = next++;
          results[i] = await create(t);
        }
      }),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const numbers = results.map((r) => r.body.number as string);
    expect(new Set(numbers).size).toBe(1000);
    expect(numbers.every((n) => n.startsWith('20261122-'))).toBe(true);
    expect([...numbers].sort().slice(0, 2)).toEqual(['20261122-001', '20261122-002']);
    expect(numbers).toContain('20261122-999');
    expect(numbers).toContain('20261122-1000'); // past 999 the counter widens, it never wraps to 000
    await t.stop();

    // Restart on the same state folder, same day: the counter continues.
    t = await startTestGateway({}, { clock, stateDir: dir.path });
    cleanups.push(() => t.stop());
    expect((await create(t)).body.number).toBe('20261122-1001');

    // Midnight in the site's time zone (23:00 UTC = 00:00 Berlin): next day starts at 001.
    clock.set('2026-11-22T22:59:59.999Z');
    expect((await create(t)).body.number).toBe('20261122-1002');
    clock.set('2026-11-22T23:00:00.000Z');
    expect((await create(t)).body.number).toBe('20261123-001');
    expect((await create(t)).body.number).toBe('20261123-002');
  });

  it('follows a configured pattern with a line prefix and never reuses a number taken by an import', async () => {
    const clock = new ManualClock('2026-03-01T08:00:00Z');
    const t = await startTestGateway({ numbering: { batch: '{line}-{YY}{MM}{DD}-{seq:4}' } }, { clock });
    cleanups.push(() => t.stop());
    const imported = await t.call('POST', '/batches', { number: 'L1-260301-0002', product: 'P', plannedQty: '1', unit: 'pcs', bom: [] });
    expect(imported.status).toBe(201);
    expect((await create(t)).body.number).toBe('L1-260301-0001');
    expect((await create(t)).body.number).toBe('L1-260301-0003');
    const dup = await t.call('POST', '/batches', { number: 'L1-260301-0003', product: 'P', plannedQty: '1', unit: 'pcs', bom: [] });
    expect([dup.status, dup.body.code]).toEqual([409, 'LG_ERR_CONFLICT']);
  });
});
