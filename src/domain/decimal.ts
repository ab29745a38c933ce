/**
 * Exact decimal arithmetic for stored quantities (weights, lot balances, counts).
 * A value is a BigInt of units at a given scale (number of fraction digits); strings in and out,
 * never binary floating point. "1.250" + "0.75" = "2.000" (scale is the larger of the two).
 */
export interface Dec {
  readonly units: bigint;
  readonly scale: number;
}

const DEC_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;
export const MAX_SCALE = 9;

export class DecimalError extends Error {}

export function parseDec(input: string | number | bigint): Dec {
  if (typeof input === 'bigint') return { units: input, scale: 0 };
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new DecimalError(`not a finite number: ${input}`);
    // Numbers only from trusted sources (JSON payloads): go through their shortest decimal text.
    input = numberToPlain(input);
  }
  const s = input.trim();
  const m = DEC_RE.exec(s);
  if (!m) throw new DecimalError(`not a decimal: ${JSON.stringify(input.slice(0, 40))}`);
  const frac = m[3] ?? '';
  if (frac.length > MAX_SCALE) throw new DecimalError(`more than ${MAX_SCALE} decimals: ${s}`);
  const units = BigInt((m[2] ?? '0') + frac) * (m[1] === '-' ? -1n : 1n);
  return { units, scale: frac.length };
}

function numberToPlain(n: number): string {
  const s = String(n);
  if (!/e/i.test(s)) return s;
  // Expand exponent notation exactly from the shortest round-trip text.
  const [mant, expS] = s.toLowerCase().split('e') as [string, string];
  const exp = Number(expS);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '');
  const [ip, fp = ''] = digits.split('.') as [string, string?];
  let all = ip + fp;
  let point = ip.length + exp;
  if (point <= 0) {
    all = '0'.repeat(1 - point) + all;
    point = 1;
  }
  while (all.length < point) all += '0';
  const out = all.slice(0, point) + (point < all.length ? '.' + all.slice(point) : '');
  return (neg ? '-' : '') + out;
}

function rescale(d: Dec, scale: number): bigint {
  if (scale < d.scale) throw new DecimalError('cannot rescale down without rounding');
  return d.units * 10n ** BigInt(scale - d.scale);
}

function norm(a: Dec | string | number, b: Dec | string | number): [bigint, bigint, number] {
  const x = typeof a === 'object' ? a : parseDec(a);
  const y = typeof b === 'object' ? b : parseDec(b);
  const scale = Math.max(x.scale, y.scale);
  return [rescale(x, scale), rescale(y, scale), scale];
}

export function add(a: Dec | string, b: Dec | string): Dec {
  const [x, y, scale] = norm(a, b);
  return { units: x + y, scale };
}

export function sub(a: Dec | string, b: Dec | string): Dec {
  const [x, y, scale] = norm(a, b);
  return { units: x - y, scale };
}

export function cmp(a: Dec | string, b: Dec | string): -1 | 0 | 1 {
  const [x, y] = norm(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isNegative(a: Dec | string): boolean {
  const d = typeof a === 'object' ? a : parseDec(a);
  return d.units < 0n;
}

export function isZero(a: Dec | string): boolean {
  const d = typeof a === 'object' ? a : parseDec(a);
  return d.units === 0n;
}

/** Multiply by an exact decimal factor (unit conversion); result scale = sum of scales, trimmed. */
export function mul(a: Dec | string, b: Dec | string): Dec {
  const x = typeof a === 'object' ? a : parseDec(a);
  const y = typeof b === 'object' ? b : parseDec(b);
  return trim({ units: x.units * y.units, scale: x.scale + y.scale });
}

/** Round half away from zero to `scale` digits. */
export function round(a: Dec | string, scale: number): Dec {
  const d = typeof a === 'object' ? a : parseDec(a);
  if (d.scale <= scale) return { units: rescale(d, scale), scale };
  const div = 10n ** BigInt(d.scale - scale);
  const q = d.units / div;
  const r = d.units % div;
  const twice = (r < 0n ? -r : r) * 2n;
  const bump = twice >= div ? (d.units < 0n ? -1n : 1n) : 0n;
  return { units: q + bump, scale };
}

/** Drop trailing fraction zeros. */
export function trim(d: Dec): Dec {
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return { units, scale };
}

export function toString(d: Dec | string): string {
  const x = typeof d === 'object' ? d : parseDec(d);
  const neg = x.units < 0n;
  let s = (neg ? -x.units : x.units).toString();
  if (x.scale > 0) {
    s = s.padStart(x.scale + 1, '0');
    s = s.slice(0, s.length - x.scale) + '.' + s.slice(s.length - x.scale);
  }
  return (neg ? '-' : '') + s;
}

/** Canonical text of a decimal string (normalises "+01.50" to "1.50"). */
export function canonical(s: string): string {
  return toString(parseDec(s));
}

export function isDecimalString(s: unknown): s is string {
  return typeof s === 'string' && DEC_RE.test(s.trim()) && (s.split('.')[1]?.length ?? 0) <= MAX_SCALE;
}

export function sum(values: Array<Dec | string>): Dec {
  return values.reduce<Dec>((acc, v) => add(acc, v), { units: 0n, scale: 0 });
}
