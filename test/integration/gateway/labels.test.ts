import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../../src/broker/embedded.js';
import { ScaleSimulator } from '../../../simulators/scale/simulator.js';
import { PrinterSimulator, zplFieldData } from '../../../simulators/printer/printer-sim.js';
import { baseConfig, seedReferenceLine, startTestGateway } from '../../helpers/gateway.js';
import { startDaemon, writeConfig, type Daemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 6 through the running gateway: triggers → durable print queue → TCP printer. */
describe('labels from the running gateway', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const printerDevice = (port: number) => ({ id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port }, timing: { pollIntervalMs: 100, idleStatusMs: 500 } });

  it('a stable case weight at packing prints one case label bound to the batch, with its serial and net weight', async () => {
    const printer = new PrinterSimulator({ port: 0 });
    const port = await printer.start();
    cleanups.push(() => printer.stop());
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanups.push(() => broker.close());
    const t = await startTestGateway({
      devices: [
        printerDevice(port),
        { id: 'pack.scale', kind: 'mqtt-scale', station: 'PACK-1', profile: 'json-generic', broker: { url: broker.url, clientId: 'lg-pack-scale' }, topic: 'test/pack/scale' },
      ],
    });
    cleanups.push(() => t.stop());
    const { batch } = await seedReferenceLine(t);
    await t.call('PUT', '/stations/PACK-1/context', { batch });
    await waitFor(() => t.gw.drivers.get('pack.scale')?.health().state === 'online', 10_000, 25, 'scale online');
    const sim = new ScaleSimulator({ url: broker.url, topic: 'test/pack/scale', format: 'json', rateHz: 50, continuous: true, clientId: 'sim-pack' });
    await sim.start();
    cleanups.push(() => sim.stop());
    await sim.place('6.125', { settleMs: 50, holdMs: 300 });
    await sim.remove({ settleMs: 20, holdMs: 100 });
    const printed = await waitFor(async () => {
      const r = await t.call('GET', `/records?batch=${batch}&type=label.printed`);
      return r.body.items[0];
    }, 20_000, 50, 'label.printed');
    expect(printed.status).toBe('accepted');
    expect(printer.jobs).toHaveLength(1);
    const data = zplFieldData(printer.jobs[0]!.zpl).join(' ');
    expect(data).toContain(batch);
    expect(data).toContain('3103006125'); // (3103) net 6.125 kg
    const labels = await t.call('GET', `/labels?batch=${batch}`);
    expect(labels.body.items).toHaveLength(1);
    expect(labels.body.items[0].serial).toMatch(/^L1-\d+$/);
    const capture = (await t.call('GET', `/records?batch=${batch}&type=weight.captured`)).body.items[0];
    const queued = (await t.call('GET', `/records?batch=${batch}&type=label.queued`)).body.items[0];
    expect(queued.payload.trigger).toEqual({ type: 'weight.captured', recordId: capture.id });
  });

  it('kill -9 with jobs queued behind a paper-out printer: after restart each prints exactly once', async () => {
    const printer = new PrinterSimulator({ port: 0, state: 'paper_out' });
    const port = await printer.start();
    cleanups.push(() => printer.stop());
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = writeConfig(dir.path, { ...baseConfig(dir.path), devices: [printerDevice(port)], log: { level: 'info' } });
    let d: Daemon = await startDaemon(file, dir.path);
    cleanups.push(() => d.proc.kill('SIGKILL'));
    const call = async (dd: Daemon, method: string, path: string, body?: unknown) => {
      const r = await fetch(dd.url + path, { method, headers: { authorization: `Bearer ${dd.token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json()) as any };
    };
    await call(d, 'PUT', '/materials/WIDGET-A', { name: 'Widget A', unit: 'pcs', gtins: ['09506000134352'], shelfLifeDays: 180 });
    const b = await call(d, 'POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [] });
    await call(d, 'PUT', '/stations/PACK-1/context', { batch: b.body.number });
    const serials: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await call(d, 'POST', '/stations/PACK-1/labels', { kind: 'case', netWeight: `6.${100 + i}` });
      expect(r.status).toBe(201);
      serials.push(r.body.serial);
    }
    // Held: the printer says paper out.
    await waitFor(async () => (await call(d, 'GET', '/printers')).body.items[0]?.condition === 'paper_out', 10_000, 50, 'paper out seen');
    expect(printer.jobs).toHaveLength(0);
    d.proc.kill('SIGKILL');
    await d.exited;
    printer.setState('ok');
    d = await startDaemon(file, dir.path);
    await waitFor(() => printer.jobs.length >= 12, 30_000, 50, '12 labels printed');
    await new Promise((r) => setTimeout(r, 1500)); // nothing more may come
    const printedSerials = printer.jobs.map((j) => serials.find((s) => new RegExp(`Serial ${s}(?![0-9])`).test(zplFieldData(j.zpl).join(' '))));
    expect(printer.jobs).toHaveLength(12);
    expect(new Set(printedSerials).size).toBe(12);
    expect(printedSerials.every(Boolean)).toBe(true);
  });
});
