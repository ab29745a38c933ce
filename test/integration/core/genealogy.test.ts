import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { runCli } from '../../helpers/daemon.js';
import { join } from 'node:path';
import { cmp } from '../../../src/domain/decimal.js';

describe('genealogy over the API and the CLI', () => {
  let t: TestGateway;
  let syrup: string;
  let widget: string;
  beforeAll(async () => {
    t = await startTestGateway();
    const ok = async (p: Promise<{ status: number; body: any }>) => {
      const r = await p;
      if (r.status >= 300) throw new Error(JSON.stringify(r.body));
      return r.body;
    };
    await ok(t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg' }));
    await ok(t.call('PUT', '/materials/SYRUP', { name: 'Syrup (intermediate)', unit: 'kg' }));
    await ok(t.call('POST', '/lots', { id: 'SUG-1', material: 'RM-1001', supplier: 'Acme', supplierLot: 'ACME-77', expiry: '2099-01-01', status: 'released', quantity: '100' }));
    syrup = (await ok(t.call('POST', '/batches', { product: 'SYRUP', plannedQty: '20', unit: 'kg', bom: [{ material: 'RM-1001', quantity: '20', unit: 'kg', tolerancePct: '0' }] }))).number;
    await ok(t.call('PUT', '/stations/WEIGH-1/context', { batch: syrup }));
    await ok(t.call('POST', '/stations/WEIGH-1/scans', { data: 'SUG-1' }));
    for (const q of ['12.500', '7.500']) await ok(t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: q, unit: 'kg', note: 'bag weighed on the floor scale' }));
    // The syrup batch produced lot SYR-1, which goes into the widget batch.
    await ok(t.call('POST', '/lots', { id: 'SYR-1', material: 'SYRUP', status: 'released', quantity: '20', producedBy: syrup }));
    widget = (await ok(t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [{ material: 'SYRUP', quantity: '20', unit: 'kg', tolerancePct: '1' }] }))).number;
    await ok(t.call('PUT', '/stations/WEIGH-1/context', { batch: widget }));
    await ok(t.call('POST', '/stations/WEIGH-1/scans', { data: 'SYR-1' }));
    await ok(t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '20000', unit: 'g' }));
  });
  afterAll(async () => t?.stop());

  it('manual consumptions are bound like weighed ones and move the lot balance', async () => {
    expect((await t.call('GET', '/lots/SUG-1')).body.quantity).toBe('80.000');
    expect(cmp((await t.call('GET', '/lots/SYR-1')).body.quantity, '0')).toBe(0);
    const over = await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '5', unit: 'kg' });
    expect(over.body.record).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_WEIGHT_OUT_OF_TOLERANCE' });
  });

  it('backward from the widget batch reaches the supplier lot through the syrup', async () => {
    const r = await t.call('GET', `/batches/${widget}/genealogy`);
    expect(r.body.inputs[0]).toMatchObject({ lot: { id: 'SYR-1' }, unit: 'kg' });
    expect(cmp(r.body.inputs[0].quantity, '20')).toBe(0);
    expect(r.body.inputs[0].producedBy.batch.number).toBe(syrup);
    expect(r.body.inputs[0].producedBy.inputs[0]).toMatchObject({ lot: { id: 'SUG-1', supplier: 'Acme', supplierLot: 'ACME-77' }, additions: 2 });
    expect(cmp(r.body.inputs[0].producedBy.inputs[0].quantity, '20')).toBe(0);
  });

  it("answers which batches came from supplier Acme's lot ACME-77", async () => {
    const r = await t.call('GET', '/genealogy/supplier-lot?supplier=Acme&supplierLot=ACME-77');
    expect(r.body.lots).toEqual(['SUG-1']);
    expect(r.body.affectedBatches.sort()).toEqual([syrup, widget].sort());
  });

  it('prints the same with `linegate trace`', async () => {
    const db = join(t.stateDir, 'journal.sqlite');
    const back = await runCli(['trace', 'batch', widget, '--db', db]);
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('lot SUG-1 (RM-1001, supplier Acme lot ACME-77');
    const fwd = await runCli(['trace', 'supplier-lot', 'ACME-77', '--db', db]);
    expect(fwd.stdout).toContain(`affected batches: ${syrup}, ${widget}`);
  });
});
