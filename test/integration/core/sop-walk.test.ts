/**
 * Issue 13 acceptance: one batch walked through the SOP end to end over the API — deviations raised
 * automatically by an override and by a tolerance flag, an in-process QC check failed and retaken,
 * reconciliation computed, exceptions acknowledged, release refused while a deviation is open, then
 * signed with two components; `linegate verify batch` passes, and fails after a direct SQLite edit
 * of a signed consumption.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../../helpers/daemon.js';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

let t: TestGateway;
let batch: string;
const tk: Record<string, string> = {};
const qa = (meaning: string) => ({ userId: 'qa1', secret: '482915', meaning });

beforeAll(async () => {
  t = await startTestGateway({
    stations: [
      { id: 'WEIGH-1', role: 'weighing', policies: { tolerance: 'flag' } },
      { id: 'FILL-1', role: 'filling' },
      { id: 'PACK-1', role: 'packing' },
    ],
  });
  ({ batch } = await seedReferenceLine(t));
  for (const [id, name, role] of [['op1', 'Olga Operator', 'operator'], ['sup1', 'Sam Supervisor', 'supervisor'], ['qa1', 'Quinn QA', 'qa']] as const) {
    tk[id] = (await t.call('POST', '/users', { id, name, role })).body.token;
  }
  expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tk.qa1)).status).toBe(200);
  expect((await t.call('POST', '/lots', { id: 'L-1002-A', material: 'RM-1002', supplierLot: 'CIT-1', expiry: '2099-12-31', status: 'released', quantity: '20.000' })).status).toBe(201);
  expect((await t.call('PUT', '/inspection-plans/IPC-FILL', {
    scope: 'in_process', product: 'WIDGET-A', name: 'Fill weight', sampleSize: 5, frequency: { everyMinutes: 60 },
    characteristics: [{ code: 'FILL', name: 'Fill weight', kind: 'measurement', unit: 'g', lower: '498', upper: '505' }],
  })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('issue 13: a batch through the SOP, end to end', () => {
  it('deviations by override and tolerance flag, QC failed and retaken, reconciliation, exceptions, release refused then signed; verify batch', async () => {
    await t.call('PUT', '/stations/WEIGH-1/context', { batch });
    expect((await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' }, tk.op1)).status).toBe(200);
    // A lot on hold is refused; the supervisor overrides it → a deviation by itself.
    const refused = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' }, tk.op1);
    expect(refused.body.record.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
    expect((await t.call('POST', `/records/${refused.body.record.id}/override`, { reason: 'hold is administrative (QA note 17)' }, tk.sup1)).status).toBeLessThan(300);
    // The released lot, weighed over tolerance (50 kg ± 2 %: 51.5 kg) under the flag policy → a deviation for RM-1001.
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }, tk.op1);
    expect((await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '51.500', unit: 'kg' }, tk.op1)).body.record).toMatchObject({ status: 'accepted', errorCode: 'LG_ERR_WEIGHT_OUT_OF_TOLERANCE' });
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A' }, tk.op1);
    await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.500', unit: 'kg' }, tk.op1);
    const devs = await waitFor(async () => {
      const items = (await t.call('GET', `/deviations?batch=${batch}`)).body.items as any[];
      return items.some((d) => d.source === 'auto:override') && items.some((d) => d.source === 'auto:toleranceAccepted') ? items : null;
    }, 15_000, 50, 'automatic deviations');
    expect(devs.find((d) => d.source === 'auto:toleranceAccepted').material).toBe('RM-1001');
    // In-process check failed, then retaken.
    const f = await t.call('POST', '/qc/inspections', { plan: 'IPC-FILL', batch, station: 'FILL-1', results: [{ code: 'FILL', value: '497.0', unit: 'g' }] }, tk.op1);
    expect(f.body.inspection.verdict).toBe('failed');
    const r = await t.call('POST', '/qc/inspections', { plan: 'IPC-FILL', batch, station: 'FILL-1', results: [{ code: 'FILL', value: '501.0', unit: 'g' }], retakeOf: f.body.inspection.id }, tk.op1);
    expect(r.body.inspection.verdict).toBe('passed');
    // Production and completion (RM-1001 over tolerance is covered by its deviation).
    expect((await t.call('POST', `/batches/${batch}/production`, { good: '990', rejected: '10', reason: 'counted at packing' }, tk.sup1)).status).toBeLessThan(300);
    const done = await t.call('POST', `/batches/${batch}/transitions`, { to: 'completed' }, tk.sup1);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    // Reconciliation.
    const rec = (await t.call('GET', `/batches/${batch}/reconciliation`)).body;
    expect(rec.materials.find((m: any) => m.material === 'RM-1001')).toMatchObject({ consumed: '51.500', withinTolerance: false, difference: '1.500' });
    expect(rec.yield).toMatchObject({ pct: '99.00', within: true });
    // Release refused: deviations open, override unreviewed, exceptions not acknowledged.
    const no = await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'reviewed', signature: qa('released') }, tk.qa1);
    expect(no.body.code).toBe('LG_ERR_BATCH_CHECKS_FAILED');
    const codes = no.body.details.missing.map((m: any) => m.code);
    expect(codes).toEqual(expect.arrayContaining(['LG_ERR_DEVIATION_OPEN', 'LG_ERR_CHECK_OVERRIDE_UNREVIEWED', 'LG_ERR_CHECK_EXCEPTIONS_UNACKNOWLEDGED']));
    // QA: review the override, investigate and close each deviation (signed), acknowledge each exception.
    const ov = no.body.details.missing.find((m: any) => m.code === 'LG_ERR_CHECK_OVERRIDE_UNREVIEWED').details.override;
    expect((await t.call('POST', `/batches/${batch}/overrides/${ov}/review`, { comment: 'hold administrative, CoA checked' }, tk.qa1)).status).toBe(201);
    for (const d of (await t.call('GET', `/deviations?batch=${batch}`)).body.items as any[]) {
      await t.call('PATCH', `/deviations/${d.number}`, { rootCause: `cause: ${d.title}`, impact: 'within the product spec', capaRef: 'CAPA-21' }, tk.sup1);
      expect((await t.call('POST', `/deviations/${d.number}/close`, { signature: qa('closed') }, tk.qa1)).status).toBe(200);
    }
    const ex = (await t.call('GET', `/batches/${batch}/exceptions`)).body;
    expect(ex.items.map((e: any) => e.kind)).toEqual(expect.arrayContaining(['refused_reading', 'override', 'tolerance_flag', 'qc_failed', 'deviation']));
    expect((await t.call('POST', `/batches/${batch}/exceptions/acknowledge`, { all: true, comment: 'each exception reviewed against the batch record' }, tk.qa1)).status).toBe(200);
    // A signature with one component only is refused; with both it releases.
    expect((await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'reviewed', signature: { userId: 'qa1', meaning: 'released' } }, tk.qa1)).status).toBe(400);
    const rel = await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'batch record reviewed by exception', signature: qa('released') }, tk.qa1);
    expect(rel.status, JSON.stringify(rel.body)).toBe(200);
    expect(rel.body.record.payload.signature).toMatchObject({ by: 'qa1', name: 'Quinn QA', meaning: 'released' });

    // linegate verify batch: passes on a copy, fails after a direct SQLite edit of a signed consumption.
    await t.gw.journal.drain();
    const copy = tempDir('lg-sop-');
    try {
      await t.gw.db.backup(join(copy.path, 'journal.sqlite'));
      const okRun = await runCli(['verify', 'batch', batch, '--db', join(copy.path, 'journal.sqlite')]);
      expect(okRun.code, okRun.stdout + okRun.stderr).toBe(0);
      const db = new Database(join(copy.path, 'journal.sqlite'));
      db.prepare(`UPDATE consumptions SET quantity = '49.000' WHERE batch = ? AND material = 'RM-1001'`).run(batch);
      db.close();
      const bad = await runCli(['verify', 'batch', batch, '--db', join(copy.path, 'journal.sqlite')]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('LG_ERR_SIGNATURE_BROKEN');
    } finally {
      copy.cleanup();
    }
  }, 120_000);
});
