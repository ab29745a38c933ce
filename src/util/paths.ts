import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the folder with package.json and devices/), found by walking up from this
 * file: the same answer from src/ (tests), dist/src/ (the built daemon) and an npm install.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'devices'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return resolve(process.cwd());
}

/** The device profiles shipped with linegate (devices/). */
export function defaultDevicesDir(): string {
  return join(packageRoot(), 'devices');
}
