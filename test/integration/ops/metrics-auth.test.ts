import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { Gateway } from '../../../src/gateway.js';
import { silentLogger } from '../../../src/util/log.js';
import { baseConfig, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('17 metrics access', () => {
  it('17 metrics: with ops.metrics.token a scrape without the token is 401 and counted; with it 200', async () => {
    const token = 'metrics-token-0123456789';
    const t: TestGateway = await startTestGateway({ ops: { metrics: { enabled: true, host: '127.0.0.1', port: 0, token } } });
    cleanups.push(() => t.stop());
    const url = t.gw.service!.metrics!.url!;
    expect(new URL(url).port).not.toBe(new URL(t.url).port);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toMatch(/^linegate_auth_failures_total\{status="401"\} 2$/m);
    expect((await fetch(url.replace('/metrics', '/other'), { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it('17 metrics: listening beyond localhost without a token is refused at start', async () => {
    const dir = tempDir('linegate-mt-');
    cleanups.push(dir.cleanup);
    const cfg = parseConfig(stringify(baseConfig(dir.path, { ops: { metrics: { enabled: true, host: '0.0.0.0', port: 0 } } })), 'test.yaml', { env: {} });
    const gw = new Gateway(cfg, { logger: silentLogger() });
    cleanups.push(() => gw.stop());
    await expect(gw.start()).rejects.toMatchObject({ code: 'LG_ERR_CONFIG_INVALID' });
  });
});
