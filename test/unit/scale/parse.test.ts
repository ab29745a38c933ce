import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { loadScaleProfile, parseWeightPayload, compileProfile, type ParseOutcome, type ParseState } from '../../../src/drivers/mqtt-scale/index.js';
import { parseJsonExact, JsonNumber, getPath } from '../../../src/drivers/mqtt-scale/json.js';
import { convertMass, lexemeToDec, normaliseUnit } from '../../../src/readings/units.js';
import { toString as d, parseDec } from '../../../src/domain/decimal.js';
import { isLgError } from '../../../src/errors.js';

const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
const jsonP = loadScaleProfile(devicesDir, 'json-generic');
const valueP = loadScaleProfile(devicesDir, 'json-value');
const asciiP = loadScaleProfile(devicesDir, 'ascii-st-gs');
const sicsP = loadScaleProfile(devicesDir, 'mt-sics');

function w(o: ParseOutcome) {
  if (o.kind !== 'weight') throw new Error(`expected weight, got ${JSON.stringify(o)}`);
  return { gross: d(o.sample.gross), tare: d(o.sample.tare), net: d(o.sample.net), unit: o.sample.unit, stable: o.sample.stable, t: o.sample.sourceTime };
}
function code(o: ParseOutcome): string {
  return o.kind === 'refusal' ? o.code : `not refused: ${o.kind}`;
}

describe('exact JSON', () => {
  it('keeps number lexemes (no float)', () => {
    const v = parseJsonExact('{"a":0.1,"b":[1e-3,-0],"c":"x\\u0041"}') as Record<string, unknown>;
    expect((v.a as JsonNumber).lexeme).toBe('0.1');
    expect(((v.b as unknown[])[0] as JsonNumber).lexeme).toBe('1e-3');
    expect(v.c).toBe('xA');
  });
  it.each(['{', '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', "{'a':1}", '{"a":1,}', '[1] x', '{"a":01}', '{"a":.5}'])('rejects %s', (t) => {
    expect(() => parseJsonExact(t)).toThrow();
  });
  it('a "__proto__" key is an own property, never the prototype; inherited names are not fields', () => {
    const v = parseJsonExact('{"__proto__":{"polluted":1},"weight":{"gross":2}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).toBe(true);
    expect(((getPath(v as never, '__proto__.polluted')) as JsonNumber).lexeme).toBe('1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    // Names every plain object inherits are not payload fields.
    expect(getPath(v as never, 'constructor')).toBeUndefined();
    expect(getPath(v as never, 'weight.toString')).toBeUndefined();
    expect((getPath(v as never, 'weight.gross') as JsonNumber).lexeme).toBe('2');
  });
  it('a number is exactly the RFC 8259 grammar (property, against the regular expression)', () => {
    const GRAMMAR = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
    fc.assert(
      fc.property(fc.stringMatching(/^[-+.eE0-9x]{1,12}$/), (t) => {
        let lexeme: string | null = null;
        try {
          lexeme = (parseJsonExact(t) as JsonNumber).lexeme;
        } catch {
          lexeme = null;
        }
        expect(lexeme).toBe(GRAMMAR.test(t) ? t : null);
        // Inside a document the same holds, and the parse goes on after the number.
        let inDoc: string | null = null;
        try {
          inDoc = ((parseJsonExact(`{"v":${t},"w":1}`) as Record<string, JsonNumber>).v!).lexeme;
        } catch {
          inDoc = null;
        }
        expect(inDoc).toBe(GRAMMAR.test(t) ? t : null);
      }),
      { numRuns: 2000 },
    );
  });
  it('limits nesting', () => {
    expect(() => parseJsonExact('['.repeat(100) + ']'.repeat(100))).toThrow(/nesting/);
  });
  it('agrees with JSON.parse on structure (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (val) => {
        const text = JSON.stringify(val);
        const back = JSON.stringify(parseJsonExact(text), (_k, x) => (x instanceof JsonNumber ? Number(x.lexeme) : x));
        expect(JSON.parse(back)).toEqual(JSON.parse(text));
      }),
      { numRuns: 200 },
    );
  });
});

