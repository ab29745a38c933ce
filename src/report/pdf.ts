/**
 * The batch record as PDF, drawn with pdfkit (pure JS: no browser on the plant PC). A4, the same
 * blocks as the HTML (document.ts), the PackML state strip as vector graphics, and on every page a
 * footer with site/line, generation time and zone, "Page x of y" and the content SHA-256 with the
 * audit checkpoint head. The stamp is also in the PDF's Info dictionary (`LinegateReport`), which
 * `linegate report verify` reads back.
 *
 * Fonts: the PDF standard fonts (Helvetica, Courier; WinAnsi). Characters outside WinAnsi are
 * printed as "?" rather than dropped silently; the JSON export carries the exact text.
 */
import PDFDocument from 'pdfkit';
import type { ReportData } from './data.js';
import { buildDocument, type Block, type ReportDocument } from './document.js';
import type { LabelImages } from './html.js';
import { stampLine, stateColour, stripLayout, timeFormatter, type ReportStamp } from './format.js';

const WINANSI_EXTRA = new Set([...'€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ']);
/** Text the standard fonts can show; anything else becomes "?". */
export function pdfText(v: string): string {
  let out = '';
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    out += (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WINANSI_EXTRA.has(ch) ? ch : ch === '\n' || ch === '\t' ? ' ' : '?';
  }
  return out;
}

type Doc = InstanceType<typeof PDFDocument>;
const M = { top: 48, bottom: 64, left: 40, right: 40 };

export async function renderPdf(d: ReportData, stamp: ReportStamp, images: LabelImages = new Map()): Promise<Buffer> {
  return renderDocumentPdf(buildDocument(d, stamp), { subject: `Batch record ${d.batch}`, stamp: stampLine(d, stamp), createdAt: new Date(stamp.generatedAt), data: d, images });
}

/**
 * Any report document (the batch record, the weekly review) as PDF. `stamp` goes into the Info
 * dictionary (`LinegateReport`) and the keywords, where `linegate report verify` finds it.
 */
