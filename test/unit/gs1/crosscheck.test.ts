/**
 * Cross-check on VALID inputs against gs1-barcode-parser-mod (MIT), an independent parser.
 * Only valid data: that library does not validate check digits and rolls impossible dates over
 * (261399 → 2027-04-09, see DEPENDENCIES.md), so on invalid data disagreement is expected.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodeElements, parseScan } from '../../../src/gs1/index.js';

const require = createRequire(import.meta.url);
const { parseBarcode } = require('gs1-barcode-parser-mod') as {
  parseBarcode(s: string): { codeName: string; parsedCodeItems: Array<{ ai: string; raw: string; isoDate: string; data: unknown }> };
};

const GTIN = '09506000134352';
const now = new Date();

const cases: Array<Array<{ ai: string; value: string }>> = [
  [{ ai: '01', value: GTIN }, { ai: '10', value: 'ABC123' }, { ai: '17', value: '261231' }],
  [{ ai: '01', value: GTIN }, { ai: '17', value: '270100' }, { ai: '10', value: 'L-7/2' }, { ai: '21', value: 'SER001' }],
  [{ ai: '00', value: '106141412345678908' }, { ai: '02', value: GTIN }, { ai: '37', value: '48' }, { ai: '400', value: 'PO-991' }],
  [{ ai: '01', value: GTIN }, { ai: '3103', value: '001250' }, { ai: '11', value: '261122' }, { ai: '15', value: '270531' }],
  [{ ai: '01', value: GTIN }, { ai: '3202', value: '012345' }, { ai: '10', value: 'X' }],
  [{ ai: '01', value: GTIN }, { ai: '30', value: '12' }, { ai: '3922', value: '1999' }],
  [{ ai: '414', value: '9501101530003' }, { ai: '254', value: 'EXT-1' }],
  [{ ai: '01', value: GTIN }, { ai: '21', value: 'abc' }, { ai: '240', value: 'ADD-ID.1' }, { ai: '91', value: 'INTERNAL-1' }],
];

describe('cross-check against gs1-barcode-parser-mod (valid inputs)', () => {
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, els) => {
    const scan = ']C1' + encodeElements(els, { now }).gsSeparated;
    const ours = parseScan(scan, { now });
    const theirs = parseBarcode(scan);
    expect(ours.ok).toBe(true);
    if (!ours.ok) return;
    expect(theirs.codeName).toBe('GS1-128');
    expect(ours.elements.map((e) => [e.ai, e.value])).toEqual(theirs.parsedCodeItems.map((t) => [t.ai, t.raw]));
    ours.elements.forEach((e, i) => {
      const t = theirs.parsedCodeItems[i]!;
      if (e.typed?.kind === 'date') expect(e.typed.date).toBe(t.isoDate);
      if (e.typed?.kind === 'decimal') expect(Number(e.typed.value)).toBe(t.data);
    });
  });
});
