import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { applyRetention } from '../../../src/upstream/retention.js';
import { startTestGateway, seedReferenceLine, consumeReferenceBom, acknowledgeAllExceptions, closeAllDeviations, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';

/**
 * Issue 10.8 through the running gateway: every record delivered to the ERP over HTTP, then the
 * gateway's own retention config applied at later dates. The released batch's record stays for
 * 5 years past its expiry; telemetry and records of no batch go after deliveredDays.
 */
describe('retention keeps the batch record', () => {
  let erp: ErpSimulator;
  let t: TestGateway;
  let batch: string;
  let open: string;
  let releaseRecord: any;
  let overrideRecord: any;
  const DAY = 86_400_000;

  beforeAll(async () => {
    erp = new ErpSimulator({ port: 0 });
    await erp.start();
    t = await startTestGateway({ upstream: { sinks: [{ id: 'erp', kind: 'http', url: erp.url, batch: { maxRecords: 50, lingerMs: 5 } }], retention: { deliveredDays: 1 } } });
    ({ batch } = await seedReferenceLine(t));
    const user = async (id: string, role: string) => (await t.call('POST', '/users', { id, name: id, role })).body.token as string;
    const sup = await user('sup1', 'supervisor');
    const qa = await user('qa1', 'qa');
    await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' });
    await t.call('PUT', '/stations/WEIGH-1/context', { batch });
    const refused = await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-HOLD' });
    overrideRecord = (await t.call('POST', `/records/${refused.body.record.id}/override`, { reason: 'administrative hold' }, sup)).body;
    await consumeReferenceBom(t, batch);
    // A repeated scan within the duplicate window: telemetry.
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A', device: 'dup-scanner' });
    await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A', device: 'dup-scanner' });
    await t.call('POST', `/batches/${batch}/production`, { good: '1000', reason: 'counted' }, sup);
    expect((await t.call('POST', `/batches/${batch}/transitions`, { to: 'completed' })).status).toBe(200);
    // The finished goods lot it made, expiring mid-2030: the batch's expiry.
    expect((await t.call('POST', '/lots', { id: 'FG-1', material: 'RM-1010', expiry: '2030-06-30', status: 'released', quantity: '1000', producedBy: batch })).status).toBe(201);
    await t.call('POST', `/batches/${batch}/overrides/${overrideRecord.id}/review`, { comment: 'reviewed' }, qa);
    expect((await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, qa)).status).toBe(200);
    await closeAllDeviations(t, batch, { token: qa, userId: 'qa1', secret: '482915' });
    await acknowledgeAllExceptions(t, batch, qa);
    const rel = await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'reviewed', signature: { userId: 'qa1', secret: '482915', meaning: 'released' } }, qa);
    expect(rel.status, JSON.stringify(rel.body)).toBe(200);
    releaseRecord = rel.body.record;
    // A second batch still open.
    open = (await t.call('POST', '/batches', { product: 'GADGET-B', plannedQty: '10', unit: 'pcs', bom: [] })).body.number;
    await t.call('POST', `/batches/${open}/transitions`, { to: 'in_process' });
    await waitFor(() => (t.gw.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE state <> 'delivered'`).get() as { n: number }).n === 0, 30_000, 50, 'all delivered to the ERP');
  }, 90_000);
  afterAll(async () => {
    await t?.stop();
    await erp?.close();
  });

  const has = (id: string) => !!t.gw.db.prepare('SELECT 1 FROM records WHERE id = ?').get(id);
  const types = (b: string) => (t.gw.db.prepare('SELECT type FROM records WHERE batch = ? ORDER BY seq').all(b) as Array<{ type: string }>).map((r) => r.type);
  const purgeAt = (iso: string | number) => applyRetention(t.gw.db, t.gw.cfg.upstream.retention, new Date(iso));

  it('10.8 delivered records of a released batch (release signature, override, review, consumptions, status changes) are kept past deliveredDays; telemetry and batch-less records go', async () => {
    const before = types(batch);
    expect(before).toEqual(expect.arrayContaining(['batch.status_changed', 'lot.scanned', 'lot.override', 'lot.override_reviewed', 'material.consumed', 'batch.production_entered', 'scan.duplicate']));
    const materialCreated = (t.gw.db.prepare(`SELECT id FROM records WHERE type = 'material.created' LIMIT 1`).get() as { id: string }).id;
    const purged = purgeAt(Date.now() + 3 * DAY);
    expect(purged).toBeGreaterThan(0);
    expect(has(releaseRecord.id)).toBe(true);
    expect(has(overrideRecord.id)).toBe(true);
    expect((t.gw.db.prepare('SELECT payload FROM records WHERE id = ?').get(releaseRecord.id) as { payload: string }).payload).toContain('"meaning":"released"');
    expect(types(batch)).toEqual(before.filter((x) => x !== 'scan.duplicate'));
    expect(has(materialCreated)).toBe(false); // master data: no batch, no lot (its audit entry stays)
    // The lot the batch made, and the lots it consumed, keep their records too.
    expect(t.gw.db.prepare(`SELECT 1 FROM records WHERE lot = 'FG-1' AND type = 'lot.created'`).get()).toBeTruthy();
    expect(t.gw.db.prepare(`SELECT 1 FROM records WHERE lot = 'L-1001-A' AND type = 'lot.created'`).get()).toBeTruthy();
  });

  it('10.8 the batch record is kept until 5 years past the batch\'s expiry (2030-06-30), then only genealogy-linked records remain; an open batch is kept', async () => {
    purgeAt('2035-06-30T12:00:00Z');
    expect(has(releaseRecord.id)).toBe(true);
    purgeAt('2035-07-02T00:00:00Z');
    expect(has(releaseRecord.id)).toBe(false);
    expect(has(overrideRecord.id)).toBe(false);
    // consumptions point at their records (the genealogy): kept for as long as the link exists
    // consumptions (genealogy) and the signatures (their append-only index points at them) stay
    expect(types(batch)).toEqual(['material.consumed', 'material.consumed', 'signature.applied', 'signature.applied']);
    expect(types(open)).toContain('batch.status_changed'); // not released: no horizon yet
    purgeAt('2199-01-01T00:00:00Z');
    expect(types(open)).toContain('batch.status_changed');
  });
});
