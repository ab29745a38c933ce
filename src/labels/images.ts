/**
 * Label pictures: a print job's stored ZPL rendered to PNG with zpl-renderer-js (0.6–1 s of CPU per
 * 4×6 label). One module for every place that shows a label — the packing kiosk (src/ui/server) and
 * the batch record report (src/report) — and never the print path: a job is rendered when someone
 * asks to see it, one render at a time per thread, and the result is cached
 *
 *  - in memory (the newest MAX pictures), keyed by job id + the ZPL's SHA-256, and
 *  - optionally on disk (`cacheDir`, e.g. `<stateDir>/label-images/`), as `<job>-<zpl sha256>.png`, so
 *    report workers (a fresh thread per report) and restarts do not render the same label again.
 *
 * The disk cache keeps at most DISK_MAX pictures (5–20 KB each): when a new one is written the
 * least recently used beyond that are deleted (a read sets its access time), so a gateway that runs for
 * years does not fill its disk with pictures; a deleted one is simply rendered again when asked.
 *
 * A job's ZPL never changes after it is queued; keying on its hash as well means a picture can never
 * stand for other bytes than the ones stored. The picture is for people: it is NOT part of any hashed
 * content (the renderer's output is not byte-stable across its versions), the ZPL's hash is.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Api = { zplToBase64Async(zpl: string, widthMm?: number, heightMm?: number, dpmm?: number): Promise<string> };

export interface LabelSize {
  widthMm: number;
  heightMm: number;
  dpmm: number;
}

export const DEFAULT_LABEL_SIZE: LabelSize = { widthMm: 101.6, heightMm: 152.4, dpmm: 8 };

let api: Promise<Api> | null = null;
const cache = new Map<string, Buffer>();
const MAX = 32;
export const DISK_MAX = 2000;
let chain: Promise<unknown> = Promise.resolve();
let renders = 0;

export const zplSha256 = (zpl: string): string => createHash('sha256').update(zpl, 'utf8').digest('hex');

/** How many labels this thread actually rendered (the rest came from a cache): for benchmarks and tests. */
export function renderCount(): number {
  return renders;
}

/** Drop the in-memory pictures (what a fresh report worker starts with); the disk cache stays. */
export function forgetInMemory(): void {
  cache.clear();
}

const safe = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, '_');

function fromDisk(file: string | null): Buffer | null {
  if (!file) return null;
  try {
    const b = readFileSync(file);
    // a PNG signature, not a half-written or foreign file
    if (!(b.length > 8 && b.readUInt32BE(0) === 0x89504e47)) return null;
    // recently used: its access time (set explicitly, whatever the mount's atime policy) keeps it
    // from the pruning; its modification time stays the time it was rendered
    utimesSync(file, new Date(), statSync(file).mtime);
    return b;
  } catch {
    return null;
  }
}

function toDisk(dir: string, file: string, png: Buffer): void {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, png);
    renameSync(tmp, file); // atomic: a reader sees the whole picture or none
    prune(dir, DISK_MAX);
  } catch {
    /* a cache that cannot be written only costs a render next time */
  }
}

/** Delete the least recently used pictures beyond `max` (and stale temporary files). */
export function prune(dir: string, max: number): number {
  const files: Array<{ f: string; t: number }> = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.png') && !f.endsWith('.tmp')) continue;
    try {
      const st = statSync(join(dir, f));
      if (f.endsWith('.tmp')) {
        if (Date.now() - st.mtimeMs > 3_600_000) unlinkSync(join(dir, f));
        continue;
      }
      files.push({ f, t: Math.max(st.atimeMs, st.mtimeMs) });
    } catch {
      /* gone meanwhile */
    }
  }
  if (files.length <= max) return 0;
  files.sort((a, b) => a.t - b.t);
  let n = 0;
  for (const { f } of files.slice(0, files.length - max)) {
    try {
      unlinkSync(join(dir, f));
      n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

/** The PNG of a job's label. */
export async function labelPng(jobId: string, zpl: string, size: LabelSize = DEFAULT_LABEL_SIZE, opts: { cacheDir?: string | null } = {}): Promise<Buffer> {
  const key = `${jobId}\u0000${zplSha256(zpl)}\u0000${size.widthMm}x${size.heightMm}@${size.dpmm}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const file = opts.cacheDir ? join(opts.cacheDir, `${safe(jobId)}-${zplSha256(zpl)}-${size.widthMm}x${size.heightMm}d${size.dpmm}.png`) : null;
  const run = chain.then(async () => {
    const again = cache.get(key) ?? fromDisk(file);
    if (again) {
      remember(key, again);
      return again;
    }
    api ??= import('zpl-renderer-js').then(async (m) => (await (m as unknown as { ready: Promise<{ api: Api }> }).ready).api);
    const png = Buffer.from(await (await api).zplToBase64Async(zpl, size.widthMm, size.heightMm, size.dpmm), 'base64');
    renders++;
    remember(key, png);
    if (file && opts.cacheDir) toDisk(opts.cacheDir, file, png);
    return png;
  });
  chain = run.catch(() => undefined);
  return run;
}

function remember(key: string, png: Buffer): void {
  cache.set(key, png);
  while (cache.size > MAX) cache.delete(cache.keys().next().value!);
}
