import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; scripts: Record<string, string> };
const head = (() => {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
})();

describe('17 install: linegate on the PATH, version and build', () => {
  it('17 install: bin is the built main and prepare builds it with the build info', () => {
    expect(pkg.bin.linegate).toBe('dist/src/main.js');
    expect(pkg.scripts.prepare).toContain('tsc -p tsconfig.build.json');
    expect(pkg.scripts.prepare).toContain('scripts/build-info.mjs');
    const main = readFileSync(join(ROOT, pkg.bin.linegate!), 'utf8');
    expect(main.startsWith('#!/usr/bin/env node')).toBe(true);
    // Executable after the build itself (not only after some npm install set the mode).
    expect(statSync(join(ROOT, pkg.bin.linegate!)).mode & 0o111).toBe(0o111);
  });

  it('17 install: `npx linegate --version` prints the version and the git commit of the build', () => {
    const r = spawnSync('npx', ['--no-install', 'linegate', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`linegate ${pkg.version} (build `);
    const info = JSON.parse(readFileSync(join(ROOT, 'dist', 'build-info.json'), 'utf8')) as { version: string; commit: string | null };
    expect(info.version).toBe(pkg.version);
    if (head) {
      expect(info.commit).toBe(head);
      expect(r.stdout).toContain(head.slice(0, 12));
    }
  });

  describe('17 install: /health/live', () => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await startTestGateway();
    });
    afterAll(async () => {
      await t?.stop();
    });
    it('17 install: /health/live shows version and build without a token', async () => {
      const r = await t.call('GET', '/health/live', undefined, null);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('live');
      expect(r.body.version).toBe(pkg.version);
      if (head) expect(r.body.build.commit).toBe(head);
    });
  });
});
