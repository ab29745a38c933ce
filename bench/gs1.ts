/**
 * GS1 scan parsing throughput: parses/second for typical scans (figures only, nothing asserted).
 *   npx tsc -p tsconfig.build.json && node dist/bench/gs1.js
 * `benchGs1()` is also called by bench/run.ts (npm run bench).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeElements, parseScan } from '../src/gs1/index.js';

const GS = '\x1d';

function rate(input: string, ms = 300): number {
  const now = new Date();
  for (let i = 0; i < 2000; i++) parseScan(input, { now }); // warm up the JIT
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 500; i++) parseScan(input, { now });
    n += 500;
    t = performance.now();
  }
  return Math.round((n * 1000) / (t - t0));
}

export async function benchGs1(): Promise<Record<string, number>> {
  // Case label as the packing station prints it: GTIN, lot, production date, expiry, net weight, serial.
  const caseLabel =
    ']C1' +
    encodeElements([
      { ai: '01', value: '09506000134352' },
      { ai: '10', value: '20261122-001' },
      { ai: '11', value: '261122' },
      { ai: '17', value: '271122' },
      { ai: '3103', value: '012500' },
      { ai: '21', value: '000123' },
    ]).gsSeparated;
  return {
    gs1_case_label_parses_per_s: rate(caseLabel),
    gs1_material_lot_parses_per_s: rate(`]C101${'09506000134352'}10LOT-A1${GS}17270131`),
    gs1_sscc_parses_per_s: rate(']C100106141412345678908'),
    gs1_digital_link_parses_per_s: rate(']Q1https://id.example.com/01/09506000134352/10/ABC?17=261231'),
    plain_badge_parses_per_s: rate('BADGE-0042'),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const figures = await benchGs1();
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(34)} ${v}\n`);
}
