/**
 * QC inspections (article 003; SOP 5.2 in-process checks): plans as master data, results recorded
 * against a lot (receiving) or a batch (in process) by a person, judged from the plan (src/domain/qc.ts).
 *
 * - Receiving: a failed inspection keeps the lot from use — in quarantine (or on hold if it had
 *   been released already), or rejected when the plan says `onFail: reject`; with
 *   `requiredForRelease`, the lot can leave quarantine only after a passed inspection of that plan
 *   (checked on every status change, also an ERP push).
 * - In process: a plan for the batch's product with a frequency (minutes and/or cases) makes checks
 *   due per batch; `due()` lists them per station, an overdue one is an exception of the batch.
 * - A retake links to the failed inspection; the failure stays in the record.
 * - `approvalRequired`: the result counts only once QA approved it with a signature.
 * Each result is one journal record (`qc.inspected`), an audit entry and a row, in one transaction.
 */
import type { JournalRecord } from '../binding/types.js';
import type { Role } from '../domain/batch.js';
import { dueState, judge, planProblem, type JudgedResult, type PlanBody, type ResultInput } from '../domain/qc.js';
import { LgError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { Journal, TxContext } from '../store/journal.js';
import { nextCounter } from '../store/counters.js';
import type { Clock } from '../util/clock.js';
import type { SignatureInput, Signatures } from './signatures.js';

export interface PlanView extends PlanBody {
  id: string;
  scope: 'receiving' | 'in_process';
  material: string | null;
  product: string | null;
  version: number;
  active: boolean;
}

export interface InspectionView {
  id: string;
  recordSeq: number;
  plan: string;
  planVersion: number;
  lot: string | null;
  batch: string | null;
  station: string | null;
  verdict: 'passed' | 'failed';
  results: JudgedResult[];
  sampleSize: number;
  retakeOf: string | null;
  inspectedBy: string;
  inspectedAt: string;
  approvedBy: string | null;
  approval: string | null;
}

export interface DueCheck {
  plan: string;
  name: string;
  batch: string;
  due: boolean;
  overdue: boolean;
  dueAt: string | null;
  reason: string;
  lastInspection: string | null;
}

const INSPECTORS: readonly Role[] = ['operator', 'supervisor', 'qa', 'admin'];

export class Quality {
  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly signatures: Signatures,
    private readonly clock: Clock,
    private readonly line: string,
  ) {
    signatures.registerSnapshot('qc_inspection', (d, id) => {
      const row = d.prepare('SELECT id, plan, plan_version, lot, batch, station, verdict, results, sample_size, retake_of, inspected_by, inspected_at FROM qc_inspections WHERE id = ?').get(id);
      if (!row) throw new LgError('LG_ERR_QC_NOT_FOUND', { id });
      return { kind: 'qc_inspection', v: 1, inspection: row };
    });
  }

  plan(id: string): PlanView | null {
    const r = this.db.prepare('SELECT * FROM inspection_plans WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? planView(r) : null;
  }

  plans(f: { material?: string; product?: string } = {}): PlanView[] {
    const rows = this.db.prepare('SELECT * FROM inspection_plans WHERE active = 1 ORDER BY id').all() as Array<Record<string, unknown>>;
    return rows.map(planView).filter((p) => (!f.material || p.material === f.material) && (!f.product || p.product === f.product));
  }

  /** Create or update a plan (idempotent, like the ERP's other master data); a change bumps its version. */
  async upsertPlan(id: string, p: { scope: 'receiving' | 'in_process'; material?: string | null; product?: string | null; active?: boolean } & PlanBody, by: { id: string }): Promise<{ plan: PlanView; created: boolean; changed: boolean }> {
    const { scope, material, product, active, ...body } = p;
    const problem = planProblem(scope, body);
    if (problem) throw new LgError('LG_ERR_QC_PLAN_INVALID', { plan: id, detail: problem });
    if (scope === 'receiving' && !material) throw new LgError('LG_ERR_QC_PLAN_INVALID', { plan: id, detail: 'a receiving plan names its material' });
    if (scope === 'in_process' && !product) throw new LgError('LG_ERR_QC_PLAN_INVALID', { plan: id, detail: 'an in-process plan names its product' });
    return this.journal.submit((tx) => {
      if (material && !this.db.prepare('SELECT 1 FROM materials WHERE code = ?').get(material)) throw new LgError('LG_ERR_MATERIAL_NOT_FOUND', { material });
      const before = this.plan(id);
      const now = tx.now.toISOString();
      const bodyJson = JSON.stringify(body);
      const same = before && before.scope === scope && before.material === (material ?? null) && before.product === (product ?? null) && before.active === (active ?? true) && JSON.stringify(stripPlan(before)) === bodyJson;
      if (same) return { plan: before, created: false, changed: false };
      const version = (before?.version ?? 0) + 1;
      this.db
        .prepare(
          `INSERT INTO inspection_plans (id, scope, material, product, body, version, active, created_at, updated_at) VALUES (@id, @scope, @material, @product, @body, @version, @active, @now, @now)
           ON CONFLICT(id) DO UPDATE SET scope = @scope, material = @material, product = @product, body = @body, version = @version, active = @active, updated_at = @now`,
        )
        .run({ id, scope, material: material ?? null, product: product ?? null, body: bodyJson, version, active: active === false ? 0 : 1, now });
      const after = this.plan(id)!;
      tx.audit({ actor: by.id, action: before ? 'qc_plan.updated' : 'qc_plan.created', entity: 'inspection_plan', entityId: id, old: before, new: after });
      tx.append({ type: before ? 'qc.plan_updated' : 'qc.plan_created', status: 'accepted', operator: by.id, payload: { ...after } });
      return { plan: after, created: !before, changed: true };
    });
  }

  get(id: string): InspectionView | null {
    const r = this.db.prepare('SELECT * FROM qc_inspections WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? inspectionView(r) : null;
  }

  list(f: { lot?: string; batch?: string }): InspectionView[] {
    const where = f.lot ? 'lot = ?' : 'batch = ?';
    return (this.db.prepare(`SELECT * FROM qc_inspections WHERE ${where} ORDER BY inspected_at, id`).all(f.lot ?? f.batch) as Array<Record<string, unknown>>).map(inspectionView);
  }

  private nextId(tx: TxContext): string {
    const year = tx.now.getUTCFullYear();
    return `QC-${this.line}-${year}-${String(nextCounter(this.db, `qc:${this.line}:${year}`)).padStart(5, '0')}`;
  }

  /** Record an inspection; the verdict is computed. A failed receiving inspection keeps the lot from use. */
  async record(
    input: { plan: string; lot?: string | null; batch?: string | null; station?: string | null; sampleSize?: number; results: ResultInput[]; retakeOf?: string | null; note?: string | null },
    by: { id: string; role: Role },
  ): Promise<{ inspection: InspectionView; record: JournalRecord }> {
    if (!INSPECTORS.includes(by.role)) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'record a QC inspection', allowed: INSPECTORS.join(', ') });
    return this.journal.submit((tx) => {
      const plan = this.plan(input.plan);
      if (!plan || !plan.active) throw new LgError('LG_ERR_QC_PLAN_NOT_FOUND', { plan: input.plan });
      let lotRow: { id: string; material: string; status: string } | undefined;
      if (plan.scope === 'receiving') {
        if (!input.lot || input.batch) throw new LgError('LG_ERR_VALIDATION', { detail: 'a receiving inspection is recorded against a lot (and no batch)' });
        lotRow = this.db.prepare('SELECT id, material, status FROM lots WHERE id = ?').get(input.lot) as typeof lotRow;
        if (!lotRow) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: input.lot });
        if (lotRow.material !== plan.material) throw new LgError('LG_ERR_VALIDATION', { detail: `plan ${plan.id} inspects ${plan.material}, lot ${lotRow.id} is ${lotRow.material}` });
      } else {
        if (!input.batch || input.lot) throw new LgError('LG_ERR_VALIDATION', { detail: 'an in-process inspection is recorded against a batch (and no lot)' });
        const b = this.db.prepare('SELECT product FROM batches WHERE number = ?').get(input.batch) as { product: string } | undefined;
        if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: input.batch });
        if (b.product !== plan.product) throw new LgError('LG_ERR_VALIDATION', { detail: `plan ${plan.id} is for ${plan.product}, batch ${input.batch} makes ${b.product}` });
      }
      if (input.retakeOf) {
        const prev = this.get(input.retakeOf);
        if (!prev || prev.plan !== plan.id || prev.lot !== (input.lot ?? null) || prev.batch !== (input.batch ?? null)) {
          throw new LgError('LG_ERR_VALIDATION', { detail: `retakeOf ${input.retakeOf} is not an inspection of the same plan and target` });
        }
        if (prev.verdict !== 'failed') throw new LgError('LG_ERR_VALIDATION', { detail: `inspection ${prev.id} passed; only a failed one is retaken` });
      }
      const judged = judge(plan, input.results);
      if ('code' in judged) throw new LgError(judged.code, judged.details);
      const id = this.nextId(tx);
      const now = tx.now.toISOString();
      const sampleSize = input.sampleSize ?? plan.sampleSize;
      const payload = {
        id, plan: plan.id, planVersion: plan.version, planName: plan.name, scope: plan.scope, verdict: judged.verdict, results: judged.results,
        sampleSize, retakeOf: input.retakeOf ?? null, note: input.note ?? null, approvalRequired: !!plan.approvalRequired,
      };
      const record = tx.append({
        type: 'qc.inspected',
        status: 'accepted',
        lot: input.lot ?? null,
        batch: input.batch ?? null,
        station: input.station ?? null,
        operator: by.id,
        payload,
      });
      this.db
        .prepare(
          `INSERT INTO qc_inspections (id, record_seq, plan, plan_version, lot, batch, station, verdict, results, sample_size, retake_of, inspected_by, inspected_at)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
        )
        .run(id, record.seq, plan.id, plan.version, input.lot ?? null, input.batch ?? null, input.station ?? null, judged.verdict, JSON.stringify(judged.results), sampleSize, input.retakeOf ?? null, by.id, now);
      tx.audit({ actor: by.id, action: 'qc.inspected', entity: input.lot ? 'lot' : 'batch', entityId: (input.lot ?? input.batch)!, reason: input.note ?? null, new: payload });
      if (lotRow && judged.verdict === 'failed') {
        const to = plan.onFail === 'reject' ? 'rejected' : lotRow.status === 'quarantine' ? 'quarantine' : 'on_hold';
        if (to !== lotRow.status && lotRow.status !== 'rejected') {
          this.db.prepare('UPDATE lots SET status = ?, updated_at = ? WHERE id = ?').run(to, now, lotRow.id);
          tx.audit({ actor: by.id, action: 'lot.status_changed', entity: 'lot', entityId: lotRow.id, reason: `failed receiving inspection ${id}`, old: { status: lotRow.status }, new: { status: to } });
          tx.append({ type: 'lot.status_changed', status: 'accepted', lot: lotRow.id, operator: by.id, payload: { from: lotRow.status, to, reason: `failed receiving inspection ${id}`, inspection: id } });
        }
      }
      return { inspection: this.get(id)!, record };
    });
  }

  /** QA approval of a result (where the plan requires it): a signature meaning "approved". */
  async approve(id: string, signature: SignatureInput, by: { id: string; role: Role }): Promise<{ inspection: InspectionView; record: JournalRecord }> {
    const pre = this.get(id);
    if (!pre) throw new LgError('LG_ERR_QC_NOT_FOUND', { id });
    if (pre.approval) throw new LgError('LG_ERR_QC_ALREADY_APPROVED', { id });
    const signer = await this.signatures.authenticate(signature, 'qc.approve', by.id);
    if (signer.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: 'approve a QC result', allowed: 'qa' });
    return this.journal.submit((tx) => {
      const cur = this.get(id)!;
      if (cur.approval) throw new LgError('LG_ERR_QC_ALREADY_APPROVED', { id });
      const { record } = this.signatures.signTx(tx, signer, { action: 'qc.approve', meaning: signature.meaning, entity: 'qc_inspection', entityId: id, requestedBy: by.id, statement: signature.statement ?? null, batch: cur.batch });
      this.db.prepare('UPDATE qc_inspections SET approved_by = ?, approval = ? WHERE id = ?').run(signer.id, record.id, id);
      tx.audit({ actor: signer.id, action: 'qc.approved', entity: 'qc_inspection', entityId: id, new: { signature: record.id } });
      return { inspection: this.get(id)!, record };
    });
  }

  private counts(i: InspectionView, plan: PlanView | null): boolean {
    return !(plan?.approvalRequired && !i.approval);
  }

  /**
   * The lot may leave quarantine (for released): every receiving plan of its material that
   * `requiredForRelease` has a passed (and, where needed, approved) inspection of this lot, and the
   * newest inspection of each such plan passed. Throws LG_ERR_QC_REQUIRED otherwise.
   */
  checkLotRelease(lot: string, material: string): void {
    for (const plan of this.plans({ material }).filter((p) => p.scope === 'receiving' && p.requiredForRelease)) {
      const mine = this.list({ lot }).filter((i) => i.plan === plan.id && this.counts(i, plan));
      const newest = mine[mine.length - 1];
      if (!newest) throw new LgError('LG_ERR_QC_REQUIRED', { lot, plan: plan.id, detail: 'no inspection recorded yet' + (plan.approvalRequired ? ' (or none approved)' : '') });
      if (newest.verdict !== 'passed') throw new LgError('LG_ERR_QC_REQUIRED', { lot, plan: plan.id, detail: `the newest inspection ${newest.id} failed` });
    }
  }

  /** In-process checks of a batch: due, overdue. */
  dueFor(batch: string): DueCheck[] {
    const b = this.db.prepare(`SELECT number, product, status, started_at FROM batches WHERE number = ?`).get(batch) as { number: string; product: string; status: string; started_at: string | null } | undefined;
    if (!b || !b.started_at || b.status !== 'in_process') return [];
    const now = this.clock.now();
    const out: DueCheck[] = [];
    for (const plan of this.plans({ product: b.product }).filter((p) => p.scope === 'in_process')) {
      const mine = this.list({ batch }).filter((i) => i.plan === plan.id);
      const last = mine[mine.length - 1] ?? null;
      const since = last?.inspectedAt ?? b.started_at;
      const cases = (this.db.prepare(`SELECT COUNT(*) AS n FROM labels WHERE batch = ? AND kind = 'case' AND created_at > ?`).get(batch, since) as { n: number }).n;
      const s = dueState({ plan, startedAt: b.started_at, lastAt: last?.inspectedAt ?? null, lastVerdict: last?.verdict ?? null, casesSince: cases, now });
      out.push({ plan: plan.id, name: plan.name, batch, ...s, lastInspection: last?.id ?? null });
    }
    return out;
  }
}

function stripPlan(p: PlanView): PlanBody {
  const { id: _i, scope: _s, material: _m, product: _p, version: _v, active: _a, ...body } = p;
  return body;
}

function planView(r: Record<string, unknown>): PlanView {
  const body = JSON.parse(String(r.body)) as PlanBody;
  return {
    ...body,
    id: String(r.id),
    scope: r.scope as PlanView['scope'],
    material: r.material === null ? null : String(r.material),
    product: r.product === null ? null : String(r.product),
    version: Number(r.version),
    active: Number(r.active) === 1,
  };
}

function inspectionView(r: Record<string, unknown>): InspectionView {
  const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    id: String(r.id),
    recordSeq: Number(r.record_seq),
    plan: String(r.plan),
    planVersion: Number(r.plan_version),
    lot: s(r.lot),
    batch: s(r.batch),
    station: s(r.station),
    verdict: r.verdict as InspectionView['verdict'],
    results: JSON.parse(String(r.results)) as JudgedResult[],
    sampleSize: Number(r.sample_size),
    retakeOf: s(r.retake_of),
    inspectedBy: String(r.inspected_by),
    inspectedAt: String(r.inspected_at),
    approvedBy: s(r.approved_by),
    approval: s(r.approval),
  };
}
