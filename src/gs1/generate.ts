/**
 * Generates src/gs1/ai-table.generated.ts from the vendored GS1 Barcode Syntax Dictionary
 * (vendor/gs1/gs1-syntax-dictionary.txt, Apache-2.0).
 *
 *   npx tsc -p tsconfig.build.json && node dist/src/gs1/generate.js
 *
 * Nobody types AIs by hand: the table is regenerated from the dictionary, and a unit test
 * (test/unit/gs1/generated-table.test.ts) renders it in memory and compares it with the
 * committed file, so a dictionary update without regeneration fails CI.
 *
 * Pure functions (`parseDictionary`, `renderAiTable`) are exported for that test; the file is
 * only written when this module is run as a program.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AiComponent, AiDefinition, Cset } from './types.js';

/** Flag characters reserved by the dictionary ("Allocated from: …" in its header). */
const FLAG_RE = /^[*!?"$%&'()+,\-./:;<=>@[\\\]^_`{|}~]+$/;
/** `N6`, `X..20`, `[N3]`, `[X..17]` followed by `,linter` names. */
const COMPONENT_RE = /^(\[)?([NXYZ])(\d+|\.\.\d+)(\])?((?:,[A-Za-z0-9]+)*)$/;
const AI_RANGE_RE = /^(\d{2,4})(?:-(\d{2,4}))?$/;

export class DictionaryError extends Error {}

interface RawEntry {
  first: string;
  last: string;
  flags: string;
  components: AiComponent[];
  attrs: Array<[string, string | null]>;
  title: string;
  line: number;
}

function parseComponent(tok: string, line: number): AiComponent {
  const m = COMPONENT_RE.exec(tok);
  if (!m) throw new DictionaryError(`line ${line}: bad component ${tok}`);
  const [, open, cset, len, close, linterPart] = m;
  if (Boolean(open) !== Boolean(close)) throw new DictionaryError(`line ${line}: unbalanced [] in ${tok}`);
  let min: number;
  let max: number;
  if (len!.startsWith('..')) {
    min = 1;
    max = Number(len!.slice(2));
  } else {
    min = max = Number(len);
  }
  const linters = (linterPart ?? '').split(',').filter((s) => s.length > 0);
  return { cset: cset as Cset, min, max, optional: Boolean(open), linters };
}

function parseLine(text: string, line: number): RawEntry | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const hash = text.indexOf('#');
  const title = hash >= 0 ? text.slice(hash + 1).trim() : '';
  const tokens = (hash >= 0 ? text.slice(0, hash) : text).trim().split(/\s+/);
  const aiTok = tokens.shift()!;
  const am = AI_RANGE_RE.exec(aiTok);
  if (!am) throw new DictionaryError(`line ${line}: bad AI ${aiTok}`);
  let flags = '';
  if (tokens[0] !== undefined && FLAG_RE.test(tokens[0])) flags = tokens.shift()!;
  const components: AiComponent[] = [];
  while (tokens[0] !== undefined && COMPONENT_RE.test(tokens[0])) components.push(parseComponent(tokens.shift()!, line));
  if (components.length === 0) throw new DictionaryError(`line ${line}: no specification`);
  const attrs: Array<[string, string | null]> = tokens.map((t) => {
    const eq = t.indexOf('=');
    return eq < 0 ? [t, null] : [t.slice(0, eq), t.slice(eq + 1)];
  });
  // Dictionary rules we rely on when parsing data: only the last component may vary in length,
  // and no mandatory component may follow an optional one.
  components.forEach((c, i) => {
    if (c.min !== c.max && i !== components.length - 1) throw new DictionaryError(`line ${line}: variable component not last`);
    if (i > 0 && components[i - 1]!.optional && !c.optional) throw new DictionaryError(`line ${line}: mandatory after optional`);
  });
  return { first: am[1]!, last: am[2] ?? am[1]!, flags, components, attrs, title, line };
}

/** The unit in the first parenthesised group of a title, allowing one nested level: "NET VOLUME (qt (US))" → "qt (US)". */
function unitFromTitle(title: string): string | null {
  const m = /\(((?:[^()]|\([^()]*\))*)\)/.exec(title);
  return m ? m[1]!.trim() : null;
}

