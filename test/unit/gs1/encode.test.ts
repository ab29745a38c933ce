import { describe, expect, it } from 'vitest';
import { LgError } from '../../../src/errors.js';
import { encodeElements, orderForEncoding, formatDigitalLink, makeSscc, parseScan, zplDataMatrixData, aiDefinition, isValidCheckDigit } from '../../../src/gs1/index.js';

const GS = '\x1d';
const GTIN = '09506000134352';
const now = new Date('2026-11-22T04:00:00Z');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof LgError ? err.code : `not LgError: ${String(err)}`;
  }
  return 'no throw';
}

describe('encodeElements', () => {
  it('gives HRI, the GS-separated string and ZPL ^BC mode D data (DEPENDENCIES.md example)', () => {
    const e = encodeElements([
      { ai: '01', value: GTIN },
      { ai: '10', value: 'ABC123' },
      { ai: '17', value: '261231' },
    ]);
    expect(e.hri).toBe(`(01)${GTIN}(10)ABC123(17)261231`);
    expect(e.gsSeparated).toBe(`01${GTIN}10ABC123${GS}17261231`);
    expect(e.zpl128).toBe(`(01)${GTIN}(10)ABC123>8(17)261231`);
    expect(e.zplDataMatrix).toBe(`_101${GTIN}10ABC123_117261231`);
  });

  it("keeps the caller's order and adds no separator after the last or pre-defined-length elements", () => {
    const e = encodeElements([
      { ai: '10', value: 'L1' },
      { ai: '21', value: 'S1' },
      { ai: '01', value: GTIN },
      { ai: '3103', value: '001250' },
      { ai: '8040', value: '123456789012345' },
      { ai: '11', value: '261101' },
    ]);
    expect(e.gsSeparated).toBe(`10L1${GS}21S1${GS}01${GTIN}3103001250${'8040123456789012345'}${GS}11261101`);
    expect(e.zpl128).toBe(`(10)L1>8(21)S1>8(01)${GTIN}(3103)001250(8040)123456789012345>8(11)261101`);
  });

  it('doubles _ in ^BX data; refuses ( ) > which ^BC mode D cannot carry', () => {
    const e = encodeElements([{ ai: '01', value: GTIN }, { ai: '10', value: 'A_B' }]);
    expect(e.zpl128).toBe(`(01)${GTIN}(10)A_B`);
    expect(e.zplDataMatrix).toBe(`_101${GTIN}10A__B`);
    expect(codeOf(() => encodeElements([{ ai: '10', value: 'A(1)' }]))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => encodeElements([{ ai: '10', value: 'A>8' }]))).toBe('LG_ERR_GS1_INVALID');
    // The same value is fine for DataMatrix.
    expect(zplDataMatrixData([{ ai: '10', value: 'A>8' }])).toBe('_110A>8');
  });

  it('validates with the parsing rules and throws LgError with the same codes', () => {
    expect(codeOf(() => encodeElements([{ ai: '01', value: '09506000134353' }]))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(codeOf(() => encodeElements([{ ai: '17', value: '261399' }]))).toBe('LG_ERR_GS1_DATE');
    expect(codeOf(() => encodeElements([{ ai: '10', value: 'X'.repeat(21) }]))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => encodeElements([{ ai: '10', value: 'A B' }]))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => encodeElements([{ ai: '10', value: '' }]))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => encodeElements([{ ai: '23', value: '1' }]))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => encodeElements([]))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => encodeElements([{ ai: '01', value: GTIN }, { ai: '02', value: GTIN }]))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => encodeElements([{ ai: '10', value: 'A' }, { ai: '10', value: 'B' }]))).toBe('LG_ERR_GS1_INVALID');
  });

  it('what it encodes, parseScan reads back', () => {
    const els = [
      { ai: '01', value: GTIN },
      { ai: '10', value: 'B-2026/11' },
      { ai: '11', value: '261122' },
      { ai: '17', value: '271100' },
      { ai: '3103', value: '012500' },
      { ai: '21', value: '000123' },
    ];
    const e = encodeElements(els);
    const r = parseScan(']C1' + e.gsSeparated, { now });
    expect(r.ok && r.elements.map(({ ai, value }) => ({ ai, value }))).toEqual(els);
    const h = parseScan(e.hri, { now });
    expect(h.ok && h.elements.map(({ ai, value }) => ({ ai, value }))).toEqual(els);
  });
});

