import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_FIELD_BYTES,
  code128SymbolChars,
  code128WidthDots,
  dataMatrixModules,
  escapeFieldData,
  fieldData,
  unescapeFieldData,
  zplGs1_128,
  zplGs1DataMatrix,
  zplLabel,
  zplText,
} from '../../../src/labels/zpl.js';
import { encodeElements, zplDataMatrixData } from '../../../src/gs1/index.js';
import { isLgError } from '../../../src/errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isLgError(err) ? err.code : `not an LgError: ${String(err)}`;
  }
  return undefined;
}

describe('field escaping', () => {
  it('hex-escapes ^ ~ _ and control characters, keeps UTF-8 text', () => {
    expect(escapeFieldData('^XZ^XA')).toBe('_5EXZ_5EXA');
    expect(escapeFieldData('~JA')).toBe('_7EJA');
    expect(escapeFieldData('a_b')).toBe('a_5Fb');
    expect(escapeFieldData('x\x03y\r\n\x00\x7f')).toBe('x_03y_0D_0A_00_7F');
    expect(escapeFieldData('Größe 東京')).toBe('Größe 東京');
    expect(escapeFieldData('\u0085')).toBe('_C2_85');
  });

  it('never lets a command character or control byte through, and round-trips (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const e = escapeFieldData(s);
        expect(e).not.toMatch(/[\^~\x00-\x1f\x7f\x80-\x9f]/);
        // `_` only ever starts a hex escape
        expect(e.replace(/_[0-9A-F]{2}/g, '')).not.toContain('_');
        const wellFormed = !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
        if (wellFormed) expect(unescapeFieldData(e)).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('limits field data to 3072 bytes and to the declared maximum', () => {
    expect(codeOf(() => fieldData('f', 'a'.repeat(MAX_FIELD_BYTES)))).toBeUndefined();
    expect(codeOf(() => fieldData('f', 'a'.repeat(MAX_FIELD_BYTES + 1)))).toBe('LG_ERR_LABEL_FIELD_TOO_LONG');
    // bytes, not characters: 2 bytes each
    expect(codeOf(() => fieldData('f', 'ä'.repeat(1537)))).toBe('LG_ERR_LABEL_FIELD_TOO_LONG');
    expect(codeOf(() => fieldData('f', 'abcdef', 5))).toBe('LG_ERR_LABEL_FIELD_TOO_LONG');
    expect(codeOf(() => zplText('x'.repeat(11), { field: 'name', x: 10, y: 10, height: 20, maxBytes: 10 }))).toBe('LG_ERR_LABEL_FIELD_TOO_LONG');
  });

  it('wraps a label with ^CI28 and sanitises the comment', () => {
    const z = zplLabel({ widthDots: 812, heightDots: 1218, comment: 'job ^XA~JA' }, ['^FO1,1^GB10,10,1^FS']);
    expect(z.startsWith('^XA^CI28^PW812^LL1218')).toBe(true);
    expect(z.match(/\^XA/g)).toHaveLength(1);
    expect(z).not.toContain('~');
    expect(z.trimEnd().endsWith('^XZ')).toBe(true);
  });
});

describe('Code 128 width', () => {
  it('counts symbol characters with subsets B and C', () => {
    // start C, FNC1, 0109506000134352 = 8 pairs, check → 11
    expect(code128SymbolChars('(01)09506000134352')).toBe(11);
    // (10)ABC: start, FNC1, '10' (C) , switch B, A B C, check = 8 — or all B: start FNC1 1 0 A B C check = 8
    expect(code128SymbolChars('(10)ABC')).toBe(8);
    // >8 is one FNC1; >< one literal '>'
    expect(code128SymbolChars('(10)AB>8(21)X')).toBe(code128SymbolChars('(10)AB(21)X') + 1);
    expect(code128SymbolChars('(10)A><')).toBe(code128SymbolChars('(10)AB'));
  });

  it('matches the rendered width of the demo symbol (555 dots measured in zpl-renderer-js)', () => {
    const w = code128WidthDots('(01)09506000134352(3103)003250(11)261122(17)270522', 2);
    expect(w).toBe(554);
  });

  it('refuses a barcode that does not fit the print width, with quiet zones', () => {
    const data = encodeElements([
      { ai: '01', value: '09506000134352' },
      { ai: '10', value: '20261122-001' },
      { ai: '11', value: '261122' },
      { ai: '17', value: '270522' },
      { ai: '3103', value: '003250' },
      { ai: '21', value: '12345' },
    ]).zpl128;
    expect(codeOf(() => zplGs1_128(data, { x: 40, y: 40, height: 100, moduleDots: 2, printWidth: 812 }))).toBe('LG_ERR_LABEL_BARCODE_TOO_WIDE');
    expect(codeOf(() => zplGs1_128('(01)09506000134352', { x: 40, y: 40, height: 100, moduleDots: 2, printWidth: 812 }))).toBeUndefined();
    // no left quiet zone
    expect(codeOf(() => zplGs1_128('(01)09506000134352', { x: 5, y: 40, height: 100, moduleDots: 2, printWidth: 812 }))).toBe('LG_ERR_LABEL_BARCODE_TOO_WIDE');
    // 6 dots per module: 11*11+13 = 134 modules = 804 dots: too wide for 812
    expect(codeOf(() => zplGs1_128('(01)09506000134352', { x: 60, y: 40, height: 100, moduleDots: 6, printWidth: 812 }))).toBe('LG_ERR_LABEL_BARCODE_TOO_WIDE');
  });

  it('escapes GS1-128 data with ^FH (an underscore in a lot stays data)', () => {
    const z = zplGs1_128(encodeElements([{ ai: '10', value: 'A_B' }]).zpl128, { x: 40, y: 40, height: 100, moduleDots: 2, printWidth: 812 });
    expect(z).toContain('^BCN,100,Y,N,N,D^FH^FD(10)A_5FB^FS');
  });
});

describe('GS1 DataMatrix', () => {
  it('uses # as escape character: #1 is FNC1, first and between elements', () => {
    const els = [
      { ai: '01', value: '09506000134352' },
      { ai: '10', value: 'L_1' },
      { ai: '17', value: '270522' },
    ];
    const e = encodeElements(els);
    const z = zplGs1DataMatrix({ dmData: zplDataMatrixData(els, { escapeChar: '#' }), gsSeparated: e.gsSeparated }, { x: 40, y: 40, moduleDots: 4, printWidth: 812 });
    expect(z).toBe('^FO40,40^BXN,4,200,,,,#^FH^FD#1010950600013435210L_5F1#117270522^FS');
  });

  it('sizes the symbol and checks it against the width', () => {
    // FNC1 + 8 digit pairs = 9 codewords: 14x14 holds 8, 16x16 holds 12
    expect(dataMatrixModules('0109506000134352')).toBe(16);
    expect(dataMatrixModules('01095060001343')).toBe(14);
    const big = { dmData: '#1' + '9'.repeat(400), gsSeparated: '9'.repeat(400) }; // 201 codewords → 52x52
    expect(dataMatrixModules(big.gsSeparated)).toBe(52);
    expect(codeOf(() => zplGs1DataMatrix(big, { x: 40, y: 40, moduleDots: 15, printWidth: 812 }))).toBe('LG_ERR_LABEL_BARCODE_TOO_WIDE');
    expect(codeOf(() => zplGs1DataMatrix(big, { x: 40, y: 40, moduleDots: 10, printWidth: 812 }))).toBeUndefined();
  });
});
