import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, seedReferenceLine, acknowledgeAllExceptions, type TestGateway } from '../../helpers/gateway.js';

describe('gateway core over HTTP', () => {
  let t: TestGateway;
  let batch: string;
  beforeAll(async () => {
    t = await startTestGateway();
    ({ batch } = await seedReferenceLine(t));
  });
  afterAll(async () => t?.stop());

  it('is ready and lists its subsystems', async () => {
    const r = await t.call('GET', '/health/ready', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.subsystems.journal.state).toBe('online');
    expect((await t.call('GET', '/health/live', undefined, null)).status).toBe(200);
  });

  it('numbers the work order batch YYYYMMDD-### in the site time zone', () => {
    expect(batch).toMatch(/^\d{8}-\d{3}$/);
  });

  it('records a scan at a station without an active batch as rejected LG_ERR_NO_ACTIVE_BATCH', async () => {
    const r = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' });
    expect(r.status).toBe(201);
    expect(r.body.record.status).toBe('rejected');
    expect(r.body.record.errorCode).toBe('LG_ERR_NO_ACTIVE_BATCH');
    const q = await t.call('GET', `/records?station=WEIGH-1&status=rejected`);
    expect(q.body.items.map((x: any) => x.id)).toContain(r.body.record.id);
  });

  it('binds a scan to the active batch once the batch is selected, and makes the lot active', async () => {
    const sel = await t.call('POST', '/stations/WEIGH-1/scans', { data: batch });
    expect(sel.body.record).toMatchObject({ type: 'batch.selected', status: 'accepted', batch });
    const r = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' });
    expect(r.body.record).toMatchObject({ type: 'lot.scanned', status: 'accepted', batch, lot: 'L-1001-A' });
    const ctx = await t.call('GET', '/stations/WEIGH-1');
    expect(ctx.body).toMatchObject({ batch, lots: { 'RM-1001': 'L-1001-A' } });
    const q = await t.call('GET', `/records?batch=${batch}&type=lot.scanned`);
    expect(q.body.items.some((x: any) => x.id === r.body.record.id)).toBe(true);
  });

  it('refuses wrong, expired, held and quarantined lots at the scan with their codes', async () => {
    const codes: Record<string, string> = {
      'L-1010-A': 'LG_ERR_MATERIAL_NOT_IN_BOM',
      'L-1001-EXP': 'LG_ERR_LOT_EXPIRED',
      'L-1001-HOLD': 'LG_ERR_LOT_ON_HOLD',
      'L-1001-Q': 'LG_ERR_LOT_QUARANTINED',
      'NO-SUCH-THING': 'LG_ERR_SCAN_UNRECOGNISED',
    };
    for (const [data, code] of Object.entries(codes)) {
      const r = await t.call('POST', '/stations/WEIGH-1/scans', { data });
      expect(r.body.record.errorCode, data).toBe(code);
    }
    // the active lot did not change
    expect((await t.call('GET', '/stations/WEIGH-1')).body.lots).toEqual({ 'RM-1001': 'L-1001-A' });
  });

  it('understands a GS1-128 lot label: GTIN → material, AI 10 → supplier lot, AI 17 expiry', async () => {
    const GS = '\u001d';
    const ok = await t.call('POST', '/stations/WEIGH-1/scans', { data: `]C10109506000134369` + `10ACME-77${GS}17451231` });
    expect(ok.body.record).toMatchObject({ status: 'accepted', lot: 'L-1001-A' });
    const expired = await t.call('POST', '/stations/WEIGH-1/scans', { data: `]C1010950600013436917200131` + `10ACME-12` });
    expect(expired.body.record.errorCode).toBe('LG_ERR_LOT_EXPIRED');
    const badCheck = await t.call('POST', '/stations/WEIGH-1/scans', { data: `]C101095060001343681099ACME-77` });
    expect(badCheck.body.record.errorCode).toBe('LG_ERR_GS1_CHECK_DIGIT');
  });

  it('lets a supervisor override one refusal, recorded with reason and audit entry', async () => {
    const refused = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' });
    expect(refused.body.record.errorCode).toBe('LG_ERR_LOT_ON_HOLD');
    const op = await t.call('POST', '/users', { id: 'op1', name: 'Olga Operator', role: 'operator', badge: 'EMP-0001' });
    const sup = await t.call('POST', '/users', { id: 'sup1', name: 'Sam Supervisor', role: 'supervisor' });
    // an operator alone may not override
    const denied = await t.call('POST', `/records/${refused.body.record.id}/override`, { reason: 'checked' }, op.body.token);
    expect(denied.body.code).toBe('LG_ERR_FORBIDDEN');
    // the supervisor signs at the operator's station with their own token
    const r = await t.call('POST', `/records/${refused.body.record.id}/override`, { reason: 'QA confirmed hold is administrative', supervisorToken: sup.body.token }, op.body.token);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ type: 'lot.override', status: 'accepted', lot: 'L-1001-HOLD' });
    expect(r.body.payload).toMatchObject({ overrides: refused.body.record.id, by: 'sup1', reason: 'QA confirmed hold is administrative' });
    expect((await t.call('GET', '/stations/WEIGH-1')).body.lots['RM-1001']).toBe('L-1001-HOLD');
    const audit = await t.call('GET', `/audit?entity=record&entityId=${refused.body.record.id}`);
    expect(audit.body.items[0]).toMatchObject({ actor: 'sup1', action: 'scan.overridden' });
    const again = await t.call('POST', `/records/${refused.body.record.id}/override`, { reason: 'twice' });
    expect(again.body.code).toBe('LG_ERR_OVERRIDE_INVALID');
  });

  it('signs an operator in by badge and adds them to the batch personnel', async () => {
    const r = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'EMP-0001' });
    expect(r.body.record).toMatchObject({ type: 'operator.signed_in', operator: 'op1', status: 'accepted' });
    expect((await t.call('GET', `/batches/${batch}`)).body.personnel).toContain('op1');
    expect((await t.call('POST', '/stations/WEIGH-1/scans', { data: 'EMP-9999' })).body.record.errorCode).toBe('LG_ERR_UNKNOWN_BADGE');
  });

  it('moves a batch through its lifecycle with who, when and why, refusing invalid moves', async () => {
    const { body } = await t.call('POST', '/batches', { product: 'GADGET-B', plannedQty: '10', unit: 'pcs', bom: [] });
    const n = body.number;
    const bad = await t.call('POST', `/batches/${n}/transitions`, { to: 'completed' });
    expect(bad.status).toBe(409);
    expect(bad.body.code).toBe('LG_ERR_BATCH_INVALID_TRANSITION');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'in_process' })).status).toBe(200);
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'on_hold' })).body.code).toBe('LG_ERR_REASON_REQUIRED');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'on_hold', reason: 'QC hold' })).body.batch.status).toBe('on_hold');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'completed' })).body.code).toBe('LG_ERR_BATCH_INVALID_TRANSITION');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'in_process', reason: 'QC cleared' })).body.batch.status).toBe('in_process');
    // completion checks (10.6): no machine on this line, so the produced quantity is entered
    expect((await t.call('POST', `/batches/${n}/production`, { good: '10', reason: 'counted by hand' })).status).toBe(201);
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'completed' })).body.batch.status).toBe('completed');
    // release is QA's signature alone — not even admin
    const qa = await t.call('POST', '/users', { id: 'qa1', name: 'Quinn QA', role: 'qa' });
    expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, qa.body.token)).status).toBe(200);
    const qaSig = { userId: 'qa1', secret: '482915', meaning: 'released' };
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'ok', signature: qaSig })).body.code).toBe('LG_ERR_FORBIDDEN');
    expect((await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'batch record reviewed' }, qa.body.token)).body.code).toBe('LG_ERR_SIGNATURE_REQUIRED');
    await acknowledgeAllExceptions(t, n, qa.body.token);
    const rel = await t.call('POST', `/batches/${n}/transitions`, { to: 'released', reason: 'batch record reviewed', signature: qaSig }, qa.body.token);
    expect(rel.body.batch.status).toBe('released');
    expect(rel.body.record.payload.signature).toMatchObject({ by: 'qa1', name: 'Quinn QA', role: 'qa', meaning: 'released' });
    const history = await t.call('GET', `/records?batch=${n}&type=batch.status_changed`);
    expect(history.body.items.map((r: any) => r.payload.to)).toEqual(['in_process', 'on_hold', 'in_process', 'completed', 'released']);
    expect(history.body.items.every((r: any) => r.payload.by && r.payload.reason && r.receivedAt)).toBe(true);
  });

  it('answers bad input with the right status and a stable code, writing nothing', async () => {
    const before = (await t.call('GET', '/records?order=desc&limit=1')).body.items[0].seq;
    const cases: Array<[string, string, unknown, string | null, number, string]> = [
      ['POST', '/batches', '{"product": ', t.adminToken, 400, 'LG_ERR_BAD_JSON'],
      ['POST', '/batches', { product: 'X', plannedQty: '1', unit: 'pcs', bom: [], colour: 'red' }, t.adminToken, 400, 'LG_ERR_VALIDATION'],
      ['POST', '/batches', { product: 'X', plannedQty: 12, unit: 'pcs', bom: [] }, t.adminToken, 400, 'LG_ERR_VALIDATION'],
      ['POST', '/stations/NOPE/scans', { data: 'x' }, t.adminToken, 404, 'LG_ERR_STATION_NOT_FOUND'],
      ['GET', '/batches/19990101-001', undefined, t.adminToken, 404, 'LG_ERR_BATCH_NOT_FOUND'],
      ['GET', '/lots/NOPE', undefined, t.adminToken, 404, 'LG_ERR_LOT_NOT_FOUND'],
      ['GET', '/records', undefined, null, 401, 'LG_ERR_AUTH_REQUIRED'],
      ['GET', '/records', undefined, 'lgt_wrong', 401, 'LG_ERR_AUTH_INVALID'],
      ['GET', '/nowhere', undefined, t.adminToken, 404, 'LG_ERR_NOT_FOUND'],
      ['POST', '/stations/WEIGH-1/scans', { data: 'x'.repeat(300_000) }, t.adminToken, 413, 'LG_ERR_BODY_TOO_LARGE'],
    ];
    for (const [method, path, body, token, status, code] of cases) {
      const r = await t.call(method, path, body, token);
      expect([path, r.status, r.body.code]).toEqual([path, status, code]);
    }
    const op = await t.call('POST', '/users', { id: 'op2', name: 'Op Two', role: 'operator' });
    const forbidden = await t.call('POST', '/batches', { product: 'X', plannedQty: '1', unit: 'pcs', bom: [] }, op.body.token);
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'LG_ERR_FORBIDDEN']);
    // nothing was written by any of them (users are not records)
    expect((await t.call('GET', '/records?order=desc&limit=1')).body.items[0].seq).toBe(before);
    expect((await t.call('GET', '/health/ready', undefined, null)).status).toBe(200);
  });

  it('pages records by sequence cursor and filters by type prefix and time', async () => {
    const p1 = await t.call('GET', '/records?limit=3');
    expect(p1.body.items).toHaveLength(3);
    const p2 = await t.call('GET', `/records?limit=3&after=${p1.body.next}`);
    expect(p2.body.items[0].seq).toBeGreaterThan(p1.body.items[2].seq);
    const lots = await t.call('GET', '/records?type=lot.*&limit=1000');
    expect(lots.body.items.length).toBeGreaterThan(0);
    expect(lots.body.items.every((r: any) => r.type.startsWith('lot.'))).toBe(true);
    const future = await t.call('GET', `/records?from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`);
    expect(future.body.items).toEqual([]);
  });

  it('streams every verdict of a station over Server-Sent Events as it commits', async () => {
    const ac = new AbortController();
    const res = await fetch(`${t.url}/stations/WEIGH-1/events`, { headers: { authorization: `Bearer ${t.adminToken}` }, signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('event: context');
    const posted = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-EXP' });
    await readUntil(posted.body.record.id);
    const line = text.split('\n').find((l) => l.startsWith('data:') && l.includes(posted.body.record.id))!;
    expect(JSON.parse(line.slice(5))).toMatchObject({ accepted: false, code: 'LG_ERR_LOT_EXPIRED', lot: 'L-1001-EXP' });
    ac.abort();
  });

  it('serves an OpenAPI document', async () => {
    const r = await t.call('GET', '/openapi.json', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/batches', '/records', '/stations/{id}/scans', '/lots/{id}']));
  });

  it('verifies its audit trail over the API', async () => {
    const r = await t.call('GET', '/audit/verify');
    expect(r.body.ok).toBe(true);
    expect(r.body.checked).toBeGreaterThan(10);
  });
});
