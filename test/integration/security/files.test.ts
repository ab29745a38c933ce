import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const mode = (p: string) => statSync(p).mode & 0o777;

/** The local addresses listening on a TCP port, from /proc/net/tcp{,6} (hex → dotted / ::). */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A = LISTEN
      const [addr, p] = cols[1]!.split(':');
      if (parseInt(p!, 16) !== port) continue;
      if (addr!.length === 8) out.push(addr!.match(/../g)!.reverse().map((h) => parseInt(h, 16)).join('.'));
      else out.push(/^0+$/.test(addr!) ? '::' : addr === '0000000000000000FFFF00000100007F' ? '::ffff:127.0.0.1' : addr!);
    }
  }
  return out;
}

describe('11.8 state files, the demo simulator and the secrets file', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('11.8 state files are created 0600 and the folder 0700 regardless of umask (journal, -wal, -shm, settings, token)', async () => {
    const old = process.umask(0o022);
    cleanups.push(() => process.umask(old));
    const parent = tempDir('linegate-perm-');
    cleanups.push(parent.cleanup);
    const stateDir = join(parent.path, 'state');
    const t = await startTestGateway({}, { stateDir });
    cleanups.push(() => t.stop());
    // Something committed, so the WAL and its index exist.
    expect((await t.call('POST', '/users', { id: 'anna', name: 'Anna', role: 'operator' })).status).toBe(201);
    expect(mode(stateDir)).toBe(0o700);
    for (const f of ['journal.sqlite', 'journal.sqlite-wal', 'journal.sqlite-shm', 'settings.json', 'admin.token']) {
      expect([f, mode(join(stateDir, f)).toString(8)]).toEqual([f, '600']);
    }
    // A settings write (rewrites the file) keeps the mode.
    t.gw.settings.data.runtime.test = 1;
    await t.gw.settings.write();
    expect(mode(join(stateDir, 'settings.json'))).toBe(0o600);
  });

  it('11.8 files of an older version (0644, folder 0755) are tightened on the next start', async () => {
    const old = process.umask(0o022);
    cleanups.push(() => process.umask(old));
    const parent = tempDir('linegate-perm2-');
    cleanups.push(parent.cleanup);
    const stateDir = join(parent.path, 'state');
    const t = await startTestGateway({}, { stateDir });
    await t.gw.stop();
    const { chmodSync } = await import('node:fs');
    chmodSync(stateDir, 0o755);
    chmodSync(join(stateDir, 'journal.sqlite'), 0o644);
    chmodSync(join(stateDir, 'settings.json'), 0o644);
    const t2 = await startTestGateway({}, { stateDir });
    cleanups.push(() => t2.stop());
    expect(mode(stateDir)).toBe(0o700);
    expect(mode(join(stateDir, 'journal.sqlite'))).toBe(0o600);
    expect(mode(join(stateDir, 'settings.json'))).toBe(0o600);
  });

  it('11.8 the OPC UA line simulator (the demo PLC) listens on 127.0.0.1 only', async () => {
    const pki = tempDir('linegate-simbind-');
    cleanups.push(pki.cleanup);
    const sim = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false });
    const endpoint = await sim.start();
    cleanups.push(() => sim.stop());
    const port = Number(new URL(endpoint.replace('opc.tcp:', 'http:')).port);
    expect(listeners(port)).toEqual(['127.0.0.1']);
  }, 60_000);

  it('11.8 the unit, the env example and the README give the secrets file one mode: 0600 root:root', () => {
    const unit = readFileSync('systemd/linegate.service', 'utf8');
    const env = readFileSync('systemd/linegate.env.example', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    const modes = (s: string) => [...s.matchAll(/(?:chmod|-m|mode)\s+(0[0-7]{3})/g)].map((m) => m[1]);
    const readmeLine = readme.split('\n').find((l) => l.includes('/etc/linegate/linegate.env'))!;
    expect(modes(readmeLine)).toEqual(['0600']);
    expect(readmeLine).toContain('-o root -g root');
    expect(modes(env.split('\n').filter((l) => l.includes('linegate.env')).join('\n'))).toEqual(['0600']);
    expect(env).toContain('chown root:root');
    const unitComment = unit.split('\n').filter((l, i, all) => l.startsWith('#') && all.slice(i, i + 4).some((x) => x.startsWith('EnvironmentFile='))).join('\n');
    expect(modes(unitComment)).toEqual(['0600']);
    expect(unitComment).toContain('root:root');
  });
});
