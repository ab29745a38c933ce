/**
 * Issue 13: QC inspections through the real API — plans as master data, pass/fail computed from the
 * spec, a failed receiving inspection keeps the lot from use, release from quarantine needs a pass,
 * retakes, QA approval with a signature, and in-process checks that fall due.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

let t: TestGateway;
let batch: string;
const tokens: Record<string, string> = {};

const receiving = {
  scope: 'receiving',
  material: 'RM-1001',
  name: 'Sugar goods receipt',
  sampleSize: 3,
  requiredForRelease: true,
  characteristics: [
    { code: 'MOIST', name: 'Moisture', kind: 'measurement', unit: '%', upper: '0.5' },
    { code: 'SEAL', name: 'Bag seal intact', kind: 'attribute' },
  ],
};

beforeAll(async () => {
  t = await startTestGateway();
  ({ batch } = await seedReferenceLine(t));
  for (const [id, name, role] of [['op1', 'Olga Operator', 'operator'], ['qa1', 'Quinn QA', 'qa']] as const) tokens[id] = (await t.call('POST', '/users', { id, name, role })).body.token;
  expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1)).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('QC inspections', () => {
  it('plans are validated master data; a change bumps the version, the same PUT changes nothing', async () => {
    const bad = await t.call('PUT', '/inspection-plans/BAD', { ...receiving, characteristics: [{ code: 'X', name: 'x', kind: 'measurement', unit: '%' }] });
    expect(bad.body.code).toBe('LG_ERR_QC_PLAN_INVALID');
    const a = await t.call('PUT', '/inspection-plans/RCV-SUGAR', receiving);
    expect(a.status).toBe(201);
    expect(a.body.plan.version).toBe(1);
    const again = await t.call('PUT', '/inspection-plans/RCV-SUGAR', receiving);
    expect(again.body).toMatchObject({ created: false, changed: false });
  });

  it('a lot leaves quarantine only after a passed receiving inspection; a failure is computed, never typed, and retaken', async () => {
    expect((await t.call('POST', '/lots', { id: 'L-NEW', material: 'RM-1001', supplierLot: 'ACME-900', expiry: '2099-01-01', status: 'quarantine', quantity: '100' })).status).toBe(201);
    const release = () => t.call('PATCH', '/lots/L-NEW', { status: 'released', reason: 'goods receipt checked' });
    expect((await release()).body.code).toBe('LG_ERR_QC_REQUIRED');
    const inspect = (results: unknown[], extra: Record<string, unknown> = {}) => t.call('POST', '/qc/inspections', { plan: 'RCV-SUGAR', lot: 'L-NEW', results, ...extra }, tokens.op1);
    expect((await inspect([{ code: 'MOIST', conforms: true }, { code: 'SEAL', conforms: true }])).body.code).toBe('LG_ERR_QC_RESULT_INVALID');
    expect((await inspect([{ code: 'MOIST', value: '0.3', unit: 'g' }, { code: 'SEAL', conforms: true }])).body.code).toBe('LG_ERR_QC_UNIT');
    expect((await inspect([{ code: 'SEAL', conforms: true }])).body.code).toBe('LG_ERR_QC_RESULT_INVALID');
    expect((await t.call('POST', '/qc/inspections', { plan: 'RCV-SUGAR', batch, results: [] }, tokens.op1)).status).toBe(400);
    const failed = await inspect([{ code: 'MOIST', value: '0.9', unit: '%' }, { code: 'SEAL', conforms: true }]);
    expect(failed.status).toBe(201);
    expect(failed.body.inspection).toMatchObject({ verdict: 'failed', lot: 'L-NEW', inspectedBy: 'op1' });
    expect(failed.body.record).toMatchObject({ type: 'qc.inspected', lot: 'L-NEW' });
    expect((await t.call('GET', '/lots/L-NEW')).body.status).toBe('quarantine');
    expect((await release()).body.code).toBe('LG_ERR_QC_REQUIRED');
    const retake = await inspect([{ code: 'MOIST', value: '0.4', unit: '%' }, { code: 'SEAL', conforms: true }], { retakeOf: failed.body.inspection.id });
    expect(retake.body.inspection).toMatchObject({ verdict: 'passed', retakeOf: failed.body.inspection.id });
    expect((await inspect([{ code: 'MOIST', value: '0.4', unit: '%' }, { code: 'SEAL', conforms: true }], { retakeOf: retake.body.inspection.id })).status).toBe(400);
    const rel = await release();
    expect(rel.status).toBe(200);
    expect(rel.body.status).toBe('released');
    const history = await t.call('GET', '/qc/inspections?lot=L-NEW');
    expect(history.body.items.map((i: any) => i.verdict)).toEqual(['failed', 'passed']);
  });

  it('a failed inspection of a released lot puts it on hold; a plan with onFail reject rejects it', async () => {
    const insp = (plan: string, lot: string) => t.call('POST', '/qc/inspections', { plan, lot, results: [{ code: 'MOIST', value: '2', unit: '%' }, { code: 'SEAL', conforms: true }] }, tokens.op1);
    expect((await insp('RCV-SUGAR', 'L-1001-A')).body.inspection.verdict).toBe('failed');
    expect((await t.call('GET', '/lots/L-1001-A')).body.status).toBe('on_hold');
    expect((await t.call('PUT', '/inspection-plans/RCV-SUGAR-STRICT', { ...receiving, name: 'strict', onFail: 'reject', requiredForRelease: false })).status).toBe(201);
    await t.call('POST', '/lots', { id: 'L-STRICT', material: 'RM-1001', status: 'quarantine', quantity: '5' });
    await insp('RCV-SUGAR-STRICT', 'L-STRICT');
    expect((await t.call('GET', '/lots/L-STRICT')).body.status).toBe('rejected');
    const audit = await t.call('GET', '/audit?entity=lot&entityId=L-STRICT');
    expect(audit.body.items.some((a: any) => a.action === 'lot.status_changed' && a.new_value?.includes?.('rejected')) || audit.body.items.some((a: any) => a.action === 'lot.status_changed')).toBe(true);
  });

  it('approval by QA signature where the plan requires it; only an approved pass releases the lot', async () => {
    await t.call('PUT', '/inspection-plans/RCV-SUGAR', { ...receiving, approvalRequired: true });
    await t.call('POST', '/lots', { id: 'L-APP', material: 'RM-1001', status: 'quarantine', quantity: '5' });
    const passed = await t.call('POST', '/qc/inspections', { plan: 'RCV-SUGAR', lot: 'L-APP', results: [{ code: 'MOIST', value: '0.1', unit: '%' }, { code: 'SEAL', conforms: true }] }, tokens.op1);
    expect(passed.body.inspection.verdict).toBe('passed');
    expect((await t.call('PATCH', '/lots/L-APP', { status: 'released', reason: 'r' })).body.code).toBe('LG_ERR_QC_REQUIRED');
    const sig = { userId: 'qa1', secret: '482915', meaning: 'approved' };
    expect((await t.call('POST', `/qc/inspections/${passed.body.inspection.id}/approve`, { signature: sig }, tokens.op1)).status).toBe(403);
    const ok = await t.call('POST', `/qc/inspections/${passed.body.inspection.id}/approve`, { signature: sig }, tokens.qa1);
    expect(ok.status).toBe(200);
    expect(ok.body.inspection.approvedBy).toBe('qa1');
    expect((await t.call('POST', `/qc/inspections/${passed.body.inspection.id}/approve`, { signature: sig }, tokens.qa1)).body.code).toBe('LG_ERR_QC_ALREADY_APPROVED');
    expect((await t.call('PATCH', '/lots/L-APP', { status: 'released', reason: 'r' })).status).toBe(200);
  });

  it('in-process checks: a failed check is due at once (overdue) until retaken', async () => {
    expect((await t.call('PUT', '/inspection-plans/IPC-WIDGET', {
      scope: 'in_process', product: 'WIDGET-A', name: 'Fill weight', sampleSize: 5, frequency: { everyMinutes: 60 },
      characteristics: [{ code: 'FILL', name: 'Fill weight', kind: 'measurement', unit: 'g', lower: '498', upper: '505' }],
    })).status).toBe(201);
    await t.call('PUT', '/stations/FILL-1/context', { batch });
    expect((await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' })).status).toBe(200);
    const due0 = await t.call('GET', '/stations/FILL-1/qc-due', undefined, tokens.op1);
    expect(due0.body.items).toEqual([expect.objectContaining({ plan: 'IPC-WIDGET', due: false, overdue: false })]);
    const f = await t.call('POST', '/qc/inspections', { plan: 'IPC-WIDGET', batch, station: 'FILL-1', results: [{ code: 'FILL', value: '497.5', unit: 'g' }] }, tokens.op1);
    expect(f.body.inspection.verdict).toBe('failed');
    expect((await t.call('GET', `/batches/${batch}/qc-due`)).body.items[0]).toMatchObject({ due: true, overdue: true });
    await t.call('POST', '/qc/inspections', { plan: 'IPC-WIDGET', batch, station: 'FILL-1', results: [{ code: 'FILL', value: '501', unit: 'g' }], retakeOf: f.body.inspection.id }, tokens.op1);
    expect((await t.call('GET', `/batches/${batch}/qc-due`)).body.items[0]).toMatchObject({ due: false, overdue: false });
  });
});
