import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';

/**
 * Nothing a device says is dropped and nothing crashes the daemon: random bytes (with GS, AIM
 * prefixes and GS1-looking digits mixed in) posted as scans always come back as ONE durable record,
 * accepted or rejected with a stable code, and the gateway stays ready.
 */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ stations: [{ id: 'WEIGH-1', role: 'weighing', policies: { duplicateWindowMs: 0 } }] });
  const { batch } = await seedReferenceLine(t);
  await t.call('PUT', '/stations/WEIGH-1/context', { batch });
});
afterAll(async () => t?.stop());

const piece = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.constantFrom(']C1', ']d2', ']Q3', ']e0', ']E0', '\x1d', '01', '0109506000134369', '10', '17', '3103', '00', '(01)', 'https://id.gs1.org/01/', 'EMP-', 'L-1001-A').map((s) => Buffer.from(s, 'latin1')),
  fc.stringMatching(/^[0-9]{1,20}$/).map((s) => Buffer.from(s)),
);

it('every random scan becomes exactly one record with a known code; the daemon stays up', async () => {
  const { ERRORS } = await import('../../../src/errors.js');
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), async (parts) => {
      const raw = Buffer.concat(parts.map((p) => Buffer.from(p)));
      if (raw.length === 0) return;
      const before = (await t.call('GET', '/records?order=desc&limit=1')).body.items[0].seq;
      const r = await t.call('POST', '/stations/WEIGH-1/scans', { data: raw.toString('base64'), encoding: 'base64' });
      expect(r.status).toBe(201);
      const rec = r.body.record;
      expect(['accepted', 'rejected']).toContain(rec.status);
      if (rec.status === 'rejected') expect(Object.keys(ERRORS)).toContain(rec.errorCode);
      const after = await t.call('GET', `/records?after=${before}`);
      // One record per scan (a lot scan may add nothing else; station context is state, not records).
      expect(after.body.items.map((x: any) => x.id)).toEqual([rec.id]);
      expect(after.body.items[0].payload.rawHex).toBe(raw.subarray(0, 4096).toString('hex'));
    }),
    { numRuns: 150 },
  );
  expect((await t.call('GET', '/health/ready', undefined, null)).status).toBe(200);
}, 120_000);
