/**
 * The PLC restarts: the simulator runs as a CHILD PROCESS, is killed with SIGKILL and a new process
 * takes its place on the same port with the same PKI. The driver must reconnect by itself, record
 * the gap, and keep the batch totals exact (including what the PLC counted while we were blind).
 * Also: SignAndEncrypt with a user name and password, and trust given from a certificate FILE.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { trustOpcuaCertificate } from '../../../src/drivers/opcua/index.js';
import type { OpcuaMachineDriver } from '../../../src/drivers/opcua/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { freePort, waitFor } from '../../helpers/net.js';
import { SimProcess, StoreSink, harness, machineConfig } from './helpers.js';

const sims: SimProcess[] = [];
const cleanups: (() => void)[] = [];
let driver: OpcuaMachineDriver | null = null;

afterAll(async () => {
  await driver?.stop();
  await Promise.all(sims.map((s) => s.kill()));
  for (const c of cleanups) c();
});

describe('opcua-machine across a PLC restart (simulator process killed and restarted)', () => {
  it('reconnects within 10 s, records link_lost/link_restored with the gap, totals stay exact', async () => {
    const simPki = tempDir('linegate-opcua-simpki-');
    const state = tempDir('linegate-opcua-state-');
    cleanups.push(simPki.cleanup, state.cleanup);
    const port = await freePort();
    const args = ['--port', String(port), '--pki', simPki.path, '--user', 'operator:s3cret!', '--no-opc30050'];

    const first = new SimProcess();
    sims.push(first);
    await first.start([...args, '--state', 'Idle', '--good', '1000', '--reject', '10']);
    // A person trusts the PLC's certificate from a file (e.g. exported from the PLC's web page).
    const serverCert = join(simPki.path, 'server', 'own', 'certs', 'certificate.pem');
    const trusted = await trustOpcuaCertificate(state.path, serverCert);
    expect(trusted.status).toBe('trusted');

    // A wrong password is refused with a clear code, and the driver keeps retrying quietly.
    const wrong = harness(machineConfig(first.endpoint, { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', auth: { type: 'username', username: 'operator', password: 'nope' } }), state.path);
    await wrong.driver.start(new AbortController().signal);
    await waitFor(() => wrong.driver.health().lastError?.code === 'LG_ERR_OPCUA_CONNECT_FAILED', 20_000, 25, 'wrong password refused');
    expect(wrong.driver.health().lastError!.message).toMatch(/Bad(UserAccessDenied|IdentityTokenRejected|IdentityTokenInvalid)/);
    await wrong.driver.stop();

    const cfg = machineConfig(first.endpoint, {
      securityMode: 'SignAndEncrypt',
      securityPolicy: 'Aes128_Sha256_RsaOaep',
      auth: { type: 'username', username: 'operator', password: 's3cret!' },
      staleAfterMs: 2000,
    });
    const h = harness(cfg, state.path);
    driver = h.driver;
    const { model, readings } = h;
    model.startBatch('20261122-007', 'in_process');
    // The same readings also go through the real journal and store.
    const store = new StoreSink();
    cleanups.push(() => void store.close());
    store.startBatch('20261122-007');
    driver.on('reading', (r) => store.onReading(r));
    await driver.start(new AbortController().signal);
    await waitFor(() => driver!.health().state === 'online', 20_000, 25, 'online');
    await waitFor(() => model.ofType('counter.updated').length >= 2, 5_000, 25, 'baselines');

    await first.cmd('state Execute');
    await first.cmd('produce 100 3');
    await waitFor(() => model.totals('20261122-007').good === '100' && model.totals('20261122-007').rejected === '3', 5_000, 25, 'first totals');

    // The PLC dies hard.
    await first.kill('SIGKILL');
    await waitFor(() => readings.some((r) => r.field === 'link' && r.value === 'lost'), 10_000, 25, 'link lost');
    expect(driver.health().state).not.toBe('online');

    // It comes back as a new process; its retentive counters went on while we were blind (+30/+1).
    const second = new SimProcess();
    sims.push(second);
    await second.start([...args, '--state', 'Execute', '--good', '1130', '--reject', '14']);
    const restartedAt = Date.now();
    await waitFor(() => readings.some((r) => r.field === 'link' && r.value === 'restored'), 10_000, 25, 'link restored within 10 s');
    const resumedMs = Date.now() - restartedAt;
    expect(resumedMs).toBeLessThan(10_000);
    await waitFor(() => driver!.health().state === 'online', 5_000, 25, 'online again');

    await second.cmd('produce 20 1');
    await waitFor(() => model.totals('20261122-007').good === '150', 5_000, 25, 'good total after restart');
    await waitFor(() => model.totals('20261122-007').rejected === '5', 5_000, 25, 'reject total after restart');

    const lost = model.ofType('machine.link_lost');
    const restored = model.ofType('machine.link_restored');
    expect(lost).toHaveLength(1);
    expect(restored).toHaveLength(1);
    expect(lost[0]).toMatchObject({ status: 'accepted', batch: '20261122-007' });
    expect(restored[0]!.payload.since).toBe(lost[0]!.payload.since);
    expect(restored[0]!.payload.gapMs).toBeGreaterThan(0);
    // The state after the gap is a confirmation of Execute, not a new transition.
    expect(model.ofType('machine.state_changed').map((r) => r.payload.to)).toEqual(['Idle', 'Execute']);
    expect(model.ofType('machine.state_confirmed').at(-1)?.payload.state).toBe('Execute');
    expect(driver.health().details).toMatchObject({ reconnects: 1 });
    // The real store agrees: produced/rejected quantities on the batch row, gap records journaled.
    await waitFor(() => store.totals('20261122-007').good === '150' && store.totals('20261122-007').rejected === '5', 5_000, 25, 'store totals');
    expect(store.count('machine.link_lost')).toBe(1);
    expect(store.count('machine.link_restored')).toBe(1);
    expect(store.count('machine.state_changed')).toBe(2);
    expect(store.failures).toEqual([]);

    await driver.stop();
    driver = null;
  }, 90_000);
});
