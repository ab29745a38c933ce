/**
 * Label templates (data in devices/labels/*.yaml) → ZPL.
 *
 * A template names its fields (text, GS1 values, dates, measures) and places elements (text,
 * GS1-128, GS1 DataMatrix, GS1 human-readable text, boxes, the reprint mark) in millimetres; the
 * renderer converts to dots for the printer's resolution, encodes GS1 data with src/gs1 (the one
 * source of AI rules: a label we print is a label our scanners accept) and escapes every value
 * (src/labels/zpl.ts). Everything that can be wrong with a label is found here, before a serial
 * is spent or a job is queued: missing fields, overlong text, invalid GS1 values, barcodes that do
 * not fit the print width.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { LgError } from '../errors.js';
import { GS1_128_MAX_DATA, aiDefinition, encodeElements, zplDataMatrixData, type Gs1Element } from '../gs1/index.js';
import {
  LabelTemplateSchema,
  PrinterModelSchema,
  type LabelTemplate,
  type PrinterModel,
  type TemplateField,
} from '../config/devices/zpl-printer.js';
import {
  DM_ESCAPE,
  byteLength,
  checkFieldLength,
  mmToDots,
  zplBox,
  zplGs1_128,
  zplGs1DataMatrix,
  zplLabel,
  zplText,
} from './zpl.js';

export type { LabelTemplate, PrinterModel, TemplateField };

/** A field value as callers give it: text, a number-like decimal string, or a Date for date fields. */
export type FieldValue = string | number | Date | null | undefined;
export type LabelFields = Record<string, FieldValue>;

export interface RenderOptions {
  /** Printer model: resolution and widest print. Default 203 dpi, 832 dots. */
  printer?: Pick<PrinterModel, 'dpi' | 'maxPrintWidthDots'>;
  /** Text for the `reprint` element; null/absent = not a reprint (the element prints nothing). */
  reprintMark?: string | null;
  /** `^FX` comment (ids only), e.g. "linegate label 123 job abc". */
  comment?: string;
  /** For GS1 date century resolution. */
  now?: Date;
}

export interface RenderedLabel {
  zpl: string;
  /** GS1 data of every symbol, in template order: what a scanner should read back. */
  symbols: Array<{ type: 'gs1-128' | 'gs1-datamatrix'; hri: string; gsSeparated: string; elements: Gs1Element[] }>;
  /** Field values as encoded (dates as YYMMDD, measures with their AI), by field name. */
  encoded: Record<string, { ai?: string; value: string }>;
}

const DEFAULT_PRINTER = { dpi: 203, maxPrintWidthDots: 832 } as const;

// ── loading ──────────────────────────────────────────────────────────────────────────────────

function templateError(template: string, detail: string): LgError {
  return new LgError('LG_ERR_LABEL_TEMPLATE', { template, detail });
}

/** Validate a parsed template (schema + references + AIs). Throws LG_ERR_LABEL_TEMPLATE. */
export function parseTemplate(data: unknown, source = 'template'): LabelTemplate {
  const withDefaults = Value.Default(LabelTemplateSchema, structuredClone(data));
  if (!Value.Check(LabelTemplateSchema, withDefaults)) {
    const errs = [...Value.Errors(LabelTemplateSchema, withDefaults)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw templateError(source, errs.join('; '));
  }
  const t = withDefaults as LabelTemplate;
  for (const [name, f] of Object.entries(t.fields)) {
    if (f.type === 'text') {
      if (f.ai) throw templateError(t.name, `field ${name}: a text field has no ai`);
      continue;
    }
    if (!f.ai) throw templateError(t.name, `field ${name}: a ${f.type} field needs an ai`);
    if (f.type === 'measure') {
      if (!/^[0-9]{3}n$/.test(f.ai)) throw templateError(t.name, `field ${name}: a measure ai is a family like 310n`);
      if (!aiDefinition(f.ai.slice(0, 3) + '0')) throw templateError(t.name, `field ${name}: unknown AI family (${f.ai})`);
    } else {
      const def = aiDefinition(f.ai);
      if (!def) throw templateError(t.name, `field ${name}: unknown AI (${f.ai})`);
    }
  }
  const idAi = t.identity === 'serial' ? '21' : t.identity === 'sscc' ? '00' : null;
  if (idAi && !Object.values(t.fields).some((f) => f.ai === idAi)) {
    throw templateError(t.name, `identity ${t.identity} needs a field with ai ${idAi}`);
  }
  for (const [i, el] of t.elements.entries()) {
    if (el.type === 'gs1-128' || el.type === 'gs1-datamatrix' || el.type === 'gs1-hri') {
      for (const f of el.fields) {
        const def = t.fields[f];
        if (!def) throw templateError(t.name, `element ${i}: unknown field ${f}`);
        if (def.type === 'text') throw templateError(t.name, `element ${i}: field ${f} has no GS1 AI`);
      }
      if (el.type !== 'gs1-hri' && !el.moduleMm) throw templateError(t.name, `element ${i}: ${el.type} needs moduleMm`);
      if (el.type === 'gs1-128' && !el.heightMm) throw templateError(t.name, `element ${i}: gs1-128 needs heightMm`);
      if (el.type === 'gs1-hri' && !el.heightMm) throw templateError(t.name, `element ${i}: gs1-hri needs heightMm`);
    }
    if (el.type === 'text') {
      for (const m of el.value.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)\}/g)) {
        if (!t.fields[m[1]!]) throw templateError(t.name, `element ${i}: placeholder {${m[1]}} is not a field`);
      }
    }
  }
  return t;
}

