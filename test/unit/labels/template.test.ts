import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { encodeFields, loadPrinterModels, loadTemplates, parseTemplate, renderLabelDetailed } from '../../../src/labels/template.js';
import { isLgError } from '../../../src/errors.js';

const root = join(import.meta.dirname, '..', '..', '..');
const templates = loadTemplates(join(root, 'devices', 'labels'));
const models = loadPrinterModels(join(root, 'devices', 'printers'));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isLgError(err) ? err.code : `not an LgError: ${String(err)}`;
  }
  return undefined;
}

const caseFields = {
  productName: 'Widget A',
  gtin: '09506000134352',
  batch: '20261122-001',
  productionDate: '2026-11-22',
  expiry: '2027-05-22',
  netWeight: '3.25',
  serial: '21',
};

describe('templates and models as data', () => {
  it('loads the shipped templates and printer models', () => {
    expect([...templates.keys()].sort()).toEqual(['batch-4x6', 'case-4x6', 'pallet-4x6']);
    expect(templates.get('pallet-4x6')!.identity).toBe('sscc');
    expect(models.get('zebra-203dpi-4in')).toMatchObject({ dpi: 203, hostStatus: true });
    expect(models.get('generic-203dpi-oneway')!.hostStatus).toBe(false);
  });

  it('renders the case label with the GS1 data in template order', () => {
    const r = renderLabelDetailed(templates.get('case-4x6')!, caseFields, { now: new Date('2026-11-22T10:00:00Z') });
    expect(r.symbols.map((s) => s.hri)).toEqual([
      '(01)09506000134352(3103)003250(11)261122(17)270522',
      '(10)20261122-001(21)21',
      '(01)09506000134352(11)261122(17)270522(3103)003250(10)20261122-001(21)21',
    ]);
    expect(r.zpl).toContain('^BCN,160,Y,N,N,D^FH^FD(10)20261122-001>8(21)21^FS');
    expect(r.zpl).not.toContain('REPRINT');
    const again = renderLabelDetailed(templates.get('case-4x6')!, caseFields, { reprintMark: 'REPRINT' });
    expect(again.zpl).toContain('^FDREPRINT^FS');
  });

  it('scales positions to a 300 dpi printer', () => {
    const z203 = renderLabelDetailed(templates.get('case-4x6')!, caseFields, { printer: models.get('zebra-203dpi-4in')! }).zpl;
    const z300 = renderLabelDetailed(templates.get('case-4x6')!, caseFields, { printer: models.get('zebra-300dpi-4in')! }).zpl;
    expect(z203).toContain('^PW812^LL1218');
    expect(z300).toContain('^PW1200^LL1800');
  });

  it('encodes measures exactly and refuses rounding', () => {
    const t = templates.get('case-4x6')!;
    expect(encodeFields(t, { ...caseFields, netWeight: '12.5' }).netWeight).toEqual({ ai: '3103', value: '012500' });
    expect(encodeFields(t, { ...caseFields, netWeight: '0.0010' }).netWeight).toEqual({ ai: '3103', value: '000001' });
    expect(codeOf(() => encodeFields(t, { ...caseFields, netWeight: '1.2345' }))).toBe('LG_ERR_LABEL_FIELD_INVALID');
    expect(codeOf(() => encodeFields(t, { ...caseFields, netWeight: '1000' }))).toBe('LG_ERR_LABEL_FIELD_INVALID');
    expect(codeOf(() => encodeFields(t, { ...caseFields, netWeight: '-1' }))).toBe('LG_ERR_LABEL_FIELD_INVALID');
  });

  it('refuses missing, invalid and overlong fields with stable codes', () => {
    const t = templates.get('case-4x6')!;
    const { batch: _b, ...noBatch } = caseFields;
    expect(codeOf(() => renderLabelDetailed(t, noBatch))).toBe('LG_ERR_LABEL_FIELD_MISSING');
    expect(codeOf(() => renderLabelDetailed(t, { ...caseFields, gtin: '09506000134353' }))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(codeOf(() => renderLabelDetailed(t, { ...caseFields, expiry: '2027-02-30' }))).toBe('LG_ERR_GS1_DATE');
    expect(codeOf(() => renderLabelDetailed(t, { ...caseFields, expiry: 'soon' }))).toBe('LG_ERR_LABEL_FIELD_INVALID');
    expect(codeOf(() => renderLabelDetailed(t, { ...caseFields, productName: 'x'.repeat(3073) }))).toBe('LG_ERR_LABEL_FIELD_TOO_LONG');
    // long batch and serial: the symbol no longer fits the 4-inch label at 2 dots per module
    expect(codeOf(() => renderLabelDetailed(t, { ...caseFields, batch: 'B'.repeat(20), serial: 'S'.repeat(20) }))).toBe('LG_ERR_LABEL_BARCODE_TOO_WIDE');
    // over the GS1-128 maximum of 48 data characters (even where it would fit the width)
    const wide = parseTemplate({
      name: 'wide', kind: 'case', description: 'd', widthMm: 1000, heightMm: 100, identity: 'none',
      fields: { b: { type: 'gs1', ai: '10' }, s: { type: 'gs1', ai: '21' }, p: { type: 'gs1', ai: '240' } },
      elements: [{ type: 'gs1-128', xMm: 5, yMm: 5, heightMm: 10, moduleMm: 0.125, fields: ['b', 's', 'p'] }],
    });
    const big = { dpi: 203 as const, maxPrintWidthDots: 8000 };
    expect(codeOf(() => renderLabelDetailed(wide, { b: 'B'.repeat(20), s: 'S'.repeat(20) }, { printer: big }))).toBeUndefined();
    expect(codeOf(() => renderLabelDetailed(wide, { b: 'B'.repeat(20), s: 'S'.repeat(20), p: 'P' }, { printer: big }))).toBe('LG_ERR_LABEL_FIELD_INVALID');
    // a lot longer than AI (10) allows (20)
    expect(codeOf(() => renderLabelDetailed(t, { ...caseFields, batch: 'B'.repeat(21) }))).toBe('LG_ERR_GS1_INVALID');
  });

  it('refuses broken templates', () => {
    const base = { name: 't', kind: 'case', description: 'd', widthMm: 100, heightMm: 100, identity: 'none', fields: { a: { type: 'text' } } };
    expect(codeOf(() => parseTemplate({ ...base, elements: [{ type: 'text', xMm: 1, yMm: 1, heightMm: 3, value: '{b}' }] }))).toBe('LG_ERR_LABEL_TEMPLATE');
    expect(codeOf(() => parseTemplate({ ...base, elements: [{ type: 'gs1-128', xMm: 1, yMm: 1, heightMm: 3, moduleMm: 0.25, fields: ['a'] }] }))).toBe('LG_ERR_LABEL_TEMPLATE');
    expect(codeOf(() => parseTemplate({ ...base, identity: 'serial', elements: [{ type: 'text', xMm: 1, yMm: 1, heightMm: 3, value: '{a}' }] }))).toBe('LG_ERR_LABEL_TEMPLATE');
    expect(codeOf(() => parseTemplate({ ...base, fields: { g: { type: 'gs1', ai: '99999' } }, elements: [{ type: 'box', xMm: 1, yMm: 1, wMm: 3, hMm: 3, thicknessMm: 1 }] }))).toBe('LG_ERR_LABEL_TEMPLATE');
    expect(codeOf(() => parseTemplate({ ...base, elements: [{ type: 'text', xMm: 1, yMm: 1, heightMm: 3, value: '{a}' }] }))).toBeUndefined();
  });
});

describe('no field value can add a command (property)', () => {
  const t = templates.get('case-4x6')!;
  const commands = (zpl: string): string[] => zpl.match(/[\^~].{2}/gs) ?? [];
  const reference = commands(renderLabelDetailed(t, { ...caseFields, lot: 'x' }).zpl);
  it('any product name and lot text leaves the command sequence unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 150 }), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 150 }), (name, lot) => {
        const zpl = renderLabelDetailed(t, { ...caseFields, productName: `P${name}`, lot }).zpl;
        expect(commands(zpl)).toEqual(reference);
        expect(zpl).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
      }),
      { numRuns: 300 },
    );
  });
});
