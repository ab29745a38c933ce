import { afterEach, expect, it } from 'vitest';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 11.11 through the running gateway: a label waiting in needs_confirmation makes
 * /health/ready `degraded` with the job named, and the station's live stream (SSE) shows it.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface SseEvent {
  event: string;
  data: any;
}

/** Read a station's SSE stream in the background; every complete event lands in `events`. */
async function openStream(t: TestGateway, station: string): Promise<{ events: SseEvent[]; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${t.url}/stations/${station}/events`, { headers: { authorization: `Bearer ${t.adminToken}` }, signal: ac.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return { events, close: () => ac.abort() };
}

it('11.11 a label waiting in needs_confirmation makes /health/ready degraded with the job named, and the station stream shows it', async () => {
  const printer = new PrinterSimulator({ port: 0 });
  const port = await printer.start();
  cleanups.push(() => printer.stop());
  const t = await startTestGateway({
    devices: [{ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port }, timing: { pollIntervalMs: 50, idleStatusMs: 200 } }],
  });
  cleanups.push(() => t.stop());
  const health = async () => (await t.call('GET', '/health/ready')).body;
  await waitFor(async () => (await health()).status === 'ready', 20_000, 50, 'gateway ready with the printer ready');

  await t.call('PUT', '/materials/WIDGET-A', { name: 'Widget A', unit: 'pcs', gtins: ['09506000134352'], shelfLifeDays: 180 });
  const batch = (await t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [] })).body.number;
  expect((await t.call('PUT', '/stations/PACK-1/context', { batch })).status).toBe(200);

  const stream = await openStream(t, 'PACK-1');
  cleanups.push(() => stream.close());
  await waitFor(() => stream.events.some((e) => e.event === 'context'), 10_000, 20, 'stream open');

  // The printer prints the label, then drops the connection before the gateway could confirm it.
  printer.resetAfterNextJob();
  const posted = await t.call('POST', '/stations/PACK-1/labels', { kind: 'case', netWeight: '6.125' });
  expect(posted.status).toBe(201);
  const jobId: string = posted.body.jobId;
  await waitFor(async () => (await t.call('GET', `/print-jobs?state=needs_confirmation`)).body.items.some((j: any) => j.id === jobId), 20_000, 50, 'job needs confirmation');

  // The printer itself is fine again (reconnected, answers ~HS): the job alone keeps health degraded.
  const h = await waitFor(async () => {
    const b = await health();
    return b.subsystems.printers.printers[0]?.ready === true ? b : null;
  }, 20_000, 50, 'printer ready again');
  expect(h.status).toBe('degraded');
  expect(h.subsystems.printers.state).toBe('degraded');
  expect(h.subsystems.printers.needsConfirmationTotal).toBe(1);
  expect(h.subsystems.printers.needsConfirmation).toEqual([
    expect.objectContaining({ job: jobId, labelId: posted.body.labelId, printer: 'pack.printer', station: 'PACK-1', batch, serial: posted.body.serial, code: 'LG_ERR_PRINTER_CONNECTION_LOST' }),
  ]);

  const shown = await waitFor(() => stream.events.find((e) => e.event === 'print-job' && e.data.id === jobId && e.data.state === 'needs_confirmation'), 10_000, 20, 'print-job event on the stream');
  expect(shown.data).toMatchObject({ printer: 'pack.printer', serial: posted.body.serial, errorCode: 'LG_ERR_PRINTER_CONNECTION_LOST' });

  // The operator confirms the label is on the case: ready again, and the stream says so.
  expect(printer.jobs).toHaveLength(1);
  const d = await t.call('POST', `/print-jobs/${jobId}/decision`, { decision: 'printed', reason: 'label is on the case' });
  expect(d.status).toBe(200);
  const after = await waitFor(async () => {
    const b = await health();
    return b.status === 'ready' ? b : null;
  }, 20_000, 50, 'ready after the decision');
  expect(after.subsystems.printers).toMatchObject({ state: 'online', needsConfirmation: [], needsConfirmationTotal: 0 });
  await waitFor(() => stream.events.find((e) => e.event === 'print-job' && e.data.id === jobId && e.data.state === 'confirmed'), 10_000, 20, 'confirmed on the stream');
}, 60_000);