describe('units', () => {
  it('lexemes to exact decimals', () => {
    expect(d(lexemeToDec('1.25e3'))).toBe('1250');
    expect(d(lexemeToDec('-5E-2'))).toBe('-0.05');
    expect(d(lexemeToDec('0.1'))).toBe('0.1');
  });
  it('exact factors, one rounding half away from zero', () => {
    expect(d(convertMass(parseDec('1'), 'lb', 'kg', 8))).toBe('0.45359237');
    expect(d(convertMass(parseDec('1'), 'oz', 'kg', 12))).toBe('0.028349523125');
    expect(d(convertMass(parseDec('1'), 'lb', 'kg', 3))).toBe('0.454');
    expect(d(convertMass(parseDec('1250'), 'g', 'kg', 3))).toBe('1.250');
    expect(d(convertMass(parseDec('0.0005'), 'kg', 'kg', 3))).toBe('0.001');
    expect(d(convertMass(parseDec('-0.0005'), 'kg', 'kg', 3))).toBe('-0.001');
    expect(d(convertMass(parseDec('0.00049'), 'kg', 'kg', 3))).toBe('0.000');
    // 16 oz = 1 lb exactly
    expect(d(convertMass(parseDec('16'), 'oz', 'lb', 6))).toBe('1.000000');
    // kg → lb needs division: 1 kg = 2.20462262185 lb
    expect(d(convertMass(parseDec('1'), 'kg', 'lb', 5))).toBe('2.20462');
  });
  it('metric round-trip is exact (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), (units) => {
        const x = { units, scale: 3 };
        const g = convertMass(x, 'kg', 'g', 0);
        expect(d(convertMass(g, 'g', 'kg', 3))).toBe(d(x));
      }),
    );
  });
  it('spellings', () => {
    expect(normaliseUnit('KG')).toBe('kg');
    expect(normaliseUnit(' lbs ')).toBe('lb');
    expect(normaliseUnit('gr')).toBeUndefined();
    expect(normaliseUnit('PC')).toBeUndefined();
  });
});

