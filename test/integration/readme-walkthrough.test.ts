import { afterEach, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, ROOT, demoEnv } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 11 item 12: the README's API walkthrough is a script. This test takes exactly the ```sh
 * blocks between `<!-- walkthrough:start -->` and `<!-- walkthrough:end -->` in README.md and runs
 * them, in order, as one bash script (`set -euo pipefail`; every curl is `-f`) against a real
 * `linegate demo` (child process, every port free, its own state folder). A line `#=> text` in a
 * block is an expected output: `text` must appear in the script's output, after the previous
 * expectation. The test fails if any command fails or an expected output is missing.
 */

/** The walkthrough's shell blocks and its expectations, as the README has them. */
export function walkthrough(readme: string): { script: string; expect: string[] } {
  const m = /<!-- walkthrough:start -->([\s\S]*?)<!-- walkthrough:end -->/.exec(readme);
  if (!m) throw new Error('README.md has no walkthrough markers');
  const blocks = [...m[1]!.matchAll(/```sh\n([\s\S]*?)```/g)].map((b) => b[1]!);
  const expectations = blocks.flatMap((b) => b.split('\n').filter((l) => l.startsWith('#=> ')).map((l) => l.slice(4)));
  return { script: ['set -euo pipefail', ...blocks].join('\n'), expect: expectations };
}

let proc: ChildProcess | null = null;
let script: ChildProcess | null = null;
const dirs: Array<() => void> = [];
afterEach(() => {
  script?.kill('SIGKILL');
  proc?.kill('SIGKILL');
  dirs.splice(0).forEach((c) => c());
});

it('11.12 the README API walkthrough runs as written against a live linegate demo, every expected output present', async () => {
  const { script: text, expect: expected } = walkthrough(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  expect(text.split('\n').filter((l) => /^\s*curl /.test(l)).length, 'the walkthrough has its commands').toBeGreaterThan(20);
  expect(expected.length).toBeGreaterThan(10);

  const dir = tempDir('linegate-walkthrough-');
  dirs.push(dir.cleanup);
  const state = join(dir.path, 'state');
  const env = await demoEnv(state);
  proc = spawn(process.execPath, [MAIN, 'demo', '--config', 'config/demo.yaml'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let demoOut = '';
  proc.stdout!.on('data', (d) => (demoOut += d));
  proc.stderr!.on('data', (d) => (demoOut += d));
  const demoExited = new Promise<number | null>((r) => proc!.on('exit', (c) => r(c)));
  // The banner comes after the master data is seeded (what the walkthrough builds on).
  await waitFor(() => demoOut.includes('linegate demo is running'), 60_000, 100, `the demo banner\n${demoOut}`);

  const api = `http://127.0.0.1:${env.LINEGATE_PORT}`;
  script = spawn('bash', ['-c', text], { cwd: ROOT, env: { ...env, API: api }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  script.stdout!.on('data', (d) => (out += d));
  script.stderr!.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => script!.on('close', (c) => r(c)));
  script = null;
  expect(code, `walkthrough failed (exit ${code})\n--- stdout\n${out}\n--- stderr\n${err}`).toBe(0);
  let from = 0;
  for (const e of expected) {
    const at = out.indexOf(e, from);
    expect(at, `expected output missing (after offset ${from}): ${e}\n--- stdout\n${out}\n--- stderr\n${err}`).toBeGreaterThanOrEqual(0);
    from = at + e.length;
  }

  proc.kill('SIGTERM');
  expect(await demoExited).toBe(0);
  proc = null;
}, 240_000);
