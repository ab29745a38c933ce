/**
 * The OPC UA driver + bindMachine against ONE in-process simulator (a real node-opcua server),
 * reused by every test here: server start-up costs seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { listOpcuaCertificates, trustOpcuaCertificate } from '../../../src/drivers/opcua/index.js';
import type { OpcuaMachineDriver } from '../../../src/drivers/opcua/index.js';
import { stateDurations } from '../../../src/binding/machine.js';
import { tempDir } from '../../helpers/tmp.js';
import { ManualClock } from '../../../src/util/clock.js';
import { freePort, waitFor } from '../../helpers/net.js';
import { StoreSink, harness, machineConfig } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let sim: OpcuaLineSimulator;
let endpoint: string;
const dirs: { cleanup: () => void }[] = [];
const drivers: OpcuaMachineDriver[] = [];

function stateDir(): string {
  const d = tempDir('linegate-opcua-');
  dirs.push(d);
  return d.path;
}

beforeAll(async () => {
  const pki = tempDir('linegate-opcua-sim-');
  dirs.push(pki);
  sim = new OpcuaLineSimulator({ pkiDir: pki.path, port: 0 });
  endpoint = await sim.start();
});

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.stop()));
  await sim?.stop();
  for (const d of dirs) d.cleanup();
});

/** Drive the line through a batch: every step separated by more than one publishing interval. */
async function scriptedRun(step = 120): Promise<void> {
  const s = async (fn: () => void) => {
    fn();
    await sleep(step);
  };
  await s(() => sim.setState('Resetting'));
  await s(() => sim.setState('Idle'));
  await s(() => sim.setState('Starting'));
  await s(() => sim.setState('Execute'));
  for (let i = 0; i < 4; i++) await s(() => sim.produce(10, i % 2));
  await s(() => sim.setStopReason(12, 'Infeed starved'));
  await s(() => sim.setState('Held'));
  await s(() => sim.setState('Execute'));
  await s(() => sim.resetCounters()); // the PLC's counter reset, mid-batch
  await s(() => sim.produce(7, 0));
  await s(() => sim.produce(8, 1));
  await s(() => sim.setState('Completing'));
  await s(() => sim.setState('Complete'));
}
const EXPECTED_STATES = ['Resetting', 'Idle', 'Starting', 'Execute', 'Held', 'Execute', 'Completing', 'Complete'];

