/**
 * Issue 14: the batch record report's label reconciliation at a journal cut replays each print job's
 * state from its records (src/store/batch-asof.ts). Against the real label service and a real TCP
 * printer (simulator) — printed, connection lost mid-job then "not printed, reprint", reprint of a
 * printed label, cancelled while queued, cancelled while unconfirmed — the replay at the newest cut
 * equals the print_jobs table after every step, and a cut taken earlier keeps its answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.js';
import { jobStatesAt } from '../../../src/store/batch-asof.js';
import { labelReconciliation } from '../../../src/store/batch-review.js';
import { waitFor } from '../../helpers/net.js';
import { caseFields, rig, type Rig } from './harness.js';

const BATCH = '20261122-001';
let r: Rig | null = null;
afterEach(async () => {
  await r?.close();
  r = null;
});

const maxSeq = (db: Db): number => (db.prepare('SELECT MAX(seq) AS n FROM records').get() as { n: number }).n;
function table(db: Db): Record<string, { state: string; attempts: number }> {
  const rows = db.prepare(`SELECT j.id, j.state, j.attempts FROM print_jobs j JOIN labels l ON l.id = j.label_id WHERE l.batch = ?`).all(BATCH) as Array<{ id: string; state: string; attempts: number }>;
  return Object.fromEntries(rows.map((x) => [x.id, { state: x.state, attempts: x.attempts }]));
}
function replay(db: Db, seq = maxSeq(db)): Record<string, { state: string; attempts: number }> {
  return Object.fromEntries([...jobStatesAt(db, BATCH, { recordSeq: seq }).values()].map((j) => [j.id, { state: j.state, attempts: j.attempts }]));
}
/** The replay at the newest cut is the table, and so is the reconciliation. */
function same(db: Db, what: string): void {
  expect(replay(db), what).toEqual(table(db));
  expect(labelReconciliation(db, BATCH, { recordSeq: maxSeq(db) }), what).toEqual(labelReconciliation(db, BATCH));
}

describe('print job states replayed at a cut (issue 14)', () => {
  it('equal the print_jobs table after every step; an earlier cut keeps its answer', async () => {
    r = await rig();
    const fields = caseFields();
    const a = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields, batch: BATCH, lot: 'RM-1001-L7' });
    await waitFor(() => r!.svc.getJob(a.jobId)?.state === 'confirmed', 10_000, 10, 'A confirmed');
    same(r.db, 'printed');
    const cut1 = maxSeq(r.db);
    const at1 = labelReconciliation(r.db, BATCH, { recordSeq: cut1 });
    expect(at1).toMatchObject({ printed: 1, applied: 1, destroyed: 0, unaccounted: 0, open: 0, balanced: true });

    // connection lost mid-job: needs confirmation, then "not printed, reprint"
    r.sim.resetMidNextJob(60);
    const b = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields({ netWeight: '3.30' }), batch: BATCH, lot: 'RM-1001-L7' });
    await waitFor(() => r!.svc.getJob(b.jobId)?.state === 'needs_confirmation', 10_000, 10, 'B unconfirmed');
    same(r.db, 'unconfirmed');
    expect(labelReconciliation(r.db, BATCH, { recordSeq: maxSeq(r.db) })).toMatchObject({ open: 1, balanced: false });
    await r.svc.decide(b.jobId, 'reprint', { actor: 'op1', reason: 'no label came out' });
    await waitFor(() => r!.svc.listJobs({ state: 'confirmed' }).length === 2, 10_000, 10, 'B reprint confirmed');
    same(r.db, 'not printed, reprinted');
    expect(replay(r.db)[b.jobId]).toEqual({ state: 'failed', attempts: 1 });
    expect(labelReconciliation(r.db, BATCH)).toMatchObject({ unaccounted: 1, balanced: false });

    // a reprint of a printed label: the original stays printed, one more copy to destroy
    await r.svc.reprint(a.jobId, { actor: 'sup1', reason: 'smudged' });
    await waitFor(() => r!.svc.listJobs({ state: 'confirmed' }).length === 3, 10_000, 10, 'A reprint confirmed');
    same(r.db, 'reprint of a printed label');
    expect(replay(r.db)[a.jobId]!.state).toBe('confirmed');

    // cancelled while queued (the printer does not answer): no bytes went out
    r.sim.silent = true;
    const ignored = r.sim.statusIgnored;
    const c = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields({ netWeight: '3.40' }), batch: BATCH, lot: 'RM-1001-L7' });
    await waitFor(() => r!.sim.statusIgnored > ignored, 10_000, 10, 'status asked, not answered');
    // A label for an idle printer is handed over directly: its job is committed in `sending` while
    // `~HS` is asked, and goes back to `queued` when the printer does not answer (src/labels/queue.ts).
    await waitFor(() => r!.svc.getJob(c.jobId)?.state === 'queued', 20_000, 10, 'C back in the queue after the unanswered status');
    same(r.db, 'queued');
    await r.svc.cancel(c.jobId, { actor: 'op1', reason: 'wrong case' });
    same(r.db, 'cancelled while queued');
    expect(replay(r.db)[c.jobId]).toEqual({ state: 'failed', attempts: 0 });
    r.sim.silent = false;

    // cancelled while unconfirmed: bytes went out, outcome unknown
    r.sim.resetMidNextJob(60);
    const d = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields({ netWeight: '3.50' }), batch: BATCH, lot: 'RM-1001-L7' });
    await waitFor(() => r!.svc.getJob(d.jobId)?.state === 'needs_confirmation', 10_000, 10, 'D unconfirmed');
    await r.svc.cancel(d.jobId, { actor: 'op1', reason: 'case scrapped' });
    same(r.db, 'cancelled while unconfirmed');
    expect(labelReconciliation(r.db, BATCH)).toMatchObject({ unaccounted: 2 });

    // the first cut still answers what it answered then
    expect(labelReconciliation(r.db, BATCH, { recordSeq: cut1 })).toEqual(at1);
    expect(Object.keys(replay(r.db, cut1))).toEqual([a.jobId]);
  }, 60_000);
});
