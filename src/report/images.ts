/**
 * The label pictures of a report: for each label kind the report samples (ReportData
 * sections.labelSamples), the job's stored ZPL rendered to PNG by the shared renderer
 * (src/labels/images.ts), cached on disk under `<stateDir>/label-images/` so the second report of a
 * batch — in a new worker thread, or after a restart — renders nothing. The ZPL read here must hash
 * to what the report's content says; a job whose ZPL was changed behind linegate's back gets no
 * picture, and the report says why.
 */
import { join } from 'node:path';
import type { Db } from '../store/db.js';
import { labelPng, zplSha256 } from '../labels/images.js';
import type { ReportData } from './data.js';
import type { LabelImages } from './html.js';

export const LABEL_IMAGE_DIR = 'label-images';

export async function reportLabelImages(db: Db, d: ReportData, o: { stateDir: string | null }): Promise<LabelImages> {
  const out = new Map<string, Buffer | { error: string }>();
  const get = db.prepare('SELECT zpl FROM print_jobs WHERE id = ?');
  for (const s of d.sections.labelSamples) {
    const row = get.get(s.job) as { zpl: string } | undefined;
    if (!row) {
      out.set(s.job, { error: 'the print job is no longer in the journal' });
      continue;
    }
    if (zplSha256(row.zpl) !== s.zplSha256) {
      out.set(s.job, { error: "the job's stored ZPL no longer has the SHA-256 this report covers" });
      continue;
    }
    try {
      out.set(s.job, await labelPng(s.job, row.zpl, undefined, { cacheDir: o.stateDir ? join(o.stateDir, LABEL_IMAGE_DIR) : null }));
    } catch (err) {
      out.set(s.job, { error: `the renderer failed: ${(err as Error).message}` });
    }
  }
  return out;
}
