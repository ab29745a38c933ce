import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../../src/errors.js';
import { ErrorBody } from '../../../src/api/schemas.js';
import { errorDocs, renderErrorDocs } from '../../../src/service/error-docs.js';
import { ROOT } from '../../helpers/daemon.js';

const source = readFileSync(join(ROOT, 'src', 'errors.ts'), 'utf8');

describe('17 error reference', () => {
  it('17 error reference: docs/errors.md is what `npm run docs:errors` renders from src/errors.ts (run it after adding a code)', () => {
    const checkedIn = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    expect(checkedIn).toBe(renderErrorDocs(source));
  });

  it('17 error reference: every code is listed once with status, retryable, a meaning, what to do and its section', () => {
    const docs = errorDocs(source);
    expect(docs.map((d) => d.code)).toEqual(Object.keys(ERRORS));
    const md = renderErrorDocs(source);
    for (const d of docs) {
      expect(d.status, d.code).toBe(ERRORS[d.code].status);
      expect(d.retryable, d.code).toBe(ERRORS[d.code].retryable);
      expect(d.meaning.length, d.code).toBeGreaterThan(3);
      expect(d.action.length, d.code).toBeGreaterThan(3);
      expect(d.section, d.code).not.toBe('');
      expect(md.split(`| \`${d.code}\` |`).length - 1, d.code).toBe(1);
    }
  });

  it('17 error reference: the OpenAPI error schema enumerates exactly the codes of the table', () => {
    const code = (ErrorBody as unknown as { properties: { code: { enum: string[] } } }).properties.code;
    expect([...code.enum].sort()).toEqual(Object.keys(ERRORS).sort());
  });
});
