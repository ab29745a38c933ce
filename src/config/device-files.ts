/**
 * Where device data files (scanner and scale profiles, node maps, printer models, label
 * templates) are found (issue 10.13): the site's own folder first (`profiles.siteDir`, default
 * /etc/linegate/devices, outside the package so an upgrade never clobbers it), then the folder
 * shipped with linegate. A file in the site folder wins over the packaged file of the same name.
 * A missing site folder is normal (most sites use only packaged profiles) and is skipped.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultDevicesDir } from '../util/paths.js';

export const DEFAULT_SITE_DEVICES_DIR = '/etc/linegate/devices';

/** Sub-folders by what they hold. */
export type DeviceFileKind = 'scanners' | 'scales' | 'machines' | 'printers' | 'labels' | 'values';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The folders to search, site first; folders that do not exist are left out. */
export function deviceSearchPath(siteDir: string | undefined, packagedDir: string = defaultDevicesDir()): string[] {
  const out: string[] = [];
  for (const d of [siteDir, packagedDir]) {
    if (!d) continue;
    const abs = resolve(d);
    if (!out.includes(abs) && (abs === resolve(packagedDir) || isDir(abs))) out.push(abs);
  }
  return out;
}

/** The first folder of `dirs` holding `<kind>/<name>.yaml`, or null. */
export function findDeviceDir(dirs: readonly string[], kind: DeviceFileKind, name: string): string | null {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.includes('..')) return null;
  for (const d of dirs) if (existsSync(join(d, kind, `${name}.yaml`))) return d;
  return null;
}

/** Every name available under `<kind>/` in any of `dirs`, sorted (for "known: …" messages). */
export function deviceFileNames(dirs: readonly string[], kind: DeviceFileKind): string[] {
  const names = new Set<string>();
  for (const d of dirs) {
    try {
      for (const f of readdirSync(join(d, kind))) if (f.endsWith('.yaml')) names.add(f.slice(0, -'.yaml'.length));
    } catch {
      /* no such sub-folder in this dir */
    }
  }
  return [...names].sort();
}

/**
 * Load a whole sub-folder (printer models, label templates) from every dir, the site's entries
 * replacing packaged ones of the same name.
 */
export function loadMerged<T>(dirs: readonly string[], kind: DeviceFileKind, load: (dir: string) => Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const d of [...dirs].reverse()) {
    if (!isDir(join(d, kind))) continue;
    for (const [k, v] of load(join(d, kind))) out.set(k, v);
  }
  return out;
}
