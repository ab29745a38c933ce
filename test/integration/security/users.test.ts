import { afterEach, describe, expect, it } from 'vitest';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../../helpers/daemon.js';
import { baseConfig, startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 11 item 1: nobody can lock everybody out; user management works from the console. */
describe('11.1 the last admin', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('11.1 the only admin cannot demote or disable itself (409 LG_ERR_LAST_ADMIN); with a second admin it can', async () => {
    const t = await startTestGateway();
    cleanups.push(() => t.stop());
    const demote = await t.call('PATCH', '/users/admin', { role: 'operator' });
    expect(demote.status).toBe(409);
    expect(demote.body.code).toBe('LG_ERR_LAST_ADMIN');
    const disable = await t.call('PATCH', '/users/admin', { disabled: true });
    expect(disable.status).toBe(409);
    expect(disable.body.code).toBe('LG_ERR_LAST_ADMIN');
    // Nothing changed: still admin, still enabled, the token still works.
    const me = await t.call('GET', '/me');
    expect(me.body).toMatchObject({ id: 'admin', role: 'admin' });
    expect((await t.call('GET', '/users')).body.items.find((u: any) => u.id === 'admin')).toMatchObject({ role: 'admin', disabled: false });
    // No audit entry for the refused changes.
    const audit = await t.call('GET', '/audit?entity=user&entityId=admin');
    expect(audit.body.items.filter((a: any) => a.action === 'user.updated')).toHaveLength(0);

    // A second admin: now one of them may step down (and the other then cannot).
    const second = await t.call('POST', '/users', { id: 'eva', name: 'Eva Admin', role: 'admin' });
    expect(second.status).toBe(201);
    const ok = await t.call('PATCH', '/users/admin', { role: 'supervisor' });
    expect(ok.status).toBe(200);
    expect(ok.body.user.role).toBe('supervisor');
    const last = await t.call('PATCH', '/users/eva', { disabled: true }, second.body.token);
    expect(last.body.code).toBe('LG_ERR_LAST_ADMIN');
    // A disabled admin does not count as the one that keeps the gateway administrable.
    expect((await t.call('PATCH', '/users/admin', { role: 'admin' }, second.body.token)).status).toBe(200);
    expect((await t.call('PATCH', '/users/admin', { disabled: true }, second.body.token)).status).toBe(200);
    expect((await t.call('PATCH', '/users/eva', { role: 'qa' }, second.body.token)).body.code).toBe('LG_ERR_LAST_ADMIN');
  });

  it('11.1 linegate user add|role|disable|enable work on the journal offline, audited as cli:<login>, and refuse to remove the last admin', async () => {
    const dir = tempDir('linegate-usercli-');
    cleanups.push(dir.cleanup);
    const stateDir = join(dir.path, 'state');
    const cfgFile = join(dir.path, 'linegate.yaml');
    writeFileSync(cfgFile, stringify(baseConfig(stateDir)));
    // No journal yet: refused rather than creating one the service might not be able to open.
    const early = await runCli(['user', 'add', 'zoe', '--name', 'Zoe', '--role', 'admin', '--config', cfgFile]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('start linegate once first');

    const t = await startTestGateway({}, { stateDir });
    await t.gw.stop();
    cleanups.push(() => t.stop());
    // As root, the state folder belongs to the service user: files the CLI touches stay theirs.
    const root = process.getuid?.() === 0;
    if (root) {
      chownSync(stateDir, 65534, 65534);
      for (const f of ['journal.sqlite']) chownSync(join(stateDir, f), 65534, 65534);
    }
    const env = { SUDO_USER: 'maria' };

    const lastAdmin = await runCli(['user', 'role', 'admin', 'operator', '--config', cfgFile], env);
    expect(lastAdmin.code).toBe(1);
    expect(lastAdmin.stderr).toContain('LG_ERR_LAST_ADMIN');
    expect((await runCli(['user', 'disable', 'admin', '--config', cfgFile], env)).stderr).toContain('LG_ERR_LAST_ADMIN');

    const add = await runCli(['user', 'add', 'zoe', '--name', 'Zoe Admin', '--role', 'admin', '--badge', 'EMP-0100', '--config', cfgFile], env);
    expect(add.code).toBe(0);
    const zoeToken = add.stdout.trim();
    expect(zoeToken.length).toBeGreaterThan(20);
    expect((await runCli(['user', 'add', 'zoe', '--name', 'Again', '--role', 'qa', '--config', cfgFile], env)).stderr).toContain('LG_ERR_CONFLICT');
    expect((await runCli(['user', 'add', 'x', '--name', 'X', '--role', 'root', '--config', cfgFile], env)).code).toBe(64);
    expect((await runCli(['user', 'role', 'admin', 'operator', '--config', cfgFile], env)).code).toBe(0);
    expect((await runCli(['user', 'disable', 'admin', '--config', cfgFile], env)).code).toBe(0);
    expect((await runCli(['user', 'role', 'nobody', 'qa', '--config', cfgFile], env)).stderr).toContain('LG_ERR_USER_NOT_FOUND');
    if (root) {
      for (const f of ['journal.sqlite', 'journal.sqlite-wal', 'journal.sqlite-shm']) {
        try {
          expect([f, statSync(join(stateDir, f)).uid]).toEqual([f, 65534]);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }

    // The running gateway sees it all, and the audit trail names the person at the console.
    const t2 = await startTestGateway({}, { stateDir });
    cleanups.push(() => t2.stop());
    const users = (await t2.call('GET', '/users', undefined, zoeToken)).body.items;
    expect(users.find((u: any) => u.id === 'zoe')).toMatchObject({ role: 'admin', badge: 'EMP-0100', disabled: false });
    expect(users.find((u: any) => u.id === 'admin')).toMatchObject({ role: 'operator', disabled: true });
    const audit = (await t2.call('GET', '/audit?entity=user', undefined, zoeToken)).body.items;
    expect(audit.filter((a: any) => a.actor === 'cli:maria').map((a: any) => a.action)).toEqual(['user.created', 'user.updated', 'user.updated']);
    expect((await t2.call('GET', '/audit/verify', undefined, zoeToken)).body.ok).toBe(true);
    // enable: the old admin token works again (as an operator now).
    expect((await runCli(['user', 'enable', 'admin', '--config', cfgFile], env)).code).toBe(0);
    expect((await t2.call('GET', '/me', undefined, t.adminToken)).body).toMatchObject({ id: 'admin', role: 'operator' });
  }, 90_000);
});
