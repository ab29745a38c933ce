import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

/** Issue 11 item 4: a scan posted through the API is the caller's (CR 2.12 non-repudiation). */
describe('11.4 scans posted through the API', () => {
  let t: TestGateway;
  let batch: string;
  const tok: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestGateway();
    ({ batch } = await seedReferenceLine(t));
    tok.anna = (await t.call('POST', '/users', { id: 'anna', name: 'Anna Operator', role: 'operator', badge: 'EMP-0042' })).body.token;
    tok.sam = (await t.call('POST', '/users', { id: 'sam', name: 'Sam Supervisor', role: 'supervisor' })).body.token;
    expect((await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' })).status).toBe(200);
  });
  afterAll(async () => t?.stop());

  it('11.4 is credited to the caller, not to whoever is signed in at the station; both are recorded', async () => {
    expect((await t.call('PUT', '/stations/WEIGH-1/context', { batch, operator: 'anna' }, tok.anna)).status).toBe(200);
    const r = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }, tok.sam);
    expect(r.status).toBe(201);
    expect(r.body.record).toMatchObject({ type: 'lot.scanned', status: 'accepted', operator: 'sam', payload: { postedBy: 'sam', stationOperator: 'anna' } });
    // The station keeps its signed-in operator.
    expect((await t.call('GET', '/stations/WEIGH-1')).body.operator).toBe('anna');
    // Posted by the one signed in: credited to them, nobody else named.
    const own = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' }, tok.anna);
    expect(own.body.record).toMatchObject({ operator: 'anna', payload: { postedBy: 'anna' } });
    expect(own.body.record.payload.stationOperator).toBeUndefined();
  });

  it('11.4 with nobody signed in, the caller is the operator; a badge posted by someone signs the badge owner in, posted by the caller', async () => {
    expect((await t.call('PUT', '/stations/PACK-1/context', { batch }, tok.sam)).status).toBe(200);
    const r = await t.call('POST', '/stations/PACK-1/scans', { data: 'L-1001-A' }, tok.sam);
    expect(r.body.record).toMatchObject({ operator: 'sam', payload: { postedBy: 'sam' } });
    expect(r.body.record.payload.stationOperator).toBeUndefined();
    const badge = await t.call('POST', '/stations/PACK-1/scans', { data: 'EMP-0042' }, tok.sam);
    expect(badge.body.record).toMatchObject({ type: 'operator.signed_in', status: 'accepted', operator: 'anna', payload: { postedBy: 'sam' } });
    expect((await t.call('GET', '/stations/PACK-1')).body.operator).toBe('anna');
  });
});
