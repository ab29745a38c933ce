import { describe, expect, it } from 'vitest';
import { parseScan, type ScanData, type ScanOk } from '../../../src/gs1/index.js';

const GS = '\x1d';
const now = new Date('2026-11-22T04:00:00Z');
const GTIN = '09506000134352';

function ok(r: ScanData): ScanOk {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r;
}
function code(r: ScanData): string {
  return r.ok ? 'ok' : r.code;
}
const scan = (s: string | Buffer, sub?: string): ScanData => parseScan(s, sub === undefined ? { now } : { now, fnc1Substitute: sub });

describe('AIM symbology identifiers', () => {
  const data = `01${GTIN}10ABC123${GS}17261231`;
  it.each([
    [']C1', 'gs1-128'],
    [']d2', 'gs1-datamatrix'],
    [']d5', 'gs1-datamatrix'],
    [']Q3', 'gs1-qr'],
    [']Q4', 'gs1-qr'],
    [']e0', 'gs1-databar'],
    [']J1', 'gs1-dotcode'],
  ])('%s carries a GS1 element string (%s)', (aim, symbology) => {
    const r = ok(scan(aim + data));
    expect(r).toMatchObject({ aim, symbology, gs1: true, form: 'element-string', text: data });
    expect(r.elements.map((e) => [e.ai, e.value])).toEqual([
      ['01', GTIN],
      ['10', 'ABC123'],
      ['17', '261231'],
    ]);
    expect(r.get('17')).toBe('261231');
    expect(r.elements[2]!.typed).toEqual({ kind: 'date', date: '2026-12-31' });
  });

  it.each([
    [']C0', 'code128'],
    [']A0', 'code39'],
    [']d1', 'datamatrix'],
    [']Q1', 'qr'],
    [']I0', 'itf'],
    [']L2', 'pdf417'],
    [']X0', 'other'],
  ])('%s carries plain text (%s)', (aim, symbology) => {
    const r = ok(scan(`${aim}0109506000134352`));
    expect(r).toMatchObject({ aim, symbology, gs1: false, form: 'text', text: '0109506000134352', elements: [] });
  });

  it(']E0 EAN-13 gives a 14-digit GTIN; UPC-A and UPC-E arrive as EAN-13 (13 digits, leading 0)', () => {
    expect(ok(scan(']E09506000134352')).elements[0]).toMatchObject({ ai: '01', value: GTIN, typed: { kind: 'gtin', gtin: GTIN } });
    expect(ok(scan(']E00036000291452')).get('01')).toBe('00036000291452');
    expect(ok(scan(']E00036000291452')).symbology).toBe('ean-13');
    // UPC-E 04252614 is sent expanded to its UPC-A 042100005264, as EAN-13.
    expect(ok(scan(']E00042100005264')).get('01')).toBe('00042100005264');
  });

  it('10.16 a 12-digit (or 8-digit) ]E0 is not padded into a GTIN', () => {
    // 036000291452 passes the check as UPC-A, but ]E0 always carries 13 digits: it may as well
    // be an EAN-13 that lost a digit, which padding would turn into another product.
    for (const data of [']E0036000291452', ']E004252614']) {
      const r = scan(data);
      expect(code(r), data).toBe('LG_ERR_GS1_INVALID');
      expect(r.ok ? '' : String(r.details.detail)).toContain('13 digits');
    }
  });

  it(']E0 followed by a ]E1/]E2 add-on in the same transmission keeps the add-on', () => {
    const two = ok(scan(']E09506000134352]E112'));
    expect(two.get('01')).toBe(GTIN);
    expect(two.addOn).toBe('12');
    expect(ok(scan(']E09506000134352]E212345')).addOn).toBe('12345');
    expect(code(scan(']E09506000134352]E1123'))).toBe('LG_ERR_GS1_INVALID');
  });

  it(']E4 EAN-8 and ]E3 EAN-13 with add-on', () => {
    expect(ok(scan(']E495012346')).get('01')).toBe('00000095012346');
    const r = ok(scan(']E3950600013435212'));
    expect(r.get('01')).toBe(GTIN);
    expect(r.addOn).toBe('12');
  });

  it('EAN/UPC with a wrong check digit or bad length is refused with its code', () => {
    expect(code(scan(']E09506000134353'))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(code(scan(']E495012347'))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(code(scan(']E0950600013'))).toBe('LG_ERR_GS1_INVALID');
    expect(code(scan(']E09506X00134352'))).toBe('LG_ERR_GS1_INVALID');
  });

  it('an identifier with no data is unparseable', () => {
    expect(code(scan(']C1'))).toBe('LG_ERR_SCAN_UNPARSEABLE');
    expect(code(scan(''))).toBe('LG_ERR_SCAN_UNPARSEABLE');
  });
});

describe('FNC1', () => {
  it('accepts a leading FNC1 sent as GS, with and without identifier', () => {
    expect(ok(scan(`]C1${GS}01${GTIN}10LOT1`)).get('10')).toBe('LOT1');
    const r = ok(scan(`${GS}01${GTIN}10LOT1${GS}17261231`));
    expect(r).toMatchObject({ aim: null, symbology: 'unknown', gs1: true });
    expect(r.get('17')).toBe('261231');
  });

  it('uses a configured substitute for scanners that cannot send GS', () => {
    const r = ok(scan(`]C101${GTIN}10LOT1|17261231`, '|'));
    expect(r.get('10')).toBe('LOT1');
    expect(r.text).toBe(`01${GTIN}10LOT1${GS}17261231`);
    expect(ok(scan(`01${GTIN}10LOT1<GS>17261231`, '<GS>')).get('17')).toBe('261231');
    // Without the option the substitute is just a (forbidden) character in the lot.
    expect(code(scan(`]C101${GTIN}10LOT1|17261231`))).toBe('LG_ERR_GS1_INVALID');
  });

  it('needs no separator after pre-defined-length AIs, and tolerates one', () => {
    expect(ok(scan(`]C101${GTIN}17261231${GS}10LOT`)).elements.map((e) => e.ai)).toEqual(['01', '17', '10']);
    expect(ok(scan(`]C101${GTIN}1726123110LOT`)).get('10')).toBe('LOT');
    expect(ok(scan(`]C110LOT${GS}${GS}17261231${GS}`)).elements).toHaveLength(2);
  });

  it('requires FNC1 after a fixed-length AI that is not pre-defined (8040, N15)', () => {
    const base = `]C101${GTIN}21S1${GS}8040123456789012345`;
    expect(ok(scan(base)).get('8040')).toBe('123456789012345');
    expect(ok(scan(`${base}${GS}10LOT`)).get('10')).toBe('LOT');
    expect(code(scan(`${base}10LOT`))).toBe('LG_ERR_GS1_INVALID');
  });

  it('a missing GS between variable AIs is caught when the lot becomes too long', () => {
    // (10) ABCDEFGHIJKLMNO then (17)261231 without GS: 23 characters > 20.
    const r = scan(`]C101${GTIN}10ABCDEFGHIJKLMNO17261231`);
    expect(code(r)).toBe('LG_ERR_GS1_INVALID');
    // Short lot swallowing the date is NOT detectable: it is a valid 12-character lot.
    expect(ok(scan(`]C101${GTIN}10ABC12317261231`)).get('10')).toBe('ABC12317261231');
    // Also caught: a numeric variable AI swallowing a following element with letters,
    // e.g. (30) count (digits only) followed by (10) without GS.
    expect(code(scan(`]C101${GTIN}3012${'10'}AB`))).toBe('LG_ERR_GS1_INVALID');
  });
});

describe('format classes of the dictionary', () => {
  it('fixed numeric with check digit: (00) SSCC, (01) GTIN, (414) GLN', () => {
    const r = ok(scan(`]C100106141412345678908${GS}414950110153000${'3'}`));
    expect(r.elements[0]).toMatchObject({ ai: '00', title: 'SSCC', typed: { kind: 'sscc', sscc: '106141412345678908' } });
    expect(r.get('414')).toBe('9501101530003');
    expect(code(scan(']C100106141412345678909'))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(code(scan(`]C101${GTIN.slice(0, 13)}3`))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(code(scan(']C14149501101530004'))).toBe('LG_ERR_GS1_CHECK_DIGIT');
  });

  it('fixed numeric without check: (20) variant, (7001) NSN; non-digits refused', () => {
    expect(ok(scan(`]C101${GTIN}2001`)).get('20')).toBe('01');
    expect(code(scan(`]C101${GTIN}20A1`))).toBe('LG_ERR_GS1_INVALID');
    expect(ok(scan(`]C101${GTIN}70011234567890123`)).get('7001')).toBe('1234567890123');
  });

  it('variable set 82 (X): lot up to 20, illegal characters refused', () => {
    expect(ok(scan(`]C101${GTIN}10${'A'.repeat(20)}`)).get('10')).toBe('A'.repeat(20));
    expect(code(scan(`]C101${GTIN}10${'A'.repeat(21)}`))).toBe('LG_ERR_GS1_INVALID');
    for (const bad of ['AB C', 'AB#C', 'AB~C', 'AB\x00C', 'ABÄC', 'AB@C']) {
      expect(code(scan(`]C101${GTIN}10${bad}`))).toBe('LG_ERR_GS1_INVALID');
    }
    expect(ok(scan(`]C101${GTIN}10a!"%&'()*+,-./:;<=>?`)).get('10')).toBe(`a!"%&'()*+,-./:;<=>?`);
    expect(ok(scan(`]C101${GTIN}10_zZ09`)).get('10')).toBe('_zZ09');
  });

  it('variable numeric: (30) count, (37) count', () => {
    expect(ok(scan(`]C101${GTIN}3012345678`)).get('30')).toBe('12345678');
    expect(code(scan(`]C101${GTIN}30123456789`))).toBe('LG_ERR_GS1_INVALID');
  });

  it('set 39 (Y): (8010) CPID', () => {
    expect(ok(scan(']C18010950600013435#-/AZ09')).get('8010')).toBe('950600013435#-/AZ09');
    expect(code(scan(']C18010950600013435a'))).toBe('LG_ERR_GS1_INVALID');
  });

  it('set 64 (Z): (8030) digital signature', () => {
    expect(ok(scan(`]C100106141412345678908${GS}8030AbC-_09xyz`)).get('8030')).toBe('AbC-_09xyz');
    expect(code(scan(`]C100106141412345678908${GS}8030AbC+`))).toBe('LG_ERR_GS1_INVALID');
  });

  it('alphanumeric check pair: (8013) GMN', () => {
    expect(ok(scan(']C180131987654Ad4X4bL5ttr2310c2K')).get('8013')).toBe('1987654Ad4X4bL5ttr2310c2K');
    expect(code(scan(']C180131987654Ad4X4bL5ttr2310c2L'))).toBe('LG_ERR_GS1_CHECK_DIGIT');
  });

  it('dates: yymmd0 (day 00 = last day), yymmdd (no 00), invalid days and months', () => {
    const exp = (v: string): ScanData => scan(`]C101${GTIN}17${v}`);
    expect(ok(exp('260200')).elements[1]!.typed).toEqual({ kind: 'date', date: '2026-02-28' });
    expect(ok(exp('280200')).elements[1]!.typed).toEqual({ kind: 'date', date: '2028-02-29' });
    expect(ok(exp('281200')).elements[1]!.typed).toEqual({ kind: 'date', date: '2028-12-31' });
    expect(code(exp('261301'))).toBe('LG_ERR_GS1_DATE'); // month 13
    expect(code(exp('261232'))).toBe('LG_ERR_GS1_DATE'); // day 32
    expect(code(exp('260230'))).toBe('LG_ERR_GS1_DATE'); // Feb 30
    expect(code(exp('261399'))).toBe('LG_ERR_GS1_DATE'); // the one gs1-barcode-parser-mod rolls over
    expect(code(exp('270229'))).toBe('LG_ERR_GS1_DATE'); // 2027 is not a leap year
    expect(code(exp('26123'))).toBe('LG_ERR_GS1_INVALID'); // truncated at the end
    // (4326) REL DATE is yymmdd: 00 is not a day there.
    const rel = (v: string): ScanData => scan(`]C100106141412345678908${GS}4326${v}`);
    expect(ok(rel('261231')).get('4326')).toBe('261231');
    expect(code(rel('261200'))).toBe('LG_ERR_GS1_DATE');
  });

  it('century: sliding window relative to now', () => {
    const at = (d: string): string | undefined => {
      const r = parseScan(`]C101${GTIN}11${'770101'}`, { now: new Date(d) });
      return r.ok ? (r.elements[1]!.typed as { date: string }).date : undefined;
    };
    expect(at('2026-11-22T00:00:00Z')).toBe('1977-01-01');
    expect(at('2027-01-01T00:00:00Z')).toBe('2077-01-01');
  });

  it('date with time: (7003) expiry time, (8008) production time with optional parts', () => {
    const r = ok(scan(`]C101${GTIN}70032612311430`));
    expect(r.elements[1]!.typed).toEqual({ kind: 'datetime', datetime: '2026-12-31T14:30' });
    expect(code(scan(`]C101${GTIN}70032612312460`))).toBe('LG_ERR_GS1_DATE');
    expect(ok(scan(`]C101${GTIN}800826123114`)).elements[1]!.typed).toEqual({ kind: 'datetime', datetime: '2026-12-31T14:00' });
    expect(ok(scan(`]C101${GTIN}80082612311405`)).elements[1]!.typed).toEqual({ kind: 'datetime', datetime: '2026-12-31T14:05' });
    expect(code(scan(`]C101${GTIN}8008261231140`))).toBe('LG_ERR_GS1_INVALID'); // half a component
  });

  it('date range: (7007) harvest date with optional end', () => {
    expect(ok(scan(`]C101${GTIN}7007261001`)).elements[1]!.typed).toEqual({ kind: 'date', date: '2026-10-01' });
    expect(ok(scan(`]C101${GTIN}7007261001261015`)).elements[1]!.typed).toEqual({ kind: 'date', date: '2026-10-01', end: '2026-10-15' });
  });

  it('decimal-point AIs: 310n kg, 320n lb, 392n price, 391n amount with currency', () => {
    const r = ok(scan(`]C101${GTIN}3103001250`));
    expect(r.elements[1]).toMatchObject({ ai: '3103', title: 'NET WEIGHT (kg)', value: '001250', typed: { kind: 'decimal', value: '1.250', decimals: 3, unit: 'kg' } });
    expect(ok(scan(`]C101${GTIN}3100000012`)).elements[1]!.typed).toMatchObject({ value: '12', decimals: 0 });
    expect(ok(scan(`]C101${GTIN}3205012345`)).elements[1]!.typed).toMatchObject({ value: '0.12345', unit: 'lb' });
    expect(ok(scan(`]C101${GTIN}30${'5'}${GS}39221999`)).elements[2]!.typed).toMatchObject({ value: '19.99', unit: null });
    expect(ok(scan(`]C101${GTIN}30${'5'}${GS}39329781999`)).elements[2]!.typed).toEqual({ kind: 'decimal', value: '19.99', decimals: 2, unit: null, currency: '978' });
    expect(code(scan(`]C101${GTIN}310300125`))).toBe('LG_ERR_GS1_INVALID'); // 5 of 6 digits
    expect(code(scan(`]C101${GTIN}310600125${'0'}`))).toBe('LG_ERR_GS1_INVALID'); // 3106 does not exist
  });

  it('fixed component followed by a variable one: (421) postal code with country; (7230) certification', () => {
    expect(ok(scan(`]C100106141412345678908${GS}421250ABC`)).get('421')).toBe('250ABC');
    expect(code(scan(`]C100106141412345678908${GS}4212X0ABC`))).toBe('LG_ERR_GS1_INVALID');
    expect(ok(scan(`]C101${GTIN}7230EMABC`)).get('7230')).toBe('EMABC');
  });

  it('other linters: (4321) yes/no, (8001) dimensions, (8006) piece of total, (4330) temperature sign', () => {
    const sscc = `]C100106141412345678908${GS}`;
    expect(ok(scan(`${sscc}43211`)).get('4321')).toBe('1');
    expect(code(scan(`${sscc}43212`))).toBe('LG_ERR_GS1_INVALID');
    expect(ok(scan(`${sscc}4330001500-`)).get('4330')).toBe('001500-');
    expect(code(scan(`${sscc}4330001500+`))).toBe('LG_ERR_GS1_INVALID');
    expect(ok(scan(`]C1800601234567890128${'0102'}`)).get('8006')).toBe('012345678901280102');
    expect(code(scan(`]C1800601234567890128${'0301'}`))).toBe('LG_ERR_GS1_INVALID'); // piece 3 of 1
    expect(ok(scan(`]C101${GTIN}800101000050001211`)).get('8001')).toBe('01000050001211');
    expect(code(scan(`]C101${GTIN}800100000050001211`))).toBe('LG_ERR_GS1_INVALID'); // width 0
    expect(code(scan(`]C101${GTIN}800101000050001231`))).toBe('LG_ERR_GS1_INVALID'); // winding 3
  });
});

describe('invalid GS1 data', () => {
  it('unknown AI, truncated data, empty value', () => {
    expect(code(scan(`]C101${GTIN}2312`))).toBe('LG_ERR_GS1_INVALID'); // (23) does not exist
    expect(code(scan(`]C101095060001`))).toBe('LG_ERR_GS1_INVALID'); // truncated GTIN
    expect(code(scan(`]C10109506000${GS}10A`))).toBe('LG_ERR_GS1_INVALID'); // GS inside a fixed field
    expect(code(scan(`]C101${GTIN}10${GS}17261231`))).toBe('LG_ERR_GS1_INVALID'); // empty lot
    expect(code(scan(`]C1${GS}`))).toBe('LG_ERR_GS1_INVALID');
    expect(code(scan(`]C101${GTIN}1`))).toBe('LG_ERR_GS1_INVALID'); // dangling AI digit
  });

  it('same AI twice with different values, and invalid pairs (ex)', () => {
    expect(code(scan(`]C110A${GS}10B`))).toBe('LG_ERR_GS1_INVALID');
    expect(ok(scan(`]C101${GTIN}10A${GS}10A`)).elements).toHaveLength(3);
    expect(code(scan(`]C101${GTIN}02${GTIN}`))).toBe('LG_ERR_GS1_INVALID'); // 02 ex 01
    expect(code(scan(`]C101${GTIN}31030012503102000012`))).toBe('LG_ERR_GS1_INVALID'); // two net weights in kg
  });

  it('unmet mandatory associations are warnings, not errors (the partner may be in another barcode)', () => {
    const r = ok(scan(']C13103001250'));
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('3103');
    expect(ok(scan(`]C101${GTIN}3103001250`)).warnings).toEqual([]);
  });

  it('error results carry raw text, details and the symbology', () => {
    const r = scan(`]C101${GTIN}17261399`);
    expect(r).toMatchObject({ ok: false, code: 'LG_ERR_GS1_DATE', raw: `]C101${GTIN}17261399`, aim: ']C1', symbology: 'gs1-128', details: { ai: '17', value: '261399' } });
    expect(r.ok ? '' : r.message).toContain('261399');
  });
});

describe('GS1 Digital Link', () => {
  it('reads path keys, qualifiers and query AIs, percent-decoded', () => {
    const r = ok(scan(`]Q1https://id.example.com/01/${GTIN}/10/AB%2F12?17=261231&3103=001250&linkType=gs1:pip`));
    expect(r).toMatchObject({ symbology: 'qr', aim: ']Q1', gs1: true, form: 'digital-link' });
    expect(r.elements.map((e) => [e.ai, e.value])).toEqual([
      ['01', GTIN],
      ['10', 'AB/12'],
      ['17', '261231'],
      ['3103', '001250'],
    ]);
    expect(r.elements[3]!.typed).toMatchObject({ value: '1.250', unit: 'kg' });
  });

  it('keeps a resolver path prefix, pads short GTINs, and needs no identifier', () => {
    const r = ok(scan('https://example.com/some/prefix/01/9506000134352/21/S%2B1'));
    expect(r.get('01')).toBe(GTIN);
    expect(r.get('21')).toBe('S+1'); // %2B, and a literal + is not a space
    expect(ok(scan(`https://example.com/01/${GTIN}/10/A+B`)).get('10')).toBe('A+B');
  });

  it('validates the values like any GS1 data', () => {
    expect(code(scan('https://id.example.com/01/09506000134353'))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(code(scan(`https://id.example.com/01/${GTIN}?17=261399`))).toBe('LG_ERR_GS1_DATE');
    expect(code(scan(`https://id.example.com/01/${GTIN}/10/AB%ZZ`))).toBe('LG_ERR_GS1_INVALID');
    expect(code(scan(`https://id.example.com/01/${GTIN}?21=X`))).toBe('LG_ERR_GS1_INVALID'); // 21 is a path qualifier, not a data attribute
  });

  it('a URL that is not a Digital Link is plain text', () => {
    const r = ok(scan(']Q1https://example.com/help/01'));
    expect(r).toMatchObject({ gs1: false, form: 'text', text: 'https://example.com/help/01' });
    // Qualifiers out of order (21 before 10) do not make a Digital Link.
    expect(ok(scan(`https://example.com/01/${GTIN}/21/S1/10/L1`)).gs1).toBe(false);
  });
});

describe('bracketed HRI text', () => {
  it('reads (AI)value pairs as typed by people, spaces allowed between elements', () => {
    const r = ok(scan(`(01)${GTIN}(10)ABC123(17)261231`));
    expect(r).toMatchObject({ form: 'hri', gs1: true, aim: null });
    expect(r.elements.map((e) => e.ai)).toEqual(['01', '10', '17']);
    expect(ok(scan(`(01) ${GTIN} (3103) 001250`)).elements[1]!.typed).toMatchObject({ value: '1.250' });
    expect(ok(scan('(10)A(B)C')).get('10')).toBe('A(B)C'); // (B) is not an AI
  });

  it('validates like any GS1 data', () => {
    expect(code(scan('(01)09506000134353'))).toBe('LG_ERR_GS1_CHECK_DIGIT');
    expect(code(scan(`(01)${GTIN}(17)260230`))).toBe('LG_ERR_GS1_DATE');
    expect(code(scan(`(01)${GTIN}(10)`))).toBe('LG_ERR_GS1_INVALID');
  });
});

describe('plain data without identifier', () => {
  it('stays text for badges, batch numbers and commands', () => {
    for (const t of ['20261122-001', 'BADGE-0042', 'CMD:END', '12345', 'lot 7']) {
      expect(ok(scan(t))).toMatchObject({ gs1: false, form: 'text', text: t, symbology: 'unknown', aim: null, elements: [] });
    }
  });

  it('bare GS1 digits starting with a valid GTIN/SSCC and parsing cleanly are GS1', () => {
    expect(ok(scan(`01${GTIN}17261231`))).toMatchObject({ gs1: true, form: 'element-string' });
    expect(ok(scan(`01${GTIN.slice(0, 13)}3`)).gs1).toBe(false); // bad check digit: leave to the classifier
  });

  it('drops a trailing CR/LF, rejects other control characters', () => {
    expect(ok(scan('BADGE-1\r\n')).text).toBe('BADGE-1');
    expect(code(scan('BAD\x00GE'))).toBe('LG_ERR_SCAN_CONTROL_CHARS');
    expect(code(scan('\x04'))).toBe('LG_ERR_SCAN_CONTROL_CHARS');
    expect(code(scan(']C0AB\x1dC'))).toBe('LG_ERR_SCAN_CONTROL_CHARS');
    // The URL parser would drop the tab; we do not.
    expect(code(scan(`https://id.example.com/01/${GTIN}/10/A\tB`))).toBe('LG_ERR_SCAN_CONTROL_CHARS');
  });

  it('accepts Buffers, UTF-8 or not', () => {
    expect(code(scan(Buffer.from(`]C101${GTIN}10LÖT`, 'latin1')))).toBe('LG_ERR_GS1_INVALID');
    expect(ok(scan(Buffer.from('Grüße', 'utf8'))).text).toBe('Grüße');
    expect(ok(scan(Buffer.from([0x41, 0xff, 0x42]))).raw).toBe('A\u00ffB');
  });
});
