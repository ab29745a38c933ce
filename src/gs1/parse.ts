/**
 * Scan parsing: what a scanner sends → typed GS1 elements or plain text, never an exception.
 *
 * Forms understood:
 *  - AIM symbology identifier `]cm` + data (ISO/IEC 15424). GS1 element strings follow `]C1`
 *    (GS1-128), `]d2`/`]d5` (GS1 DataMatrix), `]Q3`/`]Q4` (GS1 QR), `]e0` (GS1 DataBar),
 *    `]J1` (GS1 DotCode); `]E0`/`]E3`/`]E4` are EAN/UPC (a GTIN); other identifiers carry text
 *    (which may be a GS1 Digital Link URI).
 *  - FNC1 as GS (0x1D) between elements, a leading GS (some scanners transmit the first FNC1),
 *    or a configured substitute string for scanners that cannot send GS.
 *  - GS1 Digital Link URIs (path primary key + qualifiers, query data attributes, percent-decoded).
 *  - Bracketed human-readable text as typed by people: `(01)09506000134352(10)ABC`.
 *  - Anything else: plain text (badge, batch number, command); the classifier decides.
 */
import { formatMessage, type ErrorCode } from '../errors.js';
import { GS } from './encode.js';
import { aiDefinition, checkPairings, matchAiAt } from './table.js';
import type { AiDefinition } from './types.js';
import { isValidCheckDigit, isValueProblem, typedValue, validateValue, type Gs1Typed } from './validate.js';

export type Symbology =
  | 'gs1-128'
  | 'gs1-datamatrix'
  | 'gs1-qr'
  | 'gs1-databar'
  | 'gs1-dotcode'
  | 'ean-13'
  | 'ean-8'
  /** No longer produced (`]E0` sends UPC-E as EAN-13); kept so older stored results still type. */
  | 'upc-e'
  | 'code128'
  | 'code39'
  | 'datamatrix'
  | 'qr'
  | 'itf'
  | 'pdf417'
  | 'aztec'
  | 'other'
  /** No AIM identifier was sent: the symbology is not known. */
  | 'unknown';

/** How the data was written: a GS1 element string, a Digital Link URI, bracketed HRI text, an EAN/UPC number, or plain text. */
export type ScanForm = 'element-string' | 'digital-link' | 'hri' | 'ean' | 'text';

export interface ScanElement {
  ai: string;
  title: string;
  /** The value exactly as carried (dates stay YYMMDD, weights stay 6 digits). */
  value: string;
  typed?: Gs1Typed;
}

export interface ScanOk {
  ok: true;
  symbology: Symbology;
  /** The AIM identifier as sent (`]C1`), or null when the scanner sent none. */
  aim: string | null;
  /** True when the data is GS1 (elements filled), false for plain text. */
  gs1: boolean;
  form: ScanForm;
  /** The input as received (Buffer decoded as UTF-8, or byte-per-char if it is not UTF-8). */
  raw: string;
  /**
   * The data without AIM identifier and trailing CR/LF. For GS1 element strings: FNC1
   * substitutes replaced by GS and a leading FNC1 removed.
   */
  text: string;
  elements: ScanElement[];
  /** EAN/UPC 2- or 5-digit add-on (`]E3`), if any. */
  addOn?: string;
  /** Unmet GS1 mandatory associations (`req`), e.g. "(3103) needs (01) or (02)"; judged per scan, not fatal. */
  warnings: string[];
  /** Value of the first element with this AI. */
  get(ai: string): string | undefined;
}

export type ScanErrorCode =
  | 'LG_ERR_GS1_INVALID'
  | 'LG_ERR_GS1_CHECK_DIGIT'
  | 'LG_ERR_GS1_DATE'
  | 'LG_ERR_SCAN_UNPARSEABLE'
  | 'LG_ERR_SCAN_CONTROL_CHARS';

export interface ScanError {
  ok: false;
  code: ScanErrorCode;
  message: string;
  details: Record<string, unknown>;
  raw: string;
  symbology: Symbology;
  aim: string | null;
}

export type ScanData = ScanOk | ScanError;

