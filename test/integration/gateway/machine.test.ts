import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { startTestGateway, seedReferenceLine, consumeReferenceBom, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 5 through the running gateway: PackML over OPC UA → batch timeline and quantities. */
describe('filling machine over OPC UA bound to the running batch', () => {
  let line: OpcuaLineSimulator;
  let t: TestGateway;
  let batch: string;
  const pki = tempDir('linegate-simpki-');
  const DEV = 'fill.plc';

  beforeAll(async () => {
    line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', initial: { state: 'Idle', good: 1000, reject: 7 } });
    const endpoint = await line.start();
    t = await startTestGateway({
      devices: [{ id: DEV, kind: 'opcua-machine', station: 'FILL-1', endpoint, securityMode: 'None', securityPolicy: 'None', nodeMap: 'packml-generic', samplingIntervalMs: 0, publishingIntervalMs: 50, autoBatchTransitions: true }],
    });
    ({ batch } = await seedReferenceLine(t));
    await waitFor(() => t.gw.drivers.get(DEV)?.health().state === 'online', 20_000, 50, 'PLC online');
    await t.call('PUT', '/stations/FILL-1/context', { batch });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await line?.stop();
    pki.cleanup();
  });

  const states = async () => (await t.call('GET', `/records?batch=${batch}&type=machine.state_changed&limit=100`)).body.items.map((r: any) => r.payload.to);

  it('starts the batch on Execute, counts good and rejected units from deltas across a PLC counter reset, completes on Complete', async () => {
    line.setState('Starting');
    await waitFor(async () => (await states()).includes('Starting'), 10_000, 50, 'Starting recorded');
    line.setState('Execute');
    await waitFor(async () => (await t.call('GET', `/batches/${batch}`)).body.status === 'in_process', 10_000, 50, 'batch in_process');
    line.produce(50, 2);
    await waitFor(async () => (await t.call('GET', `/batches/${batch}`)).body.producedQty === '50', 10_000, 50, '50 good');
    line.resetCounters(); // the PLC's counters go back to 0 mid-batch
    await new Promise((r) => setTimeout(r, 300));
    line.produce(10, 1);
    line.setState('Held');
    await new Promise((r) => setTimeout(r, 300));
    line.setState('Execute');
    line.produce(5, 0);
    await consumeReferenceBom(t, batch); // the completion checks need the BOM consumed (10.6)
    line.setState('Completing');
    line.setState('Complete');
    const b = await waitFor(async () => {
      const r = (await t.call('GET', `/batches/${batch}`)).body;
      return r.status === 'completed' && r.producedQty === '65' ? r : null;
    }, 15_000, 50, 'batch completed with 65 good');
    expect(b.rejectedQty).toBe('3');
    expect(await states()).toEqual(expect.arrayContaining(['Starting', 'Execute', 'Held', 'Complete']));
    const ms = (await t.call('GET', `/batches/${batch}/machine-states`)).body;
    expect(ms.msInState.Execute).toBeGreaterThan(0);
    expect(ms.msInState.Held).toBeGreaterThan(0);
    const history = (await t.call('GET', `/records?batch=${batch}&type=batch.status_changed`)).body.items.map((r: any) => [r.payload.to, r.payload.by]);
    expect(history).toEqual([
      ['in_process', expect.stringMatching(/fill\.plc|system/)],
      ['completed', expect.stringMatching(/fill\.plc|system/)],
    ]);
  }, 60_000);

  it('records the link gap when the PLC goes away and comes back', async () => {
    await line.stop();
    await waitFor(async () => (await t.call('GET', `/records?device=${DEV}&type=machine.link_lost`)).body.items.length > 0, 15_000, 100, 'link_lost');
    line = new OpcuaLineSimulator({ port: Number(new URL((t.gw.cfg.devices[0]!.endpoint as string).replace('opc.tcp:', 'http:')).port), pkiDir: join(pki.path), opc30050: false, machine: 'FILL1', initial: { state: 'Stopped', good: 0, reject: 0 } });
    await line.start();
    await waitFor(async () => (await t.call('GET', `/records?device=${DEV}&type=machine.link_restored`)).body.items.length > 0, 20_000, 100, 'link_restored');
    expect(t.gw.drivers.get(DEV)!.health().state).toBe('online');
  }, 60_000);
});
