import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { add, cmp, mul, parseDec, round, sub, toString, canonical, isDecimalString, DecimalError } from '../../src/domain/decimal.js';

describe('decimal', () => {
  it('adds and subtracts exactly where binary floats do not', () => {
    expect(toString(add('0.1', '0.2'))).toBe('0.3');
    expect(toString(sub('1000.000', '0.001'))).toBe('999.999');
    expect(toString(sub('1', '1.250'))).toBe('-0.250');
  });
  it('compares across scales', () => {
    expect(cmp('1.50', '1.5')).toBe(0);
    expect(cmp('-0.01', '0')).toBe(-1);
    expect(cmp('10', '9.999')).toBe(1);
  });
  it('multiplies for unit conversion and rounds half away from zero', () => {
    expect(toString(mul('2.5', '1000'))).toBe('2500');
    expect(toString(round('0.4535924', 3))).toBe('0.454');
    expect(toString(round('-0.0005', 3))).toBe('-0.001');
  });
  it('canonicalises and refuses what is not a decimal', () => {
    expect(canonical('+001.50')).toBe('1.50');
    expect(() => parseDec('1e3')).toThrow(DecimalError);
    expect(() => parseDec('NaN')).toThrow(DecimalError);
    expect(() => parseDec(Number.POSITIVE_INFINITY)).toThrow(DecimalError);
    expect(isDecimalString('12.5')).toBe(true);
    expect(isDecimalString('12,5')).toBe(false);
  });
  it('turns numbers into their exact shortest text', () => {
    expect(toString(parseDec(1e-7))).toBe('0.0000001');
    expect(toString(parseDec(1.25))).toBe('1.25');
  });
  it('a sum of random grams equals the total, to the gram', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000_000 }), { maxLength: 200 }), (grams) => {
        const kg = grams.map((g) => toString({ units: BigInt(g), scale: 3 }));
        const total = kg.reduce((acc, v) => toString(add(acc, v)), '0');
        expect(cmp(total, { units: BigInt(grams.reduce((a, b) => a + b, 0)), scale: 3 })).toBe(0);
      }),
    );
  });
});