describe('JSON profile', () => {
  it('gross/tare/net with stable flag and timestamp', () => {
    const o = parseWeightPayload('{"ts":"2026-11-22T05:00:00.100Z","weight":{"gross":1.450,"tare":0.2,"net":1.25,"unit":"kg","stable":true}}', jsonP);
    expect(w(o)).toMatchObject({ gross: '1.450', tare: '0.200', net: '1.250', unit: 'kg', stable: true });
    expect(w(o).t?.toISOString()).toBe('2026-11-22T05:00:00.100Z');
  });
  it('net computed from gross − tare; gross from net + tare', () => {
    expect(w(parseWeightPayload('{"weight":{"gross":2,"tare":0.5,"unit":"kg"}}', jsonP))).toMatchObject({ net: '1.500', stable: null });
    expect(w(parseWeightPayload('{"weight":{"net":"1.5","tare":"0.5","unit":"kg"}}', jsonP))).toMatchObject({ gross: '2.000' });
  });
  it('inconsistent net is refused', () => {
    expect(code(parseWeightPayload('{"weight":{"gross":2,"tare":0.5,"net":1.4}}', jsonP))).toBe('LG_ERR_WEIGHT_PAYLOAD');
  });
  it('normalises g, lb, oz to the profile unit and resolution', () => {
    expect(w(parseWeightPayload('{"weight":{"gross":1250,"unit":"g","stable":true}}', jsonP)).net).toBe('1.250');
    expect(w(parseWeightPayload('{"weight":{"gross":2.5,"unit":"lb","stable":true}}', jsonP)).net).toBe('1.134'); // 1.133980925
    expect(w(parseWeightPayload('{"weight":{"gross":10,"unit":"oz","stable":true}}', jsonP)).net).toBe('0.283'); // 0.28349523125
    // the float sum 0.1+0.2 would give 0.30000000000000004; exact text stays exact
    expect(w(parseWeightPayload('{"weight":{"gross":0.3,"tare":0.1,"unit":"kg"}}', jsonP)).net).toBe('0.200');
  });
  it('refusals with codes', () => {
    const cases: Array<[string, string]> = [
      ['{"weight":{"gross":1.2', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['not json', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['[1,2]', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":"NaN"}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":"Infinity"}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":"-Infinity"}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":NaN}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":true}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":{"v":1}}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":1,"stable":"yes"}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":1,"unit":5}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":1},"ts":"yesterday"}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":1e400}}', 'LG_ERR_WEIGHT_PAYLOAD'],
      ['{"weight":{"gross":1,"unit":"stone"}}', 'LG_ERR_WEIGHT_UNIT'],
      ['{"weight":{"gross":1,"unit":"pcs"}}', 'LG_ERR_WEIGHT_UNIT'],
      ['{"weight":{"gross":99},"status":{"overload":true}}', 'LG_ERR_WEIGHT_OVERLOAD'],
      ['{"weight":{"gross":-9},"status":{"underload":true}}', 'LG_ERR_WEIGHT_UNDERLOAD'],
      ['', 'LG_ERR_WEIGHT_PAYLOAD'],
    ];
    for (const [payload, c] of cases) expect(code(parseWeightPayload(payload, jsonP)), payload).toBe(c);
  });
  it('huge and non-UTF-8 payloads are refused without parsing', () => {
    const huge = `{"weight":{"gross":1},"pad":"${'x'.repeat(10_000)}"}`;
    const o = parseWeightPayload(huge, jsonP);
    expect(code(o)).toBe('LG_ERR_WEIGHT_PAYLOAD');
    expect(o.kind === 'refusal' && o.details.bytes).toBe(Buffer.byteLength(huge));
    expect(code(parseWeightPayload(Buffer.from([0xff, 0xfe, 0x7b]), jsonP))).toBe('LG_ERR_WEIGHT_PAYLOAD');
  });
  it('negative values parse (the placement machine judges them)', () => {
    expect(w(parseWeightPayload('{"weight":{"gross":-0.015,"unit":"kg","stable":true}}', jsonP)).net).toBe('-0.015');
  });
  it('value profile without stable flag', () => {
    expect(w(parseWeightPayload('{"value":1.25,"unit":"kg"}', valueP))).toMatchObject({ net: '1.250', stable: null });
  });
  it('parse never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), (p) => {
        const o = parseWeightPayload(p, jsonP);
        expect(['weight', 'refusal', 'tare']).toContain(o.kind);
      }),
      { numRuns: 500 },
    );
  });
});

describe('ASCII ST,GS profile', () => {
  const st = (): ParseState => ({ lastTare: null });
  it.each([
    ['ST,GS,+0001.250kg', '1.250', true],
    ['US,GS,+0001.248kg\r\n', '1.248', false],
    ['ST,GS,  18.000kg', '18.000', true], // Liden format B
    ['ST,+00123.45 g', '0.123', true], // A&D (no mode field) — 123.45 g rounds to 0.123 kg
    ['ST,GS, 0018.00,kg', '18.000', true], // Tiger (comma before unit)
    ['ST,GS,+0002.205 lb', '1.000', true], // 2.205 lb = 1.00017117585 kg
    ['ST,NT,+0000.500kg', '0.500', true],
  ])('%j → net %s', (line, net, stable) => {
    const r = w(parseWeightPayload(line, asciiP, st()));
    expect(r.net).toBe(net);
    expect(r.stable).toBe(stable);
  });
  it('net lines use the last tare line', () => {
    const s = st();
    expect(parseWeightPayload('ST,TR,+0000.200kg', asciiP, s).kind).toBe('tare');
    expect(w(parseWeightPayload('US,NT,-0000.015 kg', asciiP, s))).toMatchObject({ net: '-0.015', tare: '0.200', gross: '0.185', stable: false });
    expect(w(parseWeightPayload('US,NT,-  0.200kg', asciiP, s)).net).toBe('-0.200');
  });
  it.each([
    ['OL,GS,+          ', 'LG_ERR_WEIGHT_OVERLOAD'],
    ['OL,+999999.9 g', 'LG_ERR_WEIGHT_OVERLOAD'],
    ['OL,GS,-          ', 'LG_ERR_WEIGHT_UNDERLOAD'],
    ['QT,+00012345PC', 'LG_ERR_WEIGHT_PAYLOAD'],
    ['ST,GS,+0001.250PC', 'LG_ERR_WEIGHT_UNIT'],
    ['ST,GS,+0001.250tl.g', 'LG_ERR_WEIGHT_UNIT'],
    ['ST,XX,+0001.250kg', 'LG_ERR_WEIGHT_PAYLOAD'],
    ['ST,GS,+1.2.3kg', 'LG_ERR_WEIGHT_PAYLOAD'],
    ['ST,GS,+abc', 'LG_ERR_WEIGHT_PAYLOAD'],
    ['garbage', 'LG_ERR_WEIGHT_PAYLOAD'],
    ['ST,GS,+0001.250kg\x03', 'LG_ERR_WEIGHT_PAYLOAD'],
    ['ST,GS,+NaNkg', 'LG_ERR_WEIGHT_PAYLOAD'],
  ])('%j → %s', (line, c) => {
    expect(code(parseWeightPayload(line, asciiP, st()))).toBe(c);
  });
});

