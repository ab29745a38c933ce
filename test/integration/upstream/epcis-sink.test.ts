/**
 * Issue 15: the EPCIS capture sink from the running gateway against a real HTTP capture
 * interface (EPCIS 2.0 REST binding: POST /capture → 202 + Location of a capture job; GET the job)
 * that validates every document it receives with Ajv against the official GS1 EPCIS 2.0 JSON
 * Schema (vendored). Covered: events delivered as they happen, an outage (records kept in the
 * outbox, delivered after it), a failed capture job (only that record quarantined; replayed later).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { gs1CheckDigit } from '../../../src/gs1/index.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { CaptureServer } from '../../helpers/epcis-capture.js';

const withCheck = (s: string) => s + gs1CheckDigit(s);
const GTIN_RM = '09506000134369';
const GTIN_FG = withCheck('0950600013442');

let t: TestGateway;
let printer: PrinterSimulator;
const capture = new CaptureServer();
let batch: string;
const sinkState = async () => (await t.call('GET', '/upstream/sinks')).body.items.find((s: any) => s.sink === 'epcis');
const caseLabel = async () => {
  const r = await t.call('POST', '/stations/PACK-1/labels', { kind: 'case', batch, netWeight: '6.000' });
  if (r.status >= 300) throw new Error(JSON.stringify(r.body));
  return r.body.serial as string;
};

beforeAll(async () => {
  printer = new PrinterSimulator({ port: 0 });
  const pport = await printer.start();
  const port = await capture.start();
  t = await startTestGateway({
    site: { id: 'PLANT1', name: 'Test plant', timezone: 'Europe/Berlin', gs1CompanyPrefix: '9506000', gln: withCheck('950600000001') },
    stations: [
      { id: 'WEIGH-1', role: 'weighing' },
      { id: 'PACK-1', role: 'packing' },
    ],
    devices: [{ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port: pport }, timing: { pollIntervalMs: 100, idleStatusMs: 500 } }],
    upstream: { sinks: [{ id: 'epcis', kind: 'epcis', url: `http://127.0.0.1:${port}/epcis`, batch: { lingerMs: 5 }, backoff: { baseMs: 50, maxMs: 400, probeMs: 100 }, captureJob: { pollMs: 20 } }] },
  });
  const sup = (await t.call('POST', '/users', { id: 'sup1', name: 'Sam Supervisor', role: 'supervisor' })).body.token;
  await t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg', gtins: [GTIN_RM] });
  await t.call('POST', '/lots', { id: 'L-ACME', material: 'RM-1001', supplier: 'Acme', supplierLot: 'ACME-77', expiry: '2099-12-31', status: 'released', quantity: '500' });
  batch = (await t.call('POST', '/batches', { product: 'FG-A', productName: 'Product A', gtin: GTIN_FG, plannedQty: '10', unit: 'pcs', bom: [{ material: 'RM-1001', quantity: '20.000', unit: 'kg', tolerancePct: '1' }] })).body.number;
  await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' });
  await t.call('PUT', '/stations/WEIGH-1/context', { batch });
  expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-ACME' })).body.record.status).toBe('accepted');
  expect((await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '20.000', unit: 'kg' })).status).toBeLessThan(300);
  expect((await t.call('POST', `/batches/${batch}/production`, { good: '10', reason: 'counted' }, sup)).status).toBeLessThan(300);
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await printer?.stop();
  await capture.stop();
});

describe('EPCIS 2.0 capture sink', () => {
  it('sends the events of records as they happen, as schema-valid EPCISDocuments, following the capture job', async () => {
    const s1 = await caseLabel();
    const s2 = await caseLabel();
    await waitFor(() => capture.ofType('ObjectEvent', 'commissioning').length >= 2 || null, 20_000, 50, 'two commissioning events captured');
    const epcs = capture.ofType('ObjectEvent', 'commissioning').flatMap((e) => e.epcList);
    expect(epcs).toEqual(expect.arrayContaining([`https://id.gs1.org/01/${GTIN_FG}/21/${encodeURIComponent(s1)}`, `https://id.gs1.org/01/${GTIN_FG}/21/${encodeURIComponent(s2)}`]));
    expect(capture.invalid).toEqual([]);
    expect(capture.headers[0]!['content-type']).toBe('application/ld+json');
    expect(capture.headers[0]!['gs1-epcis-capture-error-behaviour']).toBe('rollback');
    // The same events as the export gives (stable ids).
    const exported = (await t.call('GET', '/exports/epcis')).body.epcisBody.eventList.filter((e: any) => e.bizStep === 'commissioning').map((e: any) => e.eventID);
    expect(exported.sort()).toEqual(capture.ofType('ObjectEvent', 'commissioning').map((e) => e.eventID).sort());
    await waitFor(async () => ((await sinkState()).backlog === 0 ? true : null), 20_000, 50, 'backlog drained');
  });

  it('an outage keeps the records; they are delivered once the capture interface is back', async () => {
    const port = capture.port;
    await capture.stop();
    const s3 = await caseLabel();
    // Completion needs every label job finished: wait until the printer has the label and the job is done.
    await waitFor(() => printer.jobs.some((j) => j.zpl.includes(s3)) || null, 20_000, 50, 'third label printed');
    await waitFor(async () => ((await t.call('GET', `/batches/${batch}/checks?stage=completion`)).body.missing?.some((m: any) => m.check === 'print_jobs') ? null : true), 20_000, 50, 'label job finished');
    const done = await t.call('POST', `/batches/${batch}/transitions`, { to: 'completed' });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const during = await waitFor(async () => {
      const s = await sinkState();
      return s.state === 'backoff' && s.backlog > 0 ? s : null;
    }, 20_000, 50, 'sink backing off with a backlog');
    expect(during.lastError.code).toBe('LG_ERR_SINK_UNREACHABLE');
    expect(capture.ofType('TransformationEvent')).toHaveLength(0);
    await capture.start(port);
    const tr = await waitFor(() => capture.ofType('TransformationEvent')[0] ?? null, 30_000, 50, 'transformation captured after the outage');
    expect(tr.inputQuantityList).toEqual([{ epcClass: `https://id.gs1.org/01/${GTIN_RM}/10/ACME-77`, quantity: 20, uom: 'KGM' }]);
    expect(tr.outputEPCList).toContain(`https://id.gs1.org/01/${GTIN_FG}/21/${encodeURIComponent(s3)}`);
    await waitFor(() => capture.ofType('ObjectEvent', 'commissioning').length >= 3 || null, 20_000, 50, 'label of the outage captured');
    await waitFor(async () => ((await sinkState()).backlog === 0 ? true : null), 20_000, 50, 'backlog drained');
    expect((await sinkState()).quarantined).toBe(0);
    expect(capture.invalid).toEqual([]);
  });

  it('a failed capture job quarantines only that record, with the job errors; replayed, it is captured', async () => {
    capture.failing = true;
    const s4 = await caseLabel(); // the only record of these that stands for an EPCIS event
    const q = await waitFor(async () => {
      const r = await t.call('GET', '/upstream/sinks/epcis/quarantine');
      return r.body.items.length > 0 ? r.body.items : null;
    }, 20_000, 50, 'quarantined');
    expect(q).toHaveLength(1);
    expect(q[0].type).toBe('label.queued');
    expect(JSON.stringify(q[0].error)).toContain('CaptureLimitExceededException');
    const epc = `https://id.gs1.org/01/${GTIN_FG}/21/${encodeURIComponent(s4)}`;
    expect(capture.ofType('ObjectEvent', 'commissioning').flatMap((e) => e.epcList)).not.toContain(epc);
    capture.failing = false;
    expect((await t.call('POST', '/upstream/sinks/epcis/quarantine/replay', { seqs: 'all' })).body.replayed).toBe(1);
    await waitFor(() => capture.ofType('ObjectEvent', 'commissioning').some((e) => e.epcList.includes(epc)) || null, 20_000, 50, 'captured after replay');
    expect(capture.invalid).toEqual([]);
  });
});
