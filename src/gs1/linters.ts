/**
 * The GS1 syntax-test ("linter") procedures named in the GS1 Barcode Syntax Dictionary, one
 * function per name, ported from the reference implementation: the official GS1 Barcode Syntax
 * Engine (https://github.com/gs1/gs1-syntax-engine, Apache-2.0, src/c-lib/syntax/lint_*.c,
 * commit 50657dbd04ce78d8734e8793e054bf70dcba294b). Each port keeps the reference's order of
 * checks and its error names (GS1_LINTER_…), so a refusal can be compared with what the engine
 * says; test/unit/gs1/linters.test.ts runs the engine's own unit-test vectors against them.
 *
 * Every linter the vendored dictionary uses is here (the generated-table test fails when a new
 * dictionary release names one that is not), plus yyyymmd0 and the character-set tests
 * (cset82/39/64, csetnumeric) that the engine also exposes under linter names.
 *
 * Deliberate limit: gcppos1/gcppos2 check what the engine checks without a GS1 Company Prefix
 * database (room for a prefix of at least 4 digits); whether a prefix is actually allocated
 * needs GS1's online GCP lookup, which a gateway on a plant network must not depend on.
 *
 * Pure functions; `now` only feeds the century of two-digit years (GS1 General Specifications
 * 7.12, like the engine's CURRENT_YEAR).
 */
import { ISO3166_ALPHA2, ISO3166_NUMERIC, ISO4217_NUMERIC, PACKAGE_TYPES } from './code-lists.js';

export interface LintFailure {
  /** The reference engine's error name, e.g. `GS1_LINTER_NOT_ISO3166`. */
  error: string;
  /** Position and length of the offending characters within the component. */
  pos: number;
  len: number;
}

export type Linter = (data: string, now: Date) => LintFailure | null;

const ISO3166 = new Set(ISO3166_NUMERIC);
const ISO3166A2 = new Set(ISO3166_ALPHA2);
const ISO4217 = new Set(ISO4217_NUMERIC);
const PACKAGE = new Set(PACKAGE_TYPES);

const CSET82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;
const CSET39 = '#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const CSET64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CSET32 = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