describe('MT-SICS profile', () => {
  it('stable, dynamic, overload, underload, not executable', () => {
    expect(w(parseWeightPayload('S S     100.00 g', sicsP))).toMatchObject({ net: '0.100', stable: true });
    expect(w(parseWeightPayload('S D      1.2345 kg', sicsP))).toMatchObject({ net: '1.235', stable: false });
    expect(code(parseWeightPayload('S +', sicsP))).toBe('LG_ERR_WEIGHT_OVERLOAD');
    expect(code(parseWeightPayload('S -', sicsP))).toBe('LG_ERR_WEIGHT_UNDERLOAD');
    expect(code(parseWeightPayload('S I', sicsP))).toBe('LG_ERR_WEIGHT_PAYLOAD');
  });
});

describe('profile loader', () => {
  function dir(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'lg-scale-prof-'));
    mkdirSync(join(root, 'scales'));
    for (const [n, t] of Object.entries(files)) writeFileSync(join(root, 'scales', `${n}.yaml`), t);
    return root;
  }
  const expectProfileError = (fn: () => unknown): void => {
    try {
      fn();
    } catch (err) {
      expect(isLgError(err) && err.code).toBe('LG_ERR_DEVICE_PROFILE');
      return;
    }
    throw new Error('no error');
  };
  it('refuses missing, malformed and invalid profiles with LG_ERR_DEVICE_PROFILE', () => {
    const root = dir({
      bad: 'name: x\nformat: json\n',
      badre: 'name: x\nformat: ascii\ntopic: t\nunit: kg\ndecimals: 3\nzeroBand: "0.005"\nascii: {pattern: "(", stable: [], unstable: []}\n',
      nomap: 'name: x\nformat: json\ntopic: t\nunit: kg\ndecimals: 3\nzeroBand: "0.005"\n',
      yamlerr: 'a: [\n',
      unit: 'name: x\nformat: json\ntopic: t\nunit: stone\ndecimals: 3\nzeroBand: "0.005"\njson: {value: v}\n',
    });
    for (const n of ['bad', 'badre', 'nomap', 'yamlerr', 'unit', 'absent', '../etc/passwd']) expectProfileError(() => loadScaleProfile(root, n));
  });
  it('overrides are merged and validated', () => {
    const p = loadScaleProfile(devicesDir, 'json-generic', { overrides: { unit: 'g', decimals: 1 } });
    expect(w(parseWeightPayload('{"weight":{"gross":1.23456,"unit":"kg"}}', p)).net).toBe('1234.6');
    expectProfileError(() => loadScaleProfile(devicesDir, 'json-generic', { overrides: { decimals: 'three' } }));
    expectProfileError(() => compileProfile({ name: 'x' }));
  });
});

