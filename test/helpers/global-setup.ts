import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * Integration tests run the real daemon and the simulators as child processes from `dist/`:
 * build once before any test so they test the current source, not a stale build.
 * Type errors are reported but do not stop the run (tsc still emits); `npm ci` (prepare) and
 * `npm run typecheck` are where type errors fail.
 */
export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(`\n[global-setup] tsc reported errors (the build was still emitted):\n${r.stdout}${r.stderr}\n`);
  }
  // The station pages (dist/ui), served by the gateway in the browser tests.
  const ui = spawnSync(process.execPath, [join(root, 'dist', 'src', 'ui', 'build.js')], { cwd: root, encoding: 'utf8' });
  if (ui.status !== 0) process.stderr.write(`\n[global-setup] station pages build failed:\n${ui.stdout}${ui.stderr}\n`);
  // dist/build-info.json (version, git commit), as `npm run build` writes it.
  spawnSync(process.execPath, [join(root, 'scripts', 'build-info.mjs')], { cwd: root, encoding: 'utf8' });
}
