import { createHash } from 'node:crypto';

/**
 * Canonical JSON (object keys sorted, no whitespace, arrays in order; `undefined` dropped) and its
 * SHA-256: what an electronic signature binds. The same content always gives the same bytes, on
 * any machine and any Node version, so `linegate verify batch` recomputes a signature's binding
 * years later from the journal alone.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return 'null';
}

export function contentHash(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v), 'utf8').digest('hex');
}