describe('mqttScaleKind.create', () => {
  it('refuses a profile without stable flag when no software stability is configured', async () => {
    const { mqttScaleKind } = await import('../../../src/drivers/mqtt-scale/index.js');
    const { silentLogger } = await import('../../../src/util/log.js');
    const base = { kind: 'mqtt-scale' as const, id: 'x', station: 'W', broker: { url: 'mqtt://127.0.0.1:1' } };
    const ctx = { logger: silentLogger(), stateDir: tmpdir(), devicesDir };
    const noFlag = mkdtempSync(join(tmpdir(), 'lg-noflag-'));
    mkdirSync(join(noFlag, 'scales'));
    writeFileSync(join(noFlag, 'scales', 'flat.yaml'), 'name: flat\nformat: json\ntopic: t\nunit: kg\ndecimals: 3\npayloadUnit: kg\nzeroBand: "0.005"\njson: {value: value}\n');
    let code: unknown;
    try {
      mqttScaleKind.create({ ...base, profile: 'flat' }, { ...ctx, devicesDir: noFlag });
    } catch (err) {
      code = isLgError(err) ? err.code : err;
    }
    expect(code).toBe('LG_ERR_DEVICE_PROFILE');
    const d = mqttScaleKind.create({ ...base, profile: 'flat', stability: { readings: 5, tolerance: '0.002', windowMs: 600 } }, { ...ctx, devicesDir: noFlag });
    expect(d.kind).toBe('mqtt-scale');
  });
});