describe('opcua-machine against the line simulator', () => {
  it('generic PackTags map: a scripted run gives the state records and exact totals across a PLC counter reset', async () => {
    sim.setState('Stopped');
    sim.setCounters(500, 20); // the PLC has counted before this batch: a baseline, not production
    const { driver, readings, model } = harness(machineConfig(endpoint, { autoBatchTransitions: true }), stateDir());
    drivers.push(driver);
    model.autoBatchTransitions = true;
    model.startBatch('20261122-001', 'planned');
    const store = new StoreSink(); // the same readings through the real journal and store
    store.startBatch('20261122-001');
    driver.on('reading', (r) => store.onReading(r));
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.health().state === 'online', 15_000, 25, 'online');
    await waitFor(() => model.ofType('counter.updated').length >= 2 && model.ofType('machine.state_changed').length >= 1, 5_000);

    await scriptedRun();
    await waitFor(() => model.ofType('machine.state_changed').at(-1)?.payload.to === 'Complete', 5_000, 25, 'Complete');
    await waitFor(() => model.totals('20261122-001').good === '55' && model.totals('20261122-001').rejected === '3', 5_000, 25, 'totals');

    const changes = model.ofType('machine.state_changed').map((r) => r.payload.to);
    expect(changes).toEqual(['Stopped', ...EXPECTED_STATES]);
    const execute = model.ofType('machine.state_changed').find((r) => r.payload.to === 'Execute')!;
    expect(execute.payload).toMatchObject({ from: 'Starting', stateNumber: 6, raw: 6, fromNumber: 3 });
    expect(execute.payload.sourceTime).toBeTypeOf('string');
    expect(execute.payload.serverTime).toBeTypeOf('string');
    expect(model.ofType('counter.updated').map((r) => r.payload.step)).toContain('reset');
    expect(model.totals('20261122-001')).toEqual({ good: '55', rejected: '3' });
    expect(model.batches.get('20261122-001')!.status).toBe('completed');
    expect(model.ofType('machine.stop_reason').at(-1)?.payload.value).toBe(12);
    // Every reading keeps source, server and receive time.
    const counterReading = readings.find((r) => r.field === 'goodCount')!;
    expect(counterReading.sourceTime).toBeInstanceOf(Date);
    expect(counterReading.serverTime).toBeInstanceOf(Date);
    expect(counterReading.meta).toMatchObject({ counterBits: 32 });
    expect(typeof counterReading.meta!.skewMs).toBe('number');

    const batch = model.records.filter((r) => r.batch === '20261122-001').map((r) => ({ type: r.type, payload: r.payload, receivedAt: r.receivedAt as Date }));
    const d = stateDurations(batch);
    expect(Object.keys(d).sort()).toEqual(['Completing', 'Execute', 'Held', 'Idle', 'Resetting', 'Starting', 'Stopped'].sort());
    expect(d.Execute!).toBeGreaterThan(d.Held!);
    await waitFor(() => store.totals('20261122-001').good === '55' && store.totals('20261122-001').rejected === '3', 5_000, 25, 'store totals');
    expect(store.count('machine.state_changed')).toBe(EXPECTED_STATES.length + 1);
    expect(store.failures).toEqual([]);
    await driver.stop();
    await store.close();
    expect(driver.health().state).toBe('stopped');
  }, 60_000);

  it('10.3 counter jump is a counter.discontinuity, not production: PackTags ProdProcessedCount 10 → 4,294,967,235 and a +926 preset on a 10 units/s filler', async () => {
    sim.run(0);
    sim.setState('Execute');
    sim.setCounters(10, 0);
    // At most 200 units/s for this machine: a 100 ms sample may step by 20 (headroom for a loaded
    // test machine whose server samples late), never by 926.
    // The generic PackTags map (UInt32 Admin.ProdProcessedCount): the OPC 30050 structure would
    // first make the client discover the data types, seconds on a loaded machine.
    const cfg = machineConfig(endpoint, { samplingIntervalMs: 100, publishingIntervalMs: 100, counterMaxRatePerSecond: 200 });
    const { driver, model } = harness(cfg, stateDir());
    drivers.push(driver);
    model.startBatch('B-103', 'in_process');
    const store = new StoreSink();
    store.startBatch('B-103');
    driver.on('reading', (r) => store.onReading(r));
    try {
      await driver.start(new AbortController().signal);
      await waitFor(() => driver.health().state === 'online', 15_000, 25, 'online');
      await waitFor(() => model.ofType('counter.updated').some((r) => r.payload.field === 'goodCount' && r.payload.value === '10'), 30_000, 25, 'baseline 10');
      const madeBefore = sim.accGood;
      const made = () => String(sim.accGood - madeBefore);
      // The line runs at 10 units/s between the faults; it pauses for each fault so that the units
      // of a sampling interval overwritten by the PLC's own jump do not blur the exact total.
      const runFor = async (units: number) => {
        const target = sim.accGood + units;
        sim.run(10); // 1 unit per 100 ms
        await waitFor(() => sim.accGood >= target, 15_000, 10, `${units} units made`);
        sim.run(0);
        await waitFor(() => model.totals('B-103').good === made(), 10_000, 25, 'all made units booked');
      };
      await runFor(5);
      sim.setCounters(4294967235, 0); // what a DINT Count of −61 reads as unsigned
      await waitFor(() => model.ofType('counter.discontinuity').length === 1, 10_000, 25, 'jump recorded');
      await runFor(5);
      sim.setCounters((sim.good + 926) % 2 ** 32, 0); // a preset: +926 at once
      await waitFor(() => model.ofType('counter.discontinuity').length === 2, 10_000, 25, 'preset recorded');
      await runFor(5);
      // Everything the machine made is booked, nothing of the jump or the preset.
      expect(model.totals('B-103').good).toBe(made());
      expect(Number(made())).toBeGreaterThanOrEqual(15);
      const [jump, preset] = model.ofType('counter.discontinuity');
      expect(jump).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_COUNTER_DISCONTINUITY', batch: 'B-103' });
      expect(Number(jump!.payload.previous)).toBeLessThan(1000);
      expect(Number(jump!.payload.value)).toBeGreaterThanOrEqual(4294967235);
      expect(['wrap', 'increment']).toContain(preset!.payload.step); // just below 2^32, +926 goes past the top: a wrap, still implausible
      expect(BigInt(preset!.payload.delta as string)).toBeGreaterThanOrEqual(926n);
      expect(model.ofType('counter.updated').every((r) => BigInt(r.payload.delta as string) <= 20n)).toBe(true);
      // The real journal and store agree, and hold both discontinuity records.
      await waitFor(() => store.totals('B-103').good === made(), 10_000, 25, 'store totals');
      expect(store.count('counter.discontinuity')).toBe(2);
      expect(store.failures).toEqual([]);
    } finally {
      sim.run(0);
      await driver.stop();
      await store.close();
    }
  }, 90_000);

  it('an unreachable endpoint: offline with LG_ERR_OPCUA_CONNECT_FAILED, start() does not block, stop() is bounded', async () => {
    const port = await freePort();
    const { driver } = harness(machineConfig(`opc.tcp://127.0.0.1:${port}/nothing`), stateDir());
    const t0 = Date.now();
    await driver.start(new AbortController().signal);
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor(() => driver.health().lastError?.code === 'LG_ERR_OPCUA_CONNECT_FAILED', 15_000, 25, 'connect failed');
    expect(driver.health().state).toBe('offline');
    const t1 = Date.now();
    await driver.stop();
    expect(Date.now() - t1).toBeLessThan(10_000);
    expect(driver.health().state).toBe('stopped');
  }, 60_000);

  it('flags readings whose server time is further from the gateway clock than maxClockSkewMs', async () => {
    sim.setState('Idle');
    const gatewayClock = new ManualClock(new Date(Date.now() + 3_600_000)); // gateway one hour ahead
    const { driver, readings, model } = harness(machineConfig(endpoint, { maxClockSkewMs: 5_000 }), stateDir(), gatewayClock);
    drivers.push(driver);
    await driver.start(new AbortController().signal);
    await waitFor(() => readings.some((r) => r.field === 'state'), 15_000, 25, 'state reading');
    const st = readings.find((r) => r.field === 'state')!;
    expect(st.meta).toMatchObject({ clockSkew: true });
    expect(st.meta!.skewMs as number).toBeGreaterThan(3_500_000);
    expect(model.ofType('machine.state_changed')[0]!.payload).toMatchObject({ clockSkew: true });
    await driver.stop();
  }, 60_000);

  it('a wrong node id is reported with its node id and field while the other items keep working', async () => {
    sim.setState('Idle');
    const bad = 'nsu=urn:linegate:sim:opcua-line;s=FILL1.Admin.NoSuchCounter';
    const { driver, readings, model } = harness(machineConfig(endpoint, { nodes: { goodCount: { nodeId: bad } } }), stateDir());
    drivers.push(driver);
    model.startBatch('B-NODE', 'in_process');
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.health().state === 'degraded', 15_000, 25, 'degraded');
    const h = driver.health();
    expect(h.lastError?.code).toBe('LG_ERR_OPCUA_NODE_INVALID');
    expect(h.lastError?.message).toContain('goodCount');
    expect(h.details.nodeErrors).toEqual([expect.objectContaining({ field: 'goodCount', code: 'LG_ERR_OPCUA_NODE_INVALID', nodeId: bad })]);
    const err = readings.find((r) => r.error?.code === 'LG_ERR_OPCUA_NODE_INVALID')!;
    expect(err).toMatchObject({ field: 'goodCount', error: { details: { nodeId: bad, field: 'goodCount' } } });
    expect(model.ofType('machine.reading_rejected')[0]).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_OPCUA_NODE_INVALID' });

    await waitFor(() => model.ofType('counter.updated').length >= 1, 5_000, 25, 'reject counter baseline');
    sim.setState('Execute');
    sim.produce(5, 2);
    await waitFor(() => model.totals('B-NODE').rejected === '2', 5_000, 25, 'rejects still counted');
    await waitFor(() => model.ofType('machine.state_changed').at(-1)?.payload.to === 'Execute', 5_000, 25, 'state still monitored');
    expect(model.totals('B-NODE').good).toBe('0');
    await driver.stop();
  }, 60_000);

  it('a subscription the server silently dropped is noticed (no data, no keep-alive) and recreated; counting resumes', async () => {
    sim.setState('Execute');
    const { driver, model } = harness(machineConfig(endpoint, { staleAfterMs: 1000 }), stateDir());
    drivers.push(driver);
    model.startBatch('B-WD', 'in_process');
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.health().state === 'online', 15_000, 25, 'online');
    await waitFor(() => model.ofType('counter.updated').length >= 2, 5_000, 25, 'baselines');
    sim.produce(4, 1);
    await waitFor(() => model.totals('B-WD').good === '4', 5_000, 25, 'before');
    expect(sim.dropSubscriptions()).toBeGreaterThanOrEqual(1);
    sim.produce(6, 1); // made while the gateway's subscription is gone
    await waitFor(() => driver.stats.subscriptionsRecreated >= 1, 10_000, 25, 'subscription recreated');
    sim.produce(5, 0);
    await waitFor(() => model.totals('B-WD').good === '15' && model.totals('B-WD').rejected === '2', 5_000, 25, 'after');
    expect(driver.stats.reconnects).toBe(0); // same session, only the subscription was rebuilt
    await driver.stop();
  }, 60_000);

  it('SignAndEncrypt: an untrusted server certificate is refused until trusted; then the OPC 30050 browse-path map works', async () => {
    sim.setState('Stopped');
    const dir = stateDir();
    const cfg = machineConfig(endpoint, { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', nodeMap: 'opc30050-packml' });
    const { driver, readings, model } = harness(cfg, dir);
    drivers.push(driver);
    model.startBatch('B-30050', 'in_process');
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.health().lastError?.code === 'LG_ERR_OPCUA_CERT_UNTRUSTED', 15_000, 25, 'untrusted');
    const h = driver.health();
    expect(h.state).toBe('offline');
    const thumbprint = h.details.untrustedServerCertificate as string;
    expect(thumbprint).toMatch(/^[0-9a-f]{40}$/);
    expect(h.lastError!.message).toContain(thumbprint);
    expect(readings.filter((r) => r.field !== 'link')).toEqual([]); // nothing read from an untrusted server
    expect(listOpcuaCertificates(dir)).toEqual([expect.objectContaining({ thumbprint, status: 'rejected' })]);

    const trusted = await trustOpcuaCertificate(dir, thumbprint.slice(0, 12));
    expect(trusted).toMatchObject({ thumbprint, status: 'trusted' });
    await waitFor(() => driver.health().state === 'online', 15_000, 25, 'online after trust');
    await waitFor(() => model.ofType('machine.state_changed').length >= 1 && model.ofType('counter.updated').length >= 2, 15_000, 25, 'initial values');

    await scriptedRun(150);
    await waitFor(() => model.ofType('machine.state_changed').at(-1)?.payload.to === 'Complete', 5_000, 25, 'Complete');
    await waitFor(() => model.totals('B-30050').good === '55' && model.totals('B-30050').rejected === '3', 5_000, 25, 'totals');
    expect(model.ofType('machine.state_changed').map((r) => r.payload.to)).toEqual(['Stopped', ...EXPECTED_STATES]);
    // States came by NAME from the nested state machines, numbered TR88 for the record.
    const held = model.ofType('machine.state_changed').find((r) => r.payload.to === 'Held')!;
    expect(held.payload).toMatchObject({ stateNumber: 11, raw: [{ text: 'Cleared' }, { text: 'Running' }, { text: 'Held' }] });
    expect(model.ofType('machine.stop_reason').at(-1)?.payload.value).toBe(12);
    await driver.stop();
  }, 60_000);
});
