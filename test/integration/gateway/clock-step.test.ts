import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 18, clock-jump fault: a step of the system clock is journaled as a `clock.stepped` record
 * (LG_ERR_CLOCK_STEPPED) and the records of the hold time after it carry clockSynced = false, even
 * where the plant says its clock is synchronised (LINEGATE_CLOCK_SYNCED=1).
 */
describe('a step of the system clock under the running gateway', () => {
  let t: TestGateway | undefined;
  const env = process.env.LINEGATE_CLOCK_SYNCED;
  afterEach(async () => {
    vi.restoreAllMocks();
    await t?.stop();
    if (env === undefined) delete process.env.LINEGATE_CLOCK_SYNCED;
    else process.env.LINEGATE_CLOCK_SYNCED = env;
  });

  it('journals the step and flags the records after it', async () => {
    process.env.LINEGATE_CLOCK_SYNCED = '1';
    t = await startTestGateway();
    const before = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'NOT-A-LOT-1' });
    expect(before.status).toBeLessThan(300);
    expect(before.body.record.clockSynced).toBe(true);
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() - 13 * 3_600_000);
    const stepped = await waitFor(async () => (await t!.call('GET', '/records?type=clock.stepped')).body.items[0], 10_000, 50, 'clock.stepped record');
    expect(stepped.errorCode).toBe('LG_ERR_CLOCK_STEPPED');
    expect(stepped.payload.deltaMs).toBeLessThan(-13 * 3_600_000 + 60_000);
    expect(stepped.payload.deltaMs).toBeGreaterThan(-13 * 3_600_000 - 60_000);
    expect(stepped.clockSynced).toBe(false);
    const after = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'NOT-A-LOT-2' });
    expect(after.body.record.clockSynced).toBe(false);
    expect((await t.call('GET', '/health/ready')).body.subsystems.journal.clockSynced).toBe(false);
  });
});
