import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aiDefinition, allAiDefinitions, CSET82, encodeElements, gs1CheckDigit, parseScan } from '../../../src/gs1/index.js';

const GS = '\x1d';
const now = new Date('2026-11-22T04:00:00Z');

function assertShape(r: ReturnType<typeof parseScan>): void {
  if (r.ok) {
    expect(Array.isArray(r.elements)).toBe(true);
    expect(typeof r.text).toBe('string');
  } else {
    expect(r.code).toMatch(/^LG_ERR_(GS1_INVALID|GS1_CHECK_DIGIT|GS1_DATE|SCAN_UNPARSEABLE|SCAN_CONTROL_CHARS)$/);
    // parseScan has a last-resort catch; reaching it means the parser itself threw — a bug.
    expect(String(r.details.detail ?? '')).not.toMatch(/^internal parser error/);
    expect(r.message.length).toBeGreaterThan(0);
  }
}

// Scanner-like strings: AIM prefixes, digits, GS, and some letters, so the GS1 paths are reached.
const aims = fc.constantFrom('', ']C1', ']d2', ']Q3', ']e0', ']E0', ']E4', ']E3', ']C0', ']Q1', ']d1', ']', ']Z', 'https://id.example.com/01/', '(01)', '(10)');
const piece = fc.oneof(
  fc.stringMatching(/^[0-9]{1,20}$/),
  fc.constantFrom(GS, '01', '10', '17', '21', '3103', '8040', '(', ')', '%', '%2', '?', '=', '&', '/', '\r\n', '\x00'),
  fc.string({ maxLength: 6 }),
);
const scannerish = fc.tuple(aims, fc.array(piece, { maxLength: 12 })).map(([a, ps]) => a + ps.join(''));

describe('parseScan never throws', () => {
  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        assertShape(parseScan(Buffer.from(bytes), { now }));
      }),
      { numRuns: 3000 },
    );
  });

  it('on random strings, any UTF-16 (lone surrogates included)', () => {
    // Built from code units: fast-check's full-unicode string generator costs ~2 ms a sample here.
    const anyUtf16 = fc.array(fc.nat({ max: 0xffff }), { maxLength: 120 }).map((a) => String.fromCharCode(...a));
    fc.assert(
      fc.property(anyUtf16, fc.option(fc.string({ maxLength: 3 })), (s, sub) => {
        assertShape(parseScan(s, sub === null ? { now } : { now, fnc1Substitute: sub }));
      }),
      { numRuns: 3000 },
    );
  });

  it('on scanner-like strings that reach the GS1 paths', () => {
    fc.assert(
      fc.property(scannerish, (s) => {
        assertShape(parseScan(s, { now }));
      }),
      { numRuns: 5000 },
    );
  });
});

// Valid values per AI class, generated from the table so every class is exercised.
const SIMPLE_AIS = allAiDefinitions().filter(
  (d) => d.components.length === 1 && d.components[0]!.linters.every((l) => ['csum', 'yymmd0', 'yymmdd', 'gcppos1', 'gcppos2'].includes(l)),
);

function valueFor(ai: string): fc.Arbitrary<string> {
  const c = aiDefinition(ai)!.components[0]!;
  if (c.linters.includes('csum')) return fc.stringMatching(new RegExp(`^[0-9]{${c.max - 1}}$`)).map((b) => b + gs1CheckDigit(b));
  if (c.linters.includes('yymmd0') || c.linters.includes('yymmdd')) {
    return fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2070-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(2, 10).replace(/-/g, ''));
  }
  const chars = c.cset === 'N' ? '0123456789' : c.cset === 'X' ? CSET82 : c.cset === 'Y' ? '#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return fc.array(fc.constantFrom(...chars), { minLength: c.min, maxLength: c.max }).map((a) => a.join(''));
}

const elementArb = fc.constantFrom(...SIMPLE_AIS.map((d) => d.ai)).chain((ai) => valueFor(ai).map((value) => ({ ai, value })));

describe('round trip encodeElements → ]C1 + gsSeparated → parseScan', () => {
  it('gives back the same elements', () => {
    fc.assert(
      fc.property(fc.uniqueArray(elementArb, { minLength: 1, maxLength: 6, selector: (e) => e.ai }), (els) => {
        let enc;
        try {
          enc = encodeElements(els, { now });
        } catch {
          return; // an invalid pairing (ex) of random AIs: nothing to round-trip
        }
        const r = parseScan(']C1' + enc.gsSeparated, { now });
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.elements.map(({ ai, value }) => ({ ai, value }))).toEqual(els);
        const h = parseScan(']d2' + GS + enc.gsSeparated, { now });
        expect(h.ok && h.elements.length).toBe(els.length);
      }),
      { numRuns: 1500 },
    );
  });
});
