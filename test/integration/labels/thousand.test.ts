/**
 * 1,000 labels through one printer that misbehaves at random (faults, silence, resets mid-job and
 * right after printing, dropped and refused connections). Counted at the simulator: every label is
 * printed exactly once or awaits an operator's confirmation — none lost, none duplicated. Then the
 * operator resolves each open job the way the floor would (printed if it came out, else reprint)
 * and every label has been printed exactly once.
 */
import { afterAll, expect, it } from 'vitest';
import { waitFor } from '../../helpers/net.js';
import type { SimState } from '../../../simulators/printer/printer-sim.js';
import { caseFields, jobIdsOf, rig, states, type Rig } from './harness.js';
import { mulberry32 } from '../../../src/util/random.js';

let r: Rig | undefined;
afterAll(async () => {
  await r?.close();
});


it('1,000 jobs with random printer faults: each printed exactly once or awaiting confirmation', async () => {
  const seed = Number(process.env.LG_LABELS_SEED ?? 20261122);
  const rnd = mulberry32(seed);
  r = await rig({ timing: { confirmTimeoutMs: 250, statusTimeoutMs: 80, pollIntervalMs: 5, retryMaxMs: 40, connectTimeoutMs: 300 } });
  const rigRef = r;
  const N = 1000;
  const jobs: Array<{ labelId: string; jobId: string }> = [];
  const faults: Record<string, number> = {};
  const count = (k: string): void => void (faults[k] = (faults[k] ?? 0) + 1);

  let chaos = true;
  const chaosLoop = (async () => {
    const faultStates: SimState[] = ['paper_out', 'head_open', 'paused', 'buffer_full', 'ribbon_out'];
    while (chaos) {
      await new Promise((res) => setTimeout(res, 3 + Math.floor(rnd() * 20)));
      if (!chaos) break;
      const x = rnd();
      const sim = rigRef.sim;
      if (x < 0.45) {
        sim.setState('ok');
        sim.silent = false;
        sim.refuse = false;
      } else if (x < 0.6) {
        const s = faultStates[Math.floor(rnd() * faultStates.length)]!;
        sim.setState(s);
        count(s);
      } else if (x < 0.68) {
        sim.silent = !sim.silent;
        count('silent');
      } else if (x < 0.78) {
        sim.resetMidNextJob(10 + Math.floor(rnd() * 600));
        count('resetMid');
      } else if (x < 0.86) {
        sim.resetAfterNextJob();
        count('resetAfter');
      } else if (x < 0.93) {
        sim.dropConnections();
        count('drop');
      } else {
        sim.refuse = true;
        count('refuse');
      }
    }
  })();

  for (let i = 0; i < N; i += 100) {
    const made = await Promise.all(
      Array.from({ length: Math.min(100, N - i) }, () => rigRef.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields(), batch: '20261122-001' })),
    );
    jobs.push(...made.map((m) => ({ labelId: m.labelId, jobId: m.jobId })));
  }
  await waitFor(() => (states(rigRef.db).queued ?? 0) === 0, 100_000, 50, 'queue drained under chaos');
  chaos = false;
  await chaosLoop;
  r.sim.clearFaults();
  await waitFor(() => {
    const s = states(rigRef.db);
    return !s.queued && !s.sending && !s.sent;
  }, 30_000, 20, 'every job settled');
  // let anything still in the printer's buffer come out
  await waitFor(() => rigRef.sim.hostStatus().formatsInBuffer === 0, 5000, 10, 'printer buffer empty');

  const printedByJob = new Map<string, number>();
  const printedByLabel = new Map<string, number>();
  for (const j of r.sim.jobs) {
    const ids = jobIdsOf(j.zpl);
    printedByJob.set(ids.jobId, (printedByJob.get(ids.jobId) ?? 0) + 1);
    printedByLabel.set(ids.labelId, (printedByLabel.get(ids.labelId) ?? 0) + 1);
  }
  const s = states(r.db);
  expect((s.confirmed ?? 0) + (s.needs_confirmation ?? 0)).toBe(N); // none lost, none stuck
  expect(r.sim.jobs.length).toBeLessThanOrEqual(N);
  let open = 0;
  for (const { labelId, jobId } of jobs) {
    const v = r.svc.getJob(jobId)!;
    const printed = printedByLabel.get(labelId) ?? 0;
    if (v.state === 'confirmed') expect(printed, `label ${labelId}`).toBe(1);
    else {
      expect(v.state).toBe('needs_confirmation');
      expect(printed).toBeLessThanOrEqual(1);
      open++;
    }
  }
  expect([...printedByJob.values()].every((n) => n === 1)).toBe(true);
  // the chaos must actually have happened, or this test proves nothing
  expect(open).toBeGreaterThan(0);
  expect(r.sim.partialFormats).toBeGreaterThan(0);
  expect(Object.keys(faults).length).toBeGreaterThanOrEqual(6);

  // The operator resolves every open job: printed if the label came out, reprint otherwise. A
  // reprint can itself end in needs_confirmation (on a loaded host the 250 ms confirm timeout can
  // pass before the printer's answer is read): the operator resolves those too, as the floor would.
  let decisions = 0;
  for (let round = 0; ; round++) {
    const printedNow = new Map<string, number>();
    for (const j of r.sim.jobs) {
      const { labelId } = jobIdsOf(j.zpl);
      printedNow.set(labelId, (printedNow.get(labelId) ?? 0) + 1);
    }
    const openJobs = r.svc.listJobs({ state: 'needs_confirmation', limit: 1000 });
    if (!openJobs.length) break;
    expect(round, 'rounds of operator decisions').toBeLessThan(20);
    for (const v of openJobs) {
      if ((printedNow.get(v.labelId) ?? 0) === 1) await r.svc.decide(v.id, 'printed', { actor: 'op1', reason: 'label on the case' });
      else await r.svc.decide(v.id, 'reprint', { actor: 'op1', reason: 'no label came out' });
      decisions++;
    }
    await waitFor(() => {
      const st = states(rigRef.db);
      return !st.queued && !st.sending && !st.sent;
    }, 60_000, 20, 'reprints done');
    await waitFor(() => rigRef.sim.hostStatus().formatsInBuffer === 0, 5000, 10, 'printer buffer empty');
  }
  const finalByLabel = new Map<string, number>();
  for (const j of r.sim.jobs) {
    const { labelId } = jobIdsOf(j.zpl);
    finalByLabel.set(labelId, (finalByLabel.get(labelId) ?? 0) + 1);
  }
  expect(finalByLabel.size).toBe(N);
  expect([...finalByLabel.values()].every((n) => n === 1)).toBe(true);
  const audit = r.db.prepare(`SELECT COUNT(*) AS n FROM audit`).get() as { n: number };
  expect(audit.n).toBe(decisions);
  expect(decisions).toBeGreaterThanOrEqual(open);
  console.log(JSON.stringify({ seed, open, decisions, partial: r.sim.partialFormats, faults, connections: r.sim.connections }));
}, 300_000);
