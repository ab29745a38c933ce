import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { demoEnv, runCli } from '../../helpers/daemon.js';
import { baseConfig } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 11 item 9: the API port already in use is a one-line hint and exit 69, not a stack. */
describe('11.9 API port in use', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('11.9 linegate run exits 69 with one line naming LG_ERR_API_PORT_IN_USE and the address, no EADDRINUSE stack', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => squatter.close(() => r(undefined))));
    const port = (squatter.address() as AddressInfo).port;
    const dir = tempDir('linegate-port-');
    cleanups.push(dir.cleanup);
    const cfgFile = join(dir.path, 'linegate.yaml');
    writeFileSync(cfgFile, stringify(baseConfig(join(dir.path, 'state'), { api: { host: '127.0.0.1', port } })));
    const r = await runCli(['run', '--config', cfgFile], { LINEGATE_LOG_LEVEL: 'silent' });
    expect(r.code).toBe(69);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('LG_ERR_API_PORT_IN_USE');
    expect(lines[0]).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toContain('EADDRINUSE');
  }, 60_000);

  it('the metrics port in use: linegate run and linegate demo exit 69 with one line naming LG_ERR_METRICS_PORT_IN_USE, and the demo stops its simulators', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => squatter.close(() => r(undefined))));
    const port = (squatter.address() as AddressInfo).port;
    const dir = tempDir('linegate-mport-');
    cleanups.push(dir.cleanup);
    const cfgFile = join(dir.path, 'linegate.yaml');
    writeFileSync(cfgFile, stringify(baseConfig(join(dir.path, 'state'), { api: { host: '127.0.0.1', port: 0 }, ops: { metrics: { enabled: true, host: '127.0.0.1', port } } })));
    const one = (r: { code: number | null; stdout: string; stderr: string }): void => {
      expect(r.code, r.stderr).toBe(69);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('LG_ERR_METRICS_PORT_IN_USE');
      expect(lines[0]).toContain(`127.0.0.1:${port}`);
      expect(r.stderr + r.stdout).not.toContain('EADDRINUSE');
    };
    one(await runCli(['run', '--config', cfgFile], { LINEGATE_LOG_LEVEL: 'silent' }));
    // The demo (its simulators started first): it must exit, not hang with no gateway.
    const env = await demoEnv(join(dir.path, 'demo'), { LINEGATE_LOG_LEVEL: 'silent', LINEGATE_DEMO_METRICS_PORT: String(port) });
    one(await runCli(['demo', '--config', 'config/demo.yaml'], env));
  }, 180_000);
});
