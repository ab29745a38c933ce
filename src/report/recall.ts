/**
 * The recall question on one page (issue 14): "which batches, handling units and customers received
 * supplier X's lot Y?" — the answer as JSON (the page), CSV (a spreadsheet for the recall team) and
 * PDF (pdfkit, no browser needed). A question, not an action: nothing is held here (the recall
 * action, issue 15, is its own API under /recalls).
 *
 * The answer is the forward trace to customers (src/domain/genealogy.ts `traceToCustomers`, the
 * same query `GET /genealogy/customers` and `linegate trace customers` answer), plus which of the
 * supplier lot's internal lots led to each batch, so a CSV row can be read on its own.
 */
import { createHash } from 'node:crypto';
import PDFDocument from 'pdfkit';
import { affectedBatches, traceForward, traceToCustomers } from '../domain/genealogy.js';
import { LgError } from '../errors.js';
import type { Repo } from '../store/repo.js';
import { dispatchIO, lotsBySupplierLot } from '../usecases/exports.js';
import { pdfText } from './pdf.js';
import type { RecallAnswer, RecallQuery } from './recall-answer.js';

export type { RecallAnswer, RecallQuery } from './recall-answer.js';

export function recallAnswer(repo: Repo, q: RecallQuery, now: Date, site: string): RecallAnswer {
  if (!q.supplierLot) throw new LgError('LG_ERR_VALIDATION', { detail: 'name a supplierLot' });
  const ids = lotsBySupplierLot(repo, q.supplierLot, q.supplier || undefined);
  const io = { ...repo.genealogyIO(), ...dispatchIO(repo) };
  const trace = traceToCustomers({ lots: ids, batches: [] }, io);
  const via = new Map<string, string[]>();
  for (const id of ids) {
    const t = traceForward(id, io);
    if (!t) continue;
    for (const b of affectedBatches(t)) via.set(b, [...(via.get(b) ?? []), id]);
  }
  const lots = ids.map((id) => repo.lot(id)!).filter(Boolean).map((l) => ({ id: l.id, material: l.material, supplier: l.supplier, supplierLot: l.supplierLot, status: l.status, quantity: l.quantity, unit: l.unit, expiry: l.expiry }));
  const batches = trace.batches.map((n) => {
    const b = io.batch(n);
    const hus = trace.handlingUnits.filter((h) => h.batch === n);
    return { number: n, product: b?.product ?? '', productName: b?.productName ?? null, status: b?.status ?? 'missing', line: b?.line ?? '', viaLots: via.get(n) ?? [], pallets: hus.length, cases: hus.reduce((a, h) => a + h.cases, 0) };
  });
  const pallets = new Set(trace.handlingUnits.map((h) => h.pallet));
  const onSite = new Set(trace.onSite.map((h) => h.pallet));
  return {
    query: { supplierLot: q.supplierLot, ...(q.supplier ? { supplier: q.supplier } : {}) },
    generatedAt: now.toISOString(),
    site,
    lots,
    batches,
    handlingUnits: trace.handlingUnits,
    customers: trace.customers,
    onSite: trace.onSite,
    totals: {
      lots: lots.length,
      batches: batches.length,
      pallets: pallets.size,
      shipped: pallets.size - onSite.size,
      onSite: onSite.size,
      customers: trace.customers.length,
      deliveries: trace.customers.reduce((a, c) => a + c.deliveries.length, 0),
    },
  };
}

// ── CSV ───────────────────────────────────────────────────────────────────────────────────────

export const RECALL_CSV_COLUMNS = [
  'supplier', 'supplier_lot', 'lot', 'batch', 'product', 'batch_status', 'pallet', 'sscc', 'pallet_status', 'on_hold', 'cases',
  'delivery', 'delivery_status', 'shipped_at', 'customer', 'customer_name', 'customer_gln', 'ship_to_gln',
] as const;

/**
 * One cell: quoted when needed (RFC 4180), and a leading = + - @ (or tab/CR) prefixed with ' so a
 * spreadsheet never runs a supplier's lot text as a formula.
 */
