/**
 * Issue 14: label pictures (src/labels/images.ts) — rendered from the job's ZPL by the real
 * zpl-renderer-js, cached in memory and on disk by job id + ZPL SHA-256, never rendered twice for
 * the same bytes; a foreign or broken cache file is not trusted; the disk cache is bounded (least
 * recently used pictures go first).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forgetInMemory, labelPng, prune, renderCount, zplSha256 } from '../../../src/labels/images.js';
import { tempDir } from '../../helpers/tmp.js';

const zpl = (text: string): string => `^XA^FO40,40^A0N,48,48^FD${text}^FS^FO40,170^BY3^BCN,160,Y,N,N^FD>;0109506000134352^FS^XZ`;

describe('label pictures', () => {
  it('render once per job and ZPL; the next thread (empty memory) reads the disk cache; other bytes are another picture', async () => {
    const dir = tempDir('lg-label-images-');
    try {
      const n0 = renderCount();
      const a = await labelPng('JOB-1', zpl('first'), undefined, { cacheDir: dir.path });
      expect(a.readUInt32BE(0)).toBe(0x89504e47);
      expect(renderCount() - n0).toBe(1);
      const file = readdirSync(dir.path).filter((f) => f.endsWith('.png'));
      expect(file).toEqual([expect.stringMatching(new RegExp(`^JOB-1-${zplSha256(zpl('first'))}-`))]);
      // memory hit, then (memory dropped, as in a new report worker) disk hit: no render
      expect((await labelPng('JOB-1', zpl('first'), undefined, { cacheDir: dir.path })).equals(a)).toBe(true);
      forgetInMemory();
      expect((await labelPng('JOB-1', zpl('first'), undefined, { cacheDir: dir.path })).equals(a)).toBe(true);
      expect(renderCount() - n0).toBe(1);
      // the same job id with other bytes is never answered with the old picture
      const b = await labelPng('JOB-1', zpl('second'), undefined, { cacheDir: dir.path });
      expect(renderCount() - n0).toBe(2);
      expect(b.equals(a)).toBe(false);
      // a broken file in the cache is not trusted: rendered again
      forgetInMemory();
      writeFileSync(join(dir.path, file[0]!), 'not a png');
      const again = await labelPng('JOB-1', zpl('first'), undefined, { cacheDir: dir.path });
      expect(renderCount() - n0).toBe(3);
      expect(again.readUInt32BE(0)).toBe(0x89504e47);
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  it('the disk cache keeps the most recently used pictures and drops stale temporary files', () => {
    const dir = tempDir('lg-label-prune-');
    try {
      const t0 = Date.now() / 1000 - 10_000;
      for (let i = 0; i < 5; i++) {
        const f = join(dir.path, `J${i}.png`);
        writeFileSync(f, 'x');
        utimesSync(f, t0 + i * 100, t0 + i * 100);
      }
      // J0 was read recently (access time), so J1 and J2 are the least recently used
      utimesSync(join(dir.path, 'J0.png'), t0 + 5000, t0);
      writeFileSync(join(dir.path, 'old.tmp'), 'x');
      utimesSync(join(dir.path, 'old.tmp'), t0, t0);
      writeFileSync(join(dir.path, 'fresh.tmp'), 'x');
      expect(prune(dir.path, 3)).toBe(2);
      expect(readdirSync(dir.path).sort()).toEqual(['J0.png', 'J3.png', 'J4.png', 'fresh.tmp']);
      expect(existsSync(join(dir.path, 'old.tmp'))).toBe(false);
      expect(prune(dir.path, 3)).toBe(0);
    } finally {
      dir.cleanup();
    }
  });
});
