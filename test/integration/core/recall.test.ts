/**
 * Issue 13 "after release": QA can put a released batch on hold (a recall hold) and record its
 * disposition — released again (a new signed release) or rejected — and the lots it produced follow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeAllExceptions, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

let t: TestGateway;
const tokens: Record<string, string> = {};
beforeAll(async () => {
  t = await startTestGateway();
  for (const [id, name, role] of [['sup1', 'Sam Supervisor', 'supervisor'], ['qa1', 'Quinn QA', 'qa']] as const) tokens[id] = (await t.call('POST', '/users', { id, name, role })).body.token;
  expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1)).status).toBe(200);
  expect((await t.call('PUT', '/materials/FG-WIDGET', { name: 'Widget A', unit: 'pcs' })).status).toBeLessThan(300);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const sig = { userId: 'qa1', secret: '482915', meaning: 'released' };

async function releasedBatchWithLot(lotId: string): Promise<string> {
  const n = (await t.call('POST', '/batches', { product: 'FG-WIDGET', plannedQty: '10', unit: 'pcs', bom: [] })).body.number;
  await t.call('POST', `/batches/${n}/transitions`, { to: 'in_process' });
  expect((await t.call('POST', `/batches/${n}/production`, { good: '10', reason: 'counted' }, tokens.sup1)).status).toBeLessThan(300);
  expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'completed' })).status).toBe(200);
  expect((await t.call('POST', '/lots', { id: lotId, material: 'FG-WIDGET', status: 'released', quantity: '10', producedBy: n })).status).toBe(201);
  await acknowledgeAllExceptions(t, n, tokens.qa1!);
  const rel = await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'record reviewed', signature: sig }, tokens.qa1);
  expect(rel.body.batch?.status, JSON.stringify(rel.body)).toBe('released');
  return n;
}

describe('recall hold after release', () => {
  it('only QA puts a released batch on hold; its produced lots go on hold; a signed re-release releases exactly those lots', async () => {
    const n = await releasedBatchWithLot('FG-001');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'on_hold', reason: 'customer complaint' }, tokens.sup1)).body.code).toBe('LG_ERR_FORBIDDEN');
    const hold = await t.call('POST', `/batches/${n}/transitions`, { to: 'on_hold', reason: 'customer complaint CC-17' }, tokens.qa1);
    expect(hold.body.batch.status).toBe('on_hold');
    expect(hold.body.record.payload.lotsHeld).toEqual(['FG-001']);
    expect((await t.call('GET', '/lots/FG-001')).body.status).toBe('on_hold');
    // A person also put another lot on hold by hand meanwhile: the re-release leaves it alone.
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'complaint unfounded' }, tokens.qa1)).body.code).toBe('LG_ERR_SIGNATURE_REQUIRED');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'complaint unfounded', signature: sig }, tokens.sup1)).body.code).toBe('LG_ERR_FORBIDDEN');
    await acknowledgeAllExceptions(t, n, tokens.qa1!);
    const again = await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'complaint unfounded', signature: sig }, tokens.qa1);
    expect(again.body.batch.status).toBe('released');
    expect(again.body.record.payload.lotsReleased).toEqual(['FG-001']);
    expect((await t.call('GET', '/lots/FG-001')).body.status).toBe('released');
    const sigs = await t.call('GET', `/batches/${n}/signatures`);
    expect(sigs.body.items.map((s: any) => s.action)).toEqual(['batch.release', 'batch.release']);
    const history = await t.call('GET', `/records?lot=FG-001&type=lot.status_changed`);
    expect(history.body.items.map((r: any) => r.payload.to)).toEqual(['on_hold', 'released']);
  });

  it('rejecting a recalled batch rejects the lots it produced; rejected is final', async () => {
    const n = await releasedBatchWithLot('FG-002');
    await t.call('POST', `/batches/${n}/transitions`, { to: 'on_hold', reason: 'contamination suspected' }, tokens.qa1);
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'rejected', reason: 'confirmed' })).body.code).toBe('LG_ERR_FORBIDDEN');
    const rej = await t.call('POST', `/batches/${n}/transitions`, { to: 'rejected', reason: 'contamination confirmed' }, tokens.qa1);
    expect(rej.body.batch.status).toBe('rejected');
    expect(rej.body.record.payload.lotsRejected).toEqual(['FG-002']);
    expect((await t.call('GET', '/lots/FG-002')).body.status).toBe('rejected');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'on_hold', reason: 'x' }, tokens.qa1)).body.code).toBe('LG_ERR_BATCH_INVALID_TRANSITION');
  });
});
