/**
 * Validation of one AI's value against its dictionary definition, shared by scan parsing and
 * label encoding (so what we print is exactly what we accept), plus typed views of values.
 *
 * Linters: the dictionary names GS1 "syntax test" procedures per component. Those implemented
 * here cover everything a plant label carries (check digits, dates, times, fixed codes). The
 * ones needing external code lists (ISO 3166 / 4217 country and currency codes, GS1 Company
 * Prefix lengths, coupon and package-type lists) are NOT checked: see UNCHECKED_LINTERS. A
 * linter the dictionary adds later is likewise ignored rather than rejecting real labels; the
 * generated-table test lists every linter name so a new one is noticed at regeneration.
 */
import { toString as decToString } from '../domain/decimal.js';
import type { AiComponent, AiDefinition } from './types.js';

export type Gs1ErrorCode = 'LG_ERR_GS1_INVALID' | 'LG_ERR_GS1_CHECK_DIGIT' | 'LG_ERR_GS1_DATE';

export interface ValueProblem {
  code: Gs1ErrorCode;
  detail: string;
}

/** GS1 AI encodable character set 82 (GS1 General Specifications figure 7.11-1). */
export const CSET82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;
/** GS1 AI encodable character set 39 (figure 7.11-2). */
export const CSET39 = '#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Set 64: base64url (RFC 4648 §5), used by AI 8030 (digital signature). */
export const CSET64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CSET32 = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