describe('10.5 units, byte order marks, signed zeros and broken numbers', () => {
  const st = (): ParseState => ({ lastTare: null });
  it('10.5 an ASCII line without a unit is refused LG_ERR_WEIGHT_UNIT_MISSING, not consumed as kg', () => {
    expect(code(parseWeightPayload('ST,GS,+00000012', asciiP, st()))).toBe('LG_ERR_WEIGHT_UNIT_MISSING');
    expect(code(parseWeightPayload('ST,GS,+0001.250\r\n', asciiP, st()))).toBe('LG_ERR_WEIGHT_UNIT_MISSING');
    // …unless the profile declares the payload unit (an indicator fixed to it).
    const inG = loadScaleProfile(devicesDir, 'ascii-st-gs', { overrides: { payloadUnit: 'g' } });
    expect(w(parseWeightPayload('ST,GS,+00000012', inG, st())).net).toBe('0.012');
    const inKg = loadScaleProfile(devicesDir, 'ascii-st-gs', { overrides: { payloadUnit: 'kg' } });
    expect(w(parseWeightPayload('ST,GS,+00000012', inKg, st())).net).toBe('12.000');
    // The payload's own unit still wins over payloadUnit.
    expect(w(parseWeightPayload('ST,GS,+0001.250kg', inG, st())).net).toBe('1.250');
  });
  it('10.5 a JSON reading without a unit is refused the same way; a unit of its own is converted exactly', () => {
    expect(code(parseWeightPayload('{"weight":{"gross":1.25,"stable":true}}', jsonP))).toBe('LG_ERR_WEIGHT_UNIT_MISSING');
    expect(code(parseWeightPayload('{"value":1.25}', valueP))).toBe('LG_ERR_WEIGHT_UNIT_MISSING');
    // lb on a kg profile: exact factor, one rounding to the profile's 1 g.
    expect(w(parseWeightPayload('{"weight":{"gross":2.5,"unit":"lb","stable":true}}', jsonP))).toMatchObject({ net: '1.134', unit: 'kg', stable: true });
    // A payload that is broken otherwise is a payload error first.
    expect(code(parseWeightPayload('{"weight":{"gross":2,"tare":0.5,"net":1.4}}', jsonP))).toBe('LG_ERR_WEIGHT_PAYLOAD');
    expect(code(parseWeightPayload('{"weight":{}}', jsonP))).toBe('LG_ERR_WEIGHT_PAYLOAD');
  });
  it('10.5 ST,GS,+00A1.250kg is a payload error, not LG_ERR_WEIGHT_UNIT', () => {
    expect(code(parseWeightPayload('ST,GS,+00A1.250kg', asciiP, st()))).toBe('LG_ERR_WEIGHT_PAYLOAD');
    expect(code(parseWeightPayload('ST,GS,+0001.2k50g', asciiP, st()))).toBe('LG_ERR_WEIGHT_PAYLOAD');
    expect(code(parseWeightPayload('ST,GS,+0001.250PC', asciiP, st()))).toBe('LG_ERR_WEIGHT_UNIT'); // a real, unsupported unit
  });
  it('10.5 a UTF-8 byte order mark is skipped (JSON and ASCII); the raw text keeps it', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const j = parseWeightPayload(Buffer.concat([bom, Buffer.from('{"weight":{"gross":1.25,"unit":"kg","stable":true}}')]), jsonP);
    expect(w(j)).toMatchObject({ net: '1.250', stable: true });
    expect(j.kind === 'weight' && j.text?.charCodeAt(0)).toBe(0xfeff);
    expect(w(parseWeightPayload(Buffer.concat([bom, Buffer.from('ST,GS,+0001.250kg')]), asciiP, st())).net).toBe('1.250');
    expect(w(parseWeightPayload('\uFEFF{"weight":{"gross":1,"unit":"kg"}}', jsonP)).net).toBe('1.000');
  });
  it('10.5 -0.000 is zero, marked negativeZero (JSON number, JSON text, ASCII); +0 and a tared zero are not', () => {
    const neg = (o: ParseOutcome) => (o.kind === 'weight' ? { net: d(o.sample.net), negativeZero: o.sample.negativeZero === true } : o);
    expect(neg(parseWeightPayload('{"weight":{"gross":-0.000,"unit":"kg","stable":true}}', jsonP))).toEqual({ net: '0.000', negativeZero: true });
    expect(neg(parseWeightPayload('{"weight":{"net":"-0.000","unit":"kg","stable":true}}', jsonP))).toEqual({ net: '0.000', negativeZero: true });
    expect(neg(parseWeightPayload('{"value":-0.0004,"unit":"kg"}', valueP))).toEqual({ net: '0.000', negativeZero: true });
    expect(neg(parseWeightPayload('ST,GS,-0000.000kg', asciiP, st()))).toEqual({ net: '0.000', negativeZero: true });
    expect(neg(parseWeightPayload('ST,NT,-0.0004kg', asciiP, st()))).toEqual({ net: '0.000', negativeZero: true });
    expect(neg(parseWeightPayload('ST,GS,+0000.000kg', asciiP, st()))).toEqual({ net: '0.000', negativeZero: false });
    expect(neg(parseWeightPayload('{"weight":{"gross":0.000,"unit":"kg","stable":true}}', jsonP))).toEqual({ net: '0.000', negativeZero: false });
    expect(neg(parseWeightPayload('{"weight":{"gross":0.5,"tare":0.5,"unit":"kg","stable":true}}', jsonP))).toEqual({ net: '0.000', negativeZero: false });
  });
  it('10.5 every profile in devices/scales loads; a profile that can never carry a unit needs payloadUnit', () => {
    const names = readdirSync(join(devicesDir, 'scales')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const n of names) expect(loadScaleProfile(devicesDir, n).name, n).toBe(n);
    const bad = (over: Record<string, unknown>) => {
      try {
        compileProfile({ name: 'x', format: 'json', topic: 't', unit: 'kg', decimals: 3, zeroBand: '0.005', json: { value: 'v', stable: 's' }, ...over });
      } catch (err) {
        return isLgError(err) ? err.code : String(err);
      }
      return 'loaded';
    };
    expect(bad({})).toBe('LG_ERR_DEVICE_PROFILE'); // no unit path, no payloadUnit
    expect(bad({ payloadUnit: 'kg' })).toBe('loaded');
    expect(bad({ payloadUnit: 'stone' })).toBe('LG_ERR_DEVICE_PROFILE');
    expect(bad({ json: { value: 'v', unit: 'u' } })).toBe('loaded');
  });
});
