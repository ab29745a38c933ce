/**
 * serialport's own mock binding (byte level, no OS): open failures, data in, feedback out,
 * and the pitfall that motivates a NEW port object per connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPortMock } from 'serialport';
import type { SerialPortLike } from '../../../src/drivers/serial/links.js';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { SerialPort } from 'serialport';
import { waitFor } from '../../helpers/net.js';
import { makeDriver } from './helpers.js';

describe('serial scanner with serialport mock binding', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    SerialPortMock.binding.reset();
  });

  it('reads frames, writes feedback, and uses a new port object for every connection', async () => {
    SerialPortMock.binding.createPort('/dev/ROBOT', { echo: false, record: true });
    const ports: SerialPortMock[] = [];
    const { driver, readings, nth } = makeDriver(
      { profile: 'generic-usb-cdc', transport: { type: 'serial', path: '/dev/ROBOT', baudRate: 9600 }, overrides: { feedback: { good: '07' } } },
      {
        checkPath: false,
        serialPortFactory: (o) => {
          const p = new SerialPortMock(o);
          ports.push(p);
          return p as unknown as SerialPortLike;
        },
      },
    );
    cleanups.push(() => driver.stop());
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.state === 'online', 3000, 10, 'online');
    expect(driver.health().details).toMatchObject({ baudRate: 9600, parity: 'none' }); // transport beats profile
    ports[0]!.port!.emitData(Buffer.from(']C1AB\x1dCD\rEF'));
    await nth(1);
    ports[0]!.port!.emitData(Buffer.from('\r'));
    await nth(2);
    expect(readings.map((r) => r.raw.toString('latin1'))).toEqual([']C1AB\x1dCD', 'EF']);
    driver.feedback({ accepted: true });
    driver.feedback({ accepted: false }); // no bad beep in this profile: nothing written
    await waitFor(() => ports[0]!.port!.recording.length === 1, 2000, 10, 'beep recorded');
    expect(ports[0]!.port!.recording.toString('hex')).toBe('07');

    // The port closes under the driver (as on an unplug): the driver must report it and reconnect
    // with a NEW object (the mock binding would refuse a second open of a still-open object anyway).
    const first = ports[0]!;
    await new Promise<void>((r) => first.close(() => r()));
    await waitFor(() => driver.stats.disconnects === 1, 2000, 10, 'disconnect seen');
    expect(driver.health().lastError?.code).toBe('LG_ERR_DEVICE_DISCONNECTED');
    await waitFor(() => driver.state === 'online', 3000, 10, 'online again');
    expect(ports.length).toBeGreaterThanOrEqual(2);
    expect(ports[ports.length - 1]).not.toBe(first);
  });

  it('a reading listener that throws does not stop the data path', async () => {
    SerialPortMock.binding.createPort('/dev/ROBOT2', { echo: false, record: true });
    const ports: SerialPortMock[] = [];
    const { driver, readings, nth } = makeDriver(
      { profile: 'generic-usb-cdc', transport: { type: 'serial', path: '/dev/ROBOT2' } },
      {
        checkPath: false,
        serialPortFactory: (o) => {
          const p = new SerialPortMock(o);
          ports.push(p);
          return p as unknown as SerialPortLike;
        },
      },
    );
    driver.on('reading', () => {
      throw new Error('buggy listener');
    });
    cleanups.push(() => driver.stop());
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.state === 'online', 3000, 10, 'online');
    ports[0]!.port!.emitData(Buffer.from('ONE\r'));
    await nth(1);
    ports[0]!.port!.emitData(Buffer.from('TWO\r'));
    await nth(2);
    expect(readings.map((r) => r.raw.toString())).toEqual(['ONE', 'TWO']);
    expect(driver.state).toBe('online');
  });

  it('a missing port is an open failure with a coded, operator-readable error and the driver keeps retrying', async () => {
    const { driver } = makeDriver(
      { profile: 'generic-usb-cdc', transport: { type: 'serial', path: '/dev/NOPE' } },
      { checkPath: false, serialPortFactory: (o) => new SerialPortMock(o) as unknown as SerialPortLike },
    );
    cleanups.push(() => driver.stop());
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.stats.openFailures >= 2, 3000, 10, 'two attempts');
    expect(driver.state).toBe('offline');
    expect(driver.health().lastError?.code).toBe('LG_ERR_DEVICE_OPEN_FAILED');
    expect(driver.health().lastError?.message).toContain('scanner line1.pack.scanner: /dev/NOPE');
  });
});

describe('serialport pitfall (why the driver never reuses a port object)', () => {
  it('a write after the disconnect is replayed when the SAME object is reopened', async () => {
    // This documents the library behaviour the driver defends against (DEPENDENCIES.md). If this
    // test starts failing, serialport changed: re-check the assumption, the driver stays correct.
    const sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
    const port = new SerialPort({ path: sim.gatewayPath, baudRate: 115200, autoOpen: false });
    port.on('error', () => undefined);
    port.on('data', () => undefined);
    try {
      await new Promise<void>((r, j) => port.open((e) => (e ? j(e) : r())));
      await sim.unplug();
      await waitFor(() => !port.isOpen, 2000, 10, 'port closed');
      port.write(Buffer.from('STALE-BEEP'));
      await sim.replug();
      await new Promise<void>((r, j) => port.open((e) => (e ? j(e) : r())));
      await waitFor(() => sim.received().length > 0, 2000, 10, 'replayed bytes');
      expect(sim.received().toString()).toBe('STALE-BEEP');
    } finally {
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
      await sim.stop();
    }
  });
});
