import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../util/paths.js';

/**
 * Build the station pages (src/ui/app, Preact) into dist/ui: app.js, app.css, index.html; and the
 * supervisor/QA pages (src/ui/app/office): office.js, office.css, office.html.
 * Run by `npm run build` / `prepare` (esbuild is a dev dependency: the built files are what the
 * gateway serves; nothing is fetched at run time). Prints the sizes (raw and gzip).
 */
export async function buildUi(opts: { outDir?: string; quiet?: boolean } = {}): Promise<{ outDir: string; files: Array<{ file: string; bytes: number; gzip: number }> }> {
  const root = packageRoot();
  const src = join(root, 'src', 'ui', 'app');
  const outDir = opts.outDir ?? join(root, 'dist', 'ui');
  const esbuild = await import('esbuild');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    // Two bundles: the station panels' (app.js, kept small for panel PCs) and the supervisor/QA
    // pages' (office.js, src/ui/app/office). Nothing is shared at run time.
    entryPoints: { app: join(src, 'main.tsx'), office: join(src, 'office', 'main.tsx') },
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    // Chromium of Debian 12 and later, and any panel browser of the last five years.
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
  });
  copyFileSync(join(src, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(src, 'office', 'index.html'), join(outDir, 'office.html'));
  const files = readdirSync(outDir).map((f) => {
    const body = readFileSync(join(outDir, f));
    return { file: f, bytes: statSync(join(outDir, f)).size, gzip: gzipSync(body).length };
  });
  if (!opts.quiet) {
    const total = files.reduce((a, f) => ({ bytes: a.bytes + f.bytes, gzip: a.gzip + f.gzip }), { bytes: 0, gzip: 0 });
    process.stdout.write(`station pages → ${outDir}: ${files.map((f) => `${f.file} ${(f.bytes / 1024).toFixed(1)} kB (${(f.gzip / 1024).toFixed(1)} kB gzip)`).join(', ')}; total ${(total.bytes / 1024).toFixed(1)} kB, ${(total.gzip / 1024).toFixed(1)} kB gzip\n`);
  }
  return { outDir, files };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildUi().catch((err: unknown) => {
    process.stderr.write(`station pages build failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
