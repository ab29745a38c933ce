/**
 * The direct hand-over of a label to an idle printer worker (issue 18: trigger → printer latency
 * under load). The job is committed as `sending` in the label's own transaction and the worker asks
 * `~HS` meanwhile. What must still hold: bytes only after that commit and a ready answer; print
 * order is queue order; a job that was not written goes back to `queued` (never left in `sending`,
 * which a restart would turn into needs_confirmation).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/net.js';
import type { PrintJobView } from '../../../src/labels/queue.js';
import { caseFields, jobIdsOf, recordTypes, rig, type Rig } from './harness.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
const label = (rig: Rig, extra: Record<string, string> = {}) =>
  rig.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields(extra), batch: '20261122-001' });

describe('direct hand-over to an idle printer', () => {
  it('an idle printer gets the job committed as sending with its label, printed once after ~HS', async () => {
    r = await rig();
    const seen: PrintJobView[] = [];
    r.svc.on('job', (j: PrintJobView) => seen.push(j));
    const q = await label(r);
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'confirmed', 10_000, 10, 'confirmed');
    const states = seen.filter((j) => j.id === q.jobId).map((j) => j.state);
    expect(states[0]).toBe('sending');
    expect(states).not.toContain('queued');
    expect(r.svc.getJob(q.jobId)!.attempts).toBe(1);
    // ~HS was asked before the format: the printer saw a status query, then our job.
    const first = r.sim.commands.findIndex((c) => c.command === '~HS');
    const format = r.sim.commands.findIndex((c) => c.command === '^XA');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(format);
    await sleep(100);
    expect(r.sim.jobs).toHaveLength(1);
    expect(jobIdsOf(r.sim.jobs[0]!.zpl).jobId).toBe(q.jobId);
    expect(recordTypes(r.db)).toEqual({ 'label.queued': 1, 'label.sent': 1, 'label.printed': 1 });
  });

  it('a printer that is not ready: the claimed job goes back to queued (attempts 0) and prints once when ready', async () => {
    r = await rig({ sim: { state: 'paper_out' } });
    const q = await label(r);
    await waitFor(() => r!.svc.getJob(q.jobId)?.statusText?.startsWith('held') === true, 10_000, 10, 'held');
    expect(r.svc.getJob(q.jobId)).toMatchObject({ state: 'queued', attempts: 0, errorCode: 'LG_ERR_PRINTER_PAPER_OUT' });
    expect(r.sim.jobs).toHaveLength(0);
    r.sim.setState('ok');
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'confirmed', 10_000, 10, 'confirmed');
    expect(r.svc.getJob(q.jobId)!.attempts).toBe(1);
    await sleep(100);
    expect(r.sim.jobs).toHaveLength(1);
  });

  it('labels created in one turn print in queue order, each once', async () => {
    r = await rig();
    const qs = await Promise.all(Array.from({ length: 6 }, (_, i) => label(r!, { netWeight: `${i + 1}.00` })));
    await waitFor(() => qs.every((q) => r!.svc.getJob(q.jobId)?.state === 'confirmed'), 15_000, 10, 'all confirmed');
    await sleep(100);
    expect(r.sim.jobs.map((j) => jobIdsOf(j.zpl).jobId)).toEqual(qs.map((q) => q.jobId));
  });

  it('a job queued in the same transaction just before (a reprint) prints before the new label', async () => {
    r = await rig();
    const a = await label(r);
    await waitFor(() => r!.svc.getJob(a.jobId)?.state === 'confirmed', 10_000, 10, 'first confirmed');
    await waitFor(() => r!.svc.printerStatus('pack1.printer').queued === 0, 5000, 10, 'idle');
    await sleep(50);
    // Same turn: the reprint's transaction is submitted first, then the new label's (one group).
    const reprint = r.svc.reprint(a.jobId, { actor: 'op-anna', reason: 'label torn' });
    const b = label(r, { netWeight: '9.99' });
    const [re, bq] = await Promise.all([reprint, b]);
    await waitFor(() => [re.id, bq.jobId].every((id) => r!.svc.getJob(id)?.state === 'confirmed'), 15_000, 10, 'both confirmed');
    await sleep(100);
    expect(r.sim.jobs.slice(1).map((j) => jobIdsOf(j.zpl).jobId)).toEqual([re.id, bq.jobId]);
  });

  it('stopping before the bytes went out puts the job back to queued: after a restart it prints, no operator decision needed', async () => {
    r = await rig();
    const created = label(r);
    const stopping = r.svc.stop();
    const q = await created;
    await stopping;
    expect(r.svc.getJob(q.jobId)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(r.sim.jobs).toHaveLength(0);
    await r.restart();
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'confirmed', 10_000, 10, 'confirmed after restart');
    await sleep(100);
    expect(r.sim.jobs).toHaveLength(1);
    expect(recordTypes(r.db)['label.unconfirmed']).toBeUndefined();
  });
});
