import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allAiDefinitions } from '../../../src/gs1/index.js';
import { LINTERS } from '../../../src/gs1/linters.js';

/**
 * Conformance of src/gs1/linters.ts with the official GS1 Barcode Syntax Engine: every literal
 * unit-test vector of the engine's linters (fixtures/syntax-engine-vectors.json, extracted by
 * fixtures/extract-syntax-engine-vectors.mjs) must give the same verdict, the same error and the
 * same highlighted position.
 */
interface Vector {
  data: string;
  ok: boolean;
  error?: string;
  pos?: number;
  len?: number;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/syntax-engine-vectors.json', import.meta.url), 'utf8')) as {
  commit: string;
  vectors: Record<string, Vector[]>;
};
// The engine's date linters take the century from the current year; its vectors are written for
// any year in 2000–2049 (e.g. "000229" must be 2000, a leap year).
const NOW = new Date('2026-06-01T00:00:00Z');

describe('10.16 every linter of the GS1 syntax dictionary, against the GS1 Syntax Engine vectors', () => {
  const dictionaryLinters = [...new Set(allAiDefinitions().flatMap((d) => d.components.flatMap((c) => c.linters)))].sort();

  it('10.16 implements every linter the vendored dictionary names', () => {
    expect(dictionaryLinters.length).toBeGreaterThan(30);
    expect(dictionaryLinters.filter((n) => typeof LINTERS[n] !== 'function')).toEqual([]);
  });

  it('10.16 has engine vectors for every dictionary linter except the GCP-prefix ones (loop-generated there, tested below)', () => {
    const without = dictionaryLinters.filter((n) => !fixture.vectors[n]);
    expect(without).toEqual(['gcppos1', 'gcppos2']);
  });

  for (const [name, vectors] of Object.entries(fixture.vectors)) {
    it(`10.16 ${name}: ${vectors.length} engine vectors give the engine's verdict, error and position`, () => {
      const lint = LINTERS[name];
      expect(lint, `linter ${name}`).toBeTypeOf('function');
      const mismatches: string[] = [];
      for (const v of vectors) {
        const got = lint!(v.data, NOW);
        const want = v.ok ? null : { error: v.error, pos: v.pos, len: v.len };
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(v.data)}: got ${JSON.stringify(got)}, engine ${JSON.stringify(want)}`);
      }
      expect(mismatches).toEqual([]);
    });
  }

  it('10.16 gcppos1/gcppos2: room for a GS1 Company Prefix of at least 4 digits (at position 1 / 2)', () => {
    const g1 = LINTERS.gcppos1!;
    const g2 = LINTERS.gcppos2!;
    expect(g1('0123', NOW)).toBeNull();
    expect(g1('0123A', NOW)).toBeNull();
    expect(g1('012', NOW)).toEqual({ error: 'GS1_LINTER_TOO_SHORT_FOR_GCP', pos: 0, len: 3 });
    expect(g1('01A3X', NOW)).toEqual({ error: 'GS1_LINTER_INVALID_GCP_PREFIX', pos: 2, len: 1 });
    expect(g2('I0123', NOW)).toBeNull();
    expect(g2('I', NOW)).toEqual({ error: 'GS1_LINTER_TOO_SHORT_FOR_GCP', pos: 0, len: 1 });
    expect(g2('I012', NOW)?.error).toBe('GS1_LINTER_TOO_SHORT_FOR_GCP');
    expect(g2('I01A3', NOW)).toEqual({ error: 'GS1_LINTER_INVALID_GCP_PREFIX', pos: 3, len: 1 });
  });
});
