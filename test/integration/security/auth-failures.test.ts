import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/util/log.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/** Issue 11 item 2: failed authentication is logged, counted and limited per source (CR 1.11). */
describe('11.2 failed authentication', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  function capture(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, any>>; text: () => string } {
    const raw: string[] = [];
    const dest = new Writable({
      write(chunk, _enc, cb) {
        raw.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger({ level: 'info', destination: dest });
    return {
      logger,
      get lines() {
        return raw.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
      },
      text: () => raw.join(''),
    };
  }

  it('11.2 every wrong token is a log line with source and route (never the token), counted in health, and the source is limited with 429', async () => {
    const log = capture();
    t = await startTestGateway({ security: { failedAuthLimit: { maxFailures: 5, windowSeconds: 3 } } }, { logger: log.logger });
    const secret = 'not-a-real-token-0123456789abcdef';
    for (let i = 0; i < 5; i++) {
      const r = await t.call('GET', '/records?limit=1', undefined, `${secret}-${i}`);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('LG_ERR_AUTH_INVALID');
    }
    const failures = await waitFor(() => {
      const l = log.lines.filter((x) => x.msg === 'authentication failed');
      return l.length === 5 ? l : null;
    }, 10_000, 25, 'five log lines');
    for (const l of failures) {
      expect(l).toMatchObject({ level: 'warn', source: '127.0.0.1', method: 'GET', route: '/records', code: 'LG_ERR_AUTH_INVALID' });
    }
    expect(log.text()).not.toContain(secret);

    // Over the limit: 429 with Retry-After — also for a valid token, so the answer tells nothing.
    const limited = await fetch(`${t.url}/records?limit=1`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ code: 'LG_ERR_AUTH_LIMITED', details: { source: '127.0.0.1' } });
    expect((await t.call('GET', '/records?limit=1', undefined, 'another-guess')).status).toBe(429);
    // Public routes without a token still answer (monitoring is not locked out).
    expect((await t.call('GET', '/health/ready', undefined, null)).status).toBe(200);

    // The window passes: the valid token works again, and health shows the counters.
    await waitFor(async () => (await t!.call('GET', '/records?limit=1')).status === 200, 15_000, 200, 'limit lifted');
    const h = await t.call('GET', '/health/ready');
    expect(h.body.subsystems.auth).toMatchObject({ failures: 5, limit: { maxFailures: 5, windowSeconds: 3 } });
    expect(h.body.subsystems.auth.limited).toBeGreaterThanOrEqual(2);
    expect(log.lines.some((x) => x.code === 'LG_ERR_AUTH_LIMITED' && x.source === '127.0.0.1')).toBe(true);
  }, 60_000);

  it('11.2 a missing token is refused but not counted; a malformed Authorization header is counted', async () => {
    t = await startTestGateway({ security: { failedAuthLimit: { maxFailures: 3, windowSeconds: 60 } } });
    for (let i = 0; i < 5; i++) expect((await t.call('GET', '/records', undefined, null)).body.code).toBe('LG_ERR_AUTH_REQUIRED');
    expect((await t.call('GET', '/records')).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${t.url}/records`, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
      expect(r.status).toBe(401);
    }
    expect((await t.call('GET', '/records')).status).toBe(429);
  });
});
