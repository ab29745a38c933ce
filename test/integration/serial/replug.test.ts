import { afterEach, describe, expect, it } from 'vitest';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { waitFor } from '../../helpers/net.js';
import { makeDriver } from './helpers.js';

/**
 * Issue 10.9: serialport flushes the input queue when it opens a port. A scan the scanner sends
 * after a replug but before the driver's reconnect attempt used to vanish without a record.
 * Through a real socat pty: each round unplugs, replugs and writes one scan at once, while the
 * driver is still in its reconnect backoff (at least 300 ms), i.e. right before it reopens.
 */
describe('10.9 scans sent around a replug (real pty)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('10.9 a scan written right before the driver reopens a replugged port is read, 10 replugs → 10 records', async () => {
    const sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
    cleanups.push(() => sim.stop());
    const { driver, readings } = makeDriver(
      { profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath } },
      { reconnect: { baseMs: 300, maxMs: 600, minMs: 300 } },
    );
    cleanups.push(() => driver.stop());
    void driver.start(new AbortController().signal);
    await waitFor(() => driver.state === 'online', 10_000, 10, 'online');

    const ROUNDS = 10;
    for (let i = 0; i < ROUNDS; i++) {
      await sim.unplug();
      await waitFor(() => driver.state === 'offline', 5000, 5, `offline (round ${i})`);
      await sim.replug();
      await sim.scan(`REPLUG-${i}`);
      await waitFor(() => readings.length === i + 1, 10_000, 10, `record for REPLUG-${i} (have ${readings.length})`);
    }
    expect(readings.map((r) => r.raw.toString('latin1'))).toEqual(Array.from({ length: ROUNDS }, (_, i) => `REPLUG-${i}`));
    expect(readings.every((r) => !r.error)).toBe(true);
    // The scans really were queued before the open (else this test proves nothing): they were
    // taken from the queue ahead of serialport's flush.
    expect(driver.stats.bytesReadBeforeOpen).toBeGreaterThan(0);
    expect(driver.stats.connects).toBe(ROUNDS + 1);
  });

  it('10.9 a partial scan queued before the reopen comes out as one incomplete record, never glued to the next scan', async () => {
    const sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
    cleanups.push(() => sim.stop());
    // A scan cut short (no terminator) sits in the queue; the driver then opens and the partial
    // must come out as one rejected frame on the stale timer, with the next full scan intact.
    const { driver, readings } = makeDriver(
      { profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath }, overrides: { staleFrameMs: 300 } },
      { reconnect: { baseMs: 300, maxMs: 600, minMs: 300 } },
    );
    cleanups.push(() => driver.stop());
    void driver.start(new AbortController().signal);
    await waitFor(() => driver.state === 'online', 10_000, 10, 'online');
    await sim.unplug();
    await waitFor(() => driver.state === 'offline', 5000, 5, 'offline');
    await sim.replug();
    await sim.sendRaw('CUT-SHO');
    await waitFor(() => readings.length === 1, 10_000, 10, 'the partial as a record');
    await waitFor(() => driver.state === 'online', 10_000, 10, 'online again');
    await sim.scan('NEXT');
    await waitFor(() => readings.length === 2, 10_000, 10, 'the next scan');
    expect(readings.map((r) => [r.raw.toString('latin1'), r.error?.code ?? null])).toEqual([
      ['CUT-SHO', 'LG_ERR_SCAN_UNPARSEABLE'],
      ['NEXT', null],
    ]);
  });

  it('10.9 bytes already waiting when the driver first opens the port are one rejected record (age unknown), not a scan', async () => {
    const sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
    cleanups.push(() => sim.stop());
    await sim.scan('SCANNED-WHILE-LINEGATE-WAS-DOWN');
    const { driver, readings } = makeDriver({ profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath } });
    cleanups.push(() => driver.stop());
    void driver.start(new AbortController().signal);
    await waitFor(() => driver.state === 'online', 10_000, 10, 'online');
    await waitFor(() => readings.length === 1, 5000, 10, 'the queued bytes as a record');
    await sim.scan('FRESH');
    await waitFor(() => readings.length === 2, 5000, 10, 'the fresh scan');
    expect(readings.map((r) => [r.raw.toString('latin1'), r.error?.code ?? null])).toEqual([
      ['SCANNED-WHILE-LINEGATE-WAS-DOWN\r', 'LG_ERR_SCAN_QUEUED_BEFORE_START'],
      ['FRESH', null],
    ]);
    expect(readings[0]!.error!.details).toMatchObject({ length: 32 });
  });
});
