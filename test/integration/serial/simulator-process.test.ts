import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeDriver } from './helpers.js';

const MAIN = join(process.cwd(), 'dist', 'simulators', 'scanner', 'main.js');

function spawnSim(args: string[]) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
  const events: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      events.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* not ours */
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, events, exited, stderr: () => stderr };
}

describe('scanner simulator as a child process (main.ts)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('pty mode: typed scans reach the driver, unplug/replug work, SIGTERM removes the link', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const link = join(tmp.path, 'scanner-pack1');
    const sim = spawnSim(['--mode', 'pty', '--link', link, '--aim', ']C1']);
    cleanups.push(async () => {
      if (sim.child.exitCode === null) {
        sim.child.kill('SIGTERM');
        await sim.exited;
      }
    });
    const ready = await waitFor(() => sim.events.find((e) => e.event === 'ready'), 10_000, 20, `ready (${sim.stderr()})`);
    expect(ready).toMatchObject({ mode: 'pty', path: link });

    const { driver, readings, nth } = makeDriver({ profile: 'generic-usb-cdc', transport: { type: 'serial', path: link } });
    cleanups.push(() => driver.stop());
    await driver.start(new AbortController().signal);
    await waitFor(() => driver.state === 'online', 5000, 10, 'online');

    sim.child.stdin.write('scan 0109506000134352{GS}10ABC\n');
    sim.child.stdin.write('hex 41 00 42 0d\n');
    await nth(2);
    expect(readings.map((r) => r.raw.toString('hex'))).toEqual([
      Buffer.from(']C10109506000134352\x1d10ABC', 'latin1').toString('hex'),
      '410042',
    ]);

    sim.child.stdin.write('unplug\n');
    await waitFor(() => driver.state === 'offline', 2000, 10, 'offline');
    sim.child.stdin.write('replug\n');
    await waitFor(() => driver.state === 'online', 5000, 10, 'online again');
    // Bytes sent before the gateway has the pty open again are lost (as with a real cable).
    sim.child.stdin.write('AFTER\n');
    await nth(3, 5000);
    expect(readings[2]!.raw.toString()).toBe(']C1AFTER');

    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
    expect(existsSync(link)).toBe(false);
  });

  it('tcp mode with a script file and --exit-after-script', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const script = join(tmp.path, 'scans.txt');
    // The script waits for the driver to connect before scanning.
    writeFileSync(script, '# a GS1 lot scan and a badge\nwait-client 10000\nscan ]d20109506000134352{GS}10LOT1\nscan BADGE-0042\nwait 300\n');
    const sim = spawnSim(['--mode', 'tcp', '--port', '0', '--script', script, '--no-stdin', '--exit-after-script', '--suffix', 'CRLF']);
    cleanups.push(async () => {
      if (sim.child.exitCode === null) {
        sim.child.kill('SIGTERM');
        await sim.exited;
      }
    });
    const ready = await waitFor(() => sim.events.find((e) => e.event === 'ready'), 10_000, 20, `ready (${sim.stderr()})`);
    const { driver, readings, nth } = makeDriver({ profile: 'honeywell-1900', transport: { type: 'tcp', host: '127.0.0.1', port: Number(ready.port) } });
    cleanups.push(() => driver.stop());
    await driver.start(new AbortController().signal);
    await nth(2, 8000);
    expect(readings.map((r) => r.raw.toString('latin1'))).toEqual([']d20109506000134352\x1d10LOT1', 'BADGE-0042']);
    expect(await sim.exited).toBe(0);
    await waitFor(() => driver.state === 'offline', 3000, 10, 'offline after the simulator exited');
  });
});