const X_RE = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$/;
const Y_RE = /^[#\-/0-9A-Z]*$/;
// '=' padding is tolerated at the end only (the syntax engine's cset64 test allows it).
const Z_RE = /^[A-Za-z0-9\-_]*={0,2}$/;
const N_RE = /^[0-9]*$/;

export const UNCHECKED_LINTERS: ReadonlySet<string> = new Set([
  'gcppos1', 'gcppos2', 'iso3166', 'iso3166999', 'iso3166alpha2', 'iso4217',
  'packagetype', 'couponcode', 'couponposoffer',
]);

/** Linters implemented in `lint` below (kept in step with its switch; the table test checks coverage). */
export const IMPLEMENTED_LINTERS: ReadonlySet<string> = new Set([
  'csum', 'csumalpha', 'yymmd0', 'yymmdd', 'yyyymmdd', 'hhmi', 'hh', 'mi', 'ss', 'nonzero', 'zero',
  'yesno', 'winding', 'iso5218', 'hyphen', 'nozeroprefix', 'hasnondigit', 'pcenc', 'pieceoftotal',
  'latitude', 'longitude', 'mediatype', 'posinseqslash', 'importeridx', 'iban',
]);

const DATE_LINTERS = new Set(['yymmd0', 'yymmdd', 'yyyymmdd', 'hhmi', 'hh', 'mi', 'ss']);
const CHECK_LINTERS = new Set(['csum', 'csumalpha']);

/** The GS1 mod-10 check digit for a digit string without its check digit (weights 3,1,3… from the right). */
export function gs1CheckDigit(digitsWithoutCheck: string): string {
  if (!/^[0-9]+$/.test(digitsWithoutCheck)) throw new TypeError('gs1CheckDigit: digits only');
  let sum = 0;
  let w = 3;
  for (let i = digitsWithoutCheck.length - 1; i >= 0; i--) {
    sum += (digitsWithoutCheck.charCodeAt(i) - 48) * w;
    w = w === 3 ? 1 : 3;
  }
  return String((10 - (sum % 10)) % 10);
}

/** True if the last digit of `s` (all digits, length ≥ 2) is its GS1 check digit. Never throws. */
export function isValidCheckDigit(s: string): boolean {
  if (typeof s !== 'string' || s.length < 2 || !N_RE.test(s)) return false;
  return gs1CheckDigit(s.slice(0, -1)) === s.slice(-1);
}

/**
 * Check-character pair of alphanumeric keys (GMN, AI 8013; MUDI, AI 8014): weights are the
 * primes 2,3,5,… from the right, character values are positions in set 82, sum mod 1021 gives
 * two characters of set 32 (GS1 General Specifications 7.9.5).
 */
export function csumAlphaPair(body: string): string | null {
  const primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83];
  if (body.length > primes.length) return null;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const v = CSET82.indexOf(body[i]!);
    if (v < 0) return null;
    sum += v * primes[body.length - 1 - i]!;
  }
  sum %= 1021;
  return CSET32[sum >> 5]! + CSET32[sum & 31]!;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Century of a two-digit year (GS1 General Specifications 7.12, "Determination of century in
 * dates"): with A the current year's last two digits, YY − A in 51…99 → previous century;
 * −99…−50 → next century; otherwise the current century. In other words the year lies in the
 * window [current − 49, current + 50]. "Current" is `now` in UTC so tests are reproducible and a
 * plant clock near New Year does not flip a century differently per time zone (the window is
 * ±50 years; a day's difference cannot matter except at its very edge).
 */
export function resolveCentury(yy: number, now: Date): number {
  const current = now.getUTCFullYear();
  const a = current % 100;
  const base = current - a;
  const diff = yy - a;
  if (diff >= 51) return base - 100 + yy;
  if (diff <= -50) return base + 100 + yy;
  return base + yy;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Resolve a 6-digit YYMMDD (day 00 allowed when `allowZeroDay`, meaning the last day of the
 * month, GS1 General Specifications 3.4.x) to an ISO date, or null if it is not a real date.
 */
export function yymmddToIso(s: string, allowZeroDay: boolean, now: Date): string | null {
  if (!/^[0-9]{6}$/.test(s)) return null;
  const yy = Number(s.slice(0, 2));
  const mm = Number(s.slice(2, 4));
  let dd = Number(s.slice(4, 6));
  if (mm < 1 || mm > 12) return null;
  const year = resolveCentury(yy, now);
  const dim = daysInMonth(year, mm);
  if (dd === 0) {
    if (!allowZeroDay) return null;
    dd = dim;
  }
  if (dd > dim) return null;
  return `${String(year).padStart(4, '0')}-${pad2(mm)}-${pad2(dd)}`;
}

function yyyymmddToIso(s: string): string | null {
  if (!/^[0-9]{8}$/.test(s)) return null;
  const year = Number(s.slice(0, 4));
  const mm = Number(s.slice(4, 6));
  const dd = Number(s.slice(6, 8));
  if (mm < 1 || mm > 12 || dd < 1 || dd > daysInMonth(year, mm)) return null;
  return `${s.slice(0, 4)}-${pad2(mm)}-${pad2(dd)}`;
}

function ibanValid(s: string): boolean {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** Apply one linter to one component part. Returns an error detail, or null when it passes (or is unchecked). */
function lint(name: string, part: string, now: Date): string | null {
  switch (name) {
    case 'csum':
      return isValidCheckDigit(part) ? null : 'check digit';
    case 'csumalpha': {
      if (part.length < 3) return 'too short for its check characters';
      return csumAlphaPair(part.slice(0, -2)) === part.slice(-2) ? null : 'check characters';
    }
    case 'yymmd0':
      return yymmddToIso(part, true, now) ? null : 'date';
    case 'yymmdd':
      return yymmddToIso(part, false, now) ? null : 'date';
    case 'yyyymmdd':
      return yyyymmddToIso(part) ? null : 'date';
    case 'hhmi':
      return /^([01][0-9]|2[0-3])[0-5][0-9]$/.test(part) ? null : 'time';
    case 'hh':
      return /^([01][0-9]|2[0-3])$/.test(part) ? null : 'hour';
    case 'mi':
    case 'ss':
      return /^[0-5][0-9]$/.test(part) ? null : 'minutes/seconds';
    case 'nonzero':
      return /^0*$/.test(part) ? 'must not be zero' : null;
    case 'zero':
      return /^0+$/.test(part) ? null : 'must be zero';
    case 'yesno':
      return part === '0' || part === '1' ? null : 'must be 0 or 1';
    case 'winding':
      return part === '0' || part === '1' || part === '9' ? null : 'winding direction must be 0, 1 or 9';
    case 'iso5218':
      return ['0', '1', '2', '9'].includes(part) ? null : 'sex code must be 0, 1, 2 or 9';
    case 'hyphen':
      return /^-*$/.test(part) ? null : 'must be a hyphen';
    case 'nozeroprefix':
      return part.length > 1 && part.startsWith('0') ? 'must not start with 0' : null;
    case 'hasnondigit':
      return /[^0-9]/.test(part) ? null : 'must contain a non-digit';
    case 'pcenc':
      return /%(?![0-9A-Fa-f]{2})/.test(part) ? 'bad percent-encoding' : null;
    case 'pieceoftotal': {
      if (part.length % 2 !== 0) return 'piece of total';
      const h = part.length / 2;
      const piece = Number(part.slice(0, h));
      const total = Number(part.slice(h));
      return piece >= 1 && total >= 1 && piece <= total ? null : 'piece of total';
    }
    case 'latitude':
      return Number(part) <= 1_800_000_000 ? null : 'latitude out of range';
    case 'longitude':
      return Number(part) <= 3_600_000_000 ? null : 'longitude out of range';
    case 'mediatype': {
      const n = Number(part);
      return (n >= 1 && n <= 10) || (n >= 80 && n <= 99) ? null : 'media type';
    }
    case 'posinseqslash': {
      const m = /^([0-9]+)\/([0-9]+)$/.exec(part);
      return m && Number(m[1]) >= 1 && Number(m[1]) <= Number(m[2]) ? null : 'position in sequence';
    }
    case 'importeridx':
      return /^[0-9A-Za-z\-_]$/.test(part) ? null : 'importer index';
    case 'iban':
      return ibanValid(part) ? null : 'IBAN';
    default:
      return null; // UNCHECKED_LINTERS and any linter added to the dictionary later
  }
}

function csetOk(c: AiComponent, part: string): boolean {
  switch (c.cset) {
    case 'N':
      return N_RE.test(part);
    case 'X':
      return X_RE.test(part);
    case 'Y':
      return Y_RE.test(part);
    case 'Z':
      return Z_RE.test(part);
  }
}

const CSET_NAME = { N: 'digits', X: 'GS1 character set 82', Y: 'GS1 character set 39', Z: 'base64url' } as const;

/**
 * Split a value into its components and validate lengths, character sets and linters.
 * Returns the component parts, or the first problem found. Never throws.
 */
export function validateValue(def: AiDefinition, value: string, now: Date): { parts: string[] } | ValueProblem {
  if (value.length < def.minLength || value.length > def.maxLength) {
    const want = def.fixedLength !== null ? `${def.fixedLength}` : `${def.minLength}…${def.maxLength}`;
    return { code: 'LG_ERR_GS1_INVALID', detail: `(${def.ai}) has ${value.length} characters, needs ${want}` };
  }
  const parts: string[] = [];
  let pos = 0;
  for (let i = 0; i < def.components.length; i++) {
    const c = def.components[i]!;
    const rest = value.length - pos;
    if (rest === 0) {
      if (c.optional) break;
      return { code: 'LG_ERR_GS1_INVALID', detail: `(${def.ai}) is too short` };
    }
    const take = c.min === c.max ? c.max : rest;
    if (take > rest || take < c.min || take > c.max) {
      return { code: 'LG_ERR_GS1_INVALID', detail: `(${def.ai}) component ${i + 1} has the wrong length` };
    }
    const part = value.slice(pos, pos + take);
    if (!csetOk(c, part)) {
      return { code: 'LG_ERR_GS1_INVALID', detail: `(${def.ai}) contains characters outside ${CSET_NAME[c.cset]}` };
    }
    for (const l of c.linters) {
      const bad = lint(l, part, now);
      if (bad !== null) {
        const code: Gs1ErrorCode = CHECK_LINTERS.has(l) ? 'LG_ERR_GS1_CHECK_DIGIT' : DATE_LINTERS.has(l) ? 'LG_ERR_GS1_DATE' : 'LG_ERR_GS1_INVALID';
        return { code, detail: `(${def.ai}) ${bad}` };
      }
    }
    parts.push(part);
    pos += take;
  }
  if (pos !== value.length) return { code: 'LG_ERR_GS1_INVALID', detail: `(${def.ai}) is too long` };
  return { parts };
}

export function isValueProblem(v: { parts: string[] } | ValueProblem): v is ValueProblem {
  return (v as ValueProblem).code !== undefined;
}

/** Typed reading of a value, for the AIs where it means something beyond text. */
export type Gs1Typed =
  /** GTIN (01/02/03), always 14 digits. */
  | { kind: 'gtin'; gtin: string }
  /** SSCC (00), 18 digits. */
  | { kind: 'sscc'; sscc: string }
  /** A date (ISO YYYY-MM-DD); `end` for AIs carrying a range (7007 harvest date). */
  | { kind: 'date'; date: string; end?: string }
  /** Date with time of day (7003, 8008, 4324…): ISO `YYYY-MM-DDTHH:MM[:SS]`, no zone (local to the labeller). */
  | { kind: 'datetime'; datetime: string }
  /**
   * Decimal-point AI (310n, 392n…): exact decimal text with `decimals` fraction digits
   * ("001250" in 3103 → "1.250"), unit from the AI title (kg, lb, m…), ISO 4217 numeric
   * currency for 391n/393n.
   */
  | { kind: 'decimal'; value: string; decimals: number; unit: string | null; currency?: string };

function decimalText(digits: string, decimals: number): string {
  // An exact Dec (src/domain/decimal.ts): the digits are the units at scale `decimals`, so
  // "001250" with 3 decimals is "1.250" — no float ever touches a weight.
  return decToString({ units: BigInt(digits), scale: decimals });
}

/** Typed view of an already validated value (parts from validateValue). */
export function typedValue(def: AiDefinition, parts: readonly string[], now: Date): Gs1Typed | undefined {
  if (def.decimals !== null) {
    const last = parts[parts.length - 1] ?? '';
    const out: Gs1Typed = { kind: 'decimal', value: decimalText(last, def.decimals), decimals: def.decimals, unit: def.unit };
    if (parts.length > 1 && def.components[0]?.linters.includes('iso4217')) out.currency = parts[0]!;
    return out;
  }
  if (def.ai === '01' || def.ai === '02' || def.ai === '03') return { kind: 'gtin', gtin: parts[0]! };
  if (def.ai === '00') return { kind: 'sscc', sscc: parts[0]! };
  const first = def.components[0];
  if (!first) return undefined;
  const dateLinter = first.linters.find((l) => l === 'yymmd0' || l === 'yymmdd' || l === 'yyyymmdd');
  if (!dateLinter) return undefined;
  const p0 = parts[0]!;
  const date = dateLinter === 'yyyymmdd' ? yyyymmddToIso(p0) : yymmddToIso(p0, dateLinter === 'yymmd0', now);
  if (!date) return undefined;
  // Time-of-day components following the date: hhmi, or hh [mi] [ss].
  let time = '';
  let end: string | undefined;
  for (let i = 1; i < parts.length; i++) {
    const ls = def.components[i]?.linters ?? [];
    const p = parts[i]!;
    if (ls.includes('hhmi')) time = `${p.slice(0, 2)}:${p.slice(2, 4)}`;
    else if (ls.includes('hh')) time = p;
    else if (ls.includes('mi')) time += `:${p}`;
    else if (ls.includes('ss')) time += `:${p}`;
    else if (ls.includes('yymmdd')) end = yymmddToIso(p, false, now) ?? undefined;
  }
  if (time) {
    if (!time.includes(':')) time += ':00';
    return { kind: 'datetime', datetime: `${date}T${time}` };
  }
  return end ? { kind: 'date', date, end } : { kind: 'date', date };
}
