import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 3 acceptance through the whole path: socat pty → serial driver → GS1 parser → binder →
 * journal → records API, with the gateway running.
 */
describe('scanner on a real pty, gateway running', () => {
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

  let lastSeq = 0;
  /** Scan, then wait for the records it produced (they are committed before the beep). */
  async function scan(text: string | Buffer, opts: Parameters<ScannerSimulator['scan']>[1] = {}, expected = 1) {
    await sim.scan(text, opts);
    const recs = await waitFor(async () => {
      const r = await t.call('GET', `/records?device=${DEV}&after=${lastSeq}`);
      return r.body.items.length >= expected ? r.body.items : null;
    }, 10_000, 20, `record(s) for ${JSON.stringify(String(text).slice(0, 40))}`);
    lastSeq = recs[recs.length - 1].seq;
    return recs as Array<{ type: string; status: string; errorCode: string | null; lot: string | null; batch: string | null; id: string }>;
  }

  it('binds the batch scan, then accepts a GS1-128 lot of the right material and makes it active', async () => {
    expect((await scan(batch))[0]).toMatchObject({ type: 'batch.selected', status: 'accepted' });
    const [ok] = await scan(`0109506000134369` + `10ACME-77${GS}17451231`, { aim: ']C1' });
    expect(ok).toMatchObject({ type: 'lot.scanned', status: 'accepted', lot: 'L-1001-A', batch });
    expect((await t.call('GET', '/stations/WEIGH-1')).body.lots).toEqual({ 'RM-1001': 'L-1001-A' });
  });

  it('refuses wrong material, expired, on hold, quarantined and unknown lots with their codes', async () => {
    const cases: Array<[string, string]> = [
      ['L-1010-A', 'LG_ERR_MATERIAL_NOT_IN_BOM'],
      ['L-1001-EXP', 'LG_ERR_LOT_EXPIRED'],
      ['L-1001-HOLD', 'LG_ERR_LOT_ON_HOLD'],
      ['L-1001-Q', 'LG_ERR_LOT_QUARANTINED'],
    ];
    for (const [lot, code] of cases) expect((await scan(lot))[0]!.errorCode, lot).toBe(code);
    const [unknown] = await scan(`0109506000134369` + `10NEVER-SEEN`, { aim: ']C1' });
    expect(unknown!.errorCode).toBe('LG_ERR_UNKNOWN_LOT');
    const [dm] = await scan(`0109506000134369` + `17200131` + `10ACME-12`, { aim: ']d2' });
    expect(dm!.errorCode).toBe('LG_ERR_LOT_EXPIRED');
  });

  it('records a supervisor override of a refused scan', async () => {
    const [refused] = await scan('L-1001-Q');
    const sup = await t.call('POST', '/users', { id: 'sup-pty', name: 'Sup', role: 'supervisor' });
    const o = await t.call('POST', `/records/${refused!.id}/override`, { reason: 'QA released it on paper' }, sup.body.token);
    expect(o.body).toMatchObject({ type: 'lot.override', status: 'accepted', lot: 'L-1001-Q' });
    lastSeq = Math.max(lastSeq, o.body.seq);
  });

  it('turns garbage, a 10 kB line, a stale partial frame and control characters into rejected records; the next good scan is accepted', async () => {
    const garbage = await scan(Buffer.from([0xff, 0xfe, 0x80, 0x41, 0x42, 0x0d]), { suffix: 'none' });
    expect(garbage[0]).toMatchObject({ status: 'rejected' });
    expect(garbage[0]!.errorCode).toMatch(/^LG_ERR_SCAN_(UNRECOGNISED|UNPARSEABLE|CONTROL_CHARS)$/);
    const long = await scan('X'.repeat(10_240));
    expect(long[0]).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_SCAN_TOO_LONG' });
    const nul = await scan(`L-1001-A\x00\x07`);
    expect(nul[0]).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_SCAN_CONTROL_CHARS' });
    // A frame cut off without its terminator, then a good scan after a pause: two records.
    await sim.sendRaw(Buffer.from('0109506000134'));
    await new Promise((r) => setTimeout(r, 1500));
    const after = await scan('L-1001-A', {}, 2);
    expect(after[0]).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_SCAN_UNPARSEABLE' });
    expect(after[1]).toMatchObject({ type: 'lot.scanned', status: 'accepted', lot: 'L-1001-A' });
    expect((await t.call('GET', '/health/ready', undefined, null)).status).toBe(200);
  });

  it('counts the same code twice within the window once', async () => {
    await new Promise((r) => setTimeout(r, 400)); // clear of the previous test's last scan
    await sim.scan('L-1001-A');
    await sim.scan('L-1001-A');
    const recs = await waitFor(async () => {
      const r = await t.call('GET', `/records?device=${DEV}&after=${lastSeq}`);
      return r.body.items.length >= 2 ? r.body.items : null;
    });
    lastSeq = recs[recs.length - 1].seq;
    expect(recs.map((r: any) => [r.type, r.status])).toEqual([
      ['lot.scanned', 'accepted'],
      ['scan.duplicate', 'rejected'],
    ]);
  });

  it('goes offline within 2 s of an unplug, comes back on replug, and records the next scan', async () => {
    const t0 = Date.now();
    await sim.unplug();
    await waitFor(() => t.gw.drivers.get(DEV)!.health().state === 'offline', 2000, 10, 'offline within 2 s');
    const took = Date.now() - t0;
    expect(took).toBeLessThanOrEqual(2000);
    const health = await t.call('GET', '/health/ready', undefined, null);
    expect(health.body.status).toBe('degraded');
    await sim.replug();
    await waitFor(() => t.gw.drivers.get(DEV)!.health().state === 'online', 15_000, 25, 'online after replug');
    await new Promise((r) => setTimeout(r, 400)); // outside the duplicate window of the previous scan
    const [r] = await scan('L-1001-A', {}, 1);
    expect(r, JSON.stringify(r)).toMatchObject({ type: 'lot.scanned', status: 'accepted' });
  });
});
