import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';

/**
 * Request validation with TypeBox (the same source as the schemas), instead of fastify's ajv:
 * - bodies are NEVER coerced: `"plannedQty": 12` is a type error, not "12" — a JSON number
 *   may already have lost digits as a binary float, and quantities are exact decimal text;
 * - querystrings and path params are converted ("limit=10" → 10), since URLs only carry text;
 * - unknown fields are errors (schemas say additionalProperties: false), never dropped.
 */
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));
}

interface ValidationIssue {
  instancePath: string;
  message: string;
  keyword: string;
  params: Record<string, unknown>;
}

export function typeboxValidatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  const s = schema as TSchema;
  const check = TypeCompiler.Compile(s);
  const convert = httpPart === 'querystring' || httpPart === 'params' || httpPart === 'headers';
  return (data: unknown): { value?: unknown; error?: Error } => {
    let value = Value.Default(s, Value.Clone(data ?? (httpPart === 'body' ? data : {})));
    if (convert) value = Value.Convert(s, value);
    if (check.Check(value)) return { value };
    const issues: ValidationIssue[] = [];
    const seen = new Set<string>();
    for (const e of check.Errors(value)) {
      const unknown = e.message.startsWith('Unexpected property');
      const key = `${e.path}|${e.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const path = unknown ? e.path.slice(0, e.path.lastIndexOf('/')) : e.path;
      issues.push({
        instancePath: path,
        message: e.message.charAt(0).toLowerCase() + e.message.slice(1),
        keyword: unknown ? 'additionalProperties' : 'type',
        params: unknown ? { additionalProperty: e.path.slice(e.path.lastIndexOf('/') + 1) } : {},
      });
      if (issues.length >= 20) break;
    }
    const err = new Error(issues.map((i) => `${i.instancePath || '/'} ${i.message}`).join('; ')) as Error & { validation: ValidationIssue[]; validationContext: string; statusCode: number };
    err.validation = issues;
    err.validationContext = httpPart ?? 'body';
    err.statusCode = 400;
    return { error: err };
  };
}
