/**
 * Issue 15 through the running gateway: cases packed onto pallets at a palletising station (SSCC
 * labels printed on a TCP printer), pallets dispatched to two customers, the forward trace from
 * a supplier lot to the customers, the EPCIS 2.0 export validated against the official GS1 schema,
 * and the B2MML export parsed back with xmllint; then a recall of the supplier lot: the remaining
 * stock goes on hold, its next scan is refused over the station scan API, the recall's list names
 * what shipped, and its CSV and EPCIS exports (the EPCIS one validated against the official schema).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { gs1CheckDigit } from '../../../src/gs1/index.js';
import { stringify } from 'yaml';
import { baseConfig, startTestGateway, type TestGateway, acknowledgeAllExceptions } from '../../helpers/gateway.js';
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
function epcisValidator() {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../../vendor/gs1-epcis/EPCIS-JSON-Schema.json'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  (((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv)(ajv);
  return ajv.compile(schema);
}
/** Every class/EPC reached from `start` through the TransformationEvents' inputs → outputs. */
function reachedThroughTransformations(events: any[], start: string): Set<string> {
  const reached = new Set<string>([start]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of events.filter((x) => x.type === 'TransformationEvent')) {
      if (![...(e.inputEPCList ?? []), ...(e.inputQuantityList ?? []).map((q: any) => q.epcClass)].some((x: string) => reached.has(x))) continue;
      for (const o of [...(e.outputEPCList ?? []), ...(e.outputQuantityList ?? []).map((q: any) => q.epcClass)]) if (!reached.has(o)) (reached.add(o), (changed = true));
    }
  }
  return reached;
}
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
    const validate = epcisValidator();
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
    const reached = reachedThroughTransformations(events, `https://id.gs1.org/01/${GTIN_RM}/10/ACME-77`);
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

