/**
 * Issue 15: closing a pallet whose SSCC label cannot be issued leaves nothing half-written — the
 * pallet is open again at its station with all its cases, and a rejected record says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

let t: TestGateway;
let printer: PrinterSimulator;
beforeAll(async () => {
  printer = new PrinterSimulator({ port: 0 });
  const port = await printer.start();
  // No company prefix: case labels print (serials), an SSCC cannot be allocated.
  t = await startTestGateway({
    site: { id: 'PLANT1', timezone: 'Europe/Berlin' },
    stations: [
      { id: 'PACK-1', role: 'packing' },
      { id: 'PALLET-1', role: 'palletising', policies: { duplicateWindowMs: 0 } },
    ],
    devices: [{ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port }, timing: { pollIntervalMs: 100, idleStatusMs: 500 } }],
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await printer?.stop();
});

describe('pallet close failure (issue 15)', () => {
  it('15.1 a pallet whose SSCC label cannot be issued stays open with its cases; handling_unit.close_failed carries the code', async () => {
    const b = (await t.call('POST', '/batches', { product: 'FG', productName: 'FG', gtin: '09506000134352', plannedQty: '10', unit: 'pcs', bom: [] })).body.number;
    await t.call('POST', `/batches/${b}/transitions`, { to: 'in_process' });
    const serial = (await t.call('POST', '/stations/PACK-1/labels', { kind: 'case', batch: b, netWeight: '1.000' })).body.serial;
    expect(serial).toBeTruthy();
    const packed = (await t.call('POST', '/stations/PALLET-1/scans', { data: `]C110${b}\x1d21${serial}` })).body.record;
    expect(packed.status).toBe('accepted');
    expect((await t.call('POST', '/stations/PALLET-1/scans', { data: 'CMD-PALLET-CLOSE' })).body.record.status).toBe('accepted');
    const failed = await waitFor(async () => (await t.call('GET', '/records?type=handling_unit.close_failed')).body.items[0], 20_000, 50, 'close_failed');
    expect(failed.status).toBe('rejected');
    expect(failed.errorCode).toBe('LG_ERR_LABEL_TEMPLATE');
    const pallet = (await t.call('GET', `/pallets/${packed.payload.pallet}`)).body;
    expect(pallet.status).toBe('open');
    expect(pallet.sscc).toBeNull();
    expect(pallet.cases.map((c: any) => c.serial)).toEqual([serial]);
    // It is still the station's open pallet: the close can be asked again (and fails the same way).
    expect((await t.call('POST', '/stations/PALLET-1/pallet/close')).body.code).toBe('LG_ERR_HU_PALLET_STATE');
    expect((await t.call('GET', `/pallets/${packed.payload.pallet}`)).body.status).toBe('open');
  });
});
