import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpcuaLineSimulator, SIM_NAMESPACE } from '../../../simulators/opcua-line/line.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Issue 18, process values from an OPC UA machine through the running gateway: a real node-opcua
 * server (the line simulator), the machine driver's `values:` monitored items, the value filter,
 * the binder and the journal. The machine speed is the process value here; a node that does not
 * exist on the server is a rejected record and the device's error, the rest keeps working.
 */
describe('process values over OPC UA', () => {
  let line: OpcuaLineSimulator;
  let t: TestGateway;
  const pki = tempDir('linegate-simpki-');
  const state = tempDir('linegate-opcua-values-');
  const DEV = 'fill.plc';
  let endpoint = '';

  const device = () => ({
    id: DEV,
    kind: 'opcua-machine',
    station: 'FILL-1',
    endpoint,
    securityMode: 'None',
    securityPolicy: 'None',
    nodeMap: 'packml-generic',
    samplingIntervalMs: 0,
    publishingIntervalMs: 50,
    values: [
      { name: 'speed', unit: 'ppm', nodeId: `nsu=${SIM_NAMESPACE};s=FILL1.Status.CurMachSpeed`, deadband: { absolute: 5 }, range: { min: 0, max: 500 } },
      { name: 'ghost', unit: '°C', nodeId: `nsu=${SIM_NAMESPACE};s=FILL1.Status.NoSuchTemperature` },
    ],
  });
  const values = async (name: string) =>
    ((await t.call('GET', `/records?type=process.value&device=${DEV}&limit=1000`)).body.items as any[]).filter((r) => r.payload.name === name).sort((a, b) => a.seq - b.seq);
  const start = async () => {
    t = await startTestGateway({ devices: [device()] }, { stateDir: state.path });
    await waitFor(() => (t.gw.drivers.get(DEV)?.health().details as any)?.values?.[0]?.monitored === true, 30_000, 50, 'speed monitored');
  };

  beforeAll(async () => {
    line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', initial: { state: 'Idle', good: 0, reject: 0 } });
    endpoint = await line.start();
    line.setSpeed(100);
    await start();
  }, 90_000);
  afterAll(async () => {
    await t?.stop();
    await line?.stop();
    pki.cleanup();
    state.cleanup();
  });

  it('records the first value and changes beyond the deadband; out of range is rejected', async () => {
    await waitFor(async () => (await values('speed')).length >= 1, 20_000, 50, 'first speed');
    for (const v of [102, 104, 110, 112, 600, 120]) {
      line.setSpeed(v);
      // Each its own sample: wait until the server's value is sampled (publishing 50 ms).
      await new Promise((r) => setTimeout(r, 150));
    }
    const recs = await waitFor(async () => {
      const r = await values('speed');
      return r.some((x) => x.payload.value === 120) ? r : null;
    }, 20_000, 50, 'speed 120 recorded');
    expect(recs.map((r) => (r.status === 'accepted' ? r.payload.value : r.errorCode))).toEqual([100, 110, 'LG_ERR_VALUE_OUT_OF_RANGE', 120]);
    expect(recs[0]).toMatchObject({ station: 'FILL-1', device: DEV, payload: { unit: 'ppm', quality: 'good', reason: 'first', nodeId: expect.stringContaining('CurMachSpeed'), sourceQuality: 'Good' } });
    expect(recs[0].sourceTime).not.toBeNull();
  });

  it('an unknown node is a rejected record with LG_ERR_VALUE_SOURCE_UNKNOWN and the device error; other values go on', async () => {
    const ghost = await values('ghost');
    expect(ghost.length).toBeGreaterThanOrEqual(1);
    expect(ghost[0]).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_VALUE_SOURCE_UNKNOWN', payload: { name: 'ghost', nodeId: expect.stringContaining('NoSuchTemperature') } });
    const h = t.gw.drivers.get(DEV)!.health();
    expect((h.details as any).valueSourceErrors.map((e: any) => e.name)).toEqual(['ghost']);
  });

  it('binds to the station batch, and a restart resumes the deadband from the journal (no second record of an unchanged value)', async () => {
    const b = await t.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [] });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    await t.call('PUT', '/stations/FILL-1/context', { batch: b.body.number });
    line.setSpeed(200);
    const rec = await waitFor(async () => (await values('speed')).find((r) => r.payload.value === 200), 20_000, 50, 'speed 200');
    expect(rec.batch).toBe(b.body.number);
    const before = (await values('speed')).length;
    await t.stop();
    line.setSpeed(203); // inside the deadband of the last record (200)
    await start();
    // The subscription's first sample (203) arrives and is within the band: nothing new.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await values('speed')).length).toBe(before);
    line.setSpeed(260);
    const after = await waitFor(async () => (await values('speed')).find((r) => r.payload.value === 260), 20_000, 50, 'speed 260');
    expect(after).toMatchObject({ status: 'accepted', batch: b.body.number, payload: { reason: 'change' } });
  });
});