function fail(error: string, pos: number, len: number): LintFailure {
  return { error: `GS1_LINTER_${error}`, pos, len };
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const d = (s: string, i: number): number => s.charCodeAt(i) - 48;

function firstNonDigit(s: string, from = 0, to = s.length): number {
  for (let i = from; i < to; i++) if (!isDigit(s[i])) return i;
  return -1;
}

// ── character sets ────────────────────────────────────────────────────────────
function csetLinter(set: string, error: string): Linter {
  return (s) => {
    for (let i = 0; i < s.length; i++) if (!set.includes(s[i]!)) return fail(error, i, 1);
    return null;
  };
}

const csetnumeric: Linter = (s) => {
  const i = firstNonDigit(s);
  return i >= 0 ? fail('NON_DIGIT_CHARACTER', i, 1) : null;
};

/** base64url, with at most two trailing '=' pads, and pads only when the length is a multiple of 3 (as the engine). */
const cset64: Linter = (s) => {
  let pads = 0;
  while (pads < s.length && s[s.length - pads - 1] === '=') pads++;
  const len = s.length - pads;
  if (pads > 2 || (pads > 0 && s.length % 3 !== 0)) return fail('INVALID_CSET64_PADDING', len, pads);
  for (let i = 0; i < len; i++) if (!CSET64.includes(s[i]!)) return fail('INVALID_CSET64_CHARACTER', i, 1);
  return null;
};

// ── check digits ──────────────────────────────────────────────────────────────
const csum: Linter = (s) => {
  if (s.length === 0) return fail('TOO_SHORT_FOR_CHECK_DIGIT', 0, 0);
  let weight = s.length % 2 === 0 ? 3 : 1;
  let parity = 0;
  for (let i = 0; i < s.length - 1; i++) {
    if (!isDigit(s[i])) return fail('NON_DIGIT_CHARACTER', i, 1);
    parity += weight * d(s, i);
    weight = 4 - weight;
  }
  if (!isDigit(s[s.length - 1])) return fail('NON_DIGIT_CHARACTER', s.length - 1, 1);
  parity = (10 - (parity % 10)) % 10;
  return String(parity) === s[s.length - 1] ? null : fail('INCORRECT_CHECK_DIGIT', s.length - 1, 1);
};

const PRIMES = (() => {
  const out: number[] = [];
  for (let n = 2; out.length < 97; n++) if (out.every((p) => n % p !== 0)) out.push(n);
  return out;
})();

const csumalpha: Linter = (s) => {
  if (s.length > PRIMES.length + 2) return fail('TOO_LONG_FOR_CHECK_PAIR_IMPLEMENTATION', 0, s.length);
  if (s.length < 2) return fail('TOO_SHORT_FOR_CHECK_PAIR', 0, s.length);
  if (s.length === 2) return s === '22' ? null : fail('INCORRECT_CHECK_PAIR', 0, 2);
  let sum = 0;
  for (let i = 0; i < s.length - 2; i++) {
    const w = CSET82.indexOf(s[i]!);
    if (w < 0) return fail('INVALID_CSET82_CHARACTER', i, 1);
    sum += w * PRIMES[s.length - 3 - i]!;
  }
  sum %= 1021;
  return s[s.length - 2] === CSET32[sum >> 5] && s[s.length - 1] === CSET32[sum & 31] ? null : fail('INCORRECT_CHECK_PAIR', s.length - 2, 2);
};

/** The minimum GS1 Company Prefix length (GS1 General Specifications 1.4.3). */
const GCP_MIN_LENGTH = 4;

const gcppos1: Linter = (s) => {
  if (s.length < GCP_MIN_LENGTH) return fail('TOO_SHORT_FOR_GCP', 0, s.length);
  const i = firstNonDigit(s, 0, GCP_MIN_LENGTH);
  return i >= 0 ? fail('INVALID_GCP_PREFIX', i, 1) : null;
};

const gcppos2: Linter = (s, now) => {
  if (s.length < 2) return fail('TOO_SHORT_FOR_GCP', 0, s.length);
  const r = gcppos1(s.slice(1), now);
  return r ? { ...r, pos: r.pos + 1 } : null;
};

// ── dates and times ───────────────────────────────────────────────────────────
const DAYS_IN_MONTH = [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const yyyymmd0: Linter = (s) => {
  if (s.length !== 8) return fail(s.length < 8 ? 'DATE_TOO_SHORT' : 'DATE_TOO_LONG', 0, s.length);
  const nd = firstNonDigit(s);
  if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
  const yy = Number(s.slice(0, 4));
  const mm = Number(s.slice(4, 6));
  const dd = Number(s.slice(6, 8));
  if (mm < 1 || mm > 12) return fail('ILLEGAL_MONTH', 4, 2);
  const max = mm === 2 ? ((yy % 4 === 0 && yy % 100 !== 0) || yy % 400 === 0 ? 29 : 28) : DAYS_IN_MONTH[mm - 1]!;
  return dd > max ? fail('ILLEGAL_DAY', 6, 2) : null; // "00" is permitted here
};

const yyyymmdd: Linter = (s, now) => {
  const r = yyyymmd0(s, now);
  if (r) return r;
  return s.slice(6, 8) === '00' ? fail('ILLEGAL_DAY', 6, 2) : null;
};

/** Century of YY by the GS1 sliding window (General Specifications 7.12), as the engine does it. */
function century(yy: number, now: Date): string {
  const current = now.getUTCFullYear() % 100;
  const base = Math.floor(now.getUTCFullYear() / 100);
  if (yy - current >= 51) return String(base - 1);
  if (yy - current > -50) return String(base);
  return String(base + 1);
}

const yymmd0: Linter = (s, now) => {
  if (s.length !== 6) return fail(s.length < 6 ? 'DATE_TOO_SHORT' : 'DATE_TOO_LONG', 0, s.length);
  const nd = firstNonDigit(s);
  if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
  const r = yyyymmd0(century(Number(s.slice(0, 2)), now) + s, now);
  return r ? { ...r, pos: r.pos - 2 } : null;
};

const yymmdd: Linter = (s, now) => {
  const r = yymmd0(s, now);
  if (r) return r;
  return s.slice(4, 6) === '00' ? fail('ILLEGAL_DAY', 4, 2) : null;
};

function twoDigit(max: number, short: string, long: string, illegal: string): Linter {
  return (s) => {
    if (s.length !== 2) return fail(s.length < 2 ? short : long, 0, s.length);
    const nd = firstNonDigit(s);
    if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
    return Number(s) > max ? fail(illegal, 0, 2) : null;
  };
}

const hh = twoDigit(23, 'HOUR_TOO_SHORT', 'HOUR_TOO_LONG', 'ILLEGAL_HOUR');
const mi = twoDigit(59, 'MINUTE_TOO_SHORT', 'MINUTE_TOO_LONG', 'ILLEGAL_MINUTE');
const ss = twoDigit(59, 'SECOND_TOO_SHORT', 'SECOND_TOO_LONG', 'ILLEGAL_SECOND');

const hhmi: Linter = (s, now) => {
  if (s.length !== 4) return fail(s.length < 4 ? 'HOUR_WITH_MINUTE_TOO_SHORT' : 'HOUR_WITH_MINUTE_TOO_LONG', 0, s.length);
  const h = hh(s.slice(0, 2), now);
  if (h) return h;
  const m = mi(s.slice(2, 4), now);
  return m ? { ...m, pos: m.pos + 2 } : null;
};

// ── fixed values ──────────────────────────────────────────────────────────────
function oneOf(values: string, error: string): Linter {
  return (s) => (s.length === 1 && values.includes(s) ? null : fail(error, 0, s.length));
}

const yesno = oneOf('01', 'NOT_ZERO_OR_ONE');
const winding = oneOf('019', 'INVALID_WINDING_DIRECTION');
const iso5218 = oneOf('0129', 'INVALID_BIOLOGICAL_SEX_CODE');

const zero: Linter = (s) => {
  return /^0+$/.test(s) ? null : fail('NOT_ZERO', 0, s.length);
};

const nonzero: Linter = (s) => {
  const nd = firstNonDigit(s);
  if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
  return /[1-9]/.test(s) ? null : fail('ILLEGAL_ZERO_VALUE', 0, s.length);
};

const nozeroprefix: Linter = (s) => {
  if (s.length > 0 && s[0] === '0') return fail('ILLEGAL_ZERO_PREFIX', 0, 1);
  const nd = firstNonDigit(s);
  return nd >= 0 ? fail('NON_DIGIT_CHARACTER', nd, 1) : null;
};

const hyphen: Linter = (s) => {
  return /^-+$/.test(s) ? null : fail('NOT_HYPHEN', 0, s.length);
};

const hasnondigit: Linter = (s) => (firstNonDigit(s) >= 0 ? null : fail('REQUIRES_NON_DIGIT_CHARACTER', 0, s.length));

const pcenc: Linter = (s) => {
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '%') continue;
    if (i + 2 >= s.length || !/^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) return fail('INVALID_PERCENT_SEQUENCE', i, Math.min(3, s.length - i));
    i += 2;
  }
  return null;
};

