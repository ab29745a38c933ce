/**
 * Lookups over the generated AI table. GS1 AIs are prefix-free (no AI is the prefix of another),
 * so reading 2, then 3, then 4 digits finds at most one definition.
 */
import { AI_TABLE } from './ai-table.generated.js';
import type { AiDefinition } from './types.js';

const BY_AI: ReadonlyMap<string, AiDefinition> = new Map(AI_TABLE.map((d) => [d.ai, d]));

/** Definition of an AI ("01", "3103", "8008"), or undefined if the dictionary does not know it. */
export function aiDefinition(ai: string): AiDefinition | undefined {
  return BY_AI.get(ai);
}

/** All definitions, in dictionary order. */
export function allAiDefinitions(): readonly AiDefinition[] {
  return AI_TABLE;
}

/** The AI starting at `pos` in `s`, if any. */
export function matchAiAt(s: string, pos: number): AiDefinition | undefined {
  for (let len = 2; len <= 4; len++) {
    if (pos + len > s.length) return undefined;
    const d = BY_AI.get(s.slice(pos, pos + len));
    if (d) return d;
  }
  return undefined;
}

/** Dictionary AI pattern match: `n` stands for any digit (`310n`, `31nn`); otherwise exact. */
export function aiMatchesPattern(ai: string, pattern: string): boolean {
  if (ai.length !== pattern.length) return false;
  for (let i = 0; i < ai.length; i++) {
    const p = pattern[i];
    if (p !== 'n' && p !== ai[i]) return false;
  }
  return true;
}

/**
 * Problems with a set of AIs that appear together (GS1 "invalid pairs" and "mandatory
 * associations"). `ex` violations are errors; unmet `req` associations are returned separately,
 * because GS1 says they are judged over ALL carriers on the item (a case label often splits its
 * data over two barcodes), so one scan lacking its partner is not by itself wrong.
 */
export function checkPairings(ais: readonly string[]): { exclusive: string[]; missing: string[] } {
  const exclusive: string[] = [];
  const missing: string[] = [];
  const present = new Set(ais);
  for (const ai of present) {
    const def = BY_AI.get(ai);
    if (!def) continue;
    for (const pat of def.ex) {
      for (const other of present) {
        // "An AI is not exclusive of itself even if it matches a pattern."
        if (other !== ai && aiMatchesPattern(other, pat)) exclusive.push(`(${ai}) with (${other})`);
      }
    }
    for (const alternatives of def.req) {
      const ok = alternatives.some((group) => group.every((pat) => [...present].some((p) => aiMatchesPattern(p, pat))));
      if (!ok) missing.push(`(${ai}) needs ${alternatives.map((g) => g.map((p) => `(${p})`).join('+')).join(' or ')}`);
    }
  }
  return { exclusive, missing };
}
