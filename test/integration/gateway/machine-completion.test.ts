import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { startTestGateway, seedReferenceLine, consumeReferenceBom, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 10.6 through OPC UA: a PackML Complete is checked like a person's completion. */
describe('automatic completion from PackML obeys the completion checks', () => {
  let line: OpcuaLineSimulator;
  let t: TestGateway;
  let batch: string;
  const pki = tempDir('linegate-simpki-');
  const DEV = 'fill.plc';

  beforeAll(async () => {
    line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', initial: { state: 'Idle', good: 100, reject: 0 } });
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

  const get = async () => (await t.call('GET', `/batches/${batch}`)).body;

  it('10.6 a machine Complete with nothing consumed does not complete the batch: a rejected batch.transition_refused record says why; once consumed a supervisor completes it', async () => {
    line.setState('Execute');
    await waitFor(async () => (await get()).status === 'in_process', 10_000, 50, 'batch in_process');
    line.produce(40, 1);
    await waitFor(async () => (await get()).producedQty === '40', 10_000, 50, '40 good');
    line.setState('Complete');
    const refused = await waitFor(async () => (await t.call('GET', `/records?batch=${batch}&type=batch.transition_refused`)).body.items[0], 10_000, 50, 'refusal recorded');
    expect(refused).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_BATCH_CHECKS_FAILED', device: DEV, payload: { from: 'in_process', to: 'completed', role: 'system' } });
    expect(refused.payload.missing.map((m: any) => m.code)).toEqual(['LG_ERR_CHECK_BOM_UNDER', 'LG_ERR_CHECK_BOM_UNDER']);
    const cause = (await t.call('GET', `/records/${refused.payload.cause}`)).body;
    expect(cause).toMatchObject({ type: 'machine.state_changed', payload: { to: 'Complete' } });
    expect((await get()).status).toBe('in_process');
    expect((await t.call('GET', `/records?batch=${batch}&type=batch.status_changed`)).body.items.map((r: any) => r.payload.to)).toEqual(['in_process']);

    // The machine counted: a supervisor's entry would count twice.
    const sup = await t.call('POST', '/users', { id: 'sup1', name: 'Sam', role: 'supervisor' });
    const dup = await t.call('POST', `/batches/${batch}/production`, { good: '40', reason: 'typed' }, sup.body.token);
    expect(dup.body.code).toBe('LG_ERR_PRODUCTION_ALREADY_RECORDED');

    await consumeReferenceBom(t, batch);
    const done = await t.call('POST', `/batches/${batch}/transitions`, { to: 'completed', reason: 'PLC completed before weighing was booked' }, sup.body.token);
    expect(done.status).toBe(200);
    expect(done.body.batch).toMatchObject({ status: 'completed', producedQty: '40', rejectedQty: '1' });
    expect(done.body.record.payload.checks.produced).toMatchObject({ good: '40', machineCounted: true, manualEntries: [] });
  }, 60_000);
});