describe('issue 15: recall as an action', () => {
  const approve = { userId: 'qa1', secret: '482915', meaning: 'approved' };
  let P3: any, P4: any, recall: any;

  it('15.6 a signed recall of the supplier lot holds the remaining stock in one go and lists what left the site', async () => {
    // Stock still on site before the recall: the repacked case's pallet (closed), a pallet loaded onto
    // an open delivery, and B's third case not on any pallet.
    P3 = ok(await t.call('POST', '/stations/PALLET-1/pallet/close'), 'close P3');
    expect((await scan('PALLET-1', caseScan(A, serials[A]![2]!))).status).toBe('accepted');
    P4 = ok(await t.call('POST', '/stations/PALLET-1/pallet/close'), 'close P4');
    expect((await scan('DISPATCH-1', 'D-3')).status).toBe('accepted');
    expect((await scan('DISPATCH-1', ssccScan(P4.sscc))).status).toBe('accepted');

    const body = { supplierLot: 'ACME-77', supplier: 'Acme', reason: 'supplier notice SN-2026-14: foreign matter', signature: approve };
    expect((await t.call('POST', '/recalls', body, tokens.sup1)).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('POST', '/recalls', { ...body, signature: undefined }, tokens.qa1)).body.code).toBe('LG_ERR_VALIDATION');
    expect((await t.call('POST', '/recalls', { ...body, signature: { ...approve, meaning: 'released' } }, tokens.qa1)).body.code).toBe('LG_ERR_SIGNATURE_MEANING');
    const none = await t.call('POST', '/recalls', { ...body, supplierLot: 'ACME-00' }, tokens.qa1);
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('LG_ERR_RECALL_NOTHING_FOUND');
    expect((await t.call('GET', '/records?type=recall.refused')).body.items[0].errorCode).toBe('LG_ERR_RECALL_NOTHING_FOUND');

    const res = await t.call('POST', '/recalls', body, tokens.qa1);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    recall = res.body;
    expect(recall.number).toMatch(/^RC-\d{4}-0001$/);
    expect(recall.status).toBe('open');
    const items = (kind: string, action: string) => recall.items.filter((i: any) => i.kind === kind && i.action === action).map((i: any) => i.ref).sort();
    expect(items('batch', 'held')).toEqual([A, B, INT].sort());
    expect(items('lot', 'held')).toEqual(['L-ACME', 'L-INT']);
    expect(items('pallet', 'held')).toEqual([P3.id, P4.id].sort());
    expect(items('pallet', 'shipped')).toEqual([P1.id, P2.id].sort());
    expect(recall.items.find((i: any) => i.ref === A).statusBefore).toBe('released');
    expect(recall.shipped).toEqual([
      expect.objectContaining({ delivery: 'D-1', customer: 'C1', customerGln: GLN_C1, ssccs: [P1.sscc], batches: [A] }),
      expect.objectContaining({ delivery: 'D-2', customer: 'C2', customerGln: GLN_C2, ssccs: [P2.sscc], batches: [B] }),
    ]);
    expect(recall.signature).toBeTruthy();
    // Each object's state changed, with its own record naming the recall.
    expect((await t.call('GET', `/batches/${A}`)).body.status).toBe('on_hold');
    expect((await t.call('GET', '/lots/L-ACME')).body.status).toBe('on_hold');
    expect((await t.call('GET', `/pallets/${P4.sscc}`)).body.onHold).toBe(true);
    const lotRec = (await t.call('GET', '/records?lot=L-ACME&type=lot.status_changed')).body.items.at(-1);
    expect(lotRec.payload).toMatchObject({ from: 'released', to: 'on_hold', recall: recall.number });
    const batchRecs = (await t.call('GET', '/records?type=batch.status_changed')).body.items.filter((r: any) => r.payload.recall === recall.number);
    expect(batchRecs.map((r: any) => r.batch).sort()).toEqual([A, B, INT].sort());
    expect(batchRecs.find((r: any) => r.batch === A).payload.from).toBe('released');
    const held = (await t.call('GET', '/records?type=handling_unit.held')).body.items.filter((r: any) => r.payload.recall === recall.number);
    expect(held.map((r: any) => r.payload.sscc).sort()).toEqual([P3.sscc, P4.sscc].sort());
    const started = (await t.call('GET', '/records?type=recall.started')).body.items;
    expect(started).toHaveLength(1);
    expect(started[0].payload.cases).toEqual({ total: 6, onSite: 3, shipped: 3 });
    // The same recall again is refused and names the open one.
    const again = await t.call('POST', '/recalls', body, tokens.qa1);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('LG_ERR_RECALL_ALREADY_OPEN');
    expect(again.body.message).toContain(recall.number);
  });

  it('15.6 the next scan of held stock is refused at the scan: lot at weighing, case at palletising, pallet at dispatch; the delivery does not ship', async () => {
    const c = ok(await t.call('POST', '/batches', { product: 'FG-A', gtin: GTIN_A, plannedQty: '10', unit: 'pcs', bom: [{ material: 'RM-1001', quantity: '5.000', unit: 'kg', tolerancePct: '1' }] }), 'batch C').number;
    ok(await t.call('POST', `/batches/${c}/transitions`, { to: 'in_process' }), 'start C');
    ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch: c }), 'select C');
    const lotScan = await scan('WEIGH-1', 'L-ACME');
    expect(lotScan).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_LOT_ON_HOLD' });
    // The same lot by its GS1 label (GTIN + the supplier's lot) is refused too.
    expect((await scan('WEIGH-1', `]C101${GTIN_RM}10ACME-77`)).errorCode).toBe('LG_ERR_LOT_ON_HOLD');
    const caseRec = await scan('PALLET-1', caseScan(B, serials[B]![2]!));
    expect(caseRec).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_HU_CASE_ON_HOLD' });
    expect(caseRec.message).toContain(recall.number);
    expect((await t.call('GET', `/cases/${serials[B]![2]}`)).body.pallet).toBeNull();
    expect((await scan('DISPATCH-1', ssccScan(P3.sscc))).errorCode).toBe('LG_ERR_HU_ON_HOLD');
    const ship = await t.call('POST', '/deliveries/D-3/ship');
    expect(ship.body.code).toBe('LG_ERR_HU_ON_HOLD');
    expect((await t.call('GET', '/deliveries/D-3')).body.status).toBe('open');
    // The trace agrees: everything still on site is on hold.
    const trace = ok(await t.call('GET', '/genealogy/customers?supplierLot=ACME-77&supplier=Acme'), 'trace');
    const onSite = trace.handlingUnits.filter((u: any) => u.status !== 'shipped');
    expect(onSite.length).toBe(2);
    expect(onSite.every((u: any) => u.onHold)).toBe(true);
  });

  it('15.6 the recall list exports as CSV and as EPCIS 2.0 valid against the official schema, its TransformationEvents linking the supplier lot to the cases', async () => {
    const list = ok(await t.call('GET', '/recalls?status=open'), 'list');
    expect(list.items.map((r: any) => r.number)).toEqual([recall.number]);
    expect((await t.call('GET', `/recalls/${recall.number}`)).body.id).toBe(recall.id);
    expect((await t.call('GET', '/recalls/RC-1999-0001')).body.code).toBe('LG_ERR_RECALL_NOT_FOUND');
    const csvRes = await fetch(`${t.url}/recalls/${recall.number}/export?format=csv`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(csvRes.status).toBe(200);
    expect(csvRes.headers.get('content-type')).toContain('text/csv');
    const rows = (await csvRes.text()).trim().split('\r\n').map((l) => l.split(','));
    const head = rows[0]!;
    const col = (r: string[], name: string) => r[head.indexOf(name)];
    const shippedRows = rows.filter((r) => col(r, 'kind') === 'delivery');
    expect(shippedRows.map((r) => [col(r, 'customer'), col(r, 'delivery'), col(r, 'sscc')])).toEqual([['C1', 'D-1', P1.sscc], ['C2', 'D-2', P2.sscc]]);
    const palletRows = rows.filter((r) => col(r, 'kind') === 'pallet' && col(r, 'action') === 'held');
    expect(palletRows.map((r) => col(r, 'sscc')).sort()).toEqual([P3.sscc, P4.sscc].sort());
    expect(palletRows.every((r) => col(r, 'on_hold_now') === 'true')).toBe(true);

    const doc = ok(await t.call('GET', `/recalls/${recall.number}/export?format=epcis`), 'epcis');
    const validate = epcisValidator();
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    const events = doc.epcisBody.eventList as any[];
    const reached = reachedThroughTransformations(events, `https://id.gs1.org/01/${GTIN_RM}/10/ACME-77`);
    for (const [batch, gtin] of [[A, GTIN_A], [B, GTIN_B]] as const) for (const s of serials[batch]!) expect(reached).toContain(`https://id.gs1.org/01/${gtin}/21/${encodeURIComponent(s)}`);
    expect(events.filter((e) => e.bizStep === 'shipping').map((e) => e.destinationList[0].destination).sort()).toEqual([`https://id.gs1.org/417/${GLN_C1}`, `https://id.gs1.org/417/${GLN_C2}`]);
  });

  it('15.6 closing the recall (signed, with the outcome) lifts no hold; each hold is lifted by its own QA disposition', async () => {
    expect((await t.call('POST', `/recalls/${recall.number}/close`, { outcome: 'x', signature: { ...approve, meaning: 'closed' } }, tokens.sup1)).body.code).toBe('LG_ERR_FORBIDDEN');
    const closed = ok(await t.call('POST', `/recalls/${recall.number}/close`, { outcome: 'customers C1 and C2 informed; D-1 and D-2 returned for destruction', signature: { ...approve, meaning: 'closed' } }, tokens.qa1), 'close');
    expect(closed.status).toBe('closed');
    expect(closed.counts.stillOnHold).toBe(7); // 3 batches, 2 lots, 2 pallets: nothing lifted silently
    expect((await t.call('GET', '/lots/L-ACME')).body.status).toBe('on_hold');
    expect((await t.call('GET', `/pallets/${P3.sscc}`)).body.onHold).toBe(true);
    const rec = (await t.call('GET', '/records?type=recall.closed')).body.items[0];
    expect(rec.payload.stillOnHold).toContain(`pallet ${P3.sscc}`);
    expect((await t.call('POST', `/recalls/${recall.number}/close`, { outcome: 'again', signature: { ...approve, meaning: 'closed' } }, tokens.qa1)).body.code).toBe('LG_ERR_RECALL_STATE');
    ok(await t.call('POST', `/pallets/${P3.sscc}/release-hold`, { reason: 'inspected: cases not affected' }, tokens.qa1), 'release P3');
    const after = ok(await t.call('GET', `/recalls/${recall.number}`), 'after');
    expect(after.items.find((i: any) => i.ref === P3.id).now.onHold).toBe(false);
    expect(after.counts.stillOnHold).toBe(6);
    // A recall hold is QA's to lift: not an ERP push, not a supervisor's resume.
    const lot = (await t.call('GET', '/lots/L-ACME')).body;
    const lift = { material: 'RM-1001', status: 'released', quantity: lot.quantity, reason: 'supplier cleared the lot' };
    expect((await t.call('PUT', '/lots/L-ACME', lift, tokens.erp)).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('POST', `/batches/${INT}/transitions`, { to: 'completed' }, tokens.sup1)).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('GET', '/lots/L-ACME')).body.status).toBe('on_hold');
    expect((await t.call('PUT', '/lots/L-ACME', lift, tokens.qa1)).body.lot.status).toBe('released');
    expect(ok(await t.call('GET', `/recalls/${recall.number}`), 'after QA').counts.stillOnHold).toBe(5);
    // A new recall of the same scope may start once the first is closed.
    const second = await t.call('POST', '/recalls', { batch: B, reason: 'follow-up', signature: approve }, tokens.qa1);
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.items.find((i: any) => i.ref === B).action).toBe('already_held');
  });
});