export interface ParseScanOptions {
  /**
   * What the scanner sends in place of FNC1/GS when it cannot send 0x1D (e.g. `|`, `~`, or a
   * text like `<GS>`). Replaced by GS wherever the data is read as a GS1 element string.
   */
  fnc1Substitute?: string;
  /** Reference date for the century of YYMMDD dates (GS1 7.12 sliding window). Default: now. */
  now?: Date;
}

interface AimInfo {
  symbology: Symbology;
  /** 'gs1' = element string; 'ean' = EAN/UPC digits; 'text' = anything else. */
  kind: 'gs1' | 'ean' | 'text';
}

/** AIM identifiers (ISO/IEC 15424 and the GS1 General Specifications 5.1.2 table). */
function aimInfo(aim: string): AimInfo {
  const c = aim[1]!;
  const m = aim[2]!;
  switch (c) {
    case 'C':
      return m === '1' ? { symbology: 'gs1-128', kind: 'gs1' } : { symbology: 'code128', kind: 'text' };
    case 'd':
      // d2: FNC1 in first position; d5: ECI + FNC1 in first position.
      return m === '2' || m === '5' ? { symbology: 'gs1-datamatrix', kind: 'gs1' } : { symbology: 'datamatrix', kind: 'text' };
    case 'Q':
      // Q3: FNC1 in first position; Q4: ECI + FNC1 in first position.
      return m === '3' || m === '4' ? { symbology: 'gs1-qr', kind: 'gs1' } : { symbology: 'qr', kind: 'text' };
    case 'e':
      // GS1 DataBar always carries GS1 data; e0 is the identifier scanners send.
      return { symbology: 'gs1-databar', kind: 'gs1' };
    case 'J':
      return m === '1' ? { symbology: 'gs1-dotcode', kind: 'gs1' } : { symbology: 'other', kind: 'text' };
    case 'E':
      // E0 EAN-13/UPC-A/UPC-E, E3 EAN-13 with add-on, E4 EAN-8; E1/E2 are an add-on alone.
      return m === '4' ? { symbology: 'ean-8', kind: 'ean' } : m === '0' || m === '3' ? { symbology: 'ean-13', kind: 'ean' } : { symbology: 'other', kind: 'text' };
    case 'A':
      return { symbology: 'code39', kind: 'text' };
    case 'I':
      return { symbology: 'itf', kind: 'text' };
    case 'L':
      return { symbology: 'pdf417', kind: 'text' };
    case 'z':
      return { symbology: 'aztec', kind: 'text' };
    default:
      return { symbology: 'other', kind: 'text' };
  }
}

const AIM_RE = /^\][A-Za-z][0-9A-Za-z]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decode(input: Buffer | Uint8Array | string): string {
  if (typeof input === 'string') return input;
  if (!(input instanceof Uint8Array)) return String(input);
  try {
    return UTF8.decode(input);
  } catch {
    // Not UTF-8: keep one char per byte so nothing is lost and the raw text stays inspectable.
    return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  }
}

class Fail {
  constructor(
    readonly code: ScanErrorCode,
    readonly details: Record<string, unknown>,
  ) {}
}

function failFromProblem(code: ScanErrorCode, ai: string, value: string, detail: string, extra: Record<string, unknown> = {}): Fail {
  return new Fail(code, { ai, value, detail, ...extra });
}

function makeElement(def: AiDefinition, value: string, now: Date): ScanElement | Fail {
  const res = validateValue(def, value, now);
  if (isValueProblem(res)) {
    const extra = res.linter ? { linter: res.linter, linterError: res.linterError } : {};
    return failFromProblem(res.code, def.ai, value, res.detail, extra);
  }
  const el: ScanElement = { ai: def.ai, title: def.title, value };
  const typed = typedValue(def, res.parts, now);
  if (typed) el.typed = typed;
  return el;
}

/**
 * Parse a GS1 element string (no AIM, leading FNC1 already removed, GS as separator).
 * Fixed-length AIs take exactly their length; variable-length ones run to the next GS or the end
 * and are then checked against their maximum — which is how a missing GS is detected when the
 * swallowed data makes a lot longer than 20 or puts digits where they cannot be.
 */