export async function renderDocumentPdf(rdoc: ReportDocument, o: { subject: string; stamp: string; createdAt: Date; data?: ReportData | null; images?: LabelImages }): Promise<Buffer> {
  const d = o.data ?? null;
  const images = o.images ?? new Map();
  const doc: Doc = new PDFDocument({
    size: 'A4',
    margins: M,
    bufferPages: true,
    autoFirstPage: true,
    info: {
      Title: pdfText(rdoc.title),
      Author: 'linegate',
      Subject: pdfText(o.subject),
      Keywords: pdfText(o.stamp),
      CreationDate: o.createdAt,
    },
  });
  (doc.info as unknown as Record<string, unknown>).LinegateReport = o.stamp;
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const W = doc.page.width - M.left - M.right;
  doc.font('Helvetica-Bold').fontSize(16).text(pdfText(rdoc.title), M.left, M.top);
  doc.font('Helvetica').fontSize(9).fillColor('#444').text(pdfText(rdoc.subtitle), { width: W });
  doc.fillColor('#000').moveDown(0.5);
  for (const b of rdoc.blocks) drawBlock(doc, b, d, rdoc, W, images);

  // Footers last, when the page count is known.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - 46;
    doc.moveTo(M.left, y - 4).lineTo(doc.page.width - M.right, y - 4).lineWidth(0.5).strokeColor('#999').stroke();
    doc.font('Helvetica').fontSize(7.5).fillColor('#000');
    doc.text(pdfText(rdoc.footer), M.left, y, { width: W - 80, lineBreak: false });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, doc.page.width - M.right - 80, y, { width: 80, align: 'right', lineBreak: false });
    doc.font('Courier').fontSize(6.5).text(pdfText(rdoc.footerHash), M.left, y + 11, { width: W, lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

function ensure(doc: Doc, h: number): void {
  if (doc.y + h > doc.page.height - M.bottom) doc.addPage();
}

function drawBlock(doc: Doc, b: Block, d: ReportData | null, rdoc: ReportDocument, W: number, images: LabelImages): void {
  switch (b.kind) {
    case 'h': {
      ensure(doc, 40);
      doc.moveDown(0.6);
      doc.font('Helvetica-Bold').fontSize(11.5).fillColor('#000').text(pdfText(b.text), M.left, doc.y, { width: W });
      const y = doc.y + 1;
      doc.moveTo(M.left, y).lineTo(M.left + W, y).lineWidth(1).strokeColor('#333').stroke();
      doc.y = y + 4;
      return;
    }
    case 'p':
      doc.font('Helvetica').fontSize(8.5).fillColor('#000');
      ensure(doc, doc.heightOfString(pdfText(b.text), { width: W }) + 4);
      doc.text(pdfText(b.text), M.left, doc.y, { width: W });
      doc.moveDown(0.3);
      return;
    case 'kv': {
      const kw = W * 0.3;
      for (const [k, v] of b.rows) {
        doc.fontSize(8.5);
        const h = Math.max(doc.font('Helvetica-Bold').heightOfString(pdfText(k), { width: kw - 6 }), doc.font('Helvetica').heightOfString(pdfText(v || ' '), { width: W - kw })) + 2;
        ensure(doc, h);
        const y = doc.y;
        doc.font('Helvetica-Bold').text(pdfText(k), M.left, y, { width: kw - 6 });
        doc.font('Helvetica').text(pdfText(v || ' '), M.left + kw, y, { width: W - kw });
        doc.y = y + h;
      }
      doc.moveDown(0.3);
      return;
    }
    case 'strip':
      if (d) drawStrip(doc, d, rdoc, W);
      return;
    case 'image': {
      const img = images.get(b.job);
      doc.font('Helvetica').fontSize(7.5).fillColor('#333');
      const capH = doc.heightOfString(pdfText(b.caption), { width: W });
      if (Buffer.isBuffer(img)) {
        // a 4x6 label at 60 mm wide: about 90 mm high on the page
        const w = 170;
        const h = w * 1.5;
        ensure(doc, h + capH + 8);
        const y = doc.y + 2;
        doc.image(img, M.left, y, { fit: [w, h] });
        doc.rect(M.left, y, w, h).lineWidth(0.4).strokeColor('#999').stroke();
        doc.fillColor('#333').text(pdfText(b.caption), M.left, y + h + 3, { width: W });
      } else {
        ensure(doc, capH + 16);
        doc.font('Helvetica-Oblique').fillColor('#555').text(pdfText(`Label picture not available: ${img ? img.error : 'not rendered'}`), M.left, doc.y, { width: W });
        doc.font('Helvetica').fillColor('#333').text(pdfText(b.caption), M.left, doc.y, { width: W });
      }
      doc.fillColor('#000').moveDown(0.4);
      doc.x = M.left;
      return;
    }
    case 'table':
      drawTable(doc, b, W);
  }
}

function drawTable(doc: Doc, b: Extract<Block, { kind: 'table' }>, W: number): void {
  if (b.rows.length === 0) {
    if (b.empty) {
      doc.font('Helvetica-Oblique').fontSize(8.5).fillColor('#555').text(pdfText(b.empty), M.left, doc.y, { width: W });
      doc.fillColor('#000').moveDown(0.3);
    }
    return;
  }
  const total = b.cols.reduce((a, c) => a + c.width, 0);
  const widths = b.cols.map((c) => (c.width / total) * W);
  const pad = 2;
  const fs = 7.5;
  const rowHeight = (cells: string[], bold: boolean): number => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(fs);
    return Math.max(...cells.map((c, i) => doc.heightOfString(pdfText(c || ' '), { width: widths[i]! - 2 * pad }))) + 2 * pad;
  };
  const drawRow = (cells: string[], bold: boolean, fill: string | null): void => {
    const h = rowHeight(cells, bold);
    const y = doc.y;
    let x = M.left;
    cells.forEach((c, i) => {
      const w = widths[i]!;
      if (fill) doc.rect(x, y, w, h).fill(fill);
      doc.rect(x, y, w, h).lineWidth(0.4).strokeColor('#999').stroke();
      doc.fillColor('#000').font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(fs).text(pdfText(c || ''), x + pad, y + pad, { width: w - 2 * pad });
      x += w;
    });
    doc.y = y + h;
  };
  const head = b.cols.map((c) => c.title);
  ensure(doc, rowHeight(head, true) + rowHeight(b.rows[0]!, false));
  drawRow(head, true, '#eeeeee');
  for (const r of b.rows) {
    const h = rowHeight(r, false);
    if (doc.y + h > doc.page.height - M.bottom) {
      doc.addPage();
      drawRow(head, true, '#eeeeee');
    }
    drawRow(r, false, null);
  }
  doc.x = M.left;
  doc.moveDown(0.4);
}

/** The PackML state strip in vector graphics: one row per machine, link gaps hatched. */
function drawStrip(doc: Doc, d: ReportData, rdoc: ReportDocument, W: number): void {
  const labelW = 70;
  const lay = stripLayout(d.sections.machine.segments, W - labelW, rdoc.stripEnd);
  if (!lay) return;
  const t = timeFormatter(rdoc.timeZone);
  const rowH = 16;
  const states = [...new Set(d.sections.machine.segments.map((s) => s.state))];
  const height = lay.rows.length * (rowH + 4) + 14 + 14;
  ensure(doc, height + 6);
  const y0 = doc.y + 2;
  lay.rows.forEach((row, i) => {
    const y = y0 + i * (rowH + 4);
    doc.font('Helvetica').fontSize(7.5).fillColor('#000').text(pdfText(row.device || 'machine'), M.left, y + 4, { width: labelW - 4, lineBreak: false });
    for (const bar of row.bars) {
      const x = M.left + labelW + bar.x;
      if (bar.gap) {
        doc.save();
        doc.rect(x, y, bar.w, rowH).fill('#222222');
        doc.rect(x, y, bar.w, rowH).clip();
        for (let k = -rowH; k < bar.w; k += 5) doc.moveTo(x + k, y + rowH).lineTo(x + k + rowH, y).lineWidth(1.2).strokeColor('#ffffff').stroke();
        doc.restore();
      } else doc.rect(x, y, bar.w, rowH).fill(stateColour(bar.state));
    }
  });
  const ya = y0 + lay.rows.length * (rowH + 4);
  doc.font('Helvetica').fontSize(7).fillColor('#000');
  doc.text(pdfText(t(lay.from)), M.left + labelW, ya, { lineBreak: false });
  doc.text(pdfText(t(lay.to)), M.left + W - 100, ya, { width: 100, align: 'right', lineBreak: false });
  // legend
  let x = M.left + labelW;
  const yl = ya + 12;
  for (const st of states) {
    const label = st === 'NoLink' ? 'no link' : st;
    const w = doc.widthOfString(label) + 16;
    if (x + w > M.left + W) break;
    if (st === 'NoLink') doc.rect(x, yl, 8, 8).fill('#222222');
    else doc.rect(x, yl, 8, 8).fill(stateColour(st));
    doc.fillColor('#000').text(pdfText(label), x + 10, yl, { lineBreak: false });
    x += w;
  }
  doc.x = M.left;
  doc.y = yl + 14;
}
