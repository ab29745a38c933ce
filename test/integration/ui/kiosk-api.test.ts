import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 12, the parts below the page: the kiosk credential's scope, the station stream's replay
 * by event id, idle sign-out — against a running gateway over HTTP.
 */
describe('station pages: kiosk credential, stream replay, idle sign-out', () => {
  let t: TestGateway;
  let batch: string;
  let kiosk: string;

  beforeAll(async () => {
    t = await startTestGateway({
      stations: [
        { id: 'WEIGH-1', role: 'weighing', ui: { idleSignOutSeconds: 0 } },
        { id: 'FILL-1', role: 'filling', ui: { idleSignOutSeconds: 1 } },
        { id: 'PACK-1', role: 'packing', ui: { idleSignOutSeconds: 3 } },
      ],
      // The walk below presents the kiosk credential to every user route: each is a failed
      // authentication from 127.0.0.1, which the default limit (10/min) would answer with 429.
      security: { failedAuthLimit: { maxFailures: 100_000, windowSeconds: 60 } },
    });
    ({ batch } = await seedReferenceLine(t));
    await t.call('POST', '/users', { id: 'op-ben', name: 'Ben', role: 'operator', badge: 'EMP-BEN' });
    const p = await t.call('POST', '/ui/api/pairings', { station: 'WEIGH-1' });
    expect(p.status).toBe(201);
    const r = await t.call('POST', '/ui/api/pair', { code: p.body.code }, null);
    expect(r.status).toBe(201);
    kiosk = r.body.token;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('the kiosk credential opens nothing but its own station\'s page routes: no other station, no user or admin route', async () => {
    const doc = (await t.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const fill = (path: string, station: string) => path.replace(/\{id\}/g, station).replace(/\{[^}]+\}/g, 'X-1');
    const own = /^\/ui\/api\/kiosk\/stations\/\{id\}\//;
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        for (const station of ['WEIGH-1', 'PACK-1']) {
          if (own.test(path) && station === 'WEIGH-1') continue; // its own routes: tested below
          const url = fill(path, station);
          const body = method === 'get' || method === 'delete' ? undefined : {};
          const withKiosk = await t.call(method.toUpperCase(), url, body, kiosk);
          checked++;
          if (withKiosk.status < 300) {
            // Only what anybody may call without a token (public) can answer 2xx.
            const anon = await t.call(method.toUpperCase(), url, body, null);
            expect(anon.status, `${method} ${url} answered ${withKiosk.status} to the kiosk and ${anon.status} without a token`).toBeLessThan(300);
          } else if (own.test(path)) {
            expect(withKiosk.body.code, `${method} ${url}`).toBe('LG_ERR_KIOSK_WRONG_STATION');
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    // Its own station's routes work.
    expect((await t.call('GET', '/ui/api/kiosk/stations/WEIGH-1/view', undefined, kiosk)).status).toBe(200);
    // A user token is not a kiosk credential either: known, but not allowed here (403).
    expect((await t.call('GET', '/ui/api/kiosk/stations/WEIGH-1/view')).body.code).toBe('LG_ERR_FORBIDDEN');
  });

  it('a scan posted at the panel is attributed to the operator signed in there, recorded with the panel as device', async () => {
    await t.call('PUT', '/stations/WEIGH-1/context', { batch, operator: 'op-ben' });
    const r = await t.call('POST', '/ui/api/kiosk/stations/WEIGH-1/scans', { data: 'L-1001-A' }, kiosk);
    expect(r.status).toBe(201);
    expect(r.body.record).toMatchObject({ type: 'lot.scanned', accepted: true, operator: 'op-ben', lot: 'L-1001-A' });
    expect(r.body.record.device).toMatch(/^kiosk-.+:wedge$/);
    // The lot activation (an effect) is audited under the operator, not the panel or the admin.
    const audit = await t.call('GET', '/audit?entity=station&entityId=WEIGH-1&limit=1000');
    expect(audit.body.items.at(-1)).toMatchObject({ actor: 'op-ben' });
  });

  it('Last-Event-ID: the station stream replays the station\'s records committed after that id, once, then goes live', async () => {
    const first = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' })).body.record;
    const missed = [(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-Q' })).body.record, (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-EXP' })).body.record];
    // A record of another station in between must not be replayed here.
    await t.call('POST', '/stations/PACK-1/scans', { data: 'L-1001-A' });
    const ctrl = new AbortController();
    const res = await fetch(`${t.url}/stations/WEIGH-1/events`, { headers: { authorization: `Bearer ${t.adminToken}`, 'last-event-id': String(first.seq) }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const events = (): Array<{ id: number | null; event: string; data: any }> =>
      text
        .split('\n\n')
        .filter((b) => b.includes('data:'))
        .map((b) => {
          const get = (f: string) => b.split('\n').find((l) => l.startsWith(f + ':'))?.slice(f.length + 1).trim();
          return { id: get('id') ? Number(get('id')) : null, event: get('event') ?? 'message', data: JSON.parse(get('data')!) };
        });
    const readUntil = async (pred: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!pred() && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    };
    await readUntil(() => events().filter((e) => e.event === 'record').length >= 2);
    const replayed = events().filter((e) => e.event === 'record');
    expect(replayed.map((e) => e.id)).toEqual(missed.map((m) => m.seq));
    expect(replayed.every((e) => e.data.replayed === true && e.data.station === 'WEIGH-1')).toBe(true);
    const live = (await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1010-A' })).body.record;
    await readUntil(() => events().filter((e) => e.event === 'record').length >= 3);
    const recs = events().filter((e) => e.event === 'record');
    expect(recs.map((e) => e.id)).toEqual([...missed.map((m) => m.seq), live.seq]);
    expect(recs[2]!.data.replayed).toBeUndefined();
    ctrl.abort();
  });

  it('idle sign-out: after the station\'s idle time the operator is signed out by the system, with the reason', async () => {
    const r = await t.call('PUT', '/stations/FILL-1/context', { operator: 'op-ben' });
    expect(r.status).toBe(200);
    const out = await waitFor(async () => (await t.call('GET', '/records?station=FILL-1&type=operator.signed_out')).body.items[0] ?? null, 15_000, 100, 'idle sign-out');
    expect(out).toMatchObject({ operator: 'op-ben', status: 'accepted' });
    expect(out.payload).toMatchObject({ by: 'system' });
    expect(out.payload.reason).toMatch(/idle/);
    expect((await t.call('GET', '/stations/FILL-1')).body.operator).toBeNull();
    // WEIGH-1 has idle sign-out off (0): Ben stays signed in there.
    expect((await t.call('GET', '/stations/WEIGH-1')).body.operator).toBe('op-ben');
  });

  it('idle sign-out counts activity: scans at the station keep the operator signed in; silence signs out', async () => {
    await t.call('PUT', '/stations/PACK-1/context', { operator: 'op-ben' });
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      await t.call('POST', '/stations/PACK-1/scans', { data: 'L-1001-A' });
      await new Promise((r) => setTimeout(r, 300));
    }
    // 4 s of scans with a 3 s idle time: still signed in.
    expect((await t.call('GET', '/stations/PACK-1')).body.operator).toBe('op-ben');
    expect((await t.call('GET', '/records?station=PACK-1&type=operator.signed_out')).body.items).toEqual([]);
    await waitFor(async () => (await t.call('GET', '/stations/PACK-1')).body.operator === null, 15_000, 100, 'signed out after silence');
  });

  it('a revoked panel is refused at once; pairing codes are single-use and admin-only', async () => {
    expect((await t.call('POST', '/ui/api/pairings', { station: 'PACK-1' }, kiosk)).status).toBe(401);
    const op = await t.call('POST', '/users', { id: 'op-cid', name: 'Cid', role: 'operator' });
    expect((await t.call('POST', '/ui/api/pairings', { station: 'PACK-1' }, op.body.token)).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('POST', '/ui/api/pair', { code: 'ZZZZZZZZ' }, null)).body.code).toBe('LG_ERR_KIOSK_PAIRING_INVALID');
    const list = (await t.call('GET', '/ui/api/kiosks')).body.items as Array<{ id: string }>;
    const del = await t.call('DELETE', `/ui/api/kiosks/${list[0]!.id}`);
    expect(del.body.revokedAt).not.toBeNull();
    expect((await t.call('GET', '/ui/api/kiosk/stations/WEIGH-1/view', undefined, kiosk)).body.code).toBe('LG_ERR_AUTH_INVALID');
    const audit = await t.call('GET', `/audit?entity=kiosk&entityId=${list[0]!.id}`);
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['kiosk.paired', 'kiosk.revoked']);
  });
});