const importeridx: Linter = (s) => {
  if (s.length !== 1) return fail('IMPORTER_IDX_MUST_BE_ONE_CHARACTER', 0, s.length);
  return /^[-0-9A-Z_a-z]$/.test(s) ? null : fail('INVALID_IMPORT_IDX_CHARACTER', 0, 1);
};

// ── code lists ────────────────────────────────────────────────────────────────
function listLinter(list: ReadonlySet<string>, error: string): Linter {
  return (s) => (list.has(s) ? null : fail(error, 0, s.length));
}

const iso3166 = listLinter(ISO3166, 'NOT_ISO3166');
const iso3166999: Linter = (s) => (s === '999' || ISO3166.has(s) ? null : fail('NOT_ISO3166_OR_999', 0, s.length));
const iso3166alpha2 = listLinter(ISO3166A2, 'NOT_ISO3166_ALPHA2');
const iso4217 = listLinter(ISO4217, 'NOT_ISO4217');
const packagetype = listLinter(PACKAGE, 'INVALID_PACKAGE_TYPE');

/** Media type (AI 7241): 01–10 assigned by ICCBBA, 80–99 ICCBBA local/national use. */
const mediatype: Linter = (s) => {
  if (s.length === 2 && isDigit(s[0]) && isDigit(s[1])) {
    const n = Number(s);
    if ((n >= 1 && n <= 10) || (n >= 80 && n <= 99)) return null;
  }
  return fail('INVALID_MEDIA_TYPE', 0, s.length);
};