function parseElementString(s: string, now: Date): ScanElement[] | Fail {
  const elements: ScanElement[] = [];
  let pos = 0;
  while (pos < s.length) {
    if (s[pos] === GS) {
      // A doubled or trailing GS carries no data; tolerate it rather than refuse a good label.
      pos++;
      continue;
    }
    const def = matchAiAt(s, pos);
    if (!def) {
      const seen = s.slice(pos, pos + 4);
      return new Fail('LG_ERR_GS1_INVALID', { detail: `unknown AI at position ${pos}: ${JSON.stringify(seen)}`, position: pos });
    }
    pos += def.ai.length;
    let value: string;
    if (def.fixedLength !== null) {
      value = s.slice(pos, pos + def.fixedLength);
      const gsAt = value.indexOf(GS);
      if (value.length < def.fixedLength || gsAt >= 0) {
        const v = gsAt >= 0 ? value.slice(0, gsAt) : value;
        return failFromProblem('LG_ERR_GS1_INVALID', def.ai, v, `(${def.ai}) is truncated: ${v.length} of ${def.fixedLength} characters`);
      }
      pos += def.fixedLength;
      if (def.fnc1Required && pos < s.length && s[pos] !== GS) {
        return failFromProblem('LG_ERR_GS1_INVALID', def.ai, value, `(${def.ai}) must be followed by FNC1 (GS)`);
      }
    } else {
      let end = s.indexOf(GS, pos);
      if (end < 0) end = s.length;
      value = s.slice(pos, end);
      pos = end;
      if (value.length > def.maxLength) {
        return failFromProblem('LG_ERR_GS1_INVALID', def.ai, value, `(${def.ai}) is ${value.length} characters, over ${def.maxLength} — a missing GS separator?`);
      }
    }
    if (value.length === 0) return failFromProblem('LG_ERR_GS1_INVALID', def.ai, '', `(${def.ai}) has no data`);
    const el = makeElement(def, value, now);
    if (el instanceof Fail) return el;
    elements.push(el);
  }
  if (elements.length === 0) return new Fail('LG_ERR_GS1_INVALID', { detail: 'no GS1 elements in the data' });
  return elements;
}

/**
 * EAN/UPC → GTIN-14. Under `]E0` the data is always 13 digits: AIM (ISO/IEC 15424) and the GS1
 * General Specifications transmit UPC-A and UPC-E as EAN-13 (leading 0, UPC-E expanded). 12 or 8
 * digits under `]E0` are not padded into a GTIN: a 12-digit string is as likely an EAN-13 with a
 * digit lost as a UPC-A, and padding would then name a different product (10.16). `]E4` is
 * EAN-8 (8 digits); `]E3` is EAN-13 with its add-on in one transmission (15 or 18 digits); an
 * add-on sent as its own identifier after the main symbol (`]E0…]E1nn`, `]E0…]E2nnnnn`, as
 * Datalogic and Zebra scanners do) is taken as the add-on.
 */
function parseEan(body: string, aim: string): { gtin: string; addOn?: string; symbology: Symbology } | Fail {
  let digits = body;
  let addOn: string | undefined;
  const trailing = /^([0-9]+)\](E[12])([0-9]+)$/.exec(body);
  if (trailing && aim !== ']E3') {
    const want = trailing[2] === 'E1' ? 2 : 5;
    if (trailing[3]!.length !== want) return new Fail('LG_ERR_GS1_INVALID', { detail: `the ]${trailing[2]} add-on must be ${want} digits`, value: body });
    digits = trailing[1]!;
    addOn = trailing[3]!;
  }
  if (!/^[0-9]+$/.test(digits)) return new Fail('LG_ERR_GS1_INVALID', { detail: 'EAN/UPC data must be digits', value: digits });
  if (aim === ']E4') {
    if (digits.length !== 8) return new Fail('LG_ERR_GS1_INVALID', { detail: 'EAN-8 must be 8 digits', value: digits });
    if (!isValidCheckDigit(digits)) return failFromProblem('LG_ERR_GS1_CHECK_DIGIT', '01', digits, 'EAN-8 check digit');
    const out8: { gtin: string; addOn?: string; symbology: Symbology } = { gtin: digits.padStart(14, '0'), symbology: 'ean-8' };
    if (addOn !== undefined) out8.addOn = addOn;
    return out8;
  }
  let main = digits;
  if (aim === ']E3') {
    // EAN-13 followed by its 2- or 5-digit add-on in one transmission.
    if (digits.length !== 15 && digits.length !== 18) return new Fail('LG_ERR_GS1_INVALID', { detail: 'EAN-13 with add-on must be 15 or 18 digits', value: digits });
    main = digits.slice(0, 13);
    addOn = digits.slice(13);
  }
  if (main.length !== 13) {
    return new Fail('LG_ERR_GS1_INVALID', {
      detail: `]E0 carries 13 digits (UPC-A and UPC-E are sent as EAN-13), not ${main.length}: set the scanner to transmit UPC-A/UPC-E as EAN-13`,
      value: main,
    });
  }
  if (!isValidCheckDigit(main)) return failFromProblem('LG_ERR_GS1_CHECK_DIGIT', '01', main, 'EAN/UPC check digit');
  // A UPC-A or UPC-E arrives as EAN-13 with a leading 0; which of the three was printed is not sent.
  const out: { gtin: string; addOn?: string; symbology: Symbology } = { gtin: main.padStart(14, '0'), symbology: 'ean-13' };
  if (addOn !== undefined) out.addOn = addOn;
  return out;
}

function pctDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * GS1 Digital Link URI → elements, or null when the text is not a Digital Link at all (then it
 * is plain text). The primary key is the first path segment pair whose AI is a `dlpkey` and
 * whose remaining segments are qualifiers in one of its allowed orders; anything before it is
 * the resolver's own path prefix. Query keys that are AIs become elements; others
 * (`linkType`, …) are ignored. The query is decoded by hand because URLSearchParams turns `+`
 * (a legal set-82 character) into a space.
 */
function parseDigitalLink(text: string, now: Date): ScanElement[] | Fail | null {
  if (!/^https?:\/\//i.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const segs = url.pathname.split('/').filter((s) => s.length > 0);
  for (let i = 0; i + 1 < segs.length; i++) {
    const pkDef = aiDefinition(segs[i]!);
    if (!pkDef?.dlpkey || (segs.length - i) % 2 !== 0) continue;
    const quals: string[] = [];
    for (let j = i + 2; j < segs.length; j += 2) quals.push(segs[j]!);
    const orderOk = pkDef.dlpkey.some((seq) => {
      let k = 0;
      return quals.every((q) => {
        while (k < seq.length && seq[k] !== q) k++;
        return k++ < seq.length;
      });
    });
    if (!orderOk) continue;
    const pairs: Array<[string, string]> = [];
    for (let j = i; j < segs.length; j += 2) {
      const v = pctDecode(segs[j + 1]!);
      if (v === null) return new Fail('LG_ERR_GS1_INVALID', { detail: `bad percent-encoding in (${segs[j]})` });
      pairs.push([segs[j]!, v]);
    }
    // Digital Link allows GTIN-8/12/13 in the path; GS1 element strings always carry 14 digits.
    if (pairs[0]![0] === '01' && /^[0-9]{8}$|^[0-9]{12,13}$/.test(pairs[0]![1])) pairs[0]![1] = pairs[0]![1].padStart(14, '0');
    for (const part of url.search.replace(/^\?/, '').split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      if (!/^[0-9]{2,4}$/.test(key)) continue;
      const def = aiDefinition(key);
      if (!def) return new Fail('LG_ERR_GS1_INVALID', { detail: `unknown AI (${key}) in the Digital Link query` });
      if (!def.dlDataAttribute) return new Fail('LG_ERR_GS1_INVALID', { detail: `(${key}) is not allowed as a Digital Link data attribute` });
      const v = pctDecode(eq < 0 ? '' : part.slice(eq + 1));
      if (v === null) return new Fail('LG_ERR_GS1_INVALID', { detail: `bad percent-encoding in (${key})` });
      pairs.push([key, v]);
    }
    const out: ScanElement[] = [];
    for (const [ai, v] of pairs) {
      const el = makeElement(aiDefinition(ai)!, v, now);
      if (el instanceof Fail) return el;
      out.push(el);
    }
    return out;
  }
  return null;
}

const HRI_AI_RE = /\(([0-9]{2,4})\)/y;

/** `(01)09506000134352(10)ABC` as printed under a barcode or typed by a person. Null if not that shape. */
function parseHri(text: string, now: Date): ScanElement[] | Fail | null {
  const t = text.trim();
  const marks: Array<{ at: number; end: number; def: AiDefinition }> = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== '(') continue;
    HRI_AI_RE.lastIndex = i;
    const m = HRI_AI_RE.exec(t);
    const def = m ? aiDefinition(m[1]!) : undefined;
    if (m && def) {
      marks.push({ at: i, end: i + m[0].length, def });
      i += m[0].length - 1;
    }
  }
  if (marks.length === 0 || marks[0]!.at !== 0) return null;
  const out: ScanElement[] = [];
  for (let idx = 0; idx < marks.length; idx++) {
    const mk = marks[idx]!;
    const stop = idx + 1 < marks.length ? marks[idx + 1]!.at : t.length;
    // People type spaces between elements; no GS1 character set contains a space.
    const value = t.slice(mk.end, stop).trim();
    if (value === '') return failFromProblem('LG_ERR_GS1_INVALID', mk.def.ai, '', `(${mk.def.ai}) has no data`);
    const el = makeElement(mk.def, value, now);
    if (el instanceof Fail) return el;
    out.push(el);
  }
  return out;
}