/** Parse the dictionary text into one definition per AI (ranges expanded), in dictionary order. */
export function parseDictionary(text: string): AiDefinition[] {
  const out: AiDefinition[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const e = parseLine(raw, i + 1);
    if (!e) return;
    if (e.first.length !== e.last.length) throw new DictionaryError(`line ${e.line}: range ends differ in length`);
    const from = Number(e.first);
    const to = Number(e.last);
    if (to < from) throw new DictionaryError(`line ${e.line}: empty range`);
    /*
     * Decimal-point AIs are not flagged in the dictionary. They are exactly the ranges of
     * 4-digit AIs whose first AI ends in 0 (3100-3105 … 3950-3955): GS1 General Specifications
     * 3.6.x / 3.7.x define the last digit of those AIs as the number of implied decimals.
     * The dictionary's 4-digit AIs that are not decimal (7030-7039, 7230-7239) are listed one
     * per line, never as ranges, so this rule does not catch them. The unit test pins the
     * resulting set.
     */
    const isDecimalRange = e.first.length === 4 && e.first !== e.last && e.first.endsWith('0');
    const unit = isDecimalRange && /^3[1-6]/.test(e.first) ? unitFromTitle(e.title) : null;

    const req: string[][][] = [];
    const ex: string[] = [];
    let dlpkey: string[][] | null = null;
    for (const [k, v] of e.attrs) {
      if (k === 'req' && v) req.push(v.split(',').map((alt) => alt.split('+')));
      else if (k === 'ex' && v) ex.push(...v.split(','));
      else if (k === 'dlpkey') dlpkey = v ? v.split('|').map((seq) => seq.split(',')) : [[]];
      else throw new DictionaryError(`line ${e.line}: unknown attribute ${k}`);
    }
    const minLength = e.components.reduce((s, c) => s + (c.optional ? 0 : c.min), 0);
    const maxLength = e.components.reduce((s, c) => s + c.max, 0);
    const fixed = e.components.every((c) => c.min === c.max && !c.optional);
    for (let n = from; n <= to; n++) {
      const ai = String(n).padStart(e.first.length, '0');
      if (seen.has(ai)) throw new DictionaryError(`line ${e.line}: AI ${ai} defined twice`);
      seen.add(ai);
      out.push({
        ai,
        title: e.title,
        fnc1Required: !e.flags.includes('*'),
        dlDataAttribute: e.flags.includes('?'),
        components: e.components,
        minLength,
        maxLength,
        fixedLength: fixed ? maxLength : null,
        dlpkey,
        req,
        ex,
        decimals: isDecimalRange ? n - from : null,
        unit,
      });
    }
  });
  return out;
}

/** Render the TypeScript module text. Deterministic: the staleness test compares it byte for byte. */
export function renderAiTable(dictionaryText: string): string {
  const defs = parseDictionary(dictionaryText);
  const release = /^# Release:\s*(.*)$/m.exec(dictionaryText)?.[1]?.trim() ?? 'unknown';
  const lines = defs.map((d) => `  ${JSON.stringify(d)},`);
  return [
    '// GENERATED by src/gs1/generate.ts from vendor/gs1/gs1-syntax-dictionary.txt — DO NOT EDIT.',
    '// Regenerate: npx tsc -p tsconfig.build.json && node dist/src/gs1/generate.js',
    '// Source: GS1 Barcode Syntax Dictionary (Apache-2.0, see vendor/gs1/LICENSE).',
    "import type { AiDefinition } from './types.js';",
    '',
    `export const DICTIONARY_RELEASE = ${JSON.stringify(release)};`,
    '',
    `/** ${defs.length} AIs, ranges expanded, in dictionary order. */`,
    'export const AI_TABLE: readonly AiDefinition[] = [',
    ...lines,
    '];',
    '',
  ].join('\n');
}

/** Repository root: the nearest ancestor holding the vendored dictionary (works from src/ and dist/src/). */
export function repoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'vendor', 'gs1', 'gs1-syntax-dictionary.txt'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new DictionaryError(`vendor/gs1/gs1-syntax-dictionary.txt not found above ${start}`);
    dir = up;
  }
}

export const DICTIONARY_REL_PATH = 'vendor/gs1/gs1-syntax-dictionary.txt';
export const GENERATED_REL_PATH = 'src/gs1/ai-table.generated.ts';

function main(): void {
  const root = repoRoot();
  const text = readFileSync(join(root, DICTIONARY_REL_PATH), 'utf8');
  const out = renderAiTable(text);
  writeFileSync(join(root, GENERATED_REL_PATH), out);
  process.stdout.write(`wrote ${GENERATED_REL_PATH}: ${parseDictionary(text).length} AIs\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
