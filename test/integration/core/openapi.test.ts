import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PUBLIC_ROUTES } from '../../../src/api/auth.js';
import { parseConfig } from '../../../src/config/load.js';
import { Gateway } from '../../../src/gateway.js';
import { silentLogger } from '../../../src/util/log.js';
import { ROOT } from '../../helpers/daemon.js';
import { baseConfig } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Issue 17 (OpenAPI): the document a running gateway serves has, for EVERY operation, a summary,
 * a unique operationId, the roles allowed (`x-roles` and a sentence in the description), every
 * 4xx/5xx answer with the error schema, `servers`, and the SSE content type on event streams — and
 * passes Redocly's recommended rules with no error. A route the central transform has never seen
 * (added like the gateway's own extensions) is covered the same way.
 */
describe('17 OpenAPI document', () => {
  let gw: Gateway;
  let doc: any;
  const dir = tempDir('linegate-openapi-');

  beforeAll(async () => {
    gw = new Gateway(parseConfig(stringify(baseConfig(join(dir.path, 'state'))), 'test.yaml', { env: {} }), { logger: silentLogger() });
    // Unknown to openapi.ts: no summary, no operationId, no error responses, roles in config only.
    gw.addApiRoutes((app) => {
      app.post('/test/pallets/:sscc/dispatch', { config: { roles: ['supervisor', 'erp'] }, schema: { tags: ['test'], body: Type.Object({ count: Type.Integer() }) } }, async () => ({ ok: true }));
    });
    await gw.start();
    const res = await fetch(`${gw.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = await res.json();
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    dir.cleanup();
  });

  function operations(d: any): Array<{ method: string; path: string; op: any }> {
    const out: Array<{ method: string; path: string; op: any }> = [];
    for (const [path, item] of Object.entries(d.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) out.push({ method: method.toUpperCase(), path, op });
    }
    return out;
  }

  it('17 every operation has a summary, a unique operationId, x-roles with a sentence, error responses with the error schema; servers are set', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(40);
    const ids = new Set<string>();
    for (const { method, path, op } of ops) {
      const where = `${method} ${path}`;
      expect(op.summary, where).toMatch(/\S/);
      expect(op.operationId, where).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(ids.has(op.operationId), `${where}: duplicate operationId ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      const pub = PUBLIC_ROUTES.includes(`${method} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
      expect(Array.isArray(op['x-roles']), where).toBe(true);
      if (pub) expect(op.description, where).toContain('Public: no token needed');
      else {
        expect(op['x-roles'].length, `${where} names its roles`).toBeGreaterThan(0);
        expect(op.description, where).toContain(`Roles allowed: ${op['x-roles'].join(', ')}.`);
        expect(Object.keys(op.responses), where).toContain('403');
      }
      for (const code of ['400', '401', '429', '500', '503']) expect(Object.keys(op.responses), `${where} documents ${code}`).toContain(code);
      for (const [code, r] of Object.entries(op.responses as Record<string, any>)) {
        if (!/^[45]/.test(code) || path === '/health/ready') continue;
        const schema = r.content?.['application/json']?.schema;
        expect(schema?.required, `${where} ${code} uses the error schema`).toEqual(['code', 'message', 'details']);
      }
      expect(Object.keys(op.responses).some((c) => c.startsWith('2')), `${where} has a 2xx`).toBe(true);
    }
  });

  it('17 a route the transform has never seen gets an operationId, summary, roles and its error responses', () => {
    const op = doc.paths['/test/pallets/{sscc}/dispatch']?.post;
    expect(op).toBeDefined();
    expect(op.operationId).toBe('postTestPalletsBySsccDispatch');
    expect(op.summary).toMatch(/dispatch/i);
    expect(op['x-roles']).toEqual(['supervisor', 'erp']);
    expect(op.description).toContain('Roles allowed: supervisor, erp.');
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '401', '403', '404', '413', '415', '429', '500', '503']));
  });

  it('17 the station event stream is documented as text/event-stream, its errors as JSON; the quarantine export as NDJSON', () => {
    const op = doc.paths['/stations/{id}/events'].get;
    expect(Object.keys(op.responses['200'].content)).toEqual(['text/event-stream']);
    expect(Object.keys(op.responses['403'].content)).toEqual(['application/json']);
    const exp = doc.paths['/upstream/sinks/{sink}/quarantine/export'].get;
    expect(Object.keys(exp.responses['200'].content)).toEqual(['application/x-ndjson']);
  });

  it('17 Redocly lint (recommended rules) reports no error', async () => {
    const file = join(dir.path, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'), 'lint', file, '--format=stylish', '--max-problems=500'], {
        cwd: dir.path,
        // No telemetry or update check: CI has no network but the registries.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('close', (code) => resolve({ code, out }));
    });
    expect(r.out).not.toMatch(/\berror\b\s+\S/);
    expect(r.out, r.out).toMatch(/Your API description is valid/);
    expect(r.code, r.out).toBe(0);
  }, 120_000);
});