const IBAN_MIN_LENGTH = 10; // the engine's: no clear minimum, enough for the check characters
const IBAN_MAX_LENGTH = 34;

const iban: Linter = (s) => {
  if (s.length < 4) return fail('IBAN_TOO_SHORT', 0, s.length);
  if (!ISO3166A2.has(s.slice(0, 2))) return fail('ILLEGAL_IBAN_COUNTRY_CODE', 0, 2);
  if (s.length > IBAN_MAX_LENGTH) return fail('IBAN_TOO_LONG', 0, s.length);
  if (s.length <= IBAN_MIN_LENGTH) return fail('IBAN_TOO_SHORT', 0, s.length);
  let rem = 0;
  for (let k = 4; k < s.length + 4; k++) {
    const at = k < s.length ? k : k - s.length;
    const c = s[at]!;
    let v: number;
    if (c >= '0' && c <= '9') v = d(s, at);
    else if (c >= 'A' && c <= 'Z') v = c.charCodeAt(0) - 55;
    else return fail('INVALID_IBAN_CHARACTER', at, 1);
    rem = (rem * (v < 10 ? 10 : 100) + v) % 97;
  }
  return rem === 1 ? null : fail('INCORRECT_IBAN_CHECKSUM', 2, 2);
};

// ── geography, sequences ──────────────────────────────────────────────────────
function tenDigitsUpTo(max: number, lengthError: string, rangeError: string): Linter {
  return (s) => {
    if (s.length !== 10) return fail(lengthError, 0, s.length);
    const nd = firstNonDigit(s);
    if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
    return Number(s) > max ? fail(rangeError, 0, 10) : null;
  };
}

const latitude = tenDigitsUpTo(1_800_000_000, 'LATITUDE_INVALID_LENGTH', 'INVALID_LATITUDE');
const longitude = tenDigitsUpTo(3_600_000_000, 'LONGITUDE_INVALID_LENGTH', 'INVALID_LONGITUDE');

/** Piece number and total, equal halves (AI 8026): neither zero, piece ≤ total. */
const pieceoftotal: Linter = (s) => {
  const nd = firstNonDigit(s);
  if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
  if (s.length === 0 || s.length % 2 !== 0) return fail('INVALID_LENGTH_FOR_PIECE_OF_TOTAL', 0, s.length);
  const h = s.length / 2;
  const piece = s.slice(0, h);
  const total = s.slice(h);
  if (/^0+$/.test(piece)) return fail('ZERO_PIECE_NUMBER', 0, h);
  if (/^0+$/.test(total)) return fail('ZERO_TOTAL_PIECES', h, h);
  return piece > total ? fail('PIECE_NUMBER_EXCEEDS_TOTAL', 0, s.length) : null; // same length: text order is numeric order
};

/** `position/end` (AI 7011 …): digits, no leading zeros, position ≤ end. */
const posinseqslash: Linter = (s) => {
  const slash = s.indexOf('/');
  const malformed = fail('POSITION_IN_SEQUENCE_MALFORMED', 0, s.length);
  if (slash <= 0 || firstNonDigit(s, 0, slash) >= 0) return malformed;
  const end = s.slice(slash + 1);
  if (end.length === 0 || firstNonDigit(end) >= 0) return malformed;
  const pos = s.slice(0, slash);
  if (pos[0] === '0') return fail('ILLEGAL_ZERO_PREFIX', 0, pos.length);
  if (end[0] === '0') return fail('ILLEGAL_ZERO_PREFIX', slash + 1, end.length);
  const exceeds = pos.length > end.length || (pos.length === end.length && pos > end);
  return exceeds ? fail('POSITION_EXCEEDS_END', 0, s.length) : null;
};

// ── coupons ───────────────────────────────────────────────────────────────────
/**
 * A cursor over coupon data for the two coupon linters: every `need*` returns the failure the
 * engine reports when that field is absent or short (position rules as the engine's: an
 * exhausted field reports the whole data).
 */