function controlChars(s: string): string[] {
  const found = new Set<string>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) found.add('0x' + c.toString(16).padStart(2, '0'));
  }
  return [...found];
}

/** Cross-element checks: same AI twice with different values, invalid pairs; unmet req → warnings. */
function crossCheck(elements: ScanElement[]): { warnings: string[] } | Fail {
  const seen = new Map<string, string>();
  for (const e of elements) {
    const prev = seen.get(e.ai);
    if (prev !== undefined && prev !== e.value) {
      return new Fail('LG_ERR_GS1_INVALID', { ai: e.ai, detail: `(${e.ai}) appears twice with different values` });
    }
    seen.set(e.ai, e.value);
  }
  const { exclusive, missing } = checkPairings(elements.map((e) => e.ai));
  if (exclusive.length > 0) return new Fail('LG_ERR_GS1_INVALID', { detail: `AIs that must not appear together: ${exclusive.join(', ')}` });
  return { warnings: missing };
}

function okResult(base: Omit<ScanOk, 'ok' | 'get' | 'warnings'>, warnings: string[] = []): ScanOk {
  const r = { ok: true as const, ...base, warnings } as ScanOk;
  // Non-enumerable: results are logged and stored as JSON, and compared in tests.
  Object.defineProperty(r, 'get', {
    enumerable: false,
    value: (ai: string) => r.elements.find((e) => e.ai === ai)?.value,
  });
  return r;
}

function errResult(f: Fail, raw: string, symbology: Symbology, aim: string | null): ScanError {
  const code = f.code as ErrorCode;
  const details = { ...f.details };
  if (code === 'LG_ERR_SCAN_UNPARSEABLE' || code === 'LG_ERR_SCAN_CONTROL_CHARS' || code === 'LG_ERR_GS1_INVALID') {
    if (details.detail === undefined) details.detail = 'unreadable';
  }
  return { ok: false, code: f.code, message: formatMessage(code, details), details, raw, symbology, aim };
}

function replaceAll(s: string, find: string | undefined, by: string): string {
  return find ? s.split(find).join(by) : s;
}

/**
 * Parse one scan. Never throws: every input, however broken, gives a ScanData — ok with elements
 * or text, or an error with a stable code.
 */
export function parseScan(input: Buffer | Uint8Array | string, opts: ParseScanOptions = {}): ScanData {
  let raw = '';
  try {
    raw = decode(input);
    return parseDecoded(raw, opts);
  } catch (err) {
    // Defence in depth: the property test says this is unreachable; if it is reached, the scan
    // still becomes a rejected record instead of crashing the driver.
    return errResult(new Fail('LG_ERR_SCAN_UNPARSEABLE', { detail: `internal parser error: ${String(err)}` }), raw, 'unknown', null);
  }
}

