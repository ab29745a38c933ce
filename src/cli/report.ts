/**
 * `linegate report batch N --pdf FILE [--html FILE] [--json FILE]` and `linegate report verify FILE`
 * (issue 14). Both work offline on a copy of the journal (`--db FILE`; the audit checkpoints and the
 * public key are looked up beside it). `--config FILE` adds what only the config knows (site name,
 * time zone, equipment); with `--db` alone the report says it was made without it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { formatMessage } from '../errors.js';
import { openDatabase } from '../store/db.js';
import { makeReport, parseStamp, renderMade, reportExport, verifyCopy, stampOfFile } from '../report/index.js';
import type { ParsedStamp } from '../report/format.js';

export interface ReportCliOptions {
  dbFile: string;
  cfg: Readonly<Config> | null;
  pdf?: string;
  html?: string;
  json?: string;
}

export async function reportBatch(number: string, o: ReportCliOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (!existsSync(o.dbFile)) {
    err.write(`no journal at ${o.dbFile}\n`);
    return 1;
  }
  if (!o.pdf && !o.html && !o.json) {
    err.write('say where to write the report: --pdf FILE, --html FILE and/or --json FILE\n');
    return 64;
  }
  const db = openDatabase(o.dbFile, { readonly: true });
  try {
    if (!db.prepare('SELECT 1 FROM batches WHERE number = ?').get(number)) {
      err.write(`batch ${number} not found (LG_ERR_BATCH_NOT_FOUND)\n`);
      return 1;
    }
    const r = makeReport(db, number, { cfg: o.cfg as never, stateDir: dirname(o.dbFile), by: process.env.USER ?? null, now: new Date() });
    // label pictures: rendered here (no cache written beside a journal copy that may be read-only)
    if (o.pdf) writeFileSync(o.pdf, await renderMade(db, r, 'pdf', null));
    if (o.html) writeFileSync(o.html, await renderMade(db, r, 'html', null));
    if (o.json) writeFileSync(o.json, `${reportExport(r)}\n`);
    out.write(`batch record ${number}: content SHA-256 ${r.data.contentHash}, as of ${r.data.asOf.recordSeq}.${r.data.asOf.auditSeq}${o.cfg ? '' : ' (made without --config: equipment from the journal only)'}\n`);
    for (const [k, f] of [['pdf', o.pdf], ['html', o.html], ['json', o.json]] as const) if (f) out.write(`  ${k}: ${f}\n`);
    return 0;
  } finally {
    db.close();
  }
}

export interface VerifyCliOptions {
  dbFile: string;
  cfg: Readonly<Config> | null;
  file?: string;
  batch?: string;
  asof?: string;
  sha256?: string;
  checkpoints?: string;
  publicKey?: string;
}

export function reportVerify(o: VerifyCliOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  let st: ParsedStamp | null;
  if (o.file) {
    if (!existsSync(o.file)) {
      err.write(`no file ${o.file}\n`);
      return 1;
    }
    st = stampOfFile(o.file);
    if (!st) {
      err.write(`${formatMessage('LG_ERR_REPORT_STAMP_MISSING', { file: o.file })} (LG_ERR_REPORT_STAMP_MISSING)\n`);
      return 1;
    }
  } else {
    // A paper copy: the three facts printed in its footer, typed in.
    if (!o.batch || !o.asof || !o.sha256) {
      err.write('usage: linegate report verify FILE | --batch N --asof R.A --sha256 HASH [--config FILE | --db FILE]\n');
      return 64;
    }
    st = parseStamp(`LGR1 batch=${encodeURIComponent(o.batch)} asof=${o.asof} sha256=${o.sha256.toLowerCase()} checkpoint=none`);
    if (!st) {
      err.write('--asof is RECORDSEQ.AUDITSEQ and --sha256 64 hex digits, as printed on the report\n');
      return 64;
    }
  }
  if (!existsSync(o.dbFile)) {
    err.write(`no journal at ${o.dbFile}\n`);
    return 1;
  }
  const db = openDatabase(o.dbFile, { readonly: true });
  try {
    let key: KeyObject | null = null;
    if (o.publicKey) key = createPublicKey(readFileSync(o.publicKey));
    const v = verifyCopy(db, st, { cfg: o.cfg as never, stateDir: dirname(o.dbFile), checkpointsFile: o.checkpoints, publicKey: key });
    out.write(`report of batch ${st.batch} (as of ${st.asOf.recordSeq}.${st.asOf.auditSeq}): ${v.ok ? 'VERIFIED' : 'NOT VERIFIED'}\n`);
    for (const l of v.lines) out.write(`  ${l}\n`);
    return v.ok ? 0 : 1;
  } finally {
    db.close();
  }
}
