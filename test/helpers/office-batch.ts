import type { TestGateway } from './gateway.js';
import { seedReferenceLine } from './gateway.js';
import { waitFor } from './net.js';
import { officeUser } from './office.js';

/**
 * A completed demo batch with something for QA to review (issue 13's SOP walk, over the API):
 * a refused on-hold lot overridden by the supervisor (→ deviation), RM-1001 weighed over tolerance
 * under the flag policy (→ deviation), an in-process check failed then retaken, production entered,
 * completed. Left for QA: the override review, both deviations, every exception, the release.
 * Needs stations WEIGH-1 (policies.tolerance 'flag') and FILL-1 in the gateway's config.
 */
export const REVIEW_STATIONS = [
  { id: 'WEIGH-1', role: 'weighing', policies: { tolerance: 'flag' } },
  { id: 'FILL-1', role: 'filling' },
  { id: 'PACK-1', role: 'packing' },
];

export interface ReviewFixture {
  batch: string;
  op: { id: string; token: string; secret: string };
  sup: { id: string; token: string; secret: string };
  qa: { id: string; token: string; secret: string };
}

export async function completedBatchForReview(t: TestGateway): Promise<ReviewFixture> {
  const ok = (r: { status: number; body: any }, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const { batch } = await seedReferenceLine(t);
  const op = await officeUser(t, 'op1', 'Olga Operator', 'operator', 'olga-secret-1');
  const sup = await officeUser(t, 'sup1', 'Sam Supervisor', 'supervisor', 'sam-secret-12');
  const qa = await officeUser(t, 'qa1', 'Quinn QA', 'qa', '482915');
  ok(await t.call('POST', '/lots', { id: 'L-1002-A', material: 'RM-1002', supplier: 'Citrus Co', supplierLot: 'CIT-1', expiry: '2099-12-31', status: 'released', quantity: '20.000' }), 'lot L-1002-A');
  ok(
    await t.call('PUT', '/inspection-plans/IPC-FILL', {
      scope: 'in_process', product: 'WIDGET-A', name: 'Fill weight', sampleSize: 5, frequency: { everyMinutes: 60 },
      characteristics: [{ code: 'FILL', name: 'Fill weight', kind: 'measurement', unit: 'g', lower: '498', upper: '505' }],
    }),
    'inspection plan',
  );
  ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch }), 'context');
  ok(await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' }, op.token), 'start');
  const refused = ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' }, op.token), 'scan on hold');
  ok(await t.call('POST', `/records/${refused.record.id}/override`, { reason: 'hold is administrative (QA note 17)' }, sup.token), 'override');
  ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }, op.token), 'scan A');
  ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '51.500', unit: 'kg' }, op.token), 'weigh RM-1001');
  ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A' }, op.token), 'scan L-1002-A');
  ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.500', unit: 'kg' }, op.token), 'weigh RM-1002');
  await waitFor(async () => {
    const items = (await t.call('GET', `/deviations?batch=${batch}`)).body.items as any[];
    return items.some((d) => d.source === 'auto:override') && items.some((d) => d.source === 'auto:toleranceAccepted') ? items : null;
  }, 20_000, 50, 'automatic deviations');
  const f = ok(await t.call('POST', '/qc/inspections', { plan: 'IPC-FILL', batch, station: 'FILL-1', results: [{ code: 'FILL', value: '497.0', unit: 'g' }] }, op.token), 'qc failed');
  ok(await t.call('POST', '/qc/inspections', { plan: 'IPC-FILL', batch, station: 'FILL-1', results: [{ code: 'FILL', value: '501.0', unit: 'g' }], retakeOf: f.inspection.id }, op.token), 'qc retake');
  ok(await t.call('POST', `/batches/${batch}/production`, { good: '990', rejected: '10', reason: 'counted at packing' }, sup.token), 'production');
  ok(await t.call('POST', `/batches/${batch}/transitions`, { to: 'completed' }, sup.token), 'complete');
  return { batch, op, sup, qa };
}
