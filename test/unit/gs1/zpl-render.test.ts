/**
 * What encodeElements gives the printer decodes back to the same elements: ZPL rendered by
 * zpl-renderer-js (zebrash), decoded by zxing-wasm, parsed by parseScan. This is the check that
 * `>8` goes where FNC1 must be (GS1-128 mode D) and that `_1` makes a GS1 DataMatrix (`]d2`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from 'zpl-renderer-js';
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';
import { encodeElements, GS1_128_MAX_DATA, parseScan, zplDataMatrixData, type Gs1Element } from '../../../src/gs1/index.js';

const require = createRequire(import.meta.url);
const now = new Date('2026-11-22T04:00:00Z');
const GTIN = '09506000134352';

let render: (zpl: string) => Promise<Uint8Array>;

beforeAll(async () => {
  // zxing-wasm fetches its .wasm from a CDN unless given the bundled binary (offline here).
  const wasmBinary = readFileSync(require.resolve('zxing-wasm/reader/zxing_reader.wasm'));
  prepareZXingModule({ overrides: { wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer }, fireImmediately: true });
  const { api } = await ready;
  render = async (zpl) => new Uint8Array(Buffer.from(await api.zplToBase64Async(zpl, 101.6, 152.4, 8), 'base64'));
});

async function decode(zpl: string): Promise<string> {
  const res = await readBarcodes(await render(zpl), { textMode: 'Plain', formats: [] });
  expect(res).toHaveLength(1);
  return res[0]!.symbologyIdentifier + res[0]!.text;
}

function pairs(els: Gs1Element[]): Array<[string, string]> {
  return els.map((e) => [e.ai, e.value]);
}

const label: Gs1Element[] = [
  { ai: '01', value: GTIN },
  { ai: '10', value: 'B-2026/11' },
  { ai: '21', value: 'S000123' },
  { ai: '3103', value: '012500' },
  { ai: '17', value: '271130' },
];

describe('ZPL from encodeElements scans back', () => {
  it('GS1-128, ^BC mode D with >8 after variable-length AIs', async () => {
    // A GS1-128 symbol holds at most 48 data characters (GS1_128_MAX_DATA): the full case
    // label above is longer, which is why the case label carries it in a DataMatrix.
    const short: Gs1Element[] = [{ ai: '01', value: GTIN }, { ai: '10', value: 'B-2026/11' }, { ai: '21', value: 'S1' }, { ai: '17', value: '271130' }];
    const e = encodeElements(short, { now });
    expect(e.gsSeparated.length).toBeLessThanOrEqual(GS1_128_MAX_DATA);
    const scanned = await decode(`^XA^FO40,40^BY2^BCN,150,Y,N,N,D^FD${e.zpl128}^FS^XZ`);
    expect(scanned).toBe(']C1' + e.gsSeparated);
    const r = parseScan(scanned, { now });
    expect(r.ok && pairs(r.elements)).toEqual(pairs(short));
  });

  it('GS1 DataMatrix, ^BX with the escape character written explicitly', async () => {
    const e = encodeElements(label, { now });
    const scanned = await decode(`^XA^FO40,40^BXN,8,200,,,,_^FD${e.zplDataMatrix}^FS^XZ`);
    expect(scanned.startsWith(']d2')).toBe(true);
    const r = parseScan(scanned, { now });
    expect(r.ok && r.symbology).toBe('gs1-datamatrix');
    expect(r.ok && pairs(r.elements)).toEqual(pairs(label));
  });

  it('GS1 DataMatrix through ^FH (hex processing first), and a value with _ using escape |', async () => {
    const e = encodeElements(label, { now });
    const viaFh = await decode(`^XA^FO40,40^BXN,8,200,,,,_^FH^FD${e.zplDataMatrix.replace(/_/g, '_5F')}^FS^XZ`);
    expect(viaFh).toBe(']d2' + e.gsSeparated);
    const withUnderscore: Gs1Element[] = [{ ai: '01', value: GTIN }, { ai: '10', value: 'LOT_A>8' }, { ai: '17', value: '271130' }];
    const data = zplDataMatrixData(withUnderscore, { escapeChar: '|', now });
    const r = parseScan(await decode(`^XA^FO40,40^BXN,8,200,,,,|^FD${data}^FS^XZ`), { now });
    expect(r.ok && pairs(r.elements)).toEqual(pairs(withUnderscore));
  });
});
