/**
 * Encoding GS1 element strings for labels: human-readable text, the GS-separated element string,
 * and the field data ZPL needs for GS1-128 (^BC mode D) and GS1 DataMatrix (^BX quality 200).
 * Every value is validated with the same rules as scan parsing, so a label we print is a label
 * we accept when it is scanned back.
 */
import { LgError } from '../errors.js';
import { aiDefinition, checkPairings } from './table.js';
import type { AiDefinition } from './types.js';
import { gs1CheckDigit, isValueProblem, validateValue } from './validate.js';

export const GS = '\x1d';

/** GS1-128 carries at most 48 data characters (AIs, data and separating FNC1s; GS1 General Specifications 5.4.1). */
export const GS1_128_MAX_DATA = 48;

export interface Gs1Element {
  ai: string;
  value: string;
}

export interface EncodedElements {
  /** Human-readable interpretation: `(01)09506000134352(10)ABC123(17)261231`. */
  hri: string;
  /** Element string with GS (0x1D) after every element needing FNC1 that is not last — what a scanner sends after `]C1`. */
  gsSeparated: string;
  /**
   * ^FD data for `^BCN,h,Y,N,N,D` (GS1-128, mode D): `(01)…(10)ABC123>8(17)261231`.
   * Values containing `(`, `)` or `>` make encodeElements throw (see zpl128Data).
   */
  zpl128: string;
  /**
   * ^FD data for `^BXN,h,200,,,,_` (GS1 DataMatrix): `_1` (FNC1) first and as separator,
   * literal `_` doubled. See zplDataMatrixData for the ^BX escape-character rules.
   */
  zplDataMatrix: string;
}

function invalid(detail: string, extra: Record<string, unknown> = {}): LgError {
  return new LgError('LG_ERR_GS1_INVALID', { detail, ...extra });
}

/**
 * Validate elements (known AI, value rules, no duplicates with differing values, no invalid
 * pairs). Throws LgError with the same code parsing would give: LG_ERR_GS1_INVALID,
 * LG_ERR_GS1_CHECK_DIGIT or LG_ERR_GS1_DATE. `now` matters only for the century of YYMMDD dates.
 */
export function validateElements(elements: readonly Gs1Element[], now: Date = new Date()): AiDefinition[] {
  if (!Array.isArray(elements) || elements.length === 0) throw invalid('no elements to encode');
  const defs: AiDefinition[] = [];
  const seen = new Map<string, string>();
  for (const el of elements) {
    const ai = String(el?.ai ?? '');
    const value = String(el?.value ?? '');
    const def = aiDefinition(ai);
    if (!def) throw invalid(`unknown AI (${ai})`, { ai });
    const res = validateValue(def, value, now);
    if (isValueProblem(res)) throw new LgError(res.code, { ai, value, detail: res.detail });
    const prev = seen.get(ai);
    if (prev !== undefined && prev !== value) throw invalid(`(${ai}) appears twice with different values`, { ai });
    seen.set(ai, value);
    defs.push(def);
  }
  const { exclusive } = checkPairings(elements.map((e) => e.ai));
  if (exclusive.length > 0) throw invalid(`AIs that must not appear together: ${exclusive.join(', ')}`);
  return defs;
}

/** GS-separated element string (no AIM prefix, no leading FNC1). */
function joinWith(elements: readonly Gs1Element[], defs: readonly AiDefinition[], sep: string, mapValue: (v: string) => string): string {
  let out = '';
  elements.forEach((el, i) => {
    out += el.ai + mapValue(el.value);
    // FNC1 follows every AI that is not of pre-defined length (the dictionary's `*` flag), unless
    // it is last. This is stricter than "variable length": 8040 (N15) has no `*` and needs it too.
    if (defs[i]!.fnc1Required && i < elements.length - 1) out += sep;
  });
  return out;
}