export function csvCell(v: string | number | boolean | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One row per handling unit (pallet) of each batch reached; a batch with no pallet yet gets one
 * row with the pallet columns empty, so every batch is in the file. CRLF line ends (RFC 4180).
 */
export function recallCsv(a: RecallAnswer): string {
  const lotById = new Map(a.lots.map((l) => [l.id, l]));
  const customerOf = new Map<string, { c: RecallAnswer['customers'][number]; d: RecallAnswer['customers'][number]['deliveries'][number] }>();
  for (const c of a.customers) for (const d of c.deliveries) customerOf.set(d.number, { c, d });
  const lines = [RECALL_CSV_COLUMNS.join(',')];
  for (const b of a.batches) {
    const lots = b.viaLots.length ? b.viaLots : [''];
    const supplier = [...new Set(lots.map((l) => lotById.get(l)?.supplier ?? a.query.supplier ?? ''))].join(' ');
    const base = [supplier, a.query.supplierLot, lots.join(' '), b.number, b.productName ?? b.product, b.status];
    const hus = a.handlingUnits.filter((h) => h.batch === b.number);
    if (hus.length === 0) lines.push([...base, '', '', '', '', '', '', '', '', '', '', '', ''].map(csvCell).join(','));
    for (const h of hus) {
      const cd = h.delivery ? customerOf.get(h.delivery) : undefined;
      lines.push(
        [...base, h.pallet, h.sscc, h.status, h.onHold ? 'yes' : 'no', h.cases, h.delivery, cd?.d.status ?? '', cd?.d.shippedAt ?? '', cd?.c.id ?? '', cd?.c.name ?? '', cd?.c.gln ?? '', cd?.d.shipToGln ?? '']
          .map(csvCell)
          .join(','),
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}

/** The SHA-256 of the answer's content (without the generation time), printed on the PDF. */
export function recallHash(a: RecallAnswer): string {
  const { generatedAt: _omit, ...content } = a;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

// ── PDF ───────────────────────────────────────────────────────────────────────────────────────

type Doc = InstanceType<typeof PDFDocument>;
const M = { top: 48, bottom: 64, left: 40, right: 40 };

export async function recallPdf(a: RecallAnswer, opts: { timeZone: string; by: string | null }): Promise<Buffer> {
  const title = `Recall question: supplier lot ${a.query.supplierLot}${a.query.supplier ? ` of ${a.query.supplier}` : ''}`;
  const doc: Doc = new PDFDocument({ size: 'A4', layout: 'landscape', margins: M, bufferPages: true, info: { Title: pdfText(title), Author: 'linegate', CreationDate: new Date(a.generatedAt) } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const W = doc.page.width - M.left - M.right;
  const when = new Intl.DateTimeFormat('en-GB', { timeZone: opts.timeZone, dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(a.generatedAt));
  doc.font('Helvetica-Bold').fontSize(15).text(pdfText(title), M.left, M.top, { width: W });
  doc.font('Helvetica').fontSize(8.5).fillColor('#444').text(pdfText(`Site ${a.site} - generated ${when} (${opts.timeZone})${opts.by ? ` by ${opts.by}` : ''}. A question, not an action: nothing was put on hold by this document.`), { width: W });
  const t = a.totals;
  doc.fillColor('#000').moveDown(0.4).font('Helvetica-Bold').fontSize(10)
    .text(pdfText(`${t.lots} lot(s), ${t.batches} batch(es), ${t.pallets} pallet(s) (${t.shipped} shipped, ${t.onSite} on site), ${t.customers} customer(s), ${t.deliveries} deliver${t.deliveries === 1 ? 'y' : 'ies'}`), { width: W });

  heading(doc, 'Lots received under this supplier lot', W);
  table(doc, W, [['Lot', 2], ['Material', 2], ['Supplier', 2], ['Supplier lot', 2], ['Status', 1.3], ['Quantity', 1.5], ['Expiry', 1.5]], a.lots.map((l) => [l.id, l.material, l.supplier ?? '', l.supplierLot ?? '', l.status, `${l.quantity} ${l.unit}`, l.expiry ?? '']), 'No lot of the lot master carries this supplier lot.');
  heading(doc, 'Batches made from it (directly or through intermediates)', W);
  table(doc, W, [['Batch', 2], ['Product', 3], ['Status', 1.5], ['Line', 1], ['Via lot(s)', 2.5], ['Pallets', 1], ['Cases', 1]], a.batches.map((b) => [b.number, b.productName ?? b.product, b.status, b.line, b.viaLots.join(', '), String(b.pallets), String(b.cases)]), 'No batch consumed it.');
  heading(doc, 'Customers and deliveries', W);
  const rows: string[][] = [];
  for (const c of a.customers) for (const d of c.deliveries) rows.push([`${c.name ?? c.id} (${c.id})`, c.gln ?? '', d.number, d.status ?? '', d.shippedAt ?? '', d.shipToGln ?? '', d.batches.join(', '), d.ssccs.join(', ')]);
  table(doc, W, [['Customer', 2.5], ['GLN', 1.8], ['Delivery', 1.5], ['Status', 1.1], ['Shipped at', 2], ['Ship-to GLN', 1.8], ['Batches', 2], ['SSCCs', 3.5]], rows, 'Nothing made from it was loaded onto a delivery.');
  heading(doc, 'Handling units', W);
  table(doc, W, [['Batch', 2], ['Pallet', 1.5], ['SSCC', 2.5], ['Status', 1.2], ['On hold', 1], ['Cases', 1], ['Delivery', 1.5]], a.handlingUnits.map((h) => [h.batch, h.pallet, h.sscc ?? '', h.status, h.onHold ? 'yes' : 'no', String(h.cases), h.delivery ?? '']), 'No pallet holds cases of these batches.');

  const hash = recallHash(a);
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - 44;
    doc.moveTo(M.left, y - 4).lineTo(doc.page.width - M.right, y - 4).lineWidth(0.5).strokeColor('#999').stroke();
    doc.font('Helvetica').fontSize(7.5).fillColor('#000').text(pdfText(`linegate recall question - ${a.site} - ${when} (${opts.timeZone})`), M.left, y, { width: W - 90, lineBreak: false });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, doc.page.width - M.right - 90, y, { width: 90, align: 'right', lineBreak: false });
    doc.font('Courier').fontSize(6.5).text(`content SHA-256 ${hash}`, M.left, y + 11, { width: W, lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

function heading(doc: Doc, text: string, W: number): void {
  if (doc.y + 50 > doc.page.height - M.bottom) doc.addPage();
  doc.moveDown(0.7).font('Helvetica-Bold').fontSize(11).fillColor('#000').text(pdfText(text), M.left, doc.y, { width: W });
  const y = doc.y + 1;
  doc.moveTo(M.left, y).lineTo(M.left + W, y).lineWidth(1).strokeColor('#333').stroke();
  doc.y = y + 4;
}

function table(doc: Doc, W: number, cols: Array<[string, number]>, rows: string[][], empty: string): void {
  if (rows.length === 0) {
    doc.font('Helvetica-Oblique').fontSize(8.5).fillColor('#555').text(pdfText(empty), M.left, doc.y, { width: W });
    doc.fillColor('#000');
    return;
  }
  const total = cols.reduce((s, c) => s + c[1], 0);
  const widths = cols.map((c) => (c[1] / total) * W);
  const pad = 2;
  const height = (cells: string[], bold: boolean) => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(7.5);
    return Math.max(...cells.map((c, i) => doc.heightOfString(pdfText(c || ' '), { width: widths[i]! - 2 * pad }))) + 2 * pad;
  };
  const row = (cells: string[], bold: boolean) => {
    const h = height(cells, bold);
    const y = doc.y;
    let x = M.left;
    cells.forEach((c, i) => {
      if (bold) doc.rect(x, y, widths[i]!, h).fill('#eeeeee');
      doc.rect(x, y, widths[i]!, h).lineWidth(0.4).strokeColor('#999').stroke();
      doc.fillColor('#000').font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(7.5).text(pdfText(c), x + pad, y + pad, { width: widths[i]! - 2 * pad });
      x += widths[i]!;
    });
    doc.y = y + h;
  };
  const head = cols.map((c) => c[0]);
  if (doc.y + height(head, true) + height(rows[0]!, false) > doc.page.height - M.bottom) doc.addPage();
  row(head, true);
  for (const r of rows) {
    if (doc.y + height(r, false) > doc.page.height - M.bottom) {
      doc.addPage();
      row(head, true);
    }
    row(r, false);
  }
  doc.x = M.left;
}
