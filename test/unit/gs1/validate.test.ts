import { describe, expect, it } from 'vitest';
import { csumAlphaPair, gs1CheckDigit, isValidCheckDigit, resolveCentury, yymmddToIso } from '../../../src/gs1/index.js';

describe('check digits', () => {
  it('computes GS1 mod-10 for GTIN, GLN and SSCC', () => {
    expect(gs1CheckDigit('0950600013435')).toBe('2'); // GS1's example GTIN 09506000134352
    expect(gs1CheckDigit('950600013435')).toBe('2'); // GTIN-13 body: leading zeros do not matter
    expect(gs1CheckDigit('950110153000')).toBe('3'); // GLN 9501101530003
    expect(gs1CheckDigit('10614141234567890')).toBe('8'); // SSCC (00)106141412345678908 (GS1 US example)
    expect(isValidCheckDigit('09506000134352')).toBe(true);
    expect(isValidCheckDigit('09506000134353')).toBe(false);
    expect(isValidCheckDigit('')).toBe(false);
    expect(isValidCheckDigit('12a4')).toBe(false);
    expect(() => gs1CheckDigit('12a')).toThrow();
  });

  it('computes the alphanumeric check pair of a GMN (GS1 General Specifications example)', () => {
    expect(csumAlphaPair('1987654Ad4X4bL5ttr2310c')).toBe('2K');
  });
});

describe('dates', () => {
  const now = new Date('2026-11-22T04:00:00Z');
  it('applies the GS1 century window [current−49, current+50]', () => {
    expect(resolveCentury(26, now)).toBe(2026);
    expect(resolveCentury(76, now)).toBe(2076); // +50: still this century
    expect(resolveCentury(77, now)).toBe(1977); // +51: previous
    expect(resolveCentury(0, now)).toBe(2000);
    const late = new Date('2070-06-01T00:00:00Z');
    expect(resolveCentury(20, late)).toBe(2120); // −50: next century
    expect(resolveCentury(21, late)).toBe(2021); // −49: this century
  });

  it('reads YYMMDD, with day 00 meaning the last day of the month only where allowed', () => {
    expect(yymmddToIso('261231', false, now)).toBe('2026-12-31');
    expect(yymmddToIso('260200', true, now)).toBe('2026-02-28');
    expect(yymmddToIso('280200', true, now)).toBe('2028-02-29');
    expect(yymmddToIso('260200', false, now)).toBeNull();
    expect(yymmddToIso('261399', true, now)).toBeNull();
    expect(yymmddToIso('261301', true, now)).toBeNull();
    expect(yymmddToIso('260230', true, now)).toBeNull();
    expect(yymmddToIso('260132', true, now)).toBeNull();
    expect(yymmddToIso('2612', true, now)).toBeNull();
  });
});
