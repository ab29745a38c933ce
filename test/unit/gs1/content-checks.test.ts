import { describe, expect, it } from 'vitest';
import { parseForBinding } from '../../../src/binding/parse.js';
import { encodeElements, gs1CheckDigit, parseScan, type ScanData } from '../../../src/gs1/index.js';

/**
 * Issue 10.16: the content checks the GS1 syntax dictionary names are applied to scans (and so
 * to labels, which are validated by the same code), and a range value keeps both ends.
 */
const GS = '\x1d';
const NOW = new Date('2026-06-01T00:00:00Z');
const GTIN = '09506000134352';
const SSCC = (() => {
  const body = '09506000134' + '000001';
  return body + gs1CheckDigit(body);
})();

const scan = (elements: Array<[string, string]>, aim = ']C1'): ScanData => parseScan(aim + elements.map(([ai, v]) => ai + v).join(GS), { now: NOW });

function refusal(r: ScanData): { code: string; linter: unknown; linterError: unknown; ai: unknown } {
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.elements)}`);
  return { code: r.code, linter: r.details.linter, linterError: r.details.linterError, ai: r.details.ai };
}

describe('10.16 GS1 content checks from the syntax dictionary', () => {
  it.each<[string, Array<[string, string]>, Array<[string, string]>, string, string]>([
    // name, refused, accepted (same AI, a valid value), linter, engine error
    ['422 ORIGIN must be an ISO 3166 numeric country', [['01', GTIN], ['422', '163']], [['01', GTIN], ['422', '276']], 'iso3166', 'GS1_LINTER_NOT_ISO3166'],
    ['7030 PROCESSOR must be ISO 3166 or 999', [['01', GTIN], ['7030', '000APPROVAL-1']], [['01', GTIN], ['7030', '999APPROVAL-1']], 'iso3166999', 'GS1_LINTER_NOT_ISO3166_OR_999'],
    ['4307 SHIP TO COUNTRY must be ISO 3166 alpha-2', [['00', SSCC], ['4307', 'XA']], [['00', SSCC], ['4307', 'DE']], 'iso3166alpha2', 'GS1_LINTER_NOT_ISO3166_ALPHA2'],
    ['3911 AMOUNT must carry an ISO 4217 currency', [['01', GTIN], ['3911', '154100']], [['01', GTIN], ['3911', '978100']], 'iso4217', 'GS1_LINTER_NOT_ISO4217'],
    ['7041 UFRGT UNIT TYPE must be a GS1 package type', [['00', SSCC], ['7041', 'QQQ']], [['00', SSCC], ['7041', 'BX']], 'packagetype', 'GS1_LINTER_INVALID_PACKAGE_TYPE'],
    ['8110 coupon must follow the NACC format', [['8110', '712345612345611110123']], [['8110', '012345612345611110123']], 'couponcode', 'GS1_LINTER_COUPON_INVALID_GCP_LENGTH'],
    ['8112 positive offer coupon must follow its format', [['8112', '201234561234560123456']], [['8112', '001234561234560123456']], 'couponposoffer', 'GS1_LINTER_COUPON_INVALID_FORMAT_CODE'],
    ['7011 TEST BY DATE time needs a real hour', [['01', GTIN], ['7011', '2606012500']], [['01', GTIN], ['7011', '2606012300']], 'hhmi', 'GS1_LINTER_ILLEGAL_HOUR'],
  ])('10.16 %s', (_name, bad, good, linter, engineError) => {
    const r = refusal(scan(bad));
    expect(r).toMatchObject({ linter, linterError: engineError, ai: bad[bad.length - 1]![0] });
    expect(['LG_ERR_GS1_INVALID', 'LG_ERR_GS1_DATE']).toContain(r.code);
    const okScan = scan(good);
    expect(okScan.ok, JSON.stringify(okScan)).toBe(true);
  });

  it('10.16 the same checks apply to Digital Link and bracketed text, not only element strings', () => {
    expect(refusal(parseScan(`https://id.example.com/01/${GTIN}?422=163`, { now: NOW })).linter).toBe('iso3166');
    expect(refusal(parseScan(`(01)${GTIN}(422)163`, { now: NOW })).linter).toBe('iso3166');
    expect(parseScan(`(01)${GTIN}(422)276`, { now: NOW }).ok).toBe(true);
  });

  it('10.16 labels are held to the same checks: a label with (422) 163 is not encoded', () => {
    expect(() => encodeElements([{ ai: '01', value: GTIN }, { ai: '422', value: '163' }], { now: NOW })).toThrow(expect.objectContaining({ code: 'LG_ERR_GS1_INVALID' }));
    expect(encodeElements([{ ai: '01', value: GTIN }, { ai: '422', value: '276' }], { now: NOW }).hri).toBe(`(01)${GTIN}(422)276`);
  });

  it('10.16 AI 7007 harvest date range keeps its end date, on the parse and on the binder\'s normalised value', () => {
    const r = scan([['01', GTIN], ['7007', '260101260105']]);
    if (!r.ok) throw new Error(r.message);
    expect(r.elements[1]).toMatchObject({ ai: '7007', value: '260101260105', typed: { kind: 'date', date: '2026-01-01', end: '2026-01-05' } });
    const b = parseForBinding(Buffer.from(`]C101${GTIN}7007260101260105`), { now: NOW });
    if (!b.ok) throw new Error(b.message);
    expect(b.elements.find((e) => e.ai === '7007')).toEqual({ ai: '7007', value: '2026-01-01/2026-01-05', raw: '260101260105' });
    // A single harvest date stays a date.
    const one = parseForBinding(Buffer.from(`]C101${GTIN}7007260101`), { now: NOW });
    expect(one.ok && one.elements.find((e) => e.ai === '7007')).toEqual({ ai: '7007', value: '2026-01-01', raw: '260101' });
  });

  it('10.16 the binder keeps each value as carried next to the normalised one', () => {
    const b = parseForBinding(Buffer.from(`]C101${GTIN}17261200` + `10ACME-77`), { now: NOW });
    if (!b.ok) throw new Error(b.message);
    expect(b.elements).toEqual([
      { ai: '01', value: GTIN, raw: GTIN },
      { ai: '17', value: '2026-12-31', raw: '261200' },
      { ai: '10', value: 'ACME-77', raw: 'ACME-77' },
    ]);
    expect(b.symbology).toBe('gs1-128');
  });
});
