/**
 * The printable HTML batch record: one self-contained page (inline CSS and SVG, no scripts, no
 * external assets), print CSS for A4 with "Page x of y", site/line and the content hash in the page
 * margin boxes. The stamp is also in `<meta name="linegate-report">` for `linegate report verify`.
 */
import type { ReportData } from './data.js';
import { buildDocument, type Block, type ReportDocument } from './document.js';
import { duration, stampLine, stateColour, stripLayout, timeFormatter, type ReportStamp } from './format.js';

export const esc = (v: string): string => v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const cssString = (v: string): string => `"${v.replace(/[\\"]/g, '\\$&').replace(/[\r\n]/g, ' ')}"`;

/** The PackML state strip as inline SVG: one row per machine, link gaps hatched black. */
export function stateStripSvg(d: ReportData, doc: Pick<ReportDocument, 'stripEnd' | 'timeZone'>, width = 720): string {
  const labelW = 90;
  const lay = stripLayout(d.sections.machine.segments, width - labelW, doc.stripEnd);
  if (!lay) return '';
  const t = timeFormatter(doc.timeZone);
  const rowH = 22;
  const h = lay.rows.length * (rowH + 6) + 22;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="strip" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="PackML state timeline">`,
    `<defs><pattern id="gap" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#222"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>`,
  ];
  lay.rows.forEach((row, i) => {
    const y = i * (rowH + 6);
    parts.push(`<text x="0" y="${y + 15}" font-size="11" font-family="sans-serif">${esc(row.device || 'machine')}</text>`);
    for (const b of row.bars) {
      const title = `${b.gap ? 'no link' : b.state}: ${t(b.from)} – ${t(b.to)} (${duration(Date.parse(b.to) - Date.parse(b.from))})`;
      parts.push(
        `<rect x="${(labelW + b.x).toFixed(2)}" y="${y}" width="${b.w.toFixed(2)}" height="${rowH}" fill="${b.gap ? 'url(#gap)' : stateColour(b.state)}" data-state="${esc(b.state)}"><title>${esc(title)}</title></rect>`,
      );
    }
  });
  const yAxis = lay.rows.length * (rowH + 6) + 14;
  parts.push(`<text x="${labelW}" y="${yAxis}" font-size="10" font-family="sans-serif">${esc(t(lay.from))}</text>`);
  parts.push(`<text x="${width}" y="${yAxis}" font-size="10" font-family="sans-serif" text-anchor="end">${esc(t(lay.to))}</text>`);
  parts.push('</svg>');
  const legend = [...new Set(d.sections.machine.segments.map((s) => s.state))]
    .map((st) => `<span class="lg"><i style="background:${stateColour(st)}"></i>${esc(st === 'NoLink' ? 'no link' : st)}</span>`)
    .join(' ');
  return `${parts.join('')}<div class="legend">${legend}</div>`;
}

/** Label pictures by print job id (PNG), made by src/report/images.ts; absent ones are said so. */
export type LabelImages = ReadonlyMap<string, Buffer | { error: string }>;

function block(b: Block, d: ReportData | null, doc: ReportDocument, images: LabelImages): string {
  switch (b.kind) {
    case 'h':
      return `<h2>${esc(b.text)}</h2>`;
    case 'p':
      return `<p>${esc(b.text)}</p>`;
    case 'kv':
      return `<table class="kv">${b.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
    case 'strip':
      return d ? `<figure>${stateStripSvg(d, doc)}</figure>` : '';
    case 'image': {
      const img = images.get(b.job);
      const pic = Buffer.isBuffer(img)
        ? `<img class="label" alt="${esc(`label of print job ${b.job}`)}" src="data:image/png;base64,${img.toString('base64')}">`
        : `<p class="empty">${esc(`Label picture not available: ${img ? img.error : 'not rendered'}`)}</p>`;
      return `<figure class="labelpic" data-job="${esc(b.job)}">${pic}<figcaption>${esc(b.caption)}</figcaption></figure>`;
    }
    case 'table':
      if (b.rows.length === 0) return b.empty ? `<p class="empty">${esc(b.empty)}</p>` : '';
      return (
        `<table class="grid"><colgroup>${b.cols.map((c) => `<col style="width:${c.width}%">`).join('')}</colgroup>` +
        `<thead><tr>${b.cols.map((c) => `<th>${esc(c.title)}</th>`).join('')}</tr></thead>` +
        `<tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
      );
  }
}

export function renderHtml(d: ReportData, stamp: ReportStamp, images: LabelImages = new Map()): string {
  return renderDocumentHtml(buildDocument(d, stamp), { meta: stampLine(d, stamp), data: d, images });
}

/** Any report document (the batch record, the weekly review) as one self-contained printable page. */
export function renderDocumentHtml(doc: ReportDocument, o: { meta: string | null; metaName?: string; data?: ReportData | null; images?: LabelImages }): string {
  const d = o.data ?? null;
  const images = o.images ?? new Map();
  const css = `
@page { size: A4; margin: 16mm 12mm 24mm 12mm;
  @bottom-left { content: ${cssString(doc.footer)}; font: 8pt sans-serif; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif; }
  @bottom-center { content: ${cssString(doc.footerHash)}; font: 6.5pt monospace; vertical-align: bottom; } }
body { font: 10pt/1.35 sans-serif; color: #111; margin: 0 auto; max-width: 190mm; padding: 8mm; }
h1 { font-size: 16pt; margin: 0 0 2pt; } .sub { color: #444; margin: 0 0 8pt; }
h2 { font-size: 11.5pt; border-bottom: 1.5px solid #333; margin: 14pt 0 4pt; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 2pt 0 6pt; table-layout: fixed; }
.grid th, .grid td { border: 0.5pt solid #999; padding: 2pt 3pt; text-align: left; vertical-align: top; font-size: 8pt; overflow-wrap: anywhere; }
.grid thead { display: table-header-group; } .grid th { background: #eee; } .grid tr { break-inside: avoid; }
.kv th { text-align: left; width: 32%; font-weight: 600; padding: 1pt 6pt 1pt 0; vertical-align: top; } .kv td { overflow-wrap: anywhere; }
.empty { color: #555; font-style: italic; } figure { margin: 4pt 0; } .strip { max-width: 100%; height: auto; }
.labelpic img { width: 50mm; border: 0.5pt solid #999; } .labelpic figcaption { font-size: 7.5pt; color: #333; overflow-wrap: anywhere; } .labelpic { break-inside: avoid; }
.legend { font-size: 8pt; } .lg { margin-right: 8pt; white-space: nowrap; } .lg i { display: inline-block; width: 9pt; height: 9pt; margin-right: 3pt; vertical-align: -1pt; border: 0.5pt solid #555; }
.foot { margin-top: 16pt; border-top: 1px solid #999; font-size: 8pt; color: #333; } .mono { font-family: monospace; overflow-wrap: anywhere; }
@media print { body { padding: 0; max-width: none; } .foot { display: none; } }`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
${o.meta ? `<meta name="${esc(o.metaName ?? 'linegate-report')}" content="${esc(o.meta)}">` : ''}
<title>${esc(doc.title)}</title>
<style>${css}</style></head>
<body>
<h1>${esc(doc.title)}</h1>
<p class="sub">${esc(doc.subtitle)}</p>
${doc.blocks.map((b) => block(b, d, doc, images)).join('\n')}
<div class="foot"><div>${esc(doc.footer)}</div><div class="mono">${esc(doc.footerHash)}</div></div>
</body></html>
`;
}
