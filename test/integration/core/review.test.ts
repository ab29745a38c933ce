/**
 * Issue 13: review by exception, reconciliation and yield, stock counts — through the real API.
 * A batch with a refused scan and a low yield cannot be released until QA acknowledged each
 * exception with a comment; the reconciliation shows planned vs consumed by lot and the yield.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

let t: TestGateway;
let batch: string;
const tokens: Record<string, string> = {};
beforeAll(async () => {
  t = await startTestGateway();
  ({ batch } = await seedReferenceLine(t));
  for (const [id, name, role] of [['op1', 'Olga Operator', 'operator'], ['sup1', 'Sam Supervisor', 'supervisor'], ['qa1', 'Quinn QA', 'qa']] as const) tokens[id] = (await t.call('POST', '/users', { id, name, role })).body.token;
  expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1)).status).toBe(200);
  expect((await t.call('POST', '/lots', { id: 'L-1002-A', material: 'RM-1002', expiry: '2099-12-31', status: 'released', quantity: '20.000' })).status).toBe(201);
  await t.call('PUT', '/stations/WEIGH-1/context', { batch });
  await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' });
  expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' })).body.record.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
  await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' });
  await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '30.000', unit: 'kg' });
  await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '20.000', unit: 'kg' });
  await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A' });
  await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.500', unit: 'kg' });
  expect((await t.call('POST', `/batches/${batch}/production`, { good: '900', rejected: '12', reason: 'counted at packing' }, tokens.sup1)).status).toBeLessThan(300);
  const done = await t.call('POST', `/batches/${batch}/transitions`, { to: 'completed' });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('review by exception and reconciliation', () => {
  it('reconciliation: planned vs consumed by lot, difference, produced, yield against its limits', async () => {
    const r = (await t.call('GET', `/batches/${batch}/reconciliation`, undefined, tokens.op1)).body;
    const sugar = r.materials.find((m: any) => m.material === 'RM-1001');
    expect(sugar).toMatchObject({ planned: '50.000', consumed: '50.000', difference: '0.000', withinTolerance: true });
    expect(sugar.byLot).toEqual([expect.objectContaining({ lot: 'L-1001-A', supplierLot: 'ACME-77', net: '50.000', additions: 2 })]);
    expect(r.produced).toMatchObject({ good: '900', rejected: '12' });
    expect(r.yield).toMatchObject({ pct: '90.00', lowerPct: '95', within: false });
    expect(r.labels).toMatchObject({ printed: 0, applied: 0, unaccounted: 0, balanced: true });
  });

  it('release is refused until QA acknowledged every exception with a comment; then the signed release passes', async () => {
    const sig = { userId: 'qa1', secret: '482915', meaning: 'released' };
    const ex = (await t.call('GET', `/batches/${batch}/exceptions`)).body;
    const kinds = ex.items.map((e: any) => e.kind).sort();
    expect(kinds).toContain('refused_reading');
    expect(kinds).toContain('yield');
    expect(ex.open).toBe(ex.items.length);
    const refused = await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'reviewed', signature: sig }, tokens.qa1);
    expect(refused.body.code).toBe('LG_ERR_BATCH_CHECKS_FAILED');
    const item = refused.body.details.missing.find((m: any) => m.code === 'LG_ERR_CHECK_EXCEPTIONS_UNACKNOWLEDGED');
    expect(item.details.count).toBe(ex.items.length);

    const ack = (body: unknown, token = tokens.qa1) => t.call('POST', `/batches/${batch}/exceptions/acknowledge`, body, token);
    expect((await ack({ all: true, comment: 'ok' }, tokens.sup1)).status).toBe(403);
    expect((await ack({ keys: ['nope'], comment: 'x' })).body.code).toBe('LG_ERR_EXCEPTION_NOT_FOUND');
    const first = ex.items.find((e: any) => e.kind === 'refused_reading');
    const a1 = await ack({ keys: [first.key], comment: 'Held lot correctly refused; released lot used instead' });
    expect(a1.status).toBe(200);
    expect(a1.body.record).toMatchObject({ type: 'batch.exceptions_acknowledged', batch, operator: 'qa1' });
    expect((await ack({ keys: [first.key], comment: 'again' })).body.code).toBe('LG_ERR_EXCEPTION_ACKNOWLEDGED');
    const still = await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'reviewed', signature: sig }, tokens.qa1);
    expect(still.body.details.missing.find((m: any) => m.code === 'LG_ERR_CHECK_EXCEPTIONS_UNACKNOWLEDGED').details.count).toBe(ex.items.length - 1);
    expect((await ack({ all: true, comment: 'Yield loss explained by start-up rejects (12) and sampling' })).status).toBe(200);
    const after = (await t.call('GET', `/batches/${batch}/exceptions`)).body;
    expect(after.open).toBe(0);
    expect(after.items.every((e: any) => e.acknowledged?.by === 'qa1' && e.acknowledged.comment)).toBe(true);
    const rel = await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'reviewed by exception', signature: sig }, tokens.qa1);
    expect(rel.status, JSON.stringify(rel.body)).toBe(200);
    expect(rel.body.batch.status).toBe('released');
  });

  it('a stock count changes the lot only when a second person approves, never on a moved balance', async () => {
    const before = (await t.call('GET', '/lots/L-1002-A')).body.quantity;
    const c = await t.call('POST', '/lots/L-1002-A/stock-counts', { counted: '18.200', reason: 'monthly count' }, tokens.op1);
    expect(c.status).toBe(201);
    expect(c.body.count).toMatchObject({ state: 'pending', system: before, counted: '18.200', variance: '-0.300' });
    expect((await t.call('GET', '/lots/L-1002-A')).body.quantity).toBe(before);
    expect((await t.call('POST', `/stock-counts/${c.body.count.id}/decision`, { decision: 'approved', note: 'ok' }, tokens.op1)).status).toBe(403);
    const self = await t.call('POST', '/lots/L-1002-A/stock-counts', { counted: '1', reason: 'x' }, tokens.sup1);
    expect((await t.call('POST', `/stock-counts/${self.body.count.id}/decision`, { decision: 'approved', note: 'mine' }, tokens.sup1)).body.code).toBe('LG_ERR_STOCK_COUNT_INVALID');
    const ok = await t.call('POST', `/stock-counts/${c.body.count.id}/decision`, { decision: 'approved', note: 'recounted, matches' }, tokens.sup1);
    expect(ok.status).toBe(200);
    expect((await t.call('GET', '/lots/L-1002-A')).body.quantity).toBe('18.200');
    expect((await t.call('POST', `/stock-counts/${self.body.count.id}/decision`, { decision: 'approved', note: 'late' }, tokens.qa1)).body.message).toMatch(/moved since the count/);
    const audit = (await t.call('GET', '/audit?entity=lot&entityId=L-1002-A')).body.items;
    expect(audit.some((a: any) => a.action === 'lot.quantity_counted' && a.actor === 'sup1')).toBe(true);
  });
});
