/**
 * Mass units and exact conversion between them.
 *
 * Factors are the exact legal definitions (international avoirdupois pound, 1959):
 * 1 lb = 0.45359237 kg, 1 oz = 1/16 lb = 0.028349523125 kg. Conversion is done exactly on
 * BigInt rationals and rounded ONCE, half away from zero, to the target number of decimals —
 * never twice, so converting 1.0005 lb gives the same result whether or not the caller first
 * rounded to the scale's resolution elsewhere. Metric ↔ metric conversions are always exact.
 */
import { type Dec, DecimalError, trim } from '../domain/decimal.js';

export type MassUnit = 'g' | 'kg' | 'lb' | 'oz';
export const MASS_UNITS: readonly MassUnit[] = ['g', 'kg', 'lb', 'oz'];

/** Units in kilograms, as exact decimals. */
const IN_KG: Record<MassUnit, Dec> = {
  g: { units: 1n, scale: 3 },
  kg: { units: 1n, scale: 0 },
  lb: { units: 45359237n, scale: 8 },
  oz: { units: 28349523125n, scale: 12 },
};

/**
 * Spellings scales and ERPs send, lower-cased before lookup. "gr" is deliberately absent: on
 * Sartorius balances it means grains, not grams.
 */
const ALIASES: Record<string, MassUnit> = {
  g: 'g', gram: 'g', grams: 'g',
  kg: 'kg', kgs: 'kg', kilogram: 'kg', kilograms: 'kg',
  lb: 'lb', lbs: 'lb', pound: 'lb', pounds: 'lb',
  oz: 'oz', ounce: 'oz', ounces: 'oz',
};

/** Canonical unit for a spelling, or undefined. `extra` is the profile's own alias table. */
export function normaliseUnit(u: string, extra?: Record<string, string>): MassUnit | undefined {
  const t = u.trim();
  const viaProfile = extra?.[t];
  const key = (viaProfile ?? t).toLowerCase();
  return ALIASES[key];
}

export function isMassUnit(u: string): u is MassUnit {
  return (MASS_UNITS as readonly string[]).includes(u);
}

/** Round the rational num/den (den > 0) half away from zero to an integer. */
function roundDiv(num: bigint, den: bigint): bigint {
  const neg = num < 0n;
  const a = neg ? -num : num;
  const q = a / den;
  const r = a % den;
  const res = r * 2n >= den ? q + 1n : q;
  return neg ? -res : res;
}

/**
 * Convert `x` from one unit to another, rounded once (half away from zero) to `decimals`.
 * value_to = x · f_from / f_to, with f the unit in kg.
 */
const POW10: bigint[] = Array.from({ length: 64 }, (_, i) => 10n ** BigInt(i));
function pow10(n: number): bigint {
  return POW10[n] ?? 10n ** BigInt(n);
}

/** a − b, aligned to the larger scale (no rounding). */
export function subExact(a: Dec, b: Dec): Dec {
  if (a.scale === b.scale) return { units: a.units - b.units, scale: a.scale };
  const s = Math.max(a.scale, b.scale);
  return { units: a.units * pow10(s - a.scale) - b.units * pow10(s - b.scale), scale: s };
}

/** a + b, aligned to the larger scale (no rounding). */
export function addExact(a: Dec, b: Dec): Dec {
  return subExact(a, { units: -b.units, scale: b.scale });
}

export function convertMass(x: Dec, from: MassUnit, to: MassUnit, decimals: number): Dec {
  if (decimals < 0 || decimals > 18) throw new DecimalError(`decimals out of range: ${decimals}`);
  // Hot path (10 Hz × every scale): same unit, no rounding needed.
  if (from === to && x.scale <= decimals) return { units: x.units * pow10(decimals - x.scale), scale: decimals };
  if (from === to) return { units: roundDiv(x.units, pow10(x.scale - decimals)), scale: decimals };
  const f = IN_KG[from];
  const t = IN_KG[to];
  // x.units/10^xs · f.units/10^fs · 10^ts/t.units · 10^d
  const num = x.units * f.units * pow10(t.scale + decimals);
  const den = t.units * pow10(x.scale + f.scale);
  return { units: roundDiv(num, den), scale: decimals };
}

/**
 * Convert without losing anything when the result terminates within `maxDecimals` digits
 * (always true metric ↔ metric); otherwise round once to `maxDecimals`. Trailing zeros trimmed
 * to `minDecimals` at least.
 */
export function convertMassExact(x: Dec, from: MassUnit, to: MassUnit, maxDecimals = 9, minDecimals = 0): Dec {
  const r = convertMass(x, from, to, maxDecimals);
  const t = trim(r);
  if (t.scale >= minDecimals) return t;
  return { units: t.units * 10n ** BigInt(minDecimals - t.scale), scale: minDecimals };
}

/**
 * Exact decimal from a JSON number lexeme or decimal text, exponents expanded
 * ("1.25e3" → 1250, "-5E-2" → -0.05). No float anywhere. Throws DecimalError.
 */
const SIMPLE_RE = /^-?\d{1,15}(\.\d{1,9})?$/;

export function lexemeToDec(lexeme: string): Dec {
  // Fast path for what scales send ("1.250", "-0.015", "12"): no exponent, no sign '+', no spaces.
  if (SIMPLE_RE.test(lexeme)) {
    const dot = lexeme.indexOf('.');
    if (dot < 0) return trimTo({ units: BigInt(lexeme), scale: 0 });
    return trimTo({ units: BigInt(lexeme.slice(0, dot) + lexeme.slice(dot + 1)), scale: lexeme.length - dot - 1 });
  }
  const m = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(lexeme.trim());
  if (!m) throw new DecimalError(`not a number: ${JSON.stringify(lexeme.slice(0, 40))}`);
  const neg = m[1] === '-';
  const ip = m[2] ?? '0';
  const fp = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 30) throw new DecimalError(`exponent out of range: ${lexeme.slice(0, 40)}`);
  let units = BigInt(ip + fp);
  let scale = fp.length - exp;
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (ip.length + fp.length > 40) throw new DecimalError(`too many digits: ${lexeme.slice(0, 40)}…`);
  return trimTo({ units: neg ? -units : units, scale });
}

function trimTo(d: Dec): Dec {
  return d.units === 0n ? { units: 0n, scale: 0 } : d;
}