/** Load every devices/labels/*.yaml; the file name must equal the template name. */
export function loadTemplates(dir: string): Map<string, LabelTemplate> {
  const out = new Map<string, LabelTemplate>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    const name = basename(file).replace(/\.ya?ml$/, '');
    let data: unknown;
    try {
      data = parseYaml(readFileSync(join(dir, file), 'utf8'));
    } catch (err) {
      throw templateError(name, `YAML: ${(err as Error).message}`);
    }
    const t = parseTemplate(data, name);
    if (t.name !== name) throw templateError(name, `name ${t.name} does not match the file name`);
    out.set(name, t);
  }
  return out;
}

/** Load every devices/printers/*.yaml. Throws LG_ERR_DEVICE_PROFILE on a bad file. */
export function loadPrinterModels(dir: string): Map<string, PrinterModel> {
  const out = new Map<string, PrinterModel>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    const name = basename(file).replace(/\.ya?ml$/, '');
    const data: unknown = parseYaml(readFileSync(join(dir, file), 'utf8'));
    if (!Value.Check(PrinterModelSchema, data) || (data as PrinterModel).name !== name) {
      const errs = [...Value.Errors(PrinterModelSchema, data)].slice(0, 3).map((e) => `${e.path}: ${e.message}`);
      throw new LgError('LG_ERR_DEVICE_PROFILE', { device: 'printer', profile: name, detail: errs.join('; ') || 'name does not match the file name' });
    }
    out.set(name, data as PrinterModel);
  }
  return out;
}

// ── field encoding ───────────────────────────────────────────────────────────────────────────

function fieldInvalid(field: string, detail: string): LgError {
  return new LgError('LG_ERR_LABEL_FIELD_INVALID', { field, detail });
}

function asText(field: string, v: FieldValue): string {
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw fieldInvalid(field, 'not a finite number');
    return String(v);
  }
  return String(v);
}

/** ISO date / Date / YYMMDD → YYMMDD. The gs1 module then validates the date itself. */
function toYymmdd(field: string, v: FieldValue): string {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw fieldInvalid(field, 'invalid date');
    return v.toISOString().slice(2, 10).replace(/-/g, '');
  }
  const s = String(v).trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (iso) return `${iso[1]!.slice(2)}${iso[2]}${iso[3]}`;
  if (/^\d{6}$/.test(s)) return s;
  throw fieldInvalid(field, `date ${JSON.stringify(s)} is not YYYY-MM-DD or YYMMDD`);
}

/** Exact decimal → (AI with n, 6-digit value). Strings only (no float arithmetic). */
function toMeasure(field: string, def: TemplateField, v: FieldValue): { ai: string; value: string } {
  const s = typeof v === 'number' ? String(v) : String(v).trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw fieldInvalid(field, `${JSON.stringify(s)} is not a non-negative decimal`);
  const int = m[1]!.replace(/^0+(?=\d)/, '');
  let frac = m[2] ?? '';
  const decimals = def.decimals ?? frac.length;
  if (decimals > 5) throw fieldInvalid(field, `${s} has more than 5 decimals`);
  if (frac.length > decimals) {
    // Only trailing zeros may be dropped: a label never rounds a weight.
    if (/[1-9]/.test(frac.slice(decimals))) throw fieldInvalid(field, `${s} has more than ${decimals} decimals`);
    frac = frac.slice(0, decimals);
  }
  frac = frac.padEnd(decimals, '0');
  let digits = (int + frac).replace(/^0+(?=\d)/, '');
  if (digits.length > 6) throw fieldInvalid(field, `${s} does not fit six digits with ${decimals} decimals`);
  digits = digits.padStart(6, '0');
  return { ai: def.ai!.slice(0, 3) + String(decimals), value: digits };
}

/** Validate and encode every given field of the template. */
export function encodeFields(t: LabelTemplate, fields: LabelFields): Record<string, { ai?: string; value: string }> {
  const out: Record<string, { ai?: string; value: string }> = {};
  for (const [name, def] of Object.entries(t.fields)) {
    const v = fields[name];
    if (v === undefined || v === null || v === '') {
      if (def.required) throw new LgError('LG_ERR_LABEL_FIELD_MISSING', { template: t.name, field: name });
      continue;
    }
    if (def.type === 'text') {
      const s = asText(name, v);
      checkFieldLength(name, s, def.maxBytes);
      out[name] = { value: s };
    } else if (def.type === 'gs1') {
      const s = asText(name, v);
      checkFieldLength(name, s, def.maxBytes);
      out[name] = { ai: def.ai!, value: s };
    } else if (def.type === 'date') {
      out[name] = { ai: def.ai!, value: toYymmdd(name, v) };
    } else {
      out[name] = toMeasure(name, def, v);
    }
  }
  return out;
}