function finishGs1(
  elements: ScanElement[] | Fail,
  raw: string,
  text: string,
  symbology: Symbology,
  aim: string | null,
  form: ScanForm,
): ScanData {
  if (elements instanceof Fail) return errResult(elements, raw, symbology, aim);
  const cc = crossCheck(elements);
  if (cc instanceof Fail) return errResult(cc, raw, symbology, aim);
  return okResult({ symbology, aim, gs1: true, form, raw, text, elements }, cc.warnings);
}

function parseDecoded(raw: string, opts: ParseScanOptions): ScanData {
  const now = opts.now instanceof Date && !Number.isNaN(opts.now.getTime()) ? opts.now : new Date();
  const sub = typeof opts.fnc1Substitute === 'string' && opts.fnc1Substitute.length > 0 ? opts.fnc1Substitute : undefined;
  // A CR/LF suffix is framing the driver normally removes; one that leaks through is not data.
  const data = raw.replace(/[\r\n]+$/, '');
  let aim: string | null = null;
  let body = data;
  if (AIM_RE.test(data)) {
    aim = data.slice(0, 3);
    body = data.slice(3);
  }
  const info: AimInfo = aim ? aimInfo(aim) : { symbology: 'unknown', kind: 'text' };
  if (body.length === 0) {
    return errResult(new Fail('LG_ERR_SCAN_UNPARSEABLE', { detail: aim ? 'no data after the symbology identifier' : 'empty scan' }), raw, info.symbology, aim);
  }

  if (info.kind === 'gs1') {
    let s = replaceAll(body, sub, GS);
    if (s.startsWith(GS)) s = s.slice(1); // FNC1 in first position sent as GS
    return finishGs1(parseElementString(s, now), raw, s, info.symbology, aim, 'element-string');
  }

  if (info.kind === 'ean') {
    const r = parseEan(body, aim!);
    if (r instanceof Fail) return errResult(r, raw, info.symbology, aim);
    const def = aiDefinition('01')!;
    const el: ScanElement = { ai: '01', title: def.title, value: r.gtin, typed: { kind: 'gtin', gtin: r.gtin } };
    const base: Omit<ScanOk, 'ok' | 'get' | 'warnings'> = { symbology: r.symbology, aim, gs1: true, form: 'ean', raw, text: body, elements: [el] };
    if (r.addOn !== undefined) base.addOn = r.addOn;
    return okResult(base);
  }

  // Text-carrying symbology, or no identifier at all.
  if (aim === null) {
    const s = replaceAll(body, sub, GS);
    // A leading FNC1/GS, or a GS anywhere, means a GS1 element string sent without identifier.
    if (s.includes(GS)) {
      const t = s.startsWith(GS) ? s.slice(1) : s;
      return finishGs1(parseElementString(t, now), raw, t, 'unknown', null, 'element-string');
    }
  }

  // Checked before the URL parser sees the text: WHATWG URL parsing silently drops tabs and
  // newlines, which would let a damaged Digital Link through.
  const cc = controlChars(body);
  if (cc.length > 0) {
    return errResult(new Fail('LG_ERR_SCAN_CONTROL_CHARS', { detail: cc.join(', ') }), raw, info.symbology, aim);
  }

  const dl = parseDigitalLink(body, now);
  if (dl !== null) return finishGs1(dl, raw, body, info.symbology, aim, 'digital-link');

  if (aim === null) {
    const hri = parseHri(body, now);
    if (hri !== null) return finishGs1(hri, raw, body.trim(), 'unknown', null, 'hri');
    /*
     * A scanner configured without AIM identifiers sends GS1-128 data as bare digits. We read it
     * as GS1 only when it starts with an SSCC or GTIN whose check digit is right AND the whole
     * string parses cleanly; otherwise it stays text (a batch number such as 20261122-001 starts
     * with "20", a real AI, and must not be turned into a broken GS1 scan).
     */
    if (/^0[012][0-9]{14}/.test(body)) {
      const keyLen = body.startsWith('00') ? 18 : 14;
      if (isValidCheckDigit(body.slice(2, 2 + keyLen))) {
        const els = parseElementString(body, now);
        if (!(els instanceof Fail) && !(crossCheck(els) instanceof Fail)) return finishGs1(els, raw, body, 'unknown', null, 'element-string');
      }
    }
  }

  return okResult({ symbology: info.symbology, aim, gs1: false, form: 'text', raw, text: body, elements: [] });
}