class Coupon {
  p = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.p >= this.s.length;
  }
  get c(): string {
    return this.s[this.p]!;
  }
  missing(error: string): LintFailure {
    return fail(error, 0, this.s.length);
  }
  truncated(error: string): LintFailure {
    return this.done ? fail(error, 0, this.s.length) : fail(error, this.p, this.s.length - this.p);
  }
  /** Take `n` characters, or the failure. */
  take(n: number, error: string): LintFailure | null {
    if (this.s.length - this.p < n) return this.truncated(error);
    this.p += n;
    return null;
  }
}

/** A GCP inside coupon data (checked by gcppos1, reported over the whole GCP). */
function couponGcp(k: Coupon, len: number): LintFailure | null {
  const r = gcppos1(k.s.slice(k.p, k.p + len), new Date(0));
  if (r) return fail(r.error.replace('GS1_LINTER_', ''), k.p, len);
  k.p += len;
  return null;
}

/** Purchase requirement (VLI 1–5 + value), requirement code (0–4, 9), family code (3 digits). */
function couponPurchase(k: Coupon, nth: '1ST' | '2ND' | '3RD'): LintFailure | null {
  if (k.done) return k.missing(`COUPON_MISSING_${nth}_PURCHASE_REQUIREMENT_VLI`);
  if (k.c < '1' || k.c > '5') return fail(`COUPON_INVALID_${nth}_PURCHASE_REQUIREMENT_LENGTH`, k.p, 1);
  const vli = d(k.s, k.p);
  k.p++;
  const t = k.take(vli, `COUPON_TRUNCATED_${nth}_PURCHASE_REQUIREMENT`);
  if (t) return t;
  if (k.done) return k.missing(`COUPON_MISSING_${nth}_PURCHASE_REQUIREMENT_CODE`);
  if (k.c > '4' && k.c !== '9') return fail(`COUPON_INVALID_${nth}_PURCHASE_REQUIREMENT_CODE`, k.p, 1);
  k.p++;
  return k.take(3, `COUPON_TRUNCATED_${nth}_PURCHASE_FAMILY_CODE`);
}

/** 2nd/3rd purchase GCP: VLI 0–6 (+6 digits) or 9 (same as the primary GCP, none follows). */
function couponExtraGcp(k: Coupon, nth: '2ND' | '3RD'): LintFailure | null {
  if (k.done) return k.missing(`COUPON_MISSING_${nth}_PURCHASE_GCP_VLI`);
  if (k.c > '6' && k.c !== '9') return fail(`COUPON_INVALID_${nth}_PURCHASE_GCP_LENGTH`, k.p, 1);
  const vli = k.c !== '9' ? d(k.s, k.p) + 6 : 0;
  k.p++;
  if (k.s.length - k.p < vli) return k.truncated(`COUPON_TRUNCATED_${nth}_PURCHASE_GCP`);
  return vli > 0 ? couponGcp(k, vli) : null;
}

