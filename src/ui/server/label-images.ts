/**
 * Label pictures for the packing page: the job's ZPL rendered to PNG with zpl-renderer-js
 * (already a dependency; 0.6–1 s per 4×6 label). Rendered only when a page asks, one at a time,
 * and cached by job id (a job's ZPL never changes) — never on the print path.
 */
type Api = { zplToBase64Async(zpl: string, widthMm?: number, heightMm?: number, dpmm?: number): Promise<string> };

let api: Promise<Api> | null = null;
const cache = new Map<string, Buffer>();
const MAX = 32;
let chain: Promise<unknown> = Promise.resolve();

export async function labelPng(jobId: string, zpl: string, size: { widthMm: number; heightMm: number; dpmm: number } = { widthMm: 101.6, heightMm: 152.4, dpmm: 8 }): Promise<Buffer> {
  const hit = cache.get(jobId);
  if (hit) {
    cache.delete(jobId);
    cache.set(jobId, hit);
    return hit;
  }
  const run = chain.then(async () => {
    const again = cache.get(jobId);
    if (again) return again;
    api ??= import('zpl-renderer-js').then(async (m) => (await (m as unknown as { ready: Promise<{ api: Api }> }).ready).api);
    const png = Buffer.from(await (await api).zplToBase64Async(zpl, size.widthMm, size.heightMm, size.dpmm), 'base64');
    cache.set(jobId, png);
    while (cache.size > MAX) cache.delete(cache.keys().next().value!);
    return png;
  });
  chain = run.catch(() => undefined);
  return run;
}
