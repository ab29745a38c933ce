/**
 * A traced world for the office trace pages' browser tests, made through the real gateway (no rows
 * written by hand): supplier Acme's lot ACME-77 received as L-ACME; batch A made from it directly,
 * batch INT made from it and producing the intermediate lot L-INT, batch B made from L-INT and from
 * another supplier's lot (L-BETA, Beta's BETA-5); case labels printed on a TCP printer simulator,
 * packed onto pallets at a palletising station (SSCC labels printed), the pallets loaded at dispatch
 * and shipped to two customers (A → C1 on D-1, B → C2 on D-2).
 */
import { PrinterSimulator } from '../../simulators/printer/printer-sim.js';
import { gs1CheckDigit } from '../../src/gs1/index.js';
import { acknowledgeAllExceptions, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/net.js';
import { officeUser } from '../helpers/office.js';

const GS = '\x1d';
const withCheck = (s: string) => s + gs1CheckDigit(s);
const GTIN_RM = '09506000134369';
const GTIN_A = withCheck('0950600013440');
const GTIN_B = withCheck('0950600013441');
const GLN_SITE = withCheck('950600000001');
export const GLN_C1 = withCheck('950600000101');
export const GLN_C2 = withCheck('950600000202');

export interface TraceWorld {
  t: TestGateway;
  printer: PrinterSimulator;
  A: string;
  B: string;
  INT: string;
  P1: { id: string; sscc: string };
  P2: { id: string; sscc: string };
  qa: { id: string; token: string; secret: string };
  sup: { id: string; token: string; secret: string };
  stop(): Promise<void>;
}

export async function traceWorld(): Promise<TraceWorld> {
  const printer = new PrinterSimulator({ port: 0 });
  const port = await printer.start();
  const t = await startTestGateway({
    site: { id: 'PLANT1', name: 'Test plant', timezone: 'Europe/Berlin', gs1CompanyPrefix: '9506000', gln: GLN_SITE },
    stations: [
      { id: 'WEIGH-1', role: 'weighing', policies: { duplicateWindowMs: 0 } },
      { id: 'PACK-1', role: 'packing' },
      { id: 'PALLET-1', role: 'palletising', policies: { duplicateWindowMs: 0 } },
      { id: 'DISPATCH-1', role: 'dispatch', policies: { duplicateWindowMs: 0 } },
    ],
    devices: [{ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port }, timing: { pollIntervalMs: 100, idleStatusMs: 500 } }],
  });
  try {
    const ok = (r: { status: number; body: any }, what: string) => {
      if (r.status >= 300 || r.body?.record?.status === 'rejected') throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const qa = await officeUser(t, 'qa-quinn', 'Quinn QA', 'qa', '482915');
    const sup = await officeUser(t, 'sup-sam', 'Sam Supervisor', 'supervisor', 'sam-secret-1');
    const erp = (await t.call('POST', '/users', { id: 'erp', name: 'ERP', role: 'erp' })).body.token as string;
    ok(await t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg', gtins: [GTIN_RM] }), 'RM');
    ok(await t.call('PUT', '/materials/RM-2002', { name: 'Lemon juice', unit: 'kg' }), 'RM-2002');
    ok(await t.call('PUT', '/materials/INTER', { name: 'Syrup (intermediate)', unit: 'kg' }), 'INTER');
    ok(await t.call('POST', '/lots', { id: 'L-ACME', material: 'RM-1001', supplier: 'Acme', supplierLot: 'ACME-77', expiry: '2099-12-31', status: 'released', quantity: '500' }), 'lot');
    ok(await t.call('POST', '/lots', { id: 'L-BETA', material: 'RM-2002', supplier: 'Beta', supplierLot: 'BETA-5', expiry: '2099-12-31', status: 'released', quantity: '50' }), 'lot beta');

    const batch = async (product: string, gtin: string | null, inputs: Array<[string, string, string]>): Promise<string> => {
      const n = ok(await t.call('POST', '/batches', { product, productName: `Product ${product}`, ...(gtin ? { gtin } : {}), plannedQty: '10', unit: 'pcs', bom: inputs.map(([material, , qty]) => ({ material, quantity: qty, unit: 'kg', tolerancePct: '1' })) }), 'batch').number as string;
      ok(await t.call('POST', `/batches/${n}/transitions`, { to: 'in_process' }), 'start');
      ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch: n }), 'select');
      for (const [, lot, qty] of inputs) {
        ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: lot }), `scan ${lot}`);
        ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: qty, unit: 'kg' }), `consume ${lot}`);
      }
      ok(await t.call('POST', `/batches/${n}/production`, { good: '10', reason: 'counted' }, sup.token), 'production');
      return n;
    };
    const complete = async (n: string) => ok(await t.call('POST', `/batches/${n}/transitions`, { to: 'completed' }), `complete ${n}`);
    const release = async (n: string) => {
      await acknowledgeAllExceptions(t, n, qa.token);
      ok(await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'record reviewed', signature: { userId: qa.id, secret: qa.secret, meaning: 'released' } }, qa.token), `release ${n}`);
    };
    const A = await batch('FG-A', GTIN_A, [['RM-1001', 'L-ACME', '20.000']]);
    const INT = await batch('SYRUP', null, [['RM-1001', 'L-ACME', '10.000']]);
    await complete(INT);
    ok(await t.call('POST', '/lots', { id: 'L-INT', material: 'INTER', status: 'released', quantity: '10', producedBy: INT }), 'intermediate lot');
    const B = await batch('FG-B', GTIN_B, [['INTER', 'L-INT', '5.000'], ['RM-2002', 'L-BETA', '2.000']]);

    const scan = async (station: string, data: string) => (await t.call('POST', `/stations/${station}/scans`, { data })).body.record;
    const caseLabel = async (b: string) => ok(await t.call('POST', '/stations/PACK-1/labels', { kind: 'case', batch: b, netWeight: '6.000' }), 'case label').serial as string;
    const pallet = async (b: string, serials: string[]) => {
      for (const s of serials) {
        const r = await scan('PALLET-1', `]C110${b}${GS}21${s}`);
        if (r.status !== 'accepted') throw new Error(`pack ${s}: ${JSON.stringify(r)}`);
      }
      const p = ok(await t.call('POST', '/stations/PALLET-1/pallet/close'), `close pallet of ${b}`);
      return { id: p.id as string, sscc: p.sscc as string };
    };
    const sa = [await caseLabel(A), await caseLabel(A)];
    const sb = [await caseLabel(B), await caseLabel(B)];
    await waitFor(async () => (await t.call('GET', '/print-jobs?state=confirmed')).body.items.length >= 4 || null, 30_000, 100, 'case labels printed');
    const P1 = await pallet(A, sa);
    const P2 = await pallet(B, sb);

    ok(await t.call('PUT', '/customers/C1', { name: 'Shop One', gln: GLN_C1 }, erp), 'C1');
    ok(await t.call('PUT', '/customers/C2', { name: 'Shop Two', gln: GLN_C2 }, erp), 'C2');
    ok(await t.call('PUT', '/deliveries/D-1', { customer: 'C1', shipTo: { gln: GLN_C1, name: 'Shop One DC' } }, erp), 'D-1');
    ok(await t.call('PUT', '/deliveries/D-2', { customer: 'C2', shipTo: { gln: GLN_C2 } }, erp), 'D-2');
    for (const n of [A, B]) await complete(n);
    for (const n of [A, INT, B]) await release(n);
    for (const [d, p] of [['D-1', P1], ['D-2', P2]] as const) {
      if ((await scan('DISPATCH-1', d)).status !== 'accepted') throw new Error(`select ${d}`);
      const r = await scan('DISPATCH-1', `]C100${p.sscc}`);
      if (r.status !== 'accepted') throw new Error(`load ${p.sscc}: ${JSON.stringify(r)}`);
      ok(await t.call('POST', `/deliveries/${d}/ship`), `ship ${d}`);
    }
    return {
      t,
      printer,
      A,
      B,
      INT,
      P1,
      P2,
      qa,
      sup,
      stop: async () => {
        await t.stop();
        await printer.stop();
      },
    };
  } catch (e) {
    await t.stop();
    await printer.stop();
    throw e;
  }
}
