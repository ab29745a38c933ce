import { existsSync, readFileSync } from 'node:fs';

/**
 * Version and build of this linegate. The version is package.json's; the build (git commit and
 * time) is written into dist/build-info.json by `npm run build` (scripts/build-info.mjs). Running
 * from sources (vitest) there may be no build-info: commit and builtAt are then null, never guessed.
 */
export interface BuildInfo {
  version: string;
  commit: string | null;
  dirty: boolean;
  builtAt: string | null;
}

let cached: BuildInfo | null = null;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  // dist/src/service/version.js → ../../../package.json; src/service/version.ts → ../../package.json.
  const candidates = ['../../package.json', '../../../package.json'].map((p) => new URL(p, import.meta.url));
  let version = '0.0.0';
  for (const u of candidates) {
    if (!existsSync(u)) continue;
    const pkg = JSON.parse(readFileSync(u, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'linegate' && pkg.version) {
      version = pkg.version;
      break;
    }
  }
  let info: BuildInfo = { version, commit: null, dirty: false, builtAt: null };
  for (const p of ['../../build-info.json', '../../dist/build-info.json']) {
    const u = new URL(p, import.meta.url);
    if (!existsSync(u)) continue;
    try {
      const b = JSON.parse(readFileSync(u, 'utf8')) as Partial<BuildInfo>;
      info = { version, commit: b.commit ?? null, dirty: b.dirty === true, builtAt: b.builtAt ?? null };
      break;
    } catch {
      /* unreadable build-info: report no build rather than fail */
    }
  }
  cached = info;
  return info;
}

/** One line: `0.1.0 (build 1a2b3c4d5e6f, 2026-12-01T09:00:00.000Z)`. */
export function versionLine(): string {
  const b = buildInfo();
  const build = b.commit ? `${b.commit.slice(0, 12)}${b.dirty ? '-dirty' : ''}` : 'unknown commit';
  return `${b.version} (build ${build}${b.builtAt ? `, ${b.builtAt}` : ''})`;
}
