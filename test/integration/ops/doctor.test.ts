import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScannerSimulator } from '../../../simulators/scanner/simulator.js';
import { runCli, writeConfig } from '../../helpers/daemon.js';
import { baseConfig } from '../../helpers/gateway.js';
import { freePort } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { httpSinkConfig } from '../upstream/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listening(): Promise<{ srv: Server; port: number }> {
  const srv = createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
  return { srv, port: (srv.address() as AddressInfo).port };
}

describe('17 doctor', () => {
  it('17 doctor: one line per check — config, state folder, free space, serial paths (a real pty and a missing one), ports, clock, sinks; exit 1 when one fails', async () => {
    const dir = tempDir('linegate-doctor-');
    cleanups.push(dir.cleanup);
    const sim = new ScannerSimulator({ mode: 'pty' });
    await sim.start();
    cleanups.push(() => sim.stop());
    const erp = await listening();
    const taken = await listening();
    const closed = await freePort();
    const state = join(dir.path, 'state');
    const cfg = writeConfig(
      dir.path,
      baseConfig(state, {
        api: { host: '127.0.0.1', port: taken.port },
        devices: [
          { id: 'weigh.scanner', kind: 'serial-scanner', station: 'WEIGH-1', profile: 'generic-usb-cdc', transport: { type: 'serial', path: sim.gatewayPath } },
          { id: 'pack.scanner', kind: 'serial-scanner', station: 'PACK-1', profile: 'generic-usb-cdc', transport: { type: 'serial', path: join(dir.path, 'no-such-tty') } },
        ],
        upstream: { sinks: [httpSinkConfig(`http://127.0.0.1:${erp.port}/events`), httpSinkConfig(`http://127.0.0.1:${closed}/events`, { id: 'erp2' })] },
      }),
    );
    const r = await runCli(['doctor', '--config', cfg]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const line = (name: string) => {
      const l = lines.find((x) => x.slice(5).startsWith(`${name}:`));
      expect(l, `${name} in\n${r.stdout}`).toBeDefined();
      return l!;
    };
    expect(line('config')).toMatch(/^OK /);
    expect(line('state folder')).toMatch(/^OK .*writable/);
    expect(line('free space')).toMatch(/^(OK|WARN|FAIL) .*GB free/);
    expect(line('serial weigh.scanner')).toMatch(/^OK .*readable and writable/);
    expect(line('serial pack.scanner')).toMatch(/^FAIL .*does not exist — /);
    expect(line('port API')).toMatch(new RegExp(`^FAIL .*${taken.port}: EADDRINUSE — `));
    expect(line('clock')).toMatch(/^(OK|WARN) /);
    expect(line('sink erp')).toMatch(/^OK .*answers/);
    expect(line('sink erp2')).toMatch(/^FAIL .*ECONNREFUSED — /);
    for (const l of lines) expect(l).toMatch(/^(OK|WARN|FAIL) /);

    // A config that does not load: one failing line saying what to do.
    const bad = join(dir.path, 'bad.yaml');
    (await import('node:fs')).writeFileSync(bad, 'site: {}\n');
    const b = await runCli(['doctor', '--config', bad]);
    expect(b.code).toBe(1);
    expect(b.stdout).toMatch(/^FAIL config: .*check-config/);
  }, 60_000);
});
