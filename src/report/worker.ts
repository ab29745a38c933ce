/**
 * Report rendering off the gateway's event loop (issue 14): a worker thread opens the journal
 * read-only (WAL: a consistent snapshot beside the live writer), gathers and renders one report and
 * posts it back. A PDF of a large batch takes a second or more of CPU; on the main thread that
 * would hold up scan verdicts and weighings for as long.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isLgError } from '../errors.js';
import { openDatabase } from '../store/db.js';
import { makeReport, renderMade, stampLine } from './index.js';
import type { RenderJob, RenderResult } from './run.js';

async function run(job: RenderJob): Promise<RenderResult> {
  const db = openDatabase(job.dbFile, { readonly: true });
  try {
    const r = makeReport(db, job.batch, { cfg: job.cfg, stateDir: job.stateDir, by: job.by, now: new Date(job.now) });
    const body = await renderMade(db, r, job.format, job.stateDir);
    return { ok: true, body, stamp: stampLine(r.data, r.stamp), batch: r.data.batch };
  } finally {
    db.close();
  }
}

run(workerData as RenderJob).then(
  (res) => parentPort!.postMessage(res),
  (err: unknown) =>
    parentPort!.postMessage({
      ok: false,
      code: isLgError(err) ? err.code : null,
      details: isLgError(err) ? err.details : {},
      message: (err as Error).message,
    } satisfies RenderResult),
);
