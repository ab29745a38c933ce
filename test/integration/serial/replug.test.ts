import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
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
      await waitFor(() => readings.length === i + 1, 10_000, 10, `record for REPLUG-${i}`);
      // The scan may be read before the open completes: let the port open before the next pull.
      await waitFor(() => driver.state === 'online', 10_000, 10, `online (round ${i})`);
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
    // Our own socat with -v: it logs every transfer, so the test can wait until the scan really
    // sits in the gateway-side queue (socat relays asynchronously) before the driver opens it.
    const dir = tempDir('linegate-stale-');
    cleanups.push(async () => dir.cleanup());
    const gw = join(dir.path, 'gw');
    const simEnd = join(dir.path, 'sim');
    let log = '';
    const socat = spawn('socat', ['-v', `pty,raw,echo=0,link=${gw}`, `pty,raw,echo=0,link=${simEnd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    socat.stderr!.on('data', (d: Buffer) => (log += d.toString('latin1')));
    cleanups.push(async () => {
      if (socat.exitCode === null) {
        const gone = new Promise((r) => socat.once('exit', r));
        socat.kill('SIGTERM');
        await gone;
      }
    });
    await waitFor(() => existsSync(gw) && existsSync(simEnd), 10_000, 10, 'socat links');
    const fd = openSync(simEnd, 'w');
    cleanups.push(async () => closeSync(fd));
    const OLD = 'SCANNED-WHILE-LINEGATE-WAS-DOWN\r';
    writeSync(fd, OLD);
    await waitFor(() => log.includes(`length=${OLD.length}`), 10_000, 10, 'socat relayed the scan to the gateway side');

    const { driver, readings } = makeDriver({ profile: 'generic-usb-cdc', transport: { type: 'serial', path: gw } });
    cleanups.push(() => driver.stop());
    void driver.start(new AbortController().signal);
    await waitFor(() => driver.state === 'online', 10_000, 10, 'online');
    await waitFor(() => readings.length === 1, 5000, 10, 'the queued bytes as a record');
    writeSync(fd, 'FRESH\r');
    await waitFor(() => readings.length === 2, 5000, 10, 'the fresh scan');
    expect(readings.map((r) => [r.raw.toString('latin1'), r.error?.code ?? null])).toEqual([
      [OLD, 'LG_ERR_SCAN_QUEUED_BEFORE_START'],
      ['FRESH', null],
    ]);
    expect(readings[0]!.error!.details).toMatchObject({ length: OLD.length });
  });
});
