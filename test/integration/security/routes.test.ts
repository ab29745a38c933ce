import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC_ROUTES } from '../../../src/api/auth.js';
import { ALL_ROLES } from '../../../src/api/context.js';
import { parseConfig } from '../../../src/config/load.js';
import { Gateway } from '../../../src/gateway.js';
import { silentLogger } from '../../../src/util/log.js';
import { baseConfig } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Issue 11 item 5: authentication is deny by default. Walks EVERY operation of the OpenAPI
 * document and every registered route (hidden ones too) with no token, a wrong token and each
 * role; fails if a protected operation answers 2xx (or anything but 401/403) to the wrong caller,
 * if a route answers without a token but is not in PUBLIC_ROUTES, or if the document and the list
 * disagree.
 */
describe('11.5 every route, every caller', () => {
  const dir = tempDir('linegate-routes-');
  let gw: Gateway;
  let url: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    // Every guess in the walk is a failed authentication: lift the per-source limit for this test.
    const cfg = parseConfig(stringify(baseConfig(dir.path, { security: { failedAuthLimit: { maxFailures: 100_000, windowSeconds: 60 } } })), 'test.yaml', { env: {} });
    gw = new Gateway(cfg, { logger: silentLogger() });
    // A route someone forgot to give roles to: refused to everybody, never public.
    gw.addApiRoutes((app) => {
      app.get('/test/forgotten', { schema: { hide: true } }, async () => ({ secret: 'leaked' }));
    });
    await gw.start();
    url = gw.url!;
    tokens.admin = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();
    for (const role of ALL_ROLES.filter((r) => r !== 'admin')) {
      const r = await call('POST', '/users', { id: `u-${role}`, name: role, role }, tokens.admin);
      expect(r.status).toBe(201);
      tokens[role] = r.body.token;
    }
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    dir.cleanup();
  });

  async function call(method: string, path: string, body: unknown, token: string | null): Promise<{ status: number; body: any }> {
    const res = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  }

  it('11.5 deny by default: no protected operation answers a missing, wrong or under-privileged token, and every public route is on PUBLIC_ROUTES', async () => {
    const doc = (await call('GET', '/openapi.json', undefined, null)).body;
    const table = gw.api.routeAccess;
    const key = (m: string, u: string) => `${m.toUpperCase()} ${u}`;
    const access = new Map(table.map((r) => [key(r.method, r.url), r]));
    const ops: Array<{ method: string; url: string; documentedPublic: boolean | null }> = [];
    for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [m, op] of Object.entries(item)) {
        const u = p.replace(/\{([^}]+)\}/g, ':$1');
        ops.push({ method: m.toUpperCase(), url: u, documentedPublic: Array.isArray(op.security) && op.security.length === 0 });
      }
    }
    expect(ops.length).toBeGreaterThan(40);
    for (const r of table) if (!ops.some((o) => key(o.method, o.url) === key(r.method, r.url))) ops.push({ method: r.method, url: r.url, documentedPublic: null });
    // Every public route exists, and the document marks exactly those as needing no token.
    for (const p of PUBLIC_ROUTES) expect(access.has(p), `${p} is registered`).toBe(true);

    const problems: string[] = [];
    for (const op of ops) {
      const a = access.get(key(op.method, op.url));
      if (!a) {
        problems.push(`${op.method} ${op.url}: in the OpenAPI document but not registered`);
        continue;
      }
      if (op.documentedPublic !== null && op.documentedPublic !== a.public) problems.push(`${op.method} ${op.url}: OpenAPI security says ${op.documentedPublic ? 'public' : 'protected'}, PUBLIC_ROUTES says ${a.public ? 'public' : 'protected'}`);
      const path = op.url.replace(/:[^/]+/g, 'x').replace('*', 'x');
      const body = ['POST', 'PUT', 'PATCH'].includes(op.method) ? {} : undefined;
      const label = `${op.method} ${op.url}`;

      const none = await call(op.method, path, body, null);
      if (a.public) {
        if (none.status === 401 || none.status === 403) problems.push(`${label}: public but answered ${none.status} without a token`);
      } else if (none.status !== 401 || (op.method !== 'HEAD' && none.body?.code !== 'LG_ERR_AUTH_REQUIRED')) {
        problems.push(`${label}: answered ${none.status} without a token (not in PUBLIC_ROUTES: must be 401)`);
      }
      const wrong = await call(op.method, path, body, 'wrong-token-for-the-walk');
      if (wrong.status !== 401) problems.push(`${label}: answered ${wrong.status} to a wrong token`);

      for (const role of ALL_ROLES) {
        const r = await call(op.method, path, body, tokens[role]!);
        const allowed = a.public || a.roles.includes(role);
        if (allowed && (r.status === 401 || r.status === 403)) problems.push(`${label}: role ${role} is allowed but got ${r.status}`);
        if (!allowed && (r.status !== 403 || (op.method !== 'HEAD' && r.body?.code !== 'LG_ERR_FORBIDDEN'))) problems.push(`${label}: role ${role} is not allowed but got ${r.status}`);
      }
    }
    expect(problems).toEqual([]);
    // The forgotten route was walked, and refused to everybody (admin included).
    expect(access.get('GET /test/forgotten')).toMatchObject({ public: false, roles: [] });
    expect((await call('GET', '/test/forgotten', undefined, tokens.admin!)).status).toBe(403);
  }, 240_000);
});
