/**
 * Batch record reports (issue 14): make one (data + stamp), and verify a copy against a journal.
 *
 * `verifyCopy` answers "is this printed/downloaded report what the journal says?":
 *  1. the journal still reaches the report's as-of point (records and audit entries);
 *  2. the report recomputed from the journal at that point has the printed content SHA-256 — or,
 *     when it does not, which sections differ (a status that moved on since printing is named, not
 *     hidden in one opaque mismatch);
 *  3. the audit checkpoint head printed on it is still the entry of the audit trail, and is one the
 *     gateway signed (checked against the checkpoint file and the gateway's public key when present);
 *  4. the audit trail's hash chain is intact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verify as edVerify, type KeyObject } from 'node:crypto';
import type { Db } from '../store/db.js';
import { CHECKPOINT_FILE, canonicalCheckpoint, readCheckpoints, readPublicKey } from '../store/anchor.js';
import { verifyAudit } from '../store/repo.js';
import { currentAsOf, gatherReport, reportJson, type ReportConfigSource, type ReportData } from './data.js';
import { renderHtml } from './html.js';
import { reportLabelImages } from './images.js';
import { renderPdf } from './pdf.js';
import { checkpointHead, parseStamp, stampLine, type ParsedStamp, type ReportStamp } from './format.js';
import './process-values.js'; // registers the "Process values" section (issue 18)

export { gatherReport, registerReportSection, reportJson, type ReportData } from './data.js';
export { renderHtml, type LabelImages } from './html.js';
export { reportLabelImages } from './images.js';
export { renderPdf } from './pdf.js';
export { parseStamp, stampLine, type ReportStamp } from './format.js';
export type { ReportConfigSource } from './data.js';

export interface MadeReport {
  data: ReportData;
  stamp: ReportStamp;
}

export function makeReport(db: Db, batch: string, o: { cfg: ReportConfigSource | null; stateDir: string | null; by: string | null; now: Date }): MadeReport {
  const data = gatherReport(db, batch, { cfg: o.cfg });
  const checkpoint = o.stateDir ? checkpointHead(o.stateDir, data.asOf.auditSeq) : null;
  return { data, stamp: { generatedAt: o.now.toISOString(), generatedBy: o.by, checkpoint } };
}

/** Render a made report: PDF and HTML with the label pictures (cached, src/report/images.ts), or the JSON export. */
export async function renderMade(db: Db, r: MadeReport, format: 'pdf' | 'html' | 'json', stateDir: string | null): Promise<Buffer | string> {
  if (format === 'json') return reportExport(r);
  const images = await reportLabelImages(db, r.data, { stateDir });
  return format === 'pdf' ? renderPdf(r.data, r.stamp, images) : renderHtml(r.data, r.stamp, images);
}

/** The stamp of a report file: PDF (Info dictionary), HTML (meta tag) or JSON export. */
export function stampOfFile(file: string): ParsedStamp | null {
  const buf = readFileSync(file);
  const text = buf.toString('latin1');
  if (text.trimStart().startsWith('{')) {
    try {
      const j = JSON.parse(buf.toString('utf8')) as { stamp?: string };
      if (typeof j.stamp === 'string') return parseStamp(j.stamp);
    } catch {
      /* fall through to a plain search */
    }
  }
  const pdf = /\/LinegateReport \(([^)]*)\)/.exec(text);
  if (pdf) return parseStamp(pdf[1]!);
  const meta = /<meta name="linegate-report" content="([^"]*)"/.exec(text);
  if (meta) return parseStamp(meta[1]!);
  return parseStamp(text);
}

export interface CopyVerification {
  ok: boolean;
  lines: string[];
  changedSections: string[];
}