/** North American Coupon Code in AI (8110) (GS1 US "Coupon Code Data Carrier" formats). */
const couponcode: Linter = (s, now) => {
  const nd = firstNonDigit(s);
  if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
  const k = new Coupon(s);
  let r: LintFailure | null;
  // Primary GCP: VLI 0–6, GCP of VLI+6 digits.
  if (k.done) return k.missing('COUPON_MISSING_GCP_VLI');
  if (k.c > '6') return fail('COUPON_INVALID_GCP_LENGTH', k.p, 1);
  let vli = d(s, k.p) + 6;
  k.p++;
  if (s.length - k.p < vli) return k.truncated('COUPON_TRUNCATED_GCP');
  if ((r = couponGcp(k, vli))) return r;
  if ((r = k.take(6, 'COUPON_TRUNCATED_OFFER_CODE'))) return r;
  // Save value: VLI 1–5.
  if (k.done) return k.missing('COUPON_MISSING_SAVE_VALUE_VLI');
  if (k.c < '1' || k.c > '5') return fail('COUPON_INVALID_SAVE_VALUE_LENGTH', k.p, 1);
  vli = d(s, k.p);
  k.p++;
  if ((r = k.take(vli, 'COUPON_TRUNCATED_SAVE_VALUE'))) return r;
  if ((r = couponPurchase(k, '1ST'))) return r;
  // Optional field 1: additional purchase rules code (0–3), 2nd purchase.
  if (!k.done && k.c === '1') {
    k.p++;
    if (k.done) return k.missing('COUPON_MISSING_ADDITIONAL_PURCHASE_RULES_CODE');
    if (k.c > '3') return fail('COUPON_INVALID_ADDITIONAL_PURCHASE_RULES_CODE', k.p, 1);
    k.p++;
    if ((r = couponPurchase(k, '2ND'))) return r;
    if ((r = couponExtraGcp(k, '2ND'))) return r;
  }
  // Optional field 2: 3rd purchase.
  if (!k.done && k.c === '2') {
    k.p++;
    if ((r = couponPurchase(k, '3RD'))) return r;
    if ((r = couponExtraGcp(k, '3RD'))) return r;
  }
  // Optional field 3: expiration date; 4: start date (not after the expiration).
  let expiry: string | null = null;
  if (!k.done && k.c === '3') {
    k.p++;
    if (s.length - k.p < 6) return k.truncated('COUPON_TOO_SHORT_FOR_EXPIRATION_DATE');
    expiry = s.slice(k.p, k.p + 6);
    if (yymmdd(expiry, now)) return fail('COUPON_INVALID_EXIPIRATION_DATE', k.p, 6); // sic: the engine's spelling
    k.p += 6;
  }
  if (!k.done && k.c === '4') {
    k.p++;
    if (s.length - k.p < 6) return k.truncated('COUPON_TOO_SHORT_FOR_START_DATE');
    const start = s.slice(k.p, k.p + 6);
    if (yymmdd(start, now)) return fail('COUPON_INVALID_START_DATE', k.p, 6);
    if (expiry !== null && start > expiry) return fail('COUPON_EXPIRATION_BEFORE_START', k.p - 8, 14);
    k.p += 6;
  }
  // Optional field 5: serial number, VLI 0–9 (+6 digits).
  if (!k.done && k.c === '5') {
    k.p++;
    if (k.done) return k.missing('COUPON_MISSING_SERIAL_NUMBER_VLI');
    vli = d(s, k.p) + 6;
    k.p++;
    if ((r = k.take(vli, 'COUPON_TRUNCATED_SERIAL_NUMBER'))) return r;
  }
  // Optional field 6: retailer GCP or GLN, VLI 1–7 (+6 digits).
  if (!k.done && k.c === '6') {
    k.p++;
    if (k.done) return k.missing('COUPON_MISSING_RETAILER_GCP_OR_GLN_VLI');
    if (k.c < '1' || k.c > '7') return fail('COUPON_INVALID_RETAILER_GCP_OR_GLN_LENGTH', k.p, 1);
    vli = d(s, k.p) + 6;
    k.p++;
    if (s.length - k.p < vli) return k.truncated('COUPON_TRUNCATED_RETAILER_GCP_OR_GLN');
    if ((r = couponGcp(k, vli))) return r;
  }
  // Optional field 9: save value code, applies-to item, store coupon flag, don't-multiply flag.
  if (!k.done && k.c === '9') {
    k.p++;
    if (k.done) return k.missing('COUPON_MISSING_SAVE_VALUE_CODE');
    if (!'01256'.includes(k.c)) return fail('COUPON_INVALID_SAVE_VALUE_CODE', k.p, 1);
    k.p++;
    if (k.done) return k.missing('COUPON_MISSING_SAVE_VALUE_APPLIES_TO_ITEM');
    if (k.c > '2') return fail('COUPON_INVALID_SAVE_VALUE_APPLIES_TO_ITEM', k.p, 1);
    k.p++;
    if (k.done) return k.missing('COUPON_MISSING_STORE_COUPON_FLAG');
    k.p++;
    if (k.done) return k.missing('COUPON_MISSING_DONT_MULTIPLY_FLAG');
    if (!'01'.includes(k.c)) return fail('COUPON_INVALID_DONT_MULTIPLY_FLAG', k.p, 1);
    k.p++;
  }
  return k.done ? null : fail('COUPON_EXCESS_DATA', k.p, s.length - k.p);
};

