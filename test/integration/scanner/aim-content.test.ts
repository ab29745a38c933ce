import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 10, items 15–17, through the path where they were seen: a scanner on a real socat pty
 * with AIM identifiers on (`aimIds: true`) → serial driver → GS1 parser → binder → journal →
 * records API.
 */
describe('issue 10.15–10.17 scanning, scanner on a real pty with AIM identifiers', () => {
  let t: TestGateway;
  let sim: ScannerSimulator;
  let batch: string;
  const GS = '\x1d';
  const DEV = 'line1.weigh.scanner';

  beforeAll(async () => {
    sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
    t = await startTestGateway({
      devices: [{ id: DEV, kind: 'serial-scanner', station: 'WEIGH-1', profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath }, overrides: { aimIds: true } }],
    });
    ({ batch } = await seedReferenceLine(t));
    await waitFor(() => t.gw.drivers.get(DEV)?.health().state === 'online', 10_000, 25, 'scanner online');
  });
  afterAll(async () => {
    await t?.stop();
    await sim?.stop();
  });

  interface Rec {
    seq: number;
    type: string;
    status: string;
    errorCode: string | null;
    lot: string | null;
    batch: string | null;
    payload: Record<string, any>;
  }
  let lastSeq = 0;
  async function scan(text: string, aim: string): Promise<Rec> {
    await sim.scan(text, { aim });
    const recs = await waitFor(async () => {
      const r = await t.call('GET', `/records?device=${DEV}&after=${lastSeq}`);
      return r.body.items.length >= 1 ? (r.body.items as Rec[]) : null;
    }, 15_000, 20, `record for ${aim}${text.slice(0, 40)}`);
    expect(recs).toHaveLength(1);
    lastSeq = recs[0]!.seq;
    return recs[0]!;
  }

  it('10.15 a batch number and an internal lot label in plain Code 128 (]C0), QR (]Q1) and Code 39 (]A0) are stripped of their AIM identifier and bound; the identifier stays on the record', async () => {
    const b = await scan(batch, ']C0');
    expect(b).toMatchObject({ type: 'batch.selected', status: 'accepted', batch });
    expect(b.payload).toMatchObject({ aim: ']C0', symbology: 'code128', raw: `]C0${batch}` });

    const lot = await scan('L-1001-A', ']C0');
    expect(lot, JSON.stringify(lot)).toMatchObject({ type: 'lot.scanned', status: 'accepted', lot: 'L-1001-A', batch });
    expect(lot.payload).toMatchObject({ aim: ']C0', symbology: 'code128', lotCode: 'L-1001-A' });

    const qr = await scan('L-1001-EXP', ']Q1');
    expect(qr).toMatchObject({ type: 'lot.scanned', status: 'rejected', errorCode: 'LG_ERR_LOT_EXPIRED', lot: 'L-1001-EXP' });
    expect(qr.payload).toMatchObject({ aim: ']Q1', symbology: 'qr' });

    const c39 = await scan('L-1001-HOLD', ']A0');
    expect(c39).toMatchObject({ type: 'lot.scanned', errorCode: 'LG_ERR_LOT_ON_HOLD', lot: 'L-1001-HOLD' });
    expect(c39.payload).toMatchObject({ aim: ']A0', symbology: 'code39' });
  });

  it('10.17 a valid GS1 code with a GTIN but no lot (AI 10) is LG_ERR_GS1_LOT_MISSING, not LG_ERR_GS1_INVALID', async () => {
    const r = await scan(`0109506000134369` + `17451231`, ']C1');
    expect(r).toMatchObject({ type: 'lot.scanned', status: 'rejected', errorCode: 'LG_ERR_GS1_LOT_MISSING' });
    expect(r.payload.details).toMatchObject({ gtin: '09506000134369', material: 'RM-1001' });
    expect(r.payload.gs1).toEqual({ '01': '09506000134369', '17': '2045-12-31' });
  });

  it('10.17 valid GS1 data with neither GTIN nor SSCC (a lot-only code) is LG_ERR_GS1_KEY_MISSING, not "unrecognised"', async () => {
    const r = await scan(`10ACME-77${GS}` + `17451231`, ']C1');
    expect(r).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_GS1_KEY_MISSING' });
    expect(r.payload.details).toMatchObject({ ais: '10, 17' });
    expect(r.payload.gs1Raw).toEqual({ '10': 'ACME-77', '17': '451231' });
  });

  it('10.16 a scan whose GS1 content fails a dictionary check is refused with the linter named; a valid one keeps raw and normalised values', async () => {
    const bad = await scan(`0109506000134369` + `10ACME-77${GS}` + `422163`, ']C1');
    expect(bad).toMatchObject({ type: 'scan.rejected', status: 'rejected', errorCode: 'LG_ERR_GS1_INVALID' });
    expect(bad.payload.details).toMatchObject({ ai: '422', value: '163', linter: 'iso3166', linterError: 'GS1_LINTER_NOT_ISO3166' });

    const good = await scan(`0109506000134369` + `7007260101260105${GS}` + `10ACME-77${GS}` + `422276`, ']C1');
    expect(good, JSON.stringify(good)).toMatchObject({ type: 'lot.scanned', status: 'accepted', lot: 'L-1001-A' });
    expect(good.payload.gs1).toMatchObject({ '01': '09506000134369', '7007': '2026-01-01/2026-01-05', '10': 'ACME-77', '422': '276' });
    expect(good.payload.gs1Raw).toEqual({ '01': '09506000134369', '7007': '260101260105', '10': 'ACME-77', '422': '276' });
    expect(good.payload.elementString).toBe('(01)09506000134369(7007)260101260105(10)ACME-77(422)276');
    expect(good.payload).toMatchObject({ aim: ']C1', symbology: 'gs1-128' });
  });

  it('10.16 a 12-digit ]E0 (UPC-A not sent as EAN-13) is refused, not padded into a GTIN', async () => {
    // 036000291452 is a valid UPC-A; padded it would be GTIN 00036000291452, but ]E0 carries 13 digits.
    const r = await scan('036000291452', ']E0');
    expect(r).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_GS1_INVALID' });
    expect(String(r.payload.details.detail)).toContain('13 digits');
  });
});