describe('zplDataMatrixData', () => {
  it('uses the given ^BX escape character and doubles it in data', () => {
    const els = [{ ai: '01', value: GTIN }, { ai: '10', value: 'A_B' }, { ai: '21', value: 'S' }];
    expect(zplDataMatrixData(els)).toBe(`_101${GTIN}10A__B_121S`);
    expect(zplDataMatrixData(els, { escapeChar: '#' })).toBe(`#101${GTIN}10A_B#121S`);
    expect(codeOf(() => zplDataMatrixData(els, { escapeChar: '^' }))).toBe('LG_ERR_GS1_INVALID');
  });
});

describe('makeSscc', () => {
  it('builds 18 digits with check digit', () => {
    expect(makeSscc('1', '0614141', 234567890n)).toBe('106141412345678908');
    const s = makeSscc('0', '9506000', 1);
    expect(s.slice(0, 17)).toBe('09506000000000001'); // serial reference zero-padded to 9 digits
    expect(isValidCheckDigit(s)).toBe(true);
    expect(makeSscc('9', '950600013435', 9999)).toMatch(/^9950600013435999\d\d$/);
  });

  it('throws LG_ERR_GS1_INVALID on bad lengths or a serial that does not fit', () => {
    expect(codeOf(() => makeSscc('10', '9506000', 1))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => makeSscc('0', '950', 1))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => makeSscc('0', '9506000000000', 1))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => makeSscc('0', '9506000', 1_000_000_000))).toBe('LG_ERR_GS1_INVALID'); // 10 digits > 9
    expect(codeOf(() => makeSscc('0', '9506000', -1))).toBe('LG_ERR_GS1_INVALID');
    expect(codeOf(() => makeSscc('0', '9506000', 1.5))).toBe('LG_ERR_GS1_INVALID');
  });
});

describe('formatDigitalLink', () => {
  it('puts the primary key and ordered qualifiers in the path, the rest in the query', () => {
    const url = formatDigitalLink(
      [
        { ai: '17', value: '261231' },
        { ai: '21', value: 'S/1' },
        { ai: '01', value: GTIN },
        { ai: '10', value: 'AB(1)' },
      ],
      'https://id.example.com/',
    );
    expect(url).toBe(`https://id.example.com/01/${GTIN}/10/AB%281%29/21/S%2F1?17=261231`);
    const r = parseScan(url, { now });
    expect(r.ok && r.elements.map((e) => e.ai)).toEqual(['01', '10', '21', '17']);
    expect(r.ok && r.get('10')).toBe('AB(1)');
  });

  it('needs a primary key', () => {
    expect(codeOf(() => formatDigitalLink([{ ai: '10', value: 'A' }], 'https://x'))).toBe('LG_ERR_GS1_INVALID');
  });
});

describe('aiDefinition', () => {
  it('exposes FNC1 rule and fixed length', () => {
    expect(aiDefinition('01')).toMatchObject({ fnc1Required: false, fixedLength: 14, title: 'GTIN' });
    expect(aiDefinition('10')).toMatchObject({ fnc1Required: true, fixedLength: null, title: 'BATCH/LOT' });
    expect(aiDefinition('999')).toBeUndefined();
  });
});

describe('orderForEncoding', () => {
  it('puts pre-defined-length AIs first, keeping the caller order within each group', () => {
    const els = [
      { ai: '10', value: 'L1' },
      { ai: '01', value: GTIN },
      { ai: '21', value: 'S1' },
      { ai: '17', value: '261231' },
    ];
    expect(orderForEncoding(els).map((e) => e.ai)).toEqual(['01', '17', '10', '21']);
    expect(encodeElements(orderForEncoding(els)).gsSeparated).toBe(`01${GTIN}1726123110L1${GS}21S1`);
  });
});
