/**
 * The JSON Schema published as config/linegate.schema.json (`linegate schema`), for editors and
 * Ajv (issue 10.14). It is the TypeBox schema with two corrections so that it accepts exactly the
 * files the loader accepts:
 *
 * - a field the loader fills in (it has a default, or it is a section whose fields all have one)
 *   is not `required` — TypeBox lists every non-Optional field as required, defaults or not;
 * - a value may be a `${env:…}` / `${cred:…}` reference wherever the file is checked before
 *   substitution: every number, boolean, enumeration and patterned string also accepts a string
 *   containing a reference (`port: "${env:PORT:-8080}"`). The loader checks the substituted value.
 */
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema, publishedSchema } from './schema.js';
import { omittable } from './load.js';

/** A string holding at least one reference; the loader substitutes it and checks the result. */
export const REFERENCE_STRING = {
  type: 'string',
  pattern: '\\$\\{(env|cred):[A-Za-z_][A-Za-z0-9_.-]*(:-[^}]*)?\\}',
  description: 'A ${env:NAME}, ${env:NAME:-default} or ${cred:NAME} reference, substituted when the file is loaded.',
} as const;

type Json = Record<string, unknown>;

function isLeafNeedingRefs(s: Json): boolean {
  if (s.type === 'integer' || s.type === 'number' || s.type === 'boolean') return true;
  if (s.type === 'string' && (s.pattern !== undefined || s.enum !== undefined)) return true;
  if (Array.isArray(s.anyOf) && (s.anyOf as Json[]).every((b) => b.const !== undefined)) return true;
  return false;
}

function correct(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(correct);
  if (!node || typeof node !== 'object') return node;
  const s = { ...(node as Json) };
  for (const key of ['items', 'additionalProperties', 'not']) if (s[key] && typeof s[key] === 'object') s[key] = correct(s[key]);
  for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(s[key])) s[key] = (s[key] as unknown[]).map(correct);
  for (const key of ['properties', 'patternProperties']) {
    if (s[key] && typeof s[key] === 'object') {
      s[key] = Object.fromEntries(Object.entries(s[key] as Json).map(([k, v]) => [k, correct(v)]));
    }
  }
  if (s.type === 'object' && s.properties && Array.isArray(s.required)) {
    // Decided on the uncorrected sub-schemas (the loader's view), so wrapping cannot change it.
    const original = (node as Json).properties as Record<string, TSchema>;
    const required = (s.required as string[]).filter((r) => !original[r] || !omittable(original[r]!));
    if (required.length) s.required = required;
    else delete s.required;
  }
  if (isLeafNeedingRefs(s)) {
    const { description, default: def, title, ...rest } = s;
    return { ...(description !== undefined ? { description } : {}), ...(def !== undefined ? { default: def } : {}), ...(title !== undefined ? { title } : {}), anyOf: [rest, REFERENCE_STRING] };
  }
  return s;
}

/** The schema as written to config/linegate.schema.json. */
export function editorSchema(): Json {
  const plain = JSON.parse(JSON.stringify(publishedSchema())) as Json;
  const out = correct(plain) as Json;
  // Top level: the loader validates `devices` and `upstream` with its own first-pass schemas
  // (ConfigSchema); what may be left out is what those say (e.g. `upstream` defaults to {}).
  const loaderProps = (ConfigSchema as unknown as { properties: Record<string, TSchema> }).properties;
  if (Array.isArray(out.required)) {
    out.required = (out.required as string[]).filter((r) => !loaderProps[r] || !omittable(loaderProps[r]!));
  }
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...out };
}
