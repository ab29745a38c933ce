/**
 * Issue 15 through the running gateway: cases packed onto pallets at a palletising station (SSCC
 * labels printed on a TCP printer), pallets dispatched to two customers, the forward trace from
 * a supplier lot to the customers, the EPCIS 2.0 export validated against the official GS1 schema,
 * and the B2MML export parsed back with xmllint.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { gs1CheckDigit } from '../../../src/gs1/index.js';
import { startTestGateway, type TestGateway, acknowledgeAllExceptions } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { runCli } from '../../helpers/daemon.js';

const GS = '\x1d';
const withCheck = (s: string) => s + gs1CheckDigit(s);
const GTIN_RM = '09506000134369';
const GTIN_A = withCheck('0950600013440');
const GTIN_B = withCheck('0950600013441');
const GLN_SITE = withCheck('950600000001');
const GLN_C1 = withCheck('950600000101');
const GLN_C2 = withCheck('950600000202');
const sig = { userId: 'qa1', secret: '482915', meaning: 'released' };

let t: TestGateway;
let printer: PrinterSimulator;
const tokens: Record<string, string> = {};

const ok = (r: { status: number; body: any }, what: string) => {
  if (r.status >= 300 || r.body?.record?.status === 'rejected') throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};
const scan = async (station: string, data: string) => (await t.call('POST', `/stations/${station}/scans`, { data })).body.record;
const caseScan = (batch: string, serial: string) => `]C110${batch}${GS}21${serial}`;
const ssccScan = (sscc: string) => `]C100${sscc}`;

/** A batch of `product` that consumed `qty` kg of `lot` at WEIGH-1 and is completed. */
async function completedBatch(product: string, gtin: string | null, material: string, lot: string, qty: string): Promise<string> {
  const n = ok(await t.call('POST', '/batches', { product, productName: `Product ${product}`, ...(gtin ? { gtin } : {}), plannedQty: '10', unit: 'pcs', bom: [{ material, quantity: qty, unit: 'kg', tolerancePct: '1' }] }), 'batch').number;
  ok(await t.call('POST', `/batches/${n}/transitions`, { to: 'in_process' }), 'start');
  ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch: n }), 'select');
  ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: lot }), 'scan lot');
  ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: qty, unit: 'kg' }), 'consume');
  ok(await t.call('POST', `/batches/${n}/production`, { good: '10', reason: 'counted' }, tokens.sup1), 'production');
  return n;
}
const complete = async (n: string) => ok(await t.call('POST', `/batches/${n}/transitions`, { to: 'completed' }), `complete ${n}`);
const release = async (n: string) => (await acknowledgeAllExceptions(t, n, tokens.qa1!), ok(await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'record reviewed', signature: sig }, tokens.qa1), `release ${n}`));
const caseLabel = async (batch: string) => ok(await t.call('POST', '/stations/PACK-1/labels', { kind: 'case', batch, netWeight: '6.000' }), 'case label').serial as string;

let A: string, B: string, INT: string;
const serials: Record<string, string[]> = {};
let P1: any, P2: any;

