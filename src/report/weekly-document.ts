/**
 * The weekly review (src/report/weekly.ts) as a report document — the same blocks drawn by the HTML
 * and the PDF renderer (html.ts, pdf.ts) — with, for a frozen review, the review's id, the journal
 * cut it was frozen at, its content SHA-256 on every page, and every signature's manifestation
 * (printed name, date/time in the site's zone, meaning; 21 CFR 11.50).
 */
import type { Block, ReportDocument } from './document.js';
import { renderDocumentHtml } from './html.js';
import { renderDocumentPdf } from './pdf.js';
import { timeFormatter, zoneLabel } from './format.js';
import type { WeeklyReview } from './weekly.js';

/** A frozen review (table weekly_reviews). */
export interface FrozenReview {
  id: string;
  periodFrom: string;
  periodTo: string;
  timeZone: string;
  asOf: { recordSeq: number; auditSeq: number };
  contentHash: string;
  frozenBy: string;
  frozenByName: string | null;
  frozenAt: string;
}

export interface ReviewSignature {
  id: string;
  signer: string;
  printedName: string;
  role: string | null;
  signedAt: string;
  meaning: string;
  statement: string | null;
  contentHash: string;
}

const s = (v: unknown): string => (v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));

export function buildWeeklyDocument(w: WeeklyReview, frozen: { review: FrozenReview; signatures: ReviewSignature[] } | null): ReportDocument {
  const tz = w.period.timeZone;
  const t = timeFormatter(tz);
  const blocks: Block[] = [];
  const table = (cols: Array<[string, number]>, rows: unknown[][], empty: string): void => {
    blocks.push({ kind: 'table', cols: cols.map(([title, width]) => ({ title, width })), rows: rows.map((r) => r.map(s)), empty });
  };
  blocks.push({
    kind: 'kv',
    rows: [
      ['Site / line', `${w.site} / ${w.line}`],
      ['Period', `${t(w.period.from)} to ${t(w.period.to)} (${w.period.fromDate} – ${w.period.toDate}, end exclusive)`],
      ['Time zone', `all times ${zoneLabel(tz, new Date(w.period.from))}`],
      ['Batches by status', Object.entries(w.byStatus).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
      ['Generated', t(w.generatedAt)],
    ],
  });
  blocks.push({ kind: 'h', text: 'Batches' });
  table(
    [['Batch', 12], ['Product', 12], ['Status', 9], ['Planned', 8], ['Produced', 7], ['Rejected', 7], ['Yield %', 6], ['Started', 10], ['Completed', 10], ['Released', 10], ['Exc.', 4], ['Open dev.', 5], ['QC fail', 5]],
    w.batches.map((b) => [b.number, `${b.product}${b.productName ? ` ${b.productName}` : ''}`, b.status, `${b.plannedQty} ${b.unit}`, b.producedQty, b.rejectedQty, b.yieldPct, t(b.startedAt), t(b.completedAt), t(b.releasedAt), b.exceptions, b.openDeviations, b.qcFailures]),
    'No batches in this period.',
  );
  blocks.push({ kind: 'h', text: 'Inventory of the lots used and made' });
  table(
    [['Lot', 14], ['Material', 11], ['Status', 10], ['On hand', 11], ['Expiry', 10], ['Supplier lot', 12], ['Used by', 18], ['Produced by', 14]],
    w.inventory.map((l) => [l.lot, l.material, l.status, `${l.quantity} ${l.unit}`, l.expiry, l.supplierLot, l.usedBy, l.producedBy]),
    'No lots.',
  );
  blocks.push({ kind: 'h', text: `Deviations (open: ${w.deviations.open}, under investigation: ${w.deviations.underInvestigation}, closed in the period: ${w.deviations.closed})` });
  table(
    [['Deviation', 15], ['Batch', 12], ['Category', 8], ['Title', 25], ['Status', 12], ['Raised', 14], ['Closed', 14]],
    w.deviations.items.map((d) => [d.number, d.batch, d.category, d.title, d.status, `${t(d.raisedAt)} ${s(d.raisedBy)}`, d.closedAt ? `${t(d.closedAt)} ${s(d.closedBy)}` : '']),
    'No deviations.',
  );
  blocks.push({ kind: 'h', text: 'Failed QC results' });
  table(
    [['Inspection', 16], ['Plan', 12], ['Lot', 12], ['Batch', 12], ['Failed', 12], ['By', 8], ['Time', 14], ['Retake', 14]],
    w.qcFailures.map((q) => [q.id, q.plan, q.lot, q.batch, q.failed, q.inspectedBy, t(q.inspectedAt), q.retake]),
    'No failed QC results.',
  );
  blocks.push({ kind: 'h', text: 'Review and signatures' });
  if (!frozen) {
    blocks.push({ kind: 'p', text: 'A live view, not a frozen review: it changes as records arrive and cannot be signed. Freeze it (POST /reports/weekly/reviews) to sign it.' });
  } else {
    const r = frozen.review;
    blocks.push({
      kind: 'kv',
      rows: [
        ['Review', r.id],
        ['Frozen', `${t(r.frozenAt)} by ${r.frozenByName ? `${r.frozenByName} (${r.frozenBy})` : r.frozenBy}`],
        ['Covers', `records up to #${r.asOf.recordSeq}, audit entries up to #${r.asOf.auditSeq}`],
        ['Content SHA-256', r.contentHash],
      ],
    });
    table(
      [['Printed name', 18], ['User', 10], ['Role', 8], ['Date/time', 17], ['Meaning', 10], ['Statement', 20], ['Signature binds SHA-256', 17]],
      frozen.signatures.map((g) => [g.printedName, g.signer, g.role, t(g.signedAt), g.meaning, g.statement, `${g.contentHash.slice(0, 16)}…`]),
      'Not signed yet.',
    );
  }
  const site = `${w.site} / ${w.line}`;
  return {
    title: `Weekly review ${site}: ${w.period.fromDate} – ${w.period.toDate}`,
    subtitle: frozen ? `review ${frozen.review.id} · frozen ${t(frozen.review.frozenAt)} (${tz}) · ${frozen.signatures.length ? `signed ${frozen.signatures.map((g) => `${g.meaning} by ${g.printedName}`).join(', ')}` : 'not signed'}` : `live view · generated ${t(w.generatedAt)} (${tz})`,
    footer: `${site} · weekly review ${w.period.fromDate} – ${w.period.toDate} · generated ${t(w.generatedAt)} ${tz}`,
    footerHash: frozen ? `SHA-256 ${frozen.review.contentHash} · review ${frozen.review.id} · as of ${frozen.review.asOf.recordSeq}.${frozen.review.asOf.auditSeq}` : 'live view: not frozen, no content hash',
    blocks,
    timeZone: tz,
    stripEnd: w.generatedAt,
  };
}

/** The stamp embedded in a frozen review's HTML/PDF. */
export function weeklyStamp(r: FrozenReview): string {
  return `LGW1 review=${encodeURIComponent(r.id)} from=${r.periodFrom} to=${r.periodTo} asof=${r.asOf.recordSeq}.${r.asOf.auditSeq} sha256=${r.contentHash}`;
}

export function renderWeeklyHtml(w: WeeklyReview, frozen: { review: FrozenReview; signatures: ReviewSignature[] } | null = null): string {
  return renderDocumentHtml(buildWeeklyDocument(w, frozen), { meta: frozen ? weeklyStamp(frozen.review) : null, metaName: 'linegate-weekly-review' });
}

export function renderWeeklyPdf(w: WeeklyReview, frozen: { review: FrozenReview; signatures: ReviewSignature[] } | null = null): Promise<Buffer> {
  return renderDocumentPdf(buildWeeklyDocument(w, frozen), {
    subject: `Weekly review ${w.period.fromDate} – ${w.period.toDate}`,
    stamp: frozen ? weeklyStamp(frozen.review) : `LGW1 live from=${w.period.fromDate} to=${w.period.toDate}`,
    createdAt: new Date(w.generatedAt),
  });
}