describe('issue 15: serial-level links', () => {
  it('15.3 a serial-tracked component consumed into a batch is a serial-level link: backward shows the serial; forward from it reaches the batch, cases, pallets and customers', async () => {
    const GTIN_DRUM = withCheck('0950600013443');
    // Flavour concentrate in serialised drums: each drum is one unit (AI 21), weighed in.
    ok(await t.call('PUT', '/materials/DRUM', { name: 'Flavour concentrate (drum)', unit: 'kg', tracking: 'serial', gtins: [GTIN_DRUM] }), 'DRUM');
    ok(await t.call('POST', '/lots', { id: 'DRUM-0042', material: 'DRUM', supplier: 'Aromaco', supplierLot: 'SN-0042', status: 'released', quantity: '25' }), 'drum unit');
    const n = ok(await t.call('POST', '/batches', { product: 'FG-A', productName: 'Product A', gtin: GTIN_A, plannedQty: '1', unit: 'pcs', bom: [{ material: 'DRUM', quantity: '25.000', unit: 'kg', tolerancePct: '1' }] }), 'batch').number;
    ok(await t.call('POST', `/batches/${n}/transitions`, { to: 'in_process' }), 'start');
    ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch: n }), 'select');
    // A serial-tracked material is identified by its serial: a label with only a lot (AI 10) does not say which unit.
    expect((await scan('WEIGH-1', `]C101${GTIN_DRUM}10LOT-9`)).errorCode).toBe('LG_ERR_GS1_LOT_MISSING');
    expect((await scan('WEIGH-1', `]C101${GTIN_DRUM}21SN-9999`)).errorCode).toBe('LG_ERR_UNKNOWN_LOT');
    const unit = await scan('WEIGH-1', `]C101${GTIN_DRUM}21SN-0042`);
    expect(unit).toMatchObject({ status: 'accepted', type: 'lot.scanned', lot: 'DRUM-0042' });
    expect(unit.payload).toMatchObject({ serial: 'SN-0042', tracking: 'serial' });
    ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '25.000', unit: 'kg' }), 'weigh in the drum');
    ok(await t.call('POST', `/batches/${n}/production`, { good: '1', reason: 'counted' }, tokens.sup1), 'production');
    const serial = await caseLabel(n);
    await waitFor(async () => ((await t.call('GET', `/batches/${n}/checks?stage=completion`)).body.missing?.some((m: any) => m.check === 'print_jobs') ? null : true), 20_000, 50, 'label job finished');
    await complete(n);
    await release(n);
    expect((await scan('PALLET-1', caseScan(n, serial))).status).toBe('accepted');
    const P5 = ok(await t.call('POST', '/stations/PALLET-1/pallet/close'), 'close P5');
    ok(await t.call('PUT', '/deliveries/D-5', { customer: 'C1', shipTo: { gln: GLN_C1 } }, tokens.erp), 'D-5');
    expect((await scan('DISPATCH-1', 'D-5')).status).toBe('accepted');
    expect((await scan('DISPATCH-1', ssccScan(P5.sscc))).status).toBe('accepted');
    ok(await t.call('POST', '/deliveries/D-5/ship'), 'ship D-5');

    const back = ok(await t.call('GET', `/batches/${n}/genealogy`), 'backward');
    expect(back.inputs[0].lot).toMatchObject({ id: 'DRUM-0042', serial: 'SN-0042', supplier: 'Aromaco' });
    const fwd = ok(await t.call('GET', `/genealogy/customers?serial=SN-0042&gtin=${GTIN_DRUM}`), 'forward');
    expect(fwd.lots).toEqual(['DRUM-0042']);
    expect(fwd.batches).toEqual([n]);
    expect(fwd.handlingUnits).toEqual([expect.objectContaining({ sscc: P5.sscc, status: 'shipped', cases: 1 })]);
    expect(fwd.customers).toEqual([expect.objectContaining({ id: 'C1', deliveries: [expect.objectContaining({ number: 'D-5', ssccs: [P5.sscc], batches: [n] })] })]);
    expect((await t.call('GET', `/genealogy/customers?serial=SN-0042&gtin=${GTIN_A}`)).body.lots).toEqual([]); // another GTIN's serial
    const cli = await runCli(['trace', 'customers', '--serial', 'SN-0042', '--db', join(t.stateDir, 'journal.sqlite')]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`delivery D-5`);
    expect(cli.stdout).toContain(P5.sscc);
    // EPCIS: the drum is an instance input (SGTIN) of the batch's TransformationEvent, linked to the case.
    const doc = ok(await t.call('GET', `/exports/epcis?batch=${n}`), 'epcis');
    const validate = epcisValidator();
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    const drumEpc = `https://id.gs1.org/01/${GTIN_DRUM}/21/SN-0042`;
    const tr = doc.epcisBody.eventList.find((e: any) => e.type === 'TransformationEvent');
    expect(tr.inputEPCList).toEqual([drumEpc]);
    expect(tr.inputQuantityList).toBeUndefined();
    expect(reachedThroughTransformations(doc.epcisBody.eventList, drumEpc)).toContain(`https://id.gs1.org/01/${GTIN_A}/21/${encodeURIComponent(serial)}`);

    // The same batch recalled from the console (a signed QA action; the secret from the environment).
    const cfgFile = join(t.stateDir, 'cli.yaml');
    writeFileSync(cfgFile, stringify(baseConfig(t.stateDir, { site: { id: 'PLANT1', name: 'Test plant', timezone: 'Europe/Berlin', gs1CompanyPrefix: '9506000', gln: GLN_SITE }, stations: [{ id: 'WEIGH-1', role: 'weighing' }] })));
    const wrong = await runCli(['recall', 'start', '--batch', n, '--reason', 'drum supplier notice', '--user', 'qa1', '--config', cfgFile], { LINEGATE_SIGNING_SECRET: '000000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('LG_ERR_SIGNATURE_INVALID');
    const started = await runCli(['recall', 'start', '--batch', n, '--reason', 'drum supplier notice', '--user', 'qa1', '--config', cfgFile], { LINEGATE_SIGNING_SECRET: '482915' });
    expect(started.code, started.stderr).toBe(0);
    const number = /^recall (RC-\d{4}-\d{4}) \[open\]/.exec(started.stdout)?.[1];
    expect(number, started.stdout).toBeTruthy();
    expect(started.stdout).toContain(`shipped: delivery D-5 to customer C1`);
    expect((await t.call('GET', `/batches/${n}`)).body.status).toBe('on_hold'); // the running gateway sees it at once
    expect((await t.call('GET', `/recalls/${number}`)).body.startedBy).toBe('qa1');
    const csv = await runCli(['recall', 'show', number!, '--csv', '--db', join(t.stateDir, 'journal.sqlite')]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toContain(`${number},delivery,D-5,shipped`);
    const list = await runCli(['recall', 'list', '--db', join(t.stateDir, 'journal.sqlite')]);
    expect(list.stdout).toContain(number);
  });
});