/**
 * ZPL ^BC mode D field data. Two characters of GS1 set 82 cannot be carried safely, so a value
 * containing them throws LG_ERR_GS1_INVALID (print such data as GS1 DataMatrix instead):
 *  - `(` and `)`: mode D strips parentheses and spaces from the data (they only shape the
 *    interpretation line), so they would silently vanish from the barcode;
 *  - `>`: in ^BC data it starts an invocation code (`>8` is FNC1 — a lot "A>8" would inject a
 *    separator). The manual's escape `><` is not honoured in mode D by zebrash (zpl-renderer-js,
 *    measured: `><` is encoded literally), and we cannot check every firmware, so we refuse
 *    rather than print a barcode that may not say what the label says.
 */
function zpl128Data(elements: readonly Gs1Element[], defs: readonly AiDefinition[]): string {
  let out = '';
  elements.forEach((el, i) => {
    if (/[()>]/.test(el.value)) {
      throw invalid(`(${el.ai}) value contains "(", ")" or ">", which ZPL ^BC mode D cannot carry; use GS1 DataMatrix`, { ai: el.ai });
    }
    out += `(${el.ai})${el.value}`;
    if (defs[i]!.fnc1Required && i < elements.length - 1) out += '>8';
  });
  return out;
}

/**
 * ^FD data for a GS1 DataMatrix printed with ZPL `^BX…,200,…,g` (quality 200).
 *
 * Source: ZPL II Programming Guide (Zebra 45541L-004 Rev. A), ^BX, "Quality 200" field data:
 * `<g>1` is FNC1, a literal escape character is written twice, and the default `g` differs by
 * firmware (`~` on most, `_` on V60.13.0.12x) — so ALWAYS write g explicitly, e.g.
 * `^BXN,6,200,,,,_` (Zebra's GS1 article recommends `_` too). FNC1 in first position is what
 * makes it GS1 DataMatrix (scanners then report `]d2`); inner FNC1s become GS when scanned.
 *
 * If the field also uses ^FH, the manual says hex processing happens BEFORE the escape
 * processing: with the default ^FH indicator `_`, hex-escape this whole string as any other
 * field data (every `_` → `_5F`), and the printer sees `_1` again after ^FH (checked with
 * zpl-renderer-js + zxing: decodes as `]d2`). GS1 data never contains `^` or `~` (not in set
 * 82/39/64), so nothing else needs escaping.
 *
 * Known gap of the test renderer: zpl-renderer-js (zebrash) does not undo the manual's `__`
 * for a literal `_`, so a rendered preview of a value with `_` decodes with `__`. Where that
 * matters (tests, previews), pass an escape character that GS1 data can never contain, e.g.
 * `{ escapeChar: '|' }` with `^BXN,h,200,,,,|`: then no data character is ever escaped and
 * firmware and renderer agree. `_` stays the default because it is Zebra's documented choice
 * and, unlike `|`, is invariant in the national ^CI character sets.
 */
export function zplDataMatrixData(elements: readonly Gs1Element[], opts: { escapeChar?: string; now?: Date } = {}): string {
  const esc = opts.escapeChar ?? '_';
  if (esc.length !== 1 || /[\^~,0-9]/.test(esc)) throw invalid(`unusable ^BX escape character ${JSON.stringify(esc)}`);
  const defs = validateElements(elements, opts.now);
  return esc + '1' + joinWith(elements, defs, esc + '1', (v) => v.split(esc).join(esc + esc));
}

/**
 * A suggested order for encoding (encodeElements itself never reorders): pre-defined-length AIs
 * first (01, 17, 3103…), then the others, each group in the caller's order. That minimises
 * FNC1 separators (shorter GS1-128) and is the order GS1 recommends. Unknown AIs keep their
 * place among the others, and encodeElements will refuse them.
 */
export function orderForEncoding<T extends Gs1Element>(elements: readonly T[]): T[] {
  const predefined = elements.filter((e) => aiDefinition(e.ai)?.fnc1Required === false);
  const rest = elements.filter((e) => aiDefinition(e.ai)?.fnc1Required !== false);
  return [...predefined, ...rest];
}

