import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { waitFor } from '../../helpers/net.js';
import { makeDriver } from './helpers.js';

describe('serial scanner over raw TCP (serial device server in TCP server mode)', () => {
  let sim: ScannerSimulator;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    sim = new ScannerSimulator({ mode: 'tcp', port: 0 });
    await sim.start();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    await sim.stop();
  });

  function start(overrides: Record<string, unknown> = {}) {
    const d = makeDriver({ profile: 'honeywell-1900', transport: { type: 'tcp', host: '127.0.0.1', port: sim.tcpPortNumber }, overrides });
    cleanups.push(() => d.driver.stop());
    void d.driver.start(new AbortController().signal);
    return d;
  }

  it('frames the same way as the serial port: split writes, CRLF across chunks, several scans per write, overlong', async () => {
    const { driver, readings, nth } = start({ maxFrameBytes: 64 });
    await waitFor(() => driver.state === 'online' && sim.clients === 1, 5000, 10, 'connected');
    await sim.scan('0109506000134352{GS}10ABC', { aim: ']C1', suffix: 'CRLF', chunkSize: 4, chunkDelayMs: 3 });
    await sim.sendRaw(Buffer.from('ONE\r'));
    await sim.sendRaw(Buffer.from('\nTWO\r\nTHREE\r\n'));
    await sim.scan('L'.repeat(500), { suffix: 'CRLF' });
    await sim.scan('AFTER', { suffix: 'CRLF' });
    await nth(6);
    expect(readings.map((r) => [r.raw.toString('latin1'), r.error?.code ?? null])).toEqual([
      [']C10109506000134352\x1d10ABC', null],
      ['ONE', null],
      ['TWO', null],
      ['THREE', null],
      ['L'.repeat(64), 'LG_ERR_SCAN_TOO_LONG'],
      ['AFTER', null],
    ]);
    expect(driver.health().details).toMatchObject({ transport: 'tcp', host: '127.0.0.1', port: sim.tcpPortNumber, profile: 'honeywell-1900' });
  });

  it('device server off → offline with an operator message; back on → reconnects; beeps are never replayed', async () => {
    const { driver, readings, nth } = start();
    await waitFor(() => driver.state === 'online' && sim.clients === 1, 5000, 10, 'connected');
    driver.feedback({ accepted: true });
    await waitFor(() => sim.received().length === 3, 2000, 10, 'good beep');
    expect(sim.received().toString('hex')).toBe('1b372c'); // Honeywell Host ACK [ESC]7,
    sim.clearReceived();

    await sim.unplug();
    await waitFor(() => driver.state === 'offline', 2000, 10, 'offline within 2 s');
    driver.feedback({ accepted: false });
    await waitFor(() => driver.health().lastError?.code === 'LG_ERR_DEVICE_OPEN_FAILED', 3000, 20, 'refused reconnect');
    expect(driver.health().lastError!.message).toContain(`tcp://127.0.0.1:${sim.tcpPortNumber}`);
    expect(driver.health().lastError!.message).toContain('connection refused');

    await sim.replug();
    await waitFor(() => driver.state === 'online' && sim.clients === 1, 5000, 10, 'reconnected');
    await sim.scan('NEXT', { suffix: 'CRLF' });
    await nth(1);
    expect(readings[0]!.raw.toString()).toBe('NEXT');
    await new Promise((r) => setTimeout(r, 200));
    expect(sim.received().length).toBe(0);
    driver.feedback({ accepted: false });
    await waitFor(() => sim.received().length === 6, 2000, 10, 'bad beep');
    expect(sim.received().toString('hex')).toBe('1b382c1b382c');
  });
});