beforeAll(async () => {
  printer = new PrinterSimulator({ port: 0 });
  const port = await printer.start();
  t = await startTestGateway({
    site: { id: 'PLANT1', name: 'Test plant', timezone: 'Europe/Berlin', gs1CompanyPrefix: '9506000', gln: GLN_SITE },
    stations: [
      { id: 'WEIGH-1', role: 'weighing', policies: { duplicateWindowMs: 0 } },
      { id: 'PACK-1', role: 'packing' },
      // No duplicate window: these tests scan the same code again on purpose, at once.
      { id: 'PALLET-1', role: 'palletising', policies: { duplicateWindowMs: 0 } },
      { id: 'DISPATCH-1', role: 'dispatch', policies: { duplicateWindowMs: 0 } },
    ],
    devices: [{ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port }, timing: { pollIntervalMs: 100, idleStatusMs: 500 } }],
  });
  for (const [id, name, role] of [['sup1', 'Sam Supervisor', 'supervisor'], ['qa1', 'Quinn QA', 'qa'], ['erp', 'ERP', 'erp']] as const) tokens[id] = (await t.call('POST', '/users', { id, name, role })).body.token;
  ok(await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1), 'pin');
  ok(await t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg', gtins: [GTIN_RM] }), 'RM');
  ok(await t.call('PUT', '/materials/INTER', { name: 'Syrup (intermediate)', unit: 'kg' }), 'INTER');
  ok(await t.call('POST', '/lots', { id: 'L-ACME', material: 'RM-1001', supplier: 'Acme', supplierLot: 'ACME-77', expiry: '2099-12-31', status: 'released', quantity: '500' }), 'lot');
  // Two batches from one supplier lot, one of them through an intermediate.
  A = await completedBatch('FG-A', GTIN_A, 'RM-1001', 'L-ACME', '20.000');
  INT = await completedBatch('SYRUP', null, 'RM-1001', 'L-ACME', '10.000');
  await complete(INT);
  ok(await t.call('POST', '/lots', { id: 'L-INT', material: 'INTER', status: 'released', quantity: '10', producedBy: INT }), 'intermediate lot');
  B = await completedBatch('FG-B', GTIN_B, 'INTER', 'L-INT', '5.000');
  for (const b of [A, B]) serials[b] = [await caseLabel(b), await caseLabel(b), await caseLabel(b)];
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await printer?.stop();
});

