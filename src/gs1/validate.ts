/**
 * Validation of one AI's value against its dictionary definition, shared by scan parsing and
 * label encoding (so what we print is exactly what we accept), plus typed views of values.
 *
 * Linters: the dictionary names GS1 "syntax test" procedures per component; every one it uses is
 * implemented in ./linters.ts (ported from the official GS1 Syntax Engine and tested against
 * its vectors), including the code lists (ISO 3166, ISO 4217, package types) and the coupon
 * formats. A linter a later dictionary release adds is not guessed at: the generated-table test
 * fails at regeneration until it is implemented.
 */
import { toString as decToString } from '../domain/decimal.js';
import type { AiComponent, AiDefinition } from './types.js';
import { describeLintFailure, LINTERS } from './linters.js';

export type Gs1ErrorCode = 'LG_ERR_GS1_INVALID' | 'LG_ERR_GS1_CHECK_DIGIT' | 'LG_ERR_GS1_DATE';

export interface ValueProblem {
  code: Gs1ErrorCode;
  detail: string;
  /** The dictionary linter that refused the value, and the GS1 Syntax Engine's name for why. */
  linter?: string;
  linterError?: string;
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

/**
 * Linters deliberately not checked. Empty since every dictionary linter is implemented (kept
 * exported for callers and for the generated-table test). Note gcppos1/gcppos2 check only what
 * can be checked offline (see ./linters.ts).
 */
export const UNCHECKED_LINTERS: ReadonlySet<string> = new Set<string>();

/** Linters implemented (./linters.ts); the generated-table test checks the dictionary's are all here. */
export const IMPLEMENTED_LINTERS: ReadonlySet<string> = new Set(Object.keys(LINTERS));

const DATE_LINTERS = new Set(['yymmd0', 'yymmdd', 'yyyymmd0', 'yyyymmdd', 'hhmi', 'hh', 'mi', 'ss']);
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
      const bad = LINTERS[l]?.(part, now) ?? null;
      if (bad !== null) {
        const code: Gs1ErrorCode = CHECK_LINTERS.has(l) ? 'LG_ERR_GS1_CHECK_DIGIT' : DATE_LINTERS.has(l) ? 'LG_ERR_GS1_DATE' : 'LG_ERR_GS1_INVALID';
        return { code, detail: `(${def.ai}) ${JSON.stringify(part)} ${describeLintFailure(bad)}`, linter: l, linterError: bad.error };
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
