import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Issue 10.4 through the running gateway and a real node-opcua server: a machine binds to the batch
 * selected at ITS station or to none — never to "the line's latest in_process batch".
 */
describe('10.4 a machine binds to the batch selected at its station, or to none', () => {
  let line: OpcuaLineSimulator;
  let t: TestGateway;
  let batch: string;
  const pki = tempDir('linegate-simpki-');
  const DEV = 'fill.plc';

  beforeAll(async () => {
    line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', initial: { state: 'Idle', good: 200, reject: 0 } });
    const endpoint = await line.start();
    t = await startTestGateway({
      devices: [{ id: DEV, kind: 'opcua-machine', station: 'FILL-1', endpoint, securityMode: 'None', securityPolicy: 'None', nodeMap: 'packml-generic', samplingIntervalMs: 0, publishingIntervalMs: 50, autoBatchTransitions: true }],
    });
    ({ batch } = await seedReferenceLine(t));
    await waitFor(() => t.gw.drivers.get(DEV)?.health().state === 'online', 20_000, 50, 'PLC online');
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await line?.stop();
    pki.cleanup();
  });

  const getBatch = async () => (await t.call('GET', `/batches/${batch}`)).body;
  const records = async (q: string) => (await t.call('GET', `/records?device=${DEV}&${q}&limit=1000`)).body.items as any[];

  it('10.4 clearing the station batch stops machine bookings: counts go unbound (LG_ERR_NO_ACTIVE_BATCH), Complete moves nothing', async () => {
    // The filler runs the batch: selected at FILL-1, started by Execute, 10 units booked.
    expect((await t.call('PUT', '/stations/FILL-1/context', { batch })).status).toBe(200);
    line.setState('Execute');
    await waitFor(async () => (await getBatch()).status === 'in_process', 10_000, 50, 'batch in_process');
    line.produce(10, 1);
    await waitFor(async () => (await getBatch()).producedQty === '10', 10_000, 50, '10 booked');

    // Cleaning: the station's batch is cleared while the batch stays in_process on the line.
    expect((await t.call('PUT', '/stations/FILL-1/context', { batch: null })).status).toBe(200);
    line.produce(7, 2);
    const unbound = await waitFor(async () => {
      const r = await records('type=counter.updated&status=rejected');
      return r.some((x) => x.payload.field === 'goodCount' && x.payload.delta === '7') ? r : null;
    }, 10_000, 50, 'unbound counter records');
    const good = unbound.find((x) => x.payload.field === 'goodCount' && x.payload.delta === '7');
    expect(good).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_NO_ACTIVE_BATCH', batch: null, station: 'FILL-1' });
    // A PackML Complete during cleaning is a line-level fact, not a reason to complete the batch.
    line.setState('Complete');
    await waitFor(async () => (await records('type=machine.state_changed')).some((x) => x.payload.to === 'Complete' && x.batch === null), 10_000, 50, 'Complete recorded unbound');
    const during = await getBatch();
    expect(during).toMatchObject({ status: 'in_process', producedQty: '10', rejectedQty: '1' });

    // Back in production: the batch selected again gets only what is made from now on.
    expect((await t.call('PUT', '/stations/FILL-1/context', { batch })).status).toBe(200);
    line.setState('Execute');
    line.produce(3, 0);
    await waitFor(async () => (await getBatch()).producedQty === '13', 10_000, 50, '13 booked');
    expect((await getBatch()).rejectedQty).toBe('1');
  }, 60_000);
});
