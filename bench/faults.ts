import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diskFull } from './faults/disk-full.js';
import { kill9 } from './faults/kill9.js';
import { soak } from './faults/soak.js';
import { fsyncEio } from './faults/fsync-eio.js';
import { clockJump } from './faults/clock-jump.js';
import { halfOpen } from './faults/half-open.js';
import type { Args, Figures } from './faults/rig.js';

/**
 * `npm run faults [name…] [-- --key=value…]` (issue 18): the fault matrix, one file per fault in
 * bench/faults/, each bounded and printing its figures. Without a name every fault runs (soak last;
 * it takes `--minutes`, default 60). Options are passed to every named fault:
 *   kill9       --kills=1000 --max-minutes=…        fsync-eio   --after=N (fdatasyncs before EIO)
 *   clock-jump  --hours=3                            half-open   (no options)
 *   soak        --minutes=60 --sample-s=60           any         --keep (leave var/faults-* behind)
 */
const FAULTS: Record<string, (args: Args) => Promise<Figures>> = {
  'disk-full': () => diskFull(),
  'fsync-eio': fsyncEio,
  'clock-jump': clockJump,
  'half-open': halfOpen,
  kill9,
  soak,
};

async function main(): Promise<void> {
  mkdirSync(resolve('var'), { recursive: true });
  const argv = process.argv.slice(2);
  const names = argv.filter((a) => !a.startsWith('--'));
  const args: Args = {};
  for (const a of argv.filter((x) => x.startsWith('--'))) {
    const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
    args[k] = v ?? 'true';
  }
  let failed = false;
  for (const name of names.length ? names : Object.keys(FAULTS)) {
    const f = FAULTS[name];
    process.stdout.write(`\n── fault ${name}  (${new Date().toISOString()})\n`);
    if (!f) {
      process.stdout.write(`  unknown fault (known: ${Object.keys(FAULTS).join(', ')})\n`);
      failed = true;
      continue;
    }
    try {
      for (const [k, v] of Object.entries(await f(args))) process.stdout.write(`  ${k.padEnd(36)} ${v}\n`);
    } catch (err) {
      failed = true;
      process.stdout.write(`  FAILED: ${(err as Error).stack}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main();
