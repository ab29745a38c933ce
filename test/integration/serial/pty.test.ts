import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { waitFor } from '../../helpers/net.js';
import { makeDriver } from './helpers.js';

const GS = '\x1d';
const LOT = `0109506000134352${'10'}ABC123${GS}17261231`;

describe('serial scanner through a real pty (socat)', () => {
  let sim: ScannerSimulator;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    await sim.stop();
  });

  function start(overrides: Record<string, unknown> = {}, profile = 'generic-usb-cdc') {
    const d = makeDriver({ profile, transport: { type: 'serial', path: sim.gatewayPath }, overrides });
    cleanups.push(() => d.driver.stop());
    void d.driver.start(new AbortController().signal);
    return d;
  }

  it('delivers scans byte-exact: AIM id, GS separators, split writes, two scans in one write', async () => {
    const { driver, readings, nth } = start();
    await waitFor(() => driver.state === 'online', 5000, 10, 'online');
    await sim.scan(LOT, { aim: ']C1' });
    await sim.scan(LOT, { aim: ']d2', chunkSize: 3, chunkDelayMs: 2 });
    await sim.sendRaw(Buffer.from(`]Q3A${GS}B\r]E09506000134352\r`, 'latin1'));
    await nth(4);
    expect(readings.map((r) => r.raw.toString('latin1'))).toEqual([`]C1${LOT}`, `]d2${LOT}`, `]Q3A${GS}B`, ']E09506000134352']);
    expect(readings.every((r) => !r.error && r.kind === 'scan' && r.deviceId === 'line1.pack.scanner')).toBe(true);
    expect(readings[0]!.raw.includes(0x1d)).toBe(true);
    expect(driver.health().details).toMatchObject({ transport: 'serial', path: sim.gatewayPath, counts: { frames: 4, errors: 0 } });
    expect(driver.health().lastReadingAt).not.toBeNull();
  });

  it('garbage, a 10 kB line, a partial without terminator, NUL/control bytes: right frames, and the good scan after each is intact', async () => {
    const { driver, readings, nth } = start({ staleFrameMs: 300 });
    await waitFor(() => driver.state === 'online', 5000, 10, 'online');
    const good = `]C1${LOT}`;
    const garbage = Buffer.from([0xff, 0xfe, 0x80, 0x1b, 0x5b, 0x41, 0x00, 0x9c]);

    await sim.sendRaw(Buffer.concat([garbage, Buffer.from('\r')]));
    await sim.scan(good);
    await sim.scan('Z'.repeat(10 * 1024), { chunkSize: 1000 });
    await sim.scan(good);
    await sim.sendRaw('10LOT12'); // the scanner was interrupted: no CR
    await new Promise((r) => setTimeout(r, 800)); // > staleFrameMs (300) with margin for a busy machine
    await sim.scan(good);
    await sim.sendRaw(Buffer.from([0x41, 0x00, 0x42, 0x07, 0x1d, 0x7f, 0x0d]));
    await sim.scan(good);
    await nth(8);

    const view = readings.map((r) => ({ hex: r.raw.toString('hex'), code: r.error?.code ?? null }));
    const goodHex = Buffer.from(good, 'latin1').toString('hex');
    expect(view[0]).toEqual({ hex: garbage.toString('hex'), code: null }); // the binder rejects it
    expect(view[1]).toEqual({ hex: goodHex, code: null });
    expect(view[2]!.code).toBe('LG_ERR_SCAN_TOO_LONG');
    expect(readings[2]!.error!.details).toMatchObject({ length: 10 * 1024, max: 4096 });
    expect(view[3]).toEqual({ hex: goodHex, code: null });
    expect(view[4]).toEqual({ hex: Buffer.from('10LOT12').toString('hex'), code: 'LG_ERR_SCAN_UNPARSEABLE' });
    expect(readings[4]!.error!.details).toMatchObject({ reason: 'incomplete' });
    expect(view[5]).toEqual({ hex: goodHex, code: null });
    expect(view[6]).toEqual({ hex: '410042071d7f', code: null }); // NUL, BEL, GS, DEL pass through
    expect(view[7]).toEqual({ hex: goodHex, code: null });
    expect(readings).toHaveLength(8);
    expect(driver.state).toBe('online');
  });

  it('unplug → offline within 2 s with a coded error; replug → online and the next scan arrives', async () => {
    const { driver, readings, nth } = start();
    await waitFor(() => driver.state === 'online', 5000, 10, 'online');
    await sim.scan('BEFORE');
    await nth(1);

    await sim.unplug();
    await waitFor(() => driver.state === 'offline', 2000, 10, 'offline within 2 s');
    const err = driver.health().lastError;
    expect(['LG_ERR_DEVICE_DISCONNECTED', 'LG_ERR_DEVICE_OPEN_FAILED']).toContain(err?.code);
    // Keep it unplugged long enough for failed reopen attempts, then check the operator message.
    await waitFor(() => driver.health().lastError?.code === 'LG_ERR_DEVICE_OPEN_FAILED', 3000, 20, 'open failure reported');
    expect(driver.health().lastError!.message).toContain(`scanner line1.pack.scanner: ${sim.gatewayPath}`);
    expect(driver.health().lastError!.message).toContain('not found');
    expect(driver.health().lastError!.message).toContain('check the cable or the udev rule');

    await sim.replug();
    await waitFor(() => driver.state === 'online', 5000, 10, 'online again');
    await sim.scan('AFTER');
    await nth(2);
    expect(readings.map((r) => r.raw.toString())).toEqual(['BEFORE', 'AFTER']);
    expect(driver.stats.connects).toBe(2);
  });

  it('feedback written while unplugged is never replayed after replug', async () => {
    const { driver, nth } = start({ feedback: { good: '06', bad: '15 15' } });
    await waitFor(() => driver.state === 'online', 5000, 10, 'online');
    driver.feedback({ accepted: true });
    await waitFor(() => sim.received().length === 1, 2000, 10, 'good beep');
    expect(sim.received().toString('hex')).toBe('06');
    sim.clearReceived();

    await sim.unplug();
    // Straight after the pull (the driver may not have seen the close yet) and after it.
    for (let i = 0; i < 5; i++) driver.feedback({ accepted: i % 2 === 0 });
    await waitFor(() => driver.state === 'offline', 2000, 10, 'offline');
    for (let i = 0; i < 5; i++) driver.feedback({ accepted: false });
    expect(driver.stats.feedbackDropped).toBeGreaterThanOrEqual(5);

    await sim.replug();
    await waitFor(() => driver.state === 'online', 5000, 10, 'online again');
    await sim.scan('X');
    await nth(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.received().length).toBe(0); // nothing replayed

    driver.feedback({ accepted: false });
    await waitFor(() => sim.received().length === 2, 2000, 10, 'bad beep');
    expect(sim.received().toString('hex')).toBe('1515');
  });

  it('a scanner without suffix: frames end on the inter-character silence', async () => {
    // Generous numbers: the simulator shares this process (and 2 busy cores), so its own write
    // gaps can stretch; the exact timeout rules are unit-tested on the Framer with fake times.
    const { driver, readings, nth } = start({ terminator: 'none', interCharTimeoutMs: 250 });
    await waitFor(() => driver.state === 'online', 5000, 10, 'online');
    await sim.scan(LOT, { aim: ']d2', suffix: 'none', chunkSize: 5 }); // several writes, no pause
    await new Promise((r) => setTimeout(r, 800));
    await sim.scan('SECOND\r', { suffix: 'none' }); // CR is data here
    await nth(2);
    expect(readings.map((r) => [r.raw.toString('latin1'), r.error ?? null])).toEqual([
      [`]d2${LOT}`, null],
      ['SECOND\r', null],
    ]);
  });

  it('aborting the start signal stops the driver', async () => {
    const d = makeDriver({ profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath } });
    cleanups.push(() => d.driver.stop());
    const ac = new AbortController();
    await d.driver.start(ac.signal);
    await waitFor(() => d.driver.state === 'online', 5000, 10, 'online');
    ac.abort();
    await waitFor(() => d.driver.state === 'stopped', 2000, 10, 'stopped');
    await sim.scan('IGNORED');
    await new Promise((r) => setTimeout(r, 100));
    expect(d.readings).toHaveLength(0);
    // …and it can be started again (the gateway restarts a driver after a config reload).
    // The scan made while stopped is not lost silently (issue 10.9): queued on the pty before the
    // restart it becomes one rejected record (age unknown, see replug.test.ts); if socat relayed it
    // only after the reopen (busy machine), it is an ordinary scan. Either way it is there once.
    await d.driver.start(new AbortController().signal);
    await waitFor(() => d.driver.state === 'online', 5000, 10, 'online after restart');
    await sim.scan('AGAIN');
    await d.nth(2);
    expect(d.readings).toHaveLength(2);
    expect(d.readings[0]!.raw.toString().replace(/\r$/, '')).toBe('IGNORED');
    expect([null, 'LG_ERR_SCAN_QUEUED_BEFORE_START']).toContain(d.readings[0]!.error?.code ?? null);
    expect([d.readings[1]!.raw.toString(), d.readings[1]!.error ?? null]).toEqual(['AGAIN', null]);
  });

  it('stop() is idempotent, bounded and delivers a pending partial as incomplete', async () => {
    const { driver, readings } = start();
    await waitFor(() => driver.state === 'online', 5000, 10, 'online');
    await sim.sendRaw('HALF');
    await waitFor(() => driver.stats.bytes === 4, 2000, 5, 'bytes in');
    const t0 = Date.now();
    await Promise.all([driver.stop(), driver.stop()]);
    await driver.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(driver.state).toBe('stopped');
    expect(readings.map((r) => [r.raw.toString(), r.error?.code])).toEqual([['HALF', 'LG_ERR_SCAN_UNPARSEABLE']]);
  });
});