/**
 * Encode elements in the caller's order (no implicit reordering). Validates everything first
 * (see validateElements) and throws LgError on bad input.
 */
export function encodeElements(elements: readonly Gs1Element[], opts: { now?: Date } = {}): EncodedElements {
  const defs = validateElements(elements, opts.now);
  return {
    hri: elements.map((e) => `(${e.ai})${e.value}`).join(''),
    gsSeparated: joinWith(elements, defs, GS, (v) => v),
    zpl128: zpl128Data(elements, defs),
    zplDataMatrix: '_1' + joinWith(elements, defs, '_1', (v) => v.split('_').join('__')),
  };
}

/**
 * SSCC (AI 00): extension digit + GS1 Company Prefix + serial reference (zero-padded to fill 17
 * digits) + check digit = 18 digits. Throws LG_ERR_GS1_INVALID on bad lengths or a serial
 * reference that does not fit.
 */
export function makeSscc(extension: string, companyPrefix: string, serialRef: bigint | number): string {
  if (!/^[0-9]$/.test(extension)) throw invalid('SSCC extension digit must be one digit', { extension });
  // GS1 Company Prefixes are 4 to 12 digits long (GS1 General Specifications 1.4.4).
  if (!/^[0-9]{4,12}$/.test(companyPrefix)) throw invalid('GS1 Company Prefix must be 4 to 12 digits', { companyPrefix });
  let ref: bigint;
  if (typeof serialRef === 'bigint') ref = serialRef;
  else if (Number.isSafeInteger(serialRef)) ref = BigInt(serialRef);
  else throw invalid('SSCC serial reference must be a whole number', { serialRef: String(serialRef) });
  const width = 16 - companyPrefix.length;
  const refText = ref.toString();
  if (ref < 0n || refText.length > width) {
    throw invalid(`SSCC serial reference must be 0…${'9'.repeat(width)} for a ${companyPrefix.length}-digit prefix`, { serialRef: refText });
  }
  const body = extension + companyPrefix + refText.padStart(width, '0');
  return body + gs1CheckDigit(body);
}

/**
 * GS1 Digital Link URI for the elements: the first element that is a Digital Link primary key
 * (01, 00, 414, 8004, …) goes in the path with its qualifiers in the dictionary's order (e.g.
 * 01 → 22, 10, 21), the rest go in the query. `baseUrl` is the resolver, e.g.
 * `https://id.gs1.org` (a path prefix is kept). Throws LG_ERR_GS1_INVALID if no primary key is
 * present or an element may not be a Digital Link attribute.
 */
export function formatDigitalLink(elements: readonly Gs1Element[], baseUrl: string, opts: { now?: Date } = {}): string {
  validateElements(elements, opts.now);
  const pkIndex = elements.findIndex((e) => aiDefinition(e.ai)?.dlpkey);
  if (pkIndex < 0) throw invalid('no Digital Link primary key (e.g. 01, 00, 414) among the elements');
  const pk = elements[pkIndex]!;
  const pkDef = aiDefinition(pk.ai)!;
  const byAi = new Map(elements.map((e) => [e.ai, e.value]));
  // Choose the qualifier sequence that covers the most of the given elements.
  let best: string[] = [];
  for (const seq of pkDef.dlpkey ?? []) {
    const used = seq.filter((q) => byAi.has(q));
    if (used.length > best.length) best = used;
  }
  const enc = (v: string): string => encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  let path = `/${pk.ai}/${enc(pk.value)}`;
  for (const q of best) path += `/${q}/${enc(byAi.get(q)!)}`;
  const query: string[] = [];
  for (const e of elements) {
    if (e === pk || best.includes(e.ai)) continue;
    if (!aiDefinition(e.ai)!.dlDataAttribute) throw invalid(`(${e.ai}) may not be a Digital Link data attribute`, { ai: e.ai });
    query.push(`${e.ai}=${enc(e.value)}`);
  }
  const base = baseUrl.replace(/\/+$/, '');
  return base + path + (query.length ? '?' + query.join('&') : '');
}
