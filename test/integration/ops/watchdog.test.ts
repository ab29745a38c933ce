import { createRequire } from 'node:module';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { MAIN, ROOT, writeConfig } from '../../helpers/daemon.js';
import { baseConfig } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/** The test plays systemd: it binds the notify socket (AF_UNIX, SOCK_DGRAM) and reads what linegate sends. */
interface Sock {
  bind(path: string): void;
  on(ev: 'message', cb: (buf: Buffer) => void): void;
  close(): void;
}
const ud = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: 'unix_dgram'): Sock };

let proc: ChildProcess | null = null;
const cleanups: Array<() => void> = [];
afterEach(() => {
  proc?.kill('SIGKILL');
  proc = null;
  cleanups.splice(0).forEach((c) => c());
});

it('17 watchdog: READY=1 when journal and API are up, WATCHDOG=1 while the journal commits, none while it is stuck, STOPPING=1 at SIGTERM', async () => {
  const dir = tempDir('linegate-notify-');
  cleanups.push(dir.cleanup);
  const socketPath = join(dir.path, 'notify.sock');
  const sock = ud.createSocket('unix_dgram');
  const got: Array<{ at: number; msg: string }> = [];
  sock.on('message', (b) => got.push({ at: Date.now(), msg: b.toString() }));
  sock.bind(socketPath);
  cleanups.push(() => sock.close());

  const stateDir = join(dir.path, 'state');
  const file = writeConfig(dir.path, baseConfig(stateDir, { log: { level: 'info' } }));
  proc = spawn(process.execPath, [MAIN, 'run', '--config', file], {
    cwd: ROOT,
    env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '1000000', LINEGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc!.on('exit', (c) => r(c)));

  const ready = await waitFor(() => got.find((g) => g.msg.split('\n').includes('READY=1')), 30_000, 25, `READY=1\n${out}`);
  expect(ready.msg).toContain(`MAINPID=${proc.pid}`);
  // READY=1 comes after the API answers and the journal is open: the API answers now.
  const running = await waitFor(() => out.split('\n').find((l) => l.includes('linegate is running')), 10_000, 25, 'the running line');
  expect((await fetch(`${(JSON.parse(running) as { url: string }).url}/health/ready`)).status).toBe(200);
  await waitFor(() => got.filter((g) => g.msg === 'WATCHDOG=1').length >= 3, 15_000, 25, 'three WATCHDOG=1');
  expect(got.indexOf(ready)).toBe(0);

  // Stick the journal: another connection holds the write lock for 7 s (longer than busy_timeout).
  const db = new Database(join(stateDir, 'journal.sqlite'));
  db.pragma('busy_timeout = 10000');
  db.exec('BEGIN IMMEDIATE');
  const lockedAt = Date.now();
  await new Promise((r) => setTimeout(r, 7_000));
  const releasedAt = Date.now();
  db.exec('ROLLBACK');
  db.close();
  const during = got.filter((g) => g.msg === 'WATCHDOG=1' && g.at > lockedAt + 1_200 && g.at <= releasedAt);
  expect(during, 'no ping while the journal cannot commit').toHaveLength(0);
  // The journal commits again: the pings come back.
  await waitFor(() => got.some((g) => g.msg === 'WATCHDOG=1' && g.at > releasedAt), 15_000, 25, 'WATCHDOG=1 after the journal recovered');

  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  proc = null;
  expect(got.some((g) => g.msg === 'STOPPING=1')).toBe(true);
  const stoppingAt = got.findIndex((g) => g.msg === 'STOPPING=1');
  expect(got.slice(stoppingAt + 1).some((g) => g.msg === 'WATCHDOG=1')).toBe(false);
}, 90_000);