export function verifyCopy(db: Db, st: ParsedStamp, o: { cfg: ReportConfigSource | null; stateDir: string | null; checkpointsFile?: string; publicKey?: KeyObject | null }): CopyVerification {
  const lines: string[] = [];
  let ok = true;
  const chain = verifyAudit(db);
  if (!chain.ok) {
    ok = false;
    lines.push(`audit trail BROKEN at entry ${chain.firstBroken!.seq}: ${chain.firstBroken!.reason} (LG_ERR_AUDIT_CHAIN_BROKEN)`);
  } else lines.push(`audit trail hash chain intact (${chain.checked} entries)`);
  const now = currentAsOf(db);
  if (now.recordSeq < st.asOf.recordSeq || now.auditSeq < st.asOf.auditSeq) {
    lines.push(
      `the journal ends at record ${now.recordSeq} / audit entry ${now.auditSeq}, but the report covers records up to ${st.asOf.recordSeq} / audit entries up to ${st.asOf.auditSeq}: this journal is older than the report, or was truncated`,
    );
    return { ok: false, lines, changedSections: [] };
  }
  let data: ReportData;
  try {
    data = gatherReport(db, st.batch, { cfg: o.cfg, asOf: st.asOf });
  } catch (err) {
    lines.push(`batch ${st.batch}: ${(err as Error).message}`);
    return { ok: false, lines, changedSections: [] };
  }
  const changed: string[] = [];
  if (data.contentHash === st.sha256) {
    lines.push(`content SHA-256 ${st.sha256} matches the batch record of ${st.batch} as of ${st.asOf.recordSeq}.${st.asOf.auditSeq}`);
  } else {
    ok = false;
    if (st.sections) {
      const names = new Set([...Object.keys(st.sections), ...Object.keys(data.sectionHashes)]);
      for (const n of [...names].sort()) if ((data.sectionHashes[n] ?? '').slice(0, 16) !== st.sections[n]) changed.push(n);
    }
    lines.push(
      `content SHA-256 DIFFERS: the copy says ${st.sha256}, the journal gives ${data.contentHash} (LG_ERR_REPORT_MISMATCH)` +
        (changed.length ? `; sections that differ: ${changed.join(', ')}` : ''),
    );
    if (changed.includes('config') && !o.cfg) lines.push('  (the config section needs --config: without it the report knows only what the journal holds)');
    const current = changed.filter((c) => ['header', 'deviations', 'labels'].includes(c));
    if (current.length && current.length === changed.length) lines.push('  (these sections show current states — batch status, deviation status, print job state — which may have moved on since the copy was made)');
  }
  if (st.checkpoint) {
    const row = db.prepare('SELECT hash FROM audit WHERE seq = ?').get(st.checkpoint.seq) as { hash: string } | undefined;
    if (!row) {
      ok = false;
      lines.push(`audit checkpoint head: entry ${st.checkpoint.seq} is missing from the audit trail`);
    } else if (row.hash !== st.checkpoint.hash) {
      ok = false;
      lines.push(`audit checkpoint head: entry ${st.checkpoint.seq} has hash ${row.hash}, the copy says ${st.checkpoint.hash} (the trail was rewritten)`);
    } else {
      const file = o.checkpointsFile ?? (o.stateDir ? join(o.stateDir, CHECKPOINT_FILE) : null);
      const key = o.publicKey ?? (o.stateDir ? readPublicKey(o.stateDir) : null);
      const cps = file ? readCheckpoints(file).filter((c) => c.seq === st.checkpoint!.seq && c.hash === st.checkpoint!.hash) : [];
      const signed = key
        ? cps.some((c) => {
            const { sig, ...body } = c;
            try {
              return edVerify(null, canonicalCheckpoint(body), key, Buffer.from(sig, 'base64'));
            } catch {
              return false;
            }
          })
        : false;
      lines.push(
        `audit checkpoint head: entry ${st.checkpoint.seq} ${st.checkpoint.hash.slice(0, 16)}… is in the trail` +
          (signed ? ' and signed by the gateway key' : cps.length ? ' (checkpoint found; signature not checked: no public key)' : ' (no checkpoint file to check its signature against)'),
      );
    }
  } else lines.push('audit checkpoint head: none printed (no signed checkpoint existed when the report was made)');
  return { ok, lines, changedSections: changed };
}

/** The JSON export: the canonical report (what the hash is computed over) with its stamp. */
export function reportExport(r: MadeReport): string {
  return `{"generatedAt":${JSON.stringify(r.stamp.generatedAt)},"generatedBy":${JSON.stringify(r.stamp.generatedBy)},"checkpoint":${JSON.stringify(r.stamp.checkpoint)},"stamp":${JSON.stringify(stampLine(r.data, r.stamp))},"report":${reportJson(r.data)}}`;
}