describe('issue 15: pallets, dispatch, forward trace to customers', () => {
  it('15.1 case scans at a palletising station go onto the open pallet; closing prints its SSCC label; a mixed or repeated case is refused', async () => {
    const [a1, a2] = serials[A]!;
    const r1 = await scan('PALLET-1', caseScan(A, a1!));
    expect(r1.status).toBe('accepted');
    expect(r1.type).toBe('handling_unit.packed');
    const r2 = await scan('PALLET-1', `]C101${GTIN_A}${GS}21${a2}`); // the other symbol: GTIN + serial
    expect(r2.status).toBe('accepted');
    expect((await scan('PALLET-1', caseScan(A, a1!))).errorCode).toBe('LG_ERR_HU_CASE_ON_PALLET');
    expect((await scan('PALLET-1', caseScan(B, serials[B]![0]!))).errorCode).toBe('LG_ERR_HU_PALLET_MIXED');
    expect((await scan('PALLET-1', caseScan(A, 'L1-99999'))).errorCode).toBe('LG_ERR_HU_CASE_UNKNOWN');
    const jobsBefore = printer.jobs.length;
    expect((await scan('PALLET-1', 'CMD-PALLET-CLOSE')).status).toBe('accepted');
    const closed = await waitFor(async () => (await t.call('GET', `/records?type=handling_unit.closed`)).body.items[0], 20_000, 50, 'pallet closed');
    P1 = (await t.call('GET', `/pallets/${closed.payload.sscc}`)).body;
    expect(P1.status).toBe('closed');
    expect(P1.sscc).toMatch(/^\d{18}$/);
    expect(P1.cases.map((c: any) => c.serial).sort()).toEqual([a1, a2].sort());
    await waitFor(() => printer.jobs.length > jobsBefore || null, 20_000, 50, 'SSCC label printed');
    expect(printer.jobs.at(-1)!.zpl).toContain(P1.sscc);
    // B's cases go onto a new pallet, closed from the API.
    for (const s of serials[B]!.slice(0, 2)) expect((await scan('PALLET-1', caseScan(B, s))).status).toBe('accepted');
    P2 = ok(await t.call('POST', '/stations/PALLET-1/pallet/close'), 'close P2');
    expect(P2.status).toBe('closed');
    expect(P2.batches).toEqual([B]);
  });

  it('15.1 unpack from a closed pallet and repack are recorded; content is queryable at any time', async () => {
    const a2 = P1.cases.map((c: any) => c.serial).sort()[1];
    expect((await t.call('POST', `/cases/${a2}/unpack`, { reason: '' })).status).toBe(400);
    ok(await t.call('POST', `/cases/${a2}/unpack`, { reason: 'carton damaged, re-taped' }, tokens.sup1), 'unpack');
    expect((await t.call('GET', `/pallets/${P1.sscc}`)).body.cases).toHaveLength(1);
    expect((await t.call('GET', `/cases/${a2}`)).body.pallet).toBeNull();
    const repack = await scan('PALLET-1', caseScan(A, a2));
    expect(repack.status).toBe('accepted');
    const c = (await t.call('GET', `/cases/${a2}`)).body;
    expect(c.pallet.status).toBe('open');
    expect(c.pallet.id).not.toBe(P1.id);
    const history = (await t.call('GET', `/records?type=handling_unit.unpacked`)).body.items;
    expect(history[0].payload).toMatchObject({ serial: a2, sscc: P1.sscc, reason: 'carton damaged, re-taped' });
  });

  it('15.2 deliveries are ERP master data; an unknown customer is refused with a code and recorded', async () => {
    expect((await t.call('PUT', '/customers/C1', { name: 'Shop One', gln: GLN_C1 }, tokens.erp)).status).toBe(201);
    expect((await t.call('PUT', '/customers/C1', { name: 'Shop One', gln: GLN_C1 }, tokens.erp)).body.changed).toBe(false);
    expect((await t.call('PUT', '/customers/C2', { name: 'Shop Two', gln: GLN_C2 }, tokens.erp)).status).toBe(201);
    const bad = await t.call('PUT', '/deliveries/D-9', { customer: 'NOBODY', shipTo: { gln: GLN_C1 } }, tokens.erp);
    expect(bad.body.code).toBe('LG_ERR_CUSTOMER_NOT_FOUND');
    expect((await t.call('GET', '/records?type=delivery.refused')).body.items[0].errorCode).toBe('LG_ERR_CUSTOMER_NOT_FOUND');
    expect((await t.call('GET', '/deliveries/D-9')).status).toBe(404);
    expect((await t.call('PUT', '/deliveries/D-1', { customer: 'C1', shipTo: { gln: GLN_C1, name: 'Shop One DC' }, items: [{ gtin: GTIN_A, quantity: '2' }] }, tokens.erp)).status).toBe(201);
    expect((await t.call('PUT', '/deliveries/D-1', { customer: 'C1', shipTo: { gln: GLN_C1, name: 'Shop One DC' }, items: [{ gtin: GTIN_A, quantity: '2' }] }, tokens.erp)).body.changed).toBe(false);
    expect((await t.call('PUT', '/deliveries/D-2', { customer: 'C2', shipTo: { gln: GLN_C2 } }, tokens.erp)).status).toBe(201);
  });

  it('15.2 SSCC scans at dispatch are refused at the scan: not released, unknown, bad check digit, wrong delivery, twice, on hold', async () => {
    expect((await scan('DISPATCH-1', ssccScan(P1.sscc))).errorCode).toBe('LG_ERR_DELIVERY_NOT_SELECTED');
    expect((await scan('DISPATCH-1', 'D-1')).type).toBe('delivery.selected');
    expect((await scan('DISPATCH-1', ssccScan(P1.sscc))).errorCode).toBe('LG_ERR_DELIVERY_BATCH_NOT_RELEASED');
    await complete(A);
    await complete(B);
    await release(A);
    await release(B);
    expect((await scan('DISPATCH-1', ssccScan(withCheck('39506000999999999'))))).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_HU_PALLET_NOT_FOUND' });
    const wrongDigit = P1.sscc.slice(0, 17) + String((Number(P1.sscc[17]) + 1) % 10);
    expect((await scan('DISPATCH-1', ssccScan(wrongDigit))).errorCode).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect((await scan('DISPATCH-1', ssccScan(P2.sscc))).errorCode).toBe('LG_ERR_DELIVERY_WRONG'); // D-1 plans GTIN A only
    const loaded = await scan('DISPATCH-1', ssccScan(P1.sscc));
    expect(loaded).toMatchObject({ status: 'accepted', type: 'delivery.pallet_loaded' });
    expect((await scan('DISPATCH-1', ssccScan(P1.sscc))).errorCode).toBe('LG_ERR_HU_PALLET_STATE');
    expect((await scan('DISPATCH-1', 'D-2')).status).toBe('accepted');
    expect((await scan('DISPATCH-1', ssccScan(P1.sscc))).errorCode).toBe('LG_ERR_DELIVERY_WRONG');
    expect((await t.call('POST', `/pallets/${P2.sscc}/hold`, { reason: 'seal check' }, tokens.sup1)).body.code).toBe('LG_ERR_FORBIDDEN');
    ok(await t.call('POST', `/pallets/${P2.sscc}/hold`, { reason: 'seal check' }, tokens.qa1), 'hold');
    expect((await scan('DISPATCH-1', ssccScan(P2.sscc))).errorCode).toBe('LG_ERR_HU_ON_HOLD');
    ok(await t.call('POST', `/pallets/${P2.sscc}/release-hold`, { reason: 'seal intact' }, tokens.qa1), 'release hold');
    expect((await scan('DISPATCH-1', ssccScan(P2.sscc))).status).toBe('accepted');
  });

  it('15.2 closing a delivery records the shipment; a pallet dispatched twice and a contradicting ERP push are refused and recorded', async () => {
    const d1 = ok(await t.call('POST', '/deliveries/D-1/ship'), 'ship D-1');
    expect(d1.status).toBe('shipped');
    expect((await t.call('POST', '/deliveries/D-1/ship')).body.code).toBe('LG_ERR_DELIVERY_STATE');
    ok(await t.call('POST', '/deliveries/D-2/ship'), 'ship D-2');
    expect((await t.call('GET', `/pallets/${P1.sscc}`)).body.status).toBe('shipped');
    const shipped = (await t.call('GET', '/records?type=delivery.shipped')).body.items;
    expect(shipped).toHaveLength(2);
    // The ERP repeats what was recorded: no change; contradicts it: refused, recorded.
    expect((await t.call('PUT', '/deliveries/D-1/shipment', { ssccs: [P1.sscc] }, tokens.erp)).body.changed).toBe(false);
    const conflict = await t.call('PUT', '/deliveries/D-1/shipment', { ssccs: [P2.sscc] }, tokens.erp);
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('LG_ERR_DELIVERY_SHIPMENT_CONFLICT');
    expect((await t.call('GET', '/records?type=delivery.shipment_refused')).body.items[0].errorCode).toBe('LG_ERR_DELIVERY_SHIPMENT_CONFLICT');
    // A shipped pallet scanned at dispatch again is refused.
    ok(await t.call('PUT', '/deliveries/D-3', { customer: 'C2', shipTo: { gln: GLN_C2 } }, tokens.erp), 'D-3');
    await scan('DISPATCH-1', 'D-3');
    expect((await scan('DISPATCH-1', ssccScan(P1.sscc))).errorCode).toBe('LG_ERR_HU_PALLET_STATE');
  });

  it('15.3 trace customers for the supplier lot names both customers with deliveries and SSCCs (through the intermediate)', async () => {
    const r = ok(await t.call('GET', '/genealogy/customers?supplierLot=ACME-77&supplier=Acme'), 'trace');
    expect(r.lots).toEqual(['L-ACME']);
    expect(r.batches.sort()).toEqual([A, B, INT].sort());
    expect(r.customers.map((c: any) => c.id)).toEqual(['C1', 'C2']);
    expect(r.customers[0].deliveries).toEqual([expect.objectContaining({ number: 'D-1', status: 'shipped', ssccs: [P1.sscc], batches: [A] })]);
    expect(r.customers[1].deliveries).toEqual([expect.objectContaining({ number: 'D-2', ssccs: [P2.sscc], batches: [B] })]);
    expect(r.onSite.map((p: any) => p.status)).toEqual(['open']); // the repacked case's pallet
    expect((await t.call('GET', '/genealogy/customers?supplierLot=ACME-77&supplier=Other')).body.customers).toEqual([]);
    // The same answer from the CLI, read-only on the journal.
    const cli = await runCli(['trace', 'customers', '--supplier-lot', 'ACME-77', '--supplier', 'Acme', '--db', join(t.stateDir, 'journal.sqlite')]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`customer C1 — Shop One \\(GLN ${GLN_C1}\\)\\n  delivery D-1 \\[shipped [^\\]]+\\] ship-to ${GLN_C1}: batches ${A}; SSCCs ${P1.sscc}`));
    expect(cli.stdout).toContain(`delivery D-2`);
    expect(cli.stdout).toContain(P2.sscc);
  });

  it('15.4 the EPCIS 2.0 export validates against the official GS1 schema; its TransformationEvents link the supplier lot to the cases; ids are stable', async () => {
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../../vendor/gs1-epcis/EPCIS-JSON-Schema.json'), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    (((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv)(ajv);
    const validate = ajv.compile(schema);
    const doc = ok(await t.call('GET', '/exports/epcis'), 'epcis');
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    const events = doc.epcisBody.eventList as any[];
    // The schema really checks events: one without its time zone offset, or with an unknown bizStep, fails.
    const broken = structuredClone(doc);
    delete broken.epcisBody.eventList[0].eventTimeZoneOffset;
    expect(validate(broken)).toBe(false);
    const broken2 = structuredClone(doc);
    broken2.epcisBody.eventList.at(-1).action = 'SHIP';
    expect(validate(broken2)).toBe(false);
    const kinds = new Set(events.map((e) => `${e.type}/${e.bizStep}`));
    for (const k of ['ObjectEvent/commissioning', 'AggregationEvent/packing', 'AggregationEvent/unpacking', 'TransformationEvent/commissioning', 'ObjectEvent/shipping']) expect(kinds).toContain(k);
    // Follow the links: the supplier lot's class → outputs → … → case SGTINs.
    const supplierClass = `https://id.gs1.org/01/${GTIN_RM}/10/ACME-77`;
    const reached = new Set<string>([supplierClass]);
    for (let changed = true; changed; ) {
      changed = false;
      for (const e of events.filter((x) => x.type === 'TransformationEvent')) {
        if (!e.inputQuantityList.some((q: any) => reached.has(q.epcClass))) continue;
        for (const o of [...(e.outputEPCList ?? []), ...(e.outputQuantityList ?? []).map((q: any) => q.epcClass)]) if (!reached.has(o)) (reached.add(o), (changed = true));
      }
    }
    for (const [batch, gtin] of [[A, GTIN_A], [B, GTIN_B]] as const) {
      for (const s of serials[batch]!) expect(reached).toContain(`https://id.gs1.org/01/${gtin}/21/${encodeURIComponent(s)}`);
    }
    const ship = events.filter((e) => e.bizStep === 'shipping');
    expect(ship.map((e) => e.destinationList[0].destination).sort()).toEqual([`https://id.gs1.org/417/${GLN_C1}`, `https://id.gs1.org/417/${GLN_C2}`]);
    const again = ok(await t.call('GET', '/exports/epcis'), 'epcis again');
    expect(again.epcisBody.eventList.map((e: any) => e.eventID)).toEqual(events.map((e) => e.eventID));
    const forBatch = ok(await t.call('GET', `/exports/epcis?batch=${B}`), 'epcis batch');
    expect(validate(forBatch)).toBe(true);
    expect(forBatch.epcisBody.eventList.filter((e: any) => e.type === 'TransformationEvent')).toHaveLength(2); // B and the intermediate
  });

  it('15.5 the B2MML ProductionPerformance of a batch is well-formed XML with its material actuals', async () => {
    const res = await fetch(`${t.url}/batches/${B}/b2mml`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.status).toBe(200);
    const file = join(t.stateDir, 'b2mml.xml');
    writeFileSync(file, await res.text());
    const xp = (q: string) => execFileSync('xmllint', ['--xpath', q, file], { encoding: 'utf8' }).trim();
    const ns = (p: string) => p.split('/').map((s) => (s && s !== '.' ? `*[local-name()='${s}']` : s)).join('/');
    expect(xp(`string(/${ns('ProductionPerformance/ProductionResponse/ID')})`)).toBe(B);
    expect(xp(`string(/${ns('ProductionPerformance/ProductionResponse/SegmentResponse/MaterialActual')}[${ns('MaterialUse')}='Consumed']/${ns('MaterialLotID')})`)).toBe('L-INT');
    expect(xp(`string(/${ns('ProductionPerformance/ProductionResponse/SegmentResponse/MaterialActual')}[${ns('MaterialUse')}='Consumed']/${ns('Quantity/QuantityString')})`)).toBe('5.000');
    expect(xp(`count(/${ns('ProductionPerformance/ProductionResponse/SegmentResponse/EquipmentActual')})`)).not.toBe('0');
  });
});