/** Positive offer file coupon code in AI (8112) (format 0/1, funder, offer code, serial number). */
const couponposoffer: Linter = (s) => {
  const nd = firstNonDigit(s);
  if (nd >= 0) return fail('NON_DIGIT_CHARACTER', nd, 1);
  const k = new Coupon(s);
  let r: LintFailure | null;
  if (k.done) return k.missing('COUPON_MISSING_FORMAT_CODE');
  if (k.c !== '0' && k.c !== '1') return fail('COUPON_INVALID_FORMAT_CODE', k.p, 1);
  k.p++;
  if (k.done) return k.missing('COUPON_MISSING_FUNDER_VLI');
  if (k.c > '6') return fail('COUPON_INVALID_FUNDER_LENGTH', k.p, 1);
  let vli = d(s, k.p) + 6;
  k.p++;
  if ((r = k.take(vli, 'COUPON_TRUNCATED_FUNDER'))) return r;
  if ((r = k.take(6, 'COUPON_TRUNCATED_OFFER_CODE'))) return r;
  if (k.done) return k.missing('COUPON_MISSING_SERIAL_NUMBER_VLI');
  vli = d(s, k.p) + 6;
  k.p++;
  if ((r = k.take(vli, 'COUPON_TRUNCATED_SERIAL_NUMBER'))) return r;
  return k.done ? null : fail('COUPON_EXCESS_DATA', k.p, s.length - k.p);
};

/** Every linter by its dictionary name. */
export const LINTERS: Readonly<Record<string, Linter>> = {
  cset82: csetLinter(CSET82, 'INVALID_CSET82_CHARACTER'),
  cset39: csetLinter(CSET39, 'INVALID_CSET39_CHARACTER'),
  cset64,
  csetnumeric,
  csum,
  csumalpha,
  gcppos1,
  gcppos2,
  yyyymmd0,
  yyyymmdd,
  yymmd0,
  yymmdd,
  hh,
  mi,
  ss,
  hhmi,
  yesno,
  winding,
  iso5218,
  zero,
  nonzero,
  nozeroprefix,
  hyphen,
  hasnondigit,
  pcenc,
  importeridx,
  iso3166,
  iso3166999,
  iso3166alpha2,
  iso4217,
  packagetype,
  mediatype,
  iban,
  latitude,
  longitude,
  pieceoftotal,
  posinseqslash,
  couponcode,
  couponposoffer,
};

/** What a failure means, in words for the operator (the GS1_LINTER_ name is kept in the record too). */
const WORDS: Record<string, string> = {
  NOT_ISO3166: 'is not an ISO 3166 numeric country code',
  NOT_ISO3166_OR_999: 'is not an ISO 3166 numeric country code or 999',
  NOT_ISO3166_ALPHA2: 'is not an ISO 3166 alpha-2 country code',
  NOT_ISO4217: 'is not an ISO 4217 numeric currency code',
  INVALID_PACKAGE_TYPE: 'is not a GS1 package type code',
  INVALID_MEDIA_TYPE: 'is not an assigned media type',
  INCORRECT_CHECK_DIGIT: 'has a wrong check digit',
  INCORRECT_CHECK_PAIR: 'has wrong check characters',
  ILLEGAL_MONTH: 'has an impossible month',
  ILLEGAL_DAY: 'has an impossible day',
  ILLEGAL_HOUR: 'has an impossible hour',
  ILLEGAL_MINUTE: 'has an impossible minute',
  ILLEGAL_SECOND: 'has an impossible second',
  ILLEGAL_ZERO_PREFIX: 'must not start with 0',
  ILLEGAL_ZERO_VALUE: 'must not be zero',
  INCORRECT_IBAN_CHECKSUM: 'has a wrong IBAN checksum',
  ILLEGAL_IBAN_COUNTRY_CODE: 'does not start with an ISO 3166 alpha-2 country code',
};

/** Human wording of a failure: "is not an ISO 3166 numeric country code", "coupon truncated offer code"… */
export function describeLintFailure(f: LintFailure): string {
  const key = f.error.replace(/^GS1_LINTER_/, '');
  return WORDS[key] ?? `fails the GS1 check: ${key.toLowerCase().replace(/_/g, ' ')}`;
}
