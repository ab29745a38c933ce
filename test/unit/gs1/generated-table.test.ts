import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DICTIONARY_REL_PATH, GENERATED_REL_PATH, parseDictionary, renderAiTable, repoRoot } from '../../../src/gs1/generate.js';
import { aiDefinition, allAiDefinitions, IMPLEMENTED_LINTERS, UNCHECKED_LINTERS } from '../../../src/gs1/index.js';

const root = repoRoot();
const dictionary = readFileSync(join(root, DICTIONARY_REL_PATH), 'utf8');

describe('generated AI table', () => {
  it('equals what the generator renders from the vendored dictionary (never stale)', () => {
    const committed = readFileSync(join(root, GENERATED_REL_PATH), 'utf8');
    // If this fails: npx tsc -p tsconfig.build.json && node dist/src/gs1/generate.js
    expect(renderAiTable(dictionary)).toBe(committed);
  });

  it('has one definition per AI of every dictionary line, ranges expanded', () => {
    const entryLines = dictionary.split('\n').filter((l) => /^\d/.test(l));
    let expected = 0;
    for (const l of entryLines) {
      const [a, b] = l.split(/\s+/)[0]!.split('-');
      expected += b === undefined ? 1 : Number(b) - Number(a) + 1;
    }
    expect(allAiDefinitions()).toHaveLength(expected);
    expect(parseDictionary(dictionary)).toHaveLength(expected);
    // 91-99 expands to nine 2-digit AIs.
    expect(['91', '95', '99'].map((ai) => aiDefinition(ai)?.maxLength)).toEqual([90, 90, 90]);
  });

  it('derives the decimal-point AIs as exactly the 31nn-36nn and 39nn ranges', () => {
    const dec = allAiDefinitions().filter((d) => d.decimals !== null);
    expect(dec.every((d) => /^3[1-69]\d\d$/.test(d.ai) && d.decimals === Number(d.ai[3]))).toBe(true);
    expect(aiDefinition('3103')).toMatchObject({ decimals: 3, unit: 'kg', fixedLength: 6, fnc1Required: false });
    expect(aiDefinition('3202')).toMatchObject({ decimals: 2, unit: 'lb' });
    expect(aiDefinition('3922')).toMatchObject({ decimals: 2, unit: null, fixedLength: null, fnc1Required: true });
    expect(aiDefinition('3935')?.components.map((c) => c.linters)).toEqual([['iso4217'], []]);
    expect(aiDefinition('7030')?.decimals).toBeNull();
    expect(aiDefinition('3106')).toBeUndefined();
  });

  it('keeps the flags and attributes of the dictionary', () => {
    expect(aiDefinition('00')).toMatchObject({ fnc1Required: false, fixedLength: 18, dlpkey: [[]] });
    expect(aiDefinition('01')).toMatchObject({ title: 'GTIN', dlpkey: [['22', '10', '21'], ['235']], ex: ['255', '37'] });
    expect(aiDefinition('10')).toMatchObject({ fnc1Required: true, fixedLength: null, minLength: 1, maxLength: 20 });
    expect(aiDefinition('250')?.req).toEqual([[['01', '21'], ['03', '21'], ['8006', '21']]]);
    // Fixed length but not pre-defined: FNC1 still required.
    expect(aiDefinition('8040')).toMatchObject({ fixedLength: 15, fnc1Required: true });
    expect(aiDefinition('7007')?.components).toEqual([
      { cset: 'N', min: 6, max: 6, optional: false, linters: ['yymmdd'] },
      { cset: 'N', min: 6, max: 6, optional: true, linters: ['yymmdd'] },
    ]);
    expect(aiDefinition('8010')?.components[0]?.cset).toBe('Y');
    expect(aiDefinition('8030')?.components[0]?.cset).toBe('Z');
    expect(aiDefinition('8110')?.title).toBe('');
  });

  it('every linter in the dictionary is either implemented or knowingly unchecked', () => {
    const names = new Set(allAiDefinitions().flatMap((d) => d.components.flatMap((c) => c.linters)));
    const unknown = [...names].filter((n) => !IMPLEMENTED_LINTERS.has(n) && !UNCHECKED_LINTERS.has(n));
    expect(unknown).toEqual([]);
  });
});
