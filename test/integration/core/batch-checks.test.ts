import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { startTestGateway, seedReferenceLine, acknowledgeAllExceptions, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 10.6 over the API: completion and release run checks (BOM within tolerance, produced
 * quantity, label jobs, reviewed overrides), answer LG_ERR_BATCH_CHECKS_FAILED with the list, and
 * pass once the batch record is complete — for real: consumed, produced, printed, reviewed.
 */
describe('batch completion and release checks', () => {
  let t: TestGateway;
  let printer: PrinterSimulator;
  let batch: string;
  const tokens = {} as Record<'op1' | 'sup1' | 'qa1' | 'qa2', string>;

  beforeAll(async () => {
    // A printer out of paper: the batch label queued at start stays open until paper is loaded.
    printer = new PrinterSimulator({ port: 0, state: 'paper_out' });
    const port = await printer.start();
    t = await startTestGateway({
      devices: [{ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port }, timing: { pollIntervalMs: 100, idleStatusMs: 500 } }],
    });
    ({ batch } = await seedReferenceLine(t));
    expect((await t.call('POST', '/lots', { id: 'L-1002-A', material: 'RM-1002', expiry: '2099-12-31', status: 'released', quantity: '20.000' })).status).toBe(201);
    for (const [id, role] of [['op1', 'operator'], ['sup1', 'supervisor'], ['qa1', 'qa'], ['qa2', 'qa']] as const) {
      const r = await t.call('POST', '/users', { id, name: id, role });
      tokens[id] = r.body.token;
    }
    await t.call('PUT', '/stations/WEIGH-1/context', { batch });
    expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1)).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await printer?.stop();
  });

  const move = (to: string, token = tokens.sup1, extra: Record<string, unknown> = {}) => t.call('POST', `/batches/${batch}/transitions`, { to, ...extra }, token);
  const missingCodes = (body: any) => body.details.missing.map((m: any) => m.code).sort();

  it('10.6 a batch with 0 of the BOM consumed and 0 produced is not completed: 409 LG_ERR_BATCH_CHECKS_FAILED with what is missing', async () => {
    expect((await move('in_process', tokens.op1)).body.batch.status).toBe('in_process');
    // the batch label is queued on start (asynchronously, after the commit), behind the paper-out printer
    await waitFor(async () => (await t.call('GET', `/batches/${batch}/checks`)).body.openPrintJobs === 1, 30_000, 50, 'batch label queued');
    const r = await move('completed', tokens.op1);
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('LG_ERR_BATCH_CHECKS_FAILED');
    expect(missingCodes(r.body)).toEqual(['LG_ERR_CHECK_BOM_UNDER', 'LG_ERR_CHECK_BOM_UNDER', 'LG_ERR_CHECK_NOTHING_PRODUCED', 'LG_ERR_CHECK_PRINT_JOBS_OPEN']);
    const sugar = r.body.details.missing.find((m: any) => m.details.material === 'RM-1001');
    expect(sugar.details).toMatchObject({ consumed: '0', unit: 'kg' });
    expect(Number(sugar.details.min)).toBe(49);
    // Nothing changed: still in process, no status record for the refused move.
    expect((await t.call('GET', `/batches/${batch}`)).body.status).toBe('in_process');
    const history = await t.call('GET', `/records?batch=${batch}&type=batch.status_changed`);
    expect(history.body.items.map((x: any) => x.payload.to)).toEqual(['in_process']);
    // The same answer, read-only, before trying.
    const checks = await t.call('GET', `/batches/${batch}/checks`, undefined, tokens.op1);
    expect(checks.status).toBe(200);
    expect(checks.body).toMatchObject({ stage: 'completion', ok: false });
    expect(checks.body.missing.map((m: any) => m.code).sort()).toEqual(missingCodes(r.body));
  });

  it('10.6 a supervisor enters the produced quantity once, recorded and audited; an operator may not, and twice is refused', async () => {
    expect((await t.call('POST', `/batches/${batch}/production`, { good: '990', rejected: '10', reason: 'no PLC on this line' }, tokens.op1)).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('POST', `/batches/${batch}/production`, { good: '-5', reason: 'x' }, tokens.sup1)).body.code).toBe('LG_ERR_VALIDATION');
    const r = await t.call('POST', `/batches/${batch}/production`, { good: '990', rejected: '10', reason: 'no PLC on this line' }, tokens.sup1);
    expect(r.status).toBe(201);
    expect(r.body.batch).toMatchObject({ producedQty: '990', rejectedQty: '10' });
    expect(r.body.record).toMatchObject({ type: 'batch.production_entered', status: 'accepted', operator: 'sup1', payload: { good: '990', rejected: '10', reason: 'no PLC on this line', by: 'sup1' } });
    const twice = await t.call('POST', `/batches/${batch}/production`, { good: '990', reason: 'again' }, tokens.sup1);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('LG_ERR_PRODUCTION_ALREADY_RECORDED');
    expect((await t.call('GET', `/batches/${batch}`)).body.producedQty).toBe('990');
    const audit = await t.call('GET', `/audit?entity=batch&entityId=${batch}`);
    expect(audit.body.items.filter((a: any) => a.action === 'batch.production_entered')).toHaveLength(1);
  });

  it('10.6 consumption within tolerance and the printed batch label let the batch complete; the record carries the checked numbers', async () => {
    // An override on the way (a lot on hold, let through by the supervisor): release will need QA's review.
    const refused = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' });
    expect(refused.body.record.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
    expect((await t.call('POST', `/records/${refused.body.record.id}/override`, { reason: 'hold is administrative' }, tokens.sup1)).status).toBe(201);
    // (Nothing is consumed from the overridden lot here: whether a weighing honours an override is 10.2's.)
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' });
    expect((await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '20.000', unit: 'kg' })).body.record.status).toBe('accepted');
    expect((await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '29.500', unit: 'kg' })).body.record.status).toBe('accepted');
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A' });
    expect((await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.480', unit: 'kg' })).body.record.status).toBe('accepted');
    const stillOpen = await move('completed', tokens.op1);
    expect(missingCodes(stillOpen.body)).toEqual(['LG_ERR_CHECK_PRINT_JOBS_OPEN']);
    expect(stillOpen.body.details.missing[0].details.byState).toEqual({ queued: 1 });
    printer.setState('ok'); // paper loaded: the batch label prints and is confirmed
    await waitFor(async () => (await t.call('GET', `/batches/${batch}/checks`)).body.ok, 30_000, 100, 'checks pass once the label printed');
    const done = await move('completed', tokens.op1);
    expect(done.status).toBe(200);
    expect(done.body.batch.status).toBe('completed');
    expect(done.body.record.payload.checks).toMatchObject({ stage: 'completion', ok: true, openPrintJobs: 0 });
    expect(done.body.record.payload.checks.bom.map((l: any) => [l.material, l.consumed, l.position])).toEqual([
      ['RM-1001', '49.500', 'within'],
      ['RM-1002', '1.480', 'within'],
    ]);
  }, 60_000);

  it('10.6 release is refused while an override is unreviewed; QA (not the supervisor, not twice) reviews it, recorded and audited; then release passes', async () => {
    const sign = { reason: 'batch record reviewed', signature: { userId: 'qa1', secret: '482915', meaning: 'released' } };
    const refused = await move('released', tokens.qa1, sign);
    expect(refused.status).toBe(409);
    // The override also raised a deviation by itself (issue 13): both must be dealt with.
    expect(missingCodes(refused.body)).toEqual(['LG_ERR_CHECK_EXCEPTIONS_UNACKNOWLEDGED', 'LG_ERR_CHECK_OVERRIDE_UNREVIEWED', 'LG_ERR_DEVIATION_OPEN']);
    await acknowledgeAllExceptions(t, batch, tokens.qa1);
    const ov = refused.body.details.missing.find((m: any) => m.code === 'LG_ERR_CHECK_OVERRIDE_UNREVIEWED').details;
    expect(ov).toMatchObject({ lot: 'L-1001-HOLD', overriddenCode: 'LG_ERR_LOT_ON_HOLD', by: 'sup1' });
    const checks = await t.call('GET', `/batches/${batch}/checks`);
    expect(checks.body).toMatchObject({ stage: 'release', ok: false, overrides: { total: 1, unreviewed: 1 } });

    const path = `/batches/${batch}/overrides/${ov.override}/review`;
    expect((await t.call('POST', path, { comment: 'ok' }, tokens.sup1)).body.code).toBe('LG_ERR_FORBIDDEN');
    const review = await t.call('POST', path, { comment: 'Hold was administrative; lot CoA checked' }, tokens.qa1);
    expect(review.status).toBe(201);
    expect(review.body).toMatchObject({ type: 'lot.override_reviewed', batch, lot: 'L-1001-HOLD', operator: 'qa1', payload: { override: ov.override, grantedBy: 'sup1', comment: 'Hold was administrative; lot CoA checked' } });
    expect((await t.call('POST', path, { comment: 'again' }, tokens.qa2)).body.code).toBe('LG_ERR_OVERRIDE_REVIEW_INVALID');
    const audit = await t.call('GET', `/audit?entity=record&entityId=${ov.override}`);
    expect(audit.body.items.map((a: any) => [a.action, a.actor])).toContainEqual(['override.reviewed', 'qa1']);

    const still = await move('released', tokens.qa1, sign);
    expect(missingCodes(still.body)).toEqual(['LG_ERR_DEVIATION_OPEN']);
    for (const d of (await t.call('GET', `/deviations?batch=${batch}`)).body.items) {
      await t.call('PATCH', `/deviations/${d.number}`, { rootCause: 'administrative hold', impact: 'none' }, tokens.qa1);
      expect((await t.call('POST', `/deviations/${d.number}/close`, { signature: { userId: 'qa1', secret: '482915', meaning: 'closed' } }, tokens.qa1)).status).toBe(200);
    }
    const rel = await move('released', tokens.qa1, sign);
    expect(rel.status).toBe(200);
    expect(rel.body.batch.status).toBe('released');
    expect(rel.body.record.payload.checks).toMatchObject({ stage: 'release', ok: true, overrides: { total: 1, unreviewed: 0 } });
    expect(rel.body.record.payload.signature).toMatchObject({ by: 'qa1', meaning: 'released' });
  });

  it('10.6 a supervisor completes an out-of-tolerance batch only with a justification per failing material, which raises a deviation QA must close before release', async () => {
    const b2 = (await t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [{ material: 'RM-1001', quantity: '10.000', unit: 'kg', tolerancePct: '1' }, { material: 'RM-1002', quantity: '1.000', unit: 'kg', tolerancePct: '1' }] })).body.number;
    await t.call('POST', `/batches/${b2}/transitions`, { to: 'in_process' });
    await waitFor(async () => (await t.call('GET', `/batches/${b2}/checks`)).body.openPrintJobs === 0, 30_000, 100, 'batch label printed');
    await t.call('PUT', '/stations/WEIGH-1/context', { batch: b2 });
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' });
    expect((await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '6.000', unit: 'kg' })).body.record.status).toBe('accepted'); // the lot ran out: 6 of 10 kg
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A' });
    await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.000', unit: 'kg' });
    await t.call('POST', `/batches/${b2}/production`, { good: '60', reason: 'counted' }, tokens.sup1);
    const go = (token: string, justifications: unknown) => t.call('POST', `/batches/${b2}/transitions`, { to: 'completed', justifications }, token);
    expect(missingCodes((await go(tokens.sup1, [])).body)).toEqual(['LG_ERR_CHECK_BOM_UNDER']);
    expect((await go(tokens.op1, [{ material: 'RM-1001', reason: 'short lot' }])).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await go(tokens.sup1, [{ material: 'RM-1002', reason: 'not needed' }])).body.code).toBe('LG_ERR_VALIDATION'); // RM-1002 passes: nothing to justify
    const done = await go(tokens.sup1, [{ material: 'RM-1001', reason: 'Lot ran out; reduced batch size agreed with QA' }]);
    expect(done.status).toBe(200);
    expect(done.body.batch.status).toBe('completed');
    const j = done.body.record.payload.justifications;
    expect(j).toHaveLength(1);
    expect(j[0]).toMatchObject({ material: 'RM-1001', by: 'sup1', position: 'under', unit: 'kg', reason: 'Lot ran out; reduced batch size agreed with QA' });
    expect(Number(j[0].consumed)).toBe(6);
    const audit = await t.call('GET', `/audit?entity=batch&entityId=${b2}`);
    expect(audit.body.items.filter((a: any) => a.action === 'batch.bom_justified').map((a: any) => a.actor)).toEqual(['sup1']);
    // The justification raised a deviation for that material: it covers the BOM line, and blocks release until closed.
    expect(j[0].deviation).toMatch(/^DEV-/);
    const rel = (await t.call('GET', `/batches/${b2}/checks`)).body;
    expect(rel).toMatchObject({ stage: 'release', ok: false });
    expect(rel.missing.map((m: any) => m.code)).toContain('LG_ERR_DEVIATION_OPEN');
    expect(rel.bom.find((l: any) => l.material === 'RM-1001').deviations).toEqual([expect.objectContaining({ id: j[0].deviation, status: 'open' })]);
    const dev = (await t.call('GET', `/deviations/${j[0].deviation}`)).body;
    expect(dev).toMatchObject({ batch: b2, material: 'RM-1001', source: 'completion_justification', raisedBy: 'sup1' });
  });
});
