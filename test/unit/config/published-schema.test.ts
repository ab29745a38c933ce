import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse, stringify } from 'yaml';
import { baseConfig } from '../../helpers/gateway.js';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

let compiled: ReturnType<Ajv['compile']> | null = null;
function validator() {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync('config/linegate.schema.json', 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  compiled = ajv.compile(schema);
  return compiled;
}

function errorsOf(doc: unknown): string[] {
  const validate = validator();
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

describe('10.14 the published JSON Schema accepts the shipped configurations (Ajv)', () => {
  for (const file of ['config/demo.yaml', 'config/linegate.example.yaml']) {
    it(`10.14 ${file} validates against config/linegate.schema.json as written (references unsubstituted)`, () => {
      expect(errorsOf(parse(readFileSync(file, 'utf8')))).toEqual([]);
    });
  }

  it('10.14 defaulted fields are not required: a minimal config with every default left out validates', () => {
    const minimal = { site: { id: 'PLANT1' }, line: { id: 'L1' }, stations: [{ id: 'PACK-1', role: 'packing' }], devices: [{ id: 's', kind: 'serial-scanner', station: 'PACK-1', transport: { type: 'tcp', host: 'h', port: 4001 } }] };
    expect(errorsOf(minimal)).toEqual([]);
  });

  it('10.14 the schema still refuses what the loader refuses (it did not become permissive)', () => {
    const cfg = parse(stringify(baseConfig('/tmp/x'))) as Record<string, any>;
    expect(errorsOf(cfg)).toEqual([]);
    expect(errorsOf({ ...cfg, api: { port: 99999 } }).length).toBeGreaterThan(0);
    expect(errorsOf({ ...cfg, api: { port: 'eighty' } }).length).toBeGreaterThan(0);
    expect(errorsOf({ ...cfg, colour: 'blue' }).length).toBeGreaterThan(0);
    expect(errorsOf({ ...cfg, stations: [{ id: 'X', role: 'mixing' }] }).length).toBeGreaterThan(0);
    expect(errorsOf({ ...cfg, api: { port: '${env:LINEGATE_PORT:-8080}' } })).toEqual([]);
  });
});