// ── rendering ────────────────────────────────────────────────────────────────────────────────

/** Render a label; see RenderedLabel. Throws LgError (LG_ERR_LABEL_…, LG_ERR_GS1_…) on bad input. */
export function renderLabelDetailed(t: LabelTemplate, fields: LabelFields, opts: RenderOptions = {}): RenderedLabel {
  const printer = opts.printer ?? DEFAULT_PRINTER;
  const dpi = printer.dpi;
  const d = (mm: number): number => mmToDots(mm, dpi);
  const printWidth = Math.min(d(t.widthMm), printer.maxPrintWidthDots);
  const heightDots = d(t.heightMm);
  const enc = encodeFields(t, fields);
  const now = opts.now ?? new Date();
  const body: string[] = [];
  const symbols: RenderedLabel['symbols'] = [];

  const elementsOf = (names: string[]): Gs1Element[] => {
    const els: Gs1Element[] = [];
    for (const n of names) {
      const e = enc[n];
      if (e?.ai) els.push({ ai: e.ai, value: e.value });
    }
    return els;
  };

  for (const [i, el] of t.elements.entries()) {
    const x = d(el.xMm);
    const y = d(el.yMm);
    switch (el.type) {
      case 'box':
        body.push(zplBox(x, y, Math.min(d(el.wMm), printWidth - x), d(el.hMm), Math.max(1, d(el.thicknessMm))));
        break;
      case 'text': {
        const names = [...el.value.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
        // A line whose placeholders are all empty is left out ("Lot " with no lot says nothing).
        if (names.length > 0 && names.every((n) => !enc[n])) break;
        const text = el.value.replace(/\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
          const e = enc[name];
          if (!e) return '';
          // Show dates as given (ISO), not as YYMMDD.
          const raw = fields[name];
          return t.fields[name]?.type === 'date' || t.fields[name]?.type === 'measure' ? asText(name, raw) : e.value;
        });
        if (text.trim() === '') break;
        const h = Math.max(1, d(el.heightMm));
        body.push(
          zplText(text, {
            field: `element ${i}`,
            x,
            y,
            height: h,
            width: el.widthMm ? Math.max(1, d(el.widthMm)) : h,
            maxBytes: el.maxBytes,
            ...(el.blockWidthMm ? { blockWidth: Math.min(d(el.blockWidthMm), printWidth - x), lines: el.lines ?? 1 } : {}),
          }),
        );
        break;
      }
      case 'reprint':
        if (opts.reprintMark) {
          const h = Math.max(1, d(el.heightMm));
          body.push(zplText(opts.reprintMark, { field: 'reprintMark', x, y, height: h, maxBytes: 64 }));
        }
        break;
      case 'gs1-hri':
      case 'gs1-128':
      case 'gs1-datamatrix': {
        const els = elementsOf(el.fields);
        if (els.length === 0) break; // every field of the symbol left out (all optional)
        const e = encodeElements(els, { now });
        if (el.type === 'gs1-hri') {
          const h = Math.max(1, d(el.heightMm!));
          body.push(zplText(e.hri, { field: `element ${i}`, x, y, height: h }));
          break;
        }
        const moduleDots = Math.max(1, d(el.moduleMm!));
        if (el.type === 'gs1-128') {
          // GS1 General Specifications: at most 48 data characters per GS1-128 symbol (AIs, data,
          // separating FNC1s). Printers print longer ones, but conforming scanners may refuse them.
          if (e.gsSeparated.length > GS1_128_MAX_DATA) {
            throw new LgError('LG_ERR_LABEL_FIELD_INVALID', {
              field: `element ${i} (gs1-128)`,
              detail: `${e.gsSeparated.length} data characters, over the GS1-128 maximum of ${GS1_128_MAX_DATA}; split the fields over two symbols in the template`,
            });
          }
          body.push(zplGs1_128(e.zpl128, { x, y, height: Math.max(1, d(el.heightMm!)), moduleDots, hri: el.hri !== false, printWidth, name: `element ${i} (gs1-128)` }));
        } else {
          const dmData = zplDataMatrixData(els, { escapeChar: DM_ESCAPE, now });
          body.push(zplGs1DataMatrix({ dmData, gsSeparated: e.gsSeparated }, { x, y, moduleDots, printWidth, name: `element ${i} (gs1-datamatrix)` }));
        }
        symbols.push({ type: el.type, hri: e.hri, gsSeparated: e.gsSeparated, elements: els });
        break;
      }
    }
  }
  const zpl = zplLabel({ widthDots: printWidth, heightDots, ...(opts.comment ? { comment: opts.comment } : {}) }, body);
  return { zpl, symbols, encoded: enc };
}

/** `renderLabel(template, fields) → ZPL` (one format, `^XA…^XZ`). */
export function renderLabel(t: LabelTemplate, fields: LabelFields, opts: RenderOptions = {}): string {
  return renderLabelDetailed(t, fields, opts).zpl;
}

/** Bytes of the rendered ZPL (for limits and the bench). */
export function zplBytes(zpl: string): number {
  return byteLength(zpl);
}
