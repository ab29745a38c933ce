/**
 * Run a report job in a worker thread (src/report/worker.ts), at most `MAX_PARALLEL` at a time so
 * a few people downloading reports cannot take both cores of the line PC. When the compiled worker
 * is not there (running from TypeScript sources without a build) the job runs inline instead.
 * Nothing here imports pdfkit: the gateway loads it only in the worker (or on first inline use).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LgError, isErrorCode } from '../errors.js';
import type { ReportConfigSource } from './data.js';
import { openDatabase } from '../store/db.js';

export interface RenderJob {
  dbFile: string;
  batch: string;
  cfg: ReportConfigSource;
  stateDir: string;
  by: string | null;
  now: string;
  format: 'pdf' | 'html' | 'json';
}

export type RenderResult =
  | { ok: true; body: Uint8Array | string; stamp: string; batch: string }
  | { ok: false; code: string | null; details: Record<string, unknown>; message: string };

const MAX_PARALLEL = 2;
let running = 0;
const waiting: Array<() => void> = [];

/** The compiled worker: beside this file in dist/, or dist/'s copy when this runs from src/. */
function workerFile(): string | null {
  const here = fileURLToPath(import.meta.url);
  const candidates = here.endsWith('.js') ? [here.replace(/run\.js$/, 'worker.js')] : [here.replace(/([\\/])src([\\/])report([\\/])run\.ts$/, '$1dist$2src$2report$3worker.js')];
  return candidates.find((f) => f.endsWith('.js') && existsSync(f)) ?? null;
}

async function inline(job: RenderJob): Promise<RenderResult> {
  // Loaded on first use: pdfkit takes a noticeable part of a second to import, and the gateway's
  // start (and every restart) should not pay for it.
  const { makeReport, renderMade, stampLine } = await import('./index.js');
  const db = openDatabase(job.dbFile, { readonly: true });
  try {
    const r = makeReport(db, job.batch, { cfg: job.cfg, stateDir: job.stateDir, by: job.by, now: new Date(job.now) });
    const body = await renderMade(db, r, job.format, job.stateDir);
    return { ok: true, body, stamp: stampLine(r.data, r.stamp), batch: r.data.batch };
  } catch (err) {
    if (err instanceof LgError) return { ok: false, code: err.code, details: err.details, message: err.message };
    throw err;
  } finally {
    db.close();
  }
}

function inWorker(file: string, job: RenderJob): Promise<RenderResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(file, { workerData: job });
    let done = false;
    w.once('message', (m: RenderResult) => {
      done = true;
      resolve(m);
      void w.terminate();
    });
    w.once('error', (err) => {
      if (!done) reject(err);
    });
    w.once('exit', (code) => {
      if (!done) reject(new Error(`report worker exited with ${code}`));
    });
  });
}

/** Render a report; LG_ERR_… failures (e.g. batch not found) are thrown as LgError. */
export async function renderReport(job: RenderJob): Promise<{ body: Buffer | string; stamp: string; batch: string }> {
  if (running >= MAX_PARALLEL) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    const file = workerFile();
    const res = file ? await inWorker(file, job) : await inline(job);
    if (!res.ok) {
      if (res.code && isErrorCode(res.code)) throw new LgError(res.code, res.details);
      throw new Error(res.message);
    }
    return { body: typeof res.body === 'string' ? res.body : Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength), stamp: res.stamp, batch: res.batch };
  } finally {
    running--;
    waiting.shift()?.();
  }
}
