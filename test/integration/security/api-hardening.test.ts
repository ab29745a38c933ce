import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { freePort } from '../../helpers/net.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';

/** A raw HTTP request (fetch would normalise a malformed URL before sending it). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const isErrorShape = (b: any) =>
  b && typeof b === 'object' && Object.keys(b).sort().join(',') === 'code,details,message' && /^LG_ERR_[A-Z0-9_]+$/.test(b.code) && typeof b.message === 'string' && typeof b.details === 'object';

describe('11.6 /health/ready without a token', () => {
  let t: TestGateway;
  let plcPort: number;
  beforeAll(async () => {
    plcPort = await freePort();
    t = await startTestGateway({
      broker: { embedded: { enabled: true, host: '127.0.0.1', port: 0 } },
      devices: [{ id: 'plc.filler', kind: 'opcua-machine', station: 'FILL-1', endpoint: `opc.tcp://127.0.0.1:${plcPort}/plc`, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', nodeMap: 'packml-generic' }],
    });
  }, 60_000);
  afterAll(async () => t?.stop());

  it('11.6 says ready/degraded and subsystem states only — no hosts, ports, PKI paths, broker address or gateway id; a token sees the details', async () => {
    const full = await t.call('GET', '/health/ready');
    const gatewayId = full.body.subsystems.gateway.id;
    expect(typeof gatewayId).toBe('string');
    const fullText = JSON.stringify(full.body);
    expect(fullText).toContain(String(plcPort));
    expect(fullText).toContain(gatewayId);

    const anon = await t.call('GET', '/health/ready', undefined, null);
    expect([200, 503]).toContain(anon.status);
    expect(['ready', 'degraded']).toContain(anon.body.status);
    expect(anon.body.status).toBe(full.body.status);
    const text = JSON.stringify(anon.body);
    for (const secret of [gatewayId, String(plcPort), '127.0.0.1', 'opc.tcp', t.stateDir, 'pki', 'mqtt://']) expect(text, secret).not.toContain(secret);
    // Same subsystems, each with its state.
    expect(Object.keys(anon.body.subsystems).sort()).toEqual(Object.keys(full.body.subsystems).sort());
    for (const [name, v] of Object.entries(anon.body.subsystems as Record<string, any>)) {
      expect(typeof v.state, name).toBe('string');
      expect(Object.keys(v).every((k) => ['state', 'online', 'total'].includes(k)), name).toBe(true);
    }
    expect(anon.body.subsystems.drivers).toMatchObject({ total: 1 });
    expect(anon.body.subsystems.journal.state).toBe('online');
  });
});

describe('11.7 hostile input gets our error shape and the right status', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ api: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1_048_576 } });
  });
  afterAll(async () => t?.stop());
  const auth = () => ({ authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' });

  it('11.7 JSON nested 5,000+ levels deep answers 400 LG_ERR_JSON_TOO_DEEP, not 500; the gateway stays ready', async () => {
    for (const depth of [5_000, 50_000]) {
      const body = JSON.stringify({ data: 'x', encoding: 'text', device: 'a' }).replace('"x"', '['.repeat(depth) + ']'.repeat(depth));
      const r = await raw(t.url, 'POST', '/stations/WEIGH-1/scans', auth(), body);
      expect([depth, r.status, r.body.code]).toEqual([depth, 400, 'LG_ERR_JSON_TOO_DEEP']);
      expect(isErrorShape(r.body)).toBe(true);
    }
    // Deep text inside strings is not nesting.
    const ok = await raw(t.url, 'POST', '/stations/WEIGH-1/scans', auth(), JSON.stringify({ data: '['.repeat(10_000) }));
    expect(ok.status).toBe(201);
    expect((await t.call('GET', '/health/ready', undefined, null)).status).toBe(200);
  });

  it('11.7 a malformed URL answers 400 LG_ERR_BAD_URL in {code, message, details}', async () => {
    const r = await raw(t.url, 'GET', '/stations/%E0%A4%A', auth());
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('LG_ERR_BAD_URL');
    expect(isErrorShape(r.body)).toBe(true);
  });

  it('11.7 a wrong method answers 405 with an Allow header; an unknown path stays 404', async () => {
    const r = await raw(t.url, 'DELETE', '/batches', auth());
    expect(r.status).toBe(405);
    expect(r.body.code).toBe('LG_ERR_METHOD_NOT_ALLOWED');
    expect(String(r.headers.allow).split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    expect(isErrorShape(r.body)).toBe(true);
    const p = await raw(t.url, 'PUT', '/users/anna', auth(), '{}');
    expect([p.status, p.headers.allow]).toEqual([405, 'PATCH']);
    const nf = await raw(t.url, 'GET', '/no/such/route', auth());
    expect([nf.status, nf.body.code]).toEqual([404, 'LG_ERR_NOT_FOUND']);
  });

  it('11.7 text/plain (or any non-JSON body) answers 415 LG_ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await raw(t.url, 'POST', '/stations/WEIGH-1/scans', { ...auth(), 'content-type': type }, '{"data":"L-1001-A"}');
      expect([type, r.status, r.body.code]).toEqual([type, 415, 'LG_ERR_UNSUPPORTED_MEDIA_TYPE']);
      expect(isErrorShape(r.body)).toBe(true);
    }
    const json = await raw(t.url, 'POST', '/stations/WEIGH-1/scans', { ...auth(), 'content-type': 'application/json; charset=utf-8' }, '{"data":"L-1001-A"}');
    expect(json.status).toBe(201);
  });

  it('11.7 every error body is {code, message, details}', async () => {
    const answers = [
      await raw(t.url, 'GET', '/records'),
      await raw(t.url, 'GET', '/records', { authorization: 'Bearer nope' }),
      await raw(t.url, 'POST', '/batches', auth(), '{"product":'),
      await raw(t.url, 'POST', '/batches', auth(), '{}'),
      await raw(t.url, 'POST', '/batches', auth(), 'x'.repeat(2_000_000)),
      await raw(t.url, 'GET', '/records?limit=banana', auth()),
      await raw(t.url, 'GET', '/batches/NOPE', auth()),
      await raw(t.url, 'PATCH', '/health/ready', auth(), '{}'),
      await raw(t.url, 'GET', '/%', auth()),
    ];
    for (const a of answers) {
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(isErrorShape(a.body), JSON.stringify(a.body)).toBe(true);
    }
  });
});
