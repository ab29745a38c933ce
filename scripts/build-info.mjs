#!/usr/bin/env node
// Written by `npm run build` (and `prepare`, so `npm ci` too): dist/build-info.json with the
// package version, the git commit the build was made from (null outside a git checkout, e.g. from
// a tarball) and the build time. `linegate --version` and /health/live read it.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let commit = process.env.LINEGATE_BUILD_COMMIT || null;
let dirty = false;
if (!commit) {
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
  } catch {
    commit = null;
  }
}
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', 'build-info.json'), JSON.stringify({ version: pkg.version, commit, dirty, builtAt: new Date().toISOString() }, null, 2) + '\n');
// The bin (package.json "bin") must be executable: npm sets the mode when it installs the package,
// but in a git checkout `prepare` builds it after npm linked the bins, and tsc writes 0644 — so
// `npx linegate` said "Permission denied" unless something else had made it executable first.
for (const bin of Object.values(pkg.bin ?? {})) {
  const file = join(root, bin);
  if (existsSync(file)) chmodSync(file, 0o755);
}
