/**
 * Issue 10.7: a print job was `confirmed` although the printer never received its label. The
 * queue asked ~HS after sending; when that answer was late (a slow printer, or a loaded host whose
 * timers fire before the socket is read) it dropped the job's connection, asked again on a NEW
 * connection and took "buffer empty" there for a confirmation — while the job's bytes were still
 * waiting in the old connection, or were lost when that connection was reset.
 *
 * The printer peer here is the simulator with `formatLatencyMs`: it stops reading a connection for
 * a while once a format begins (as a printer busy with a large format does) but serves other
 * connections at once — so a ~HS over another connection is answered before the format is counted.
 * Deterministic: the status timeout (100 ms) is far below the printer's latency (1.5 s).
 */
import { afterEach, expect, it } from 'vitest';
import { waitFor } from '../../helpers/net.js';
import type { PrintJobView } from '../../../src/labels/queue.js';
import { caseFields, jobIdsOf, recordTypes, rig, type Rig } from './harness.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const TIMING = { statusTimeoutMs: 100, pollIntervalMs: 10, confirmTimeoutMs: 10_000, connectTimeoutMs: 2000 };
const settled = (v: PrintJobView | undefined): boolean => !!v && !['queued', 'sending', 'sent'].includes(v.state);

it('10.7 a job is confirmed only after the printer took its format (a printer slower than the status timeout)', async () => {
  r = await rig({ sim: { formatLatencyMs: 1500 }, timing: TIMING });
  const rigRef = r;
  const received = new Set<string>();
  rigRef.sim.on('received', (zpl: string) => received.add(jobIdsOf(zpl).jobId));
  // What the printer had taken in at the moment each job was confirmed.
  const atConfirm = new Map<string, boolean>();
  rigRef.svc.on('job', (v: PrintJobView) => {
    if (v.state === 'confirmed' && !atConfirm.has(v.id)) atConfirm.set(v.id, received.has(v.id));
  });

  const q = await rigRef.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields(), batch: '20261122-001' });
  await waitFor(() => settled(rigRef.svc.getJob(q.jobId)), 20_000, 10, 'job settled');

  const v = rigRef.svc.getJob(q.jobId)!;
  expect(v.state).toBe('confirmed');
  expect(atConfirm.get(q.jobId), 'the printer had the format when the job was confirmed').toBe(true);
  expect(rigRef.sim.jobs.map((j) => jobIdsOf(j.zpl).jobId)).toEqual([q.jobId]);
  expect(recordTypes(rigRef.db)).toEqual({ 'label.queued': 1, 'label.sent': 1, 'label.printed': 1 });
}, 30_000);

it('10.7 a job whose connection is reset before the printer took the format is needs_confirmation, never confirmed', async () => {
  r = await rig({ sim: { formatLatencyMs: 1500 }, timing: TIMING });
  const rigRef = r;
  // The printer loses the connection part-way through the format, after the host's first ~HS timed out.
  rigRef.sim.resetMidNextJob(200);
  const q = await rigRef.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields(), batch: '20261122-001' });
  await waitFor(() => settled(rigRef.svc.getJob(q.jobId)), 20_000, 10, 'job settled');
  await waitFor(() => rigRef.sim.partialFormats === 1, 10_000, 10, 'the printer dropped the partial format');

  expect(rigRef.sim.jobs).toHaveLength(0); // no label came out
  expect(rigRef.svc.getJob(q.jobId)).toMatchObject({ state: 'needs_confirmation', errorCode: 'LG_ERR_PRINTER_CONNECTION_LOST' });
  expect(recordTypes(rigRef.db)).toEqual({ 'label.queued': 1, 'label.sent': 1, 'label.unconfirmed': 1 });
}, 30_000);

it('10.7 after a late ~HS answer the next job is confirmed by its own answer, not by the late one', async () => {
  // The first job's confirmation needed several ~HS (the printer was busy); the answers to the
  // others arrive late. The second job must not be confirmed by one of those.
  r = await rig({ sim: { formatLatencyMs: 600 }, timing: TIMING });
  const rigRef = r;
  const received = new Set<string>();
  rigRef.sim.on('received', (zpl: string) => received.add(jobIdsOf(zpl).jobId));
  const atConfirm = new Map<string, boolean>();
  rigRef.svc.on('job', (v: PrintJobView) => {
    if (v.state === 'confirmed' && !atConfirm.has(v.id)) atConfirm.set(v.id, received.has(v.id));
  });
  const a = await rigRef.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
  const b = await rigRef.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
  await waitFor(() => settled(rigRef.svc.getJob(a.jobId)) && settled(rigRef.svc.getJob(b.jobId)), 20_000, 10, 'both settled');
  for (const q of [a, b]) {
    expect(rigRef.svc.getJob(q.jobId)!.state).toBe('confirmed');
    expect(atConfirm.get(q.jobId), `job ${q.jobId} was in the printer when confirmed`).toBe(true);
  }
  expect(rigRef.sim.jobs.map((j) => jobIdsOf(j.zpl).jobId)).toEqual([a.jobId, b.jobId]);
}, 30_000);
