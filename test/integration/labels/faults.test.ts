/**
 * The print queue against a misbehaving printer (simulator on a real TCP socket): faults hold
 * the job, a connection lost after bytes went out never causes a silent resend, operator
 * decisions are records and audit entries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/net.js';
import { isLgError } from '../../../src/errors.js';
import type { PrinterStatusView } from '../../../src/labels/queue.js';
import { caseFields, jobIdsOf, recordTypes, rig, type Rig } from './harness.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return isLgError(err) ? err.code : String(err);
  }
  return undefined;
}

describe('printer faults hold the job', () => {
  for (const [state, condition, code] of [
    ['paper_out', 'paper_out', 'LG_ERR_PRINTER_PAPER_OUT'],
    ['head_open', 'head_open', 'LG_ERR_PRINTER_HEAD_OPEN'],
    ['paused', 'paused', 'LG_ERR_PRINTER_PAUSED'],
    ['buffer_full', 'buffer_full', 'LG_ERR_PRINTER_BUFFER_FULL'],
    ['ribbon_out', 'ribbon_out', 'LG_ERR_PRINTER_RIBBON_OUT'],
  ] as const) {
    it(`${state}: waits, says so, then prints exactly once`, async () => {
      r = await rig({ sim: { state } });
      const events: PrinterStatusView[] = [];
      r.svc.on('printer-status', (s: PrinterStatusView) => events.push(s));
      const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields(), batch: '20261122-001' });
      await waitFor(() => r!.svc.printerStatus('pack1.printer').condition === condition, 5000, 10, condition);
      await waitFor(() => r!.svc.getJob(q.jobId)?.statusText?.startsWith('held'), 5000, 10, 'held status text');
      const st = r.svc.printerStatus('pack1.printer');
      expect(st).toMatchObject({ ready: false, code, queued: 1 });
      expect(st.message).toContain('pack1.printer');
      expect(r.svc.getJob(q.jobId)).toMatchObject({ state: 'queued', attempts: 0, errorCode: code });
      await sleep(150);
      expect(r.sim.jobs).toHaveLength(0);
      expect(r.sim.commands.filter((c) => c.command === '^XA')).toHaveLength(0);
      r.sim.setState('ok');
      await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'confirmed', 5000, 10, 'confirmed');
      await sleep(150);
      expect(r.sim.jobs).toHaveLength(1);
      expect(r.svc.getJob(q.jobId)!.attempts).toBe(1);
      expect(r.svc.printerStatus('pack1.printer')).toMatchObject({ ready: true, condition: 'ready', code: null, queued: 0 });
      expect(events.map((e) => e.condition)).toEqual(expect.arrayContaining([condition, 'ready']));
      expect(recordTypes(r.db)).toEqual({ 'label.queued': 1, 'label.sent': 1, 'label.printed': 1 });
    });
  }

  it('a silent printer (no ~HS answer) is not ready; the job prints once it answers', async () => {
    r = await rig({ sim: { silent: true } });
    const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
    await waitFor(() => r!.svc.printerStatus('pack1.printer').condition === 'no_answer', 5000, 10, 'no_answer');
    await waitFor(() => r!.sim.statusIgnored >= 2, 5000, 10, 'asked again');
    expect(r.svc.printerStatus('pack1.printer').code).toBe('LG_ERR_PRINTER_OFFLINE');
    expect(r.sim.jobs).toHaveLength(0);
    expect(r.svc.getJob(q.jobId)!.state).toBe('queued');
    r.sim.silent = false;
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'confirmed', 5000, 10, 'confirmed');
    expect(r.sim.jobs).toHaveLength(1);
  });

  it('a refusing or stalled printer holds the job; it prints once it recovers', async () => {
    r = await rig({ sim: { refuse: true } });
    const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
    await waitFor(() => r!.sim.connections >= 2, 5000, 10, 'reconnect attempts');
    expect(r.svc.printerStatus('pack1.printer').ready).toBe(false);
    r.sim.refuse = false;
    r.sim.stall = true;
    await waitFor(() => r!.svc.printerStatus('pack1.printer').condition === 'no_answer', 5000, 10, 'stalled = no answer');
    expect(r.svc.getJob(q.jobId)!.state).toBe('queued');
    r.sim.stall = false;
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'confirmed', 5000, 10, 'confirmed');
    expect(r.sim.jobs).toHaveLength(1);
  });
});

describe('connection lost after bytes went out', () => {
  it('reset mid-job → needs_confirmation, no automatic resend; operator reprint with a reason', async () => {
    r = await rig();
    r.sim.resetMidNextJob(60);
    const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields(), batch: '20261122-001', lot: 'RM-1001-L7' });
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'needs_confirmation', 5000, 10, 'needs_confirmation');
    expect(r.sim.partialFormats).toBe(1);
    await sleep(300);
    expect(r.sim.jobs).toHaveLength(0); // nothing resent on its own
    const job = r.svc.getJob(q.jobId)!;
    expect(job).toMatchObject({ attempts: 1, errorCode: 'LG_ERR_PRINTER_CONNECTION_LOST' });
    expect(r.svc.printerStatus('pack1.printer').needsConfirmation).toBe(1);
    const unconf = r.db.prepare(`SELECT * FROM records WHERE type='label.unconfirmed'`).all() as Array<{ error_code: string; batch: string; payload: string }>;
    expect(unconf).toHaveLength(1);
    expect(unconf[0]).toMatchObject({ error_code: 'LG_ERR_PRINTER_CONNECTION_LOST', batch: '20261122-001' });
    expect(JSON.parse(unconf[0]!.payload)).toMatchObject({ jobId: q.jobId, serial: q.serial, reason: 'connection_lost' });

    expect(await codeOf(r.svc.decide(q.jobId, 'reprint', { actor: 'op1' }))).toBe('LG_ERR_REASON_REQUIRED');
    expect(await codeOf(r.svc.reprint(q.jobId, { actor: 'op1', reason: 'x' }))).toBe('LG_ERR_PRINT_JOB_STATE');
    const decided = await r.svc.decide(q.jobId, 'reprint', { actor: 'op1', reason: 'no label came out' });
    expect(decided).toMatchObject({ state: 'failed', decidedBy: 'op1' });
    await waitFor(() => r!.svc.listJobs({ state: 'confirmed' }).length === 1, 5000, 10, 'reprint confirmed');
    const reprint = r.svc.listJobs({ state: 'confirmed' })[0]!;
    expect(reprint).toMatchObject({ reprintOf: q.jobId, reprintReason: 'no label came out', labelId: q.labelId, serial: q.serial });
    expect(r.sim.jobs).toHaveLength(1);
    expect(r.sim.jobs[0]!.zpl).toContain('^FDREPRINT^FS');
    expect(jobIdsOf(r.sim.jobs[0]!.zpl).jobId).toBe(reprint.id);
    const audit = r.db.prepare(`SELECT actor, action, entity_id, reason FROM audit`).all();
    expect(audit).toEqual([{ actor: 'op1', action: 'label.reprint', entity_id: q.jobId, reason: 'no label came out' }]);
    expect(recordTypes(r.db)).toMatchObject({ 'label.queued': 1, 'label.unconfirmed': 1, 'label.reprint_requested': 1, 'label.printed': 1 });
    expect(await codeOf(r.svc.decide(q.jobId, 'printed', { actor: 'op1' }))).toBe('LG_ERR_PRINT_JOB_STATE');
  });

  it('reset right after the job printed → needs_confirmation; operator says printed', async () => {
    r = await rig();
    r.sim.resetAfterNextJob();
    const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'needs_confirmation', 5000, 10, 'needs_confirmation');
    await sleep(200);
    expect(r.sim.jobs).toHaveLength(1); // it did print, once
    const v = await r.svc.decide(q.jobId, 'printed', { actor: 'op2', reason: 'label is on the case' });
    expect(v).toMatchObject({ state: 'confirmed', decidedBy: 'op2' });
    const printed = r.db.prepare(`SELECT operator, payload FROM records WHERE type='label.printed'`).all() as Array<{ operator: string; payload: string }>;
    expect(printed).toHaveLength(1);
    expect(printed[0]!.operator).toBe('op2');
    expect(JSON.parse(printed[0]!.payload)).toMatchObject({ confirmedBy: 'operator', decision: 'printed' });
    expect(r.db.prepare(`SELECT action FROM audit`).all()).toEqual([{ action: 'label.confirm_printed' }]);
    await sleep(100);
    expect(r.sim.jobs).toHaveLength(1);
  });

  it('a printer that goes silent after the job was sent → needs_confirmation after the timeout', async () => {
    r = await rig({ sim: { printDelayMs: 2000 } });
    const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'sent', 5000, 5, 'sent');
    r.sim.silent = true;
    await waitFor(() => r!.svc.getJob(q.jobId)?.state === 'needs_confirmation', 5000, 10, 'needs_confirmation');
    expect(r.svc.getJob(q.jobId)!.errorCode).toBe('LG_ERR_PRINTER_OFFLINE');
    expect(await codeOf(r.svc.cancel(q.jobId, { actor: 'op', reason: '' }))).toBe('LG_ERR_REASON_REQUIRED');
    const c = await r.svc.cancel(q.jobId, { actor: 'op', reason: 'case scrapped' });
    expect(c.state).toBe('failed');
    expect(recordTypes(r.db)['label.cancelled']).toBe(1);
  });

  it('unknown printers and jobs give stable codes', async () => {
    r = await rig();
    expect(await codeOf(r.svc.createLabel({ template: 'case', printer: 'nope', fields: caseFields() }))).toBe('LG_ERR_PRINTER_NOT_FOUND');
    expect(await codeOf(r.svc.createLabel({ template: 'nope', printer: 'pack1.printer', fields: caseFields() }))).toBe('LG_ERR_LABEL_TEMPLATE');
    expect(await codeOf(r.svc.decide('00000000-0000-7000-8000-000000000000', 'printed', { actor: 'op' }))).toBe('LG_ERR_PRINT_JOB_NOT_FOUND');
    // a refused label spends no serial and leaves nothing behind
    expect(await codeOf(r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields({ gtin: '123' }) }))).toBe('LG_ERR_GS1_INVALID');
    expect(r.db.prepare(`SELECT COUNT(*) AS n FROM print_jobs`).get()).toEqual({ n: 0 });
    const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
    expect(q.serial).toBe('1');
  });
});
