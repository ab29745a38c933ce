import { afterEach, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, ROOT, demoEnv } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `npm start` runs `linegate demo`: the whole reference line simulated over real protocols. This
 * guards the two-command promise: every device comes online, the scripted shift produces records
 * bound to the batch, and SIGTERM stops everything cleanly.
 */
let proc: ChildProcess | null = null;
const dirs: Array<() => void> = [];
afterEach(() => {
  proc?.kill('SIGKILL');
  dirs.splice(0).forEach((c) => c());
});

it('linegate demo: all devices online, the shift records a refused lot and weighed consumptions, SIGTERM exits 0', async () => {
  const dir = tempDir('linegate-demo-');
  dirs.push(dir.cleanup);
  const env = await demoEnv(join(dir.path, 'state'));
  proc = spawn(process.execPath, [MAIN, 'demo', '--config', 'config/demo.yaml'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc!.on('exit', (c) => r(c)));
  const api = `http://127.0.0.1:${env.LINEGATE_PORT}`;

  // Health details (the drivers list) need a token since issue 11; the token is written before the API listens.
  const tokenFile = join(dir.path, 'state', 'admin.token');
  const ready = await waitFor(async () => {
    const auth = existsSync(tokenFile) ? { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` } : undefined;
    if (!auth) return null;
    const r = await fetch(`${api}/health/ready`, { headers: auth }).catch(() => null);
    if (!r || r.status !== 200) return null;
    const body = (await r.json()) as { subsystems: { drivers: Array<{ id: string; state: string }> } };
    return body.subsystems.drivers.length === 5 && body.subsystems.drivers.every((d) => d.state === 'online') ? body : null;
  }, 45_000, 250, `all demo devices online\n${out}`);
  expect(ready.subsystems.drivers.map((d) => d.id).sort()).toEqual(['line1.fill.plc', 'line1.pack.scale', 'line1.pack.scanner', 'line1.weigh.scale', 'line1.weigh.scanner']);

  const token = readFileSync(join(dir.path, 'state', 'admin.token'), 'utf8').trim();
  const get = async (path: string) => (await (await fetch(api + path, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: any[] };
  const refused = await waitFor(async () => (await get('/records?type=lot.scanned&status=rejected')).items[0], 40_000, 250, 'the held lot refused at the scan');
  expect(refused.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
  const consumed = await waitFor(async () => (await get('/records?type=material.consumed')).items[0], 40_000, 250, 'a weighed consumption');
  expect(consumed).toMatchObject({ status: 'accepted', lot: 'L-1001-A', station: 'WEIGH-1' });
  expect(consumed.batch).toMatch(/^\d{8}-\d{3}$/);

  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  proc = null;
}, 150_000);
