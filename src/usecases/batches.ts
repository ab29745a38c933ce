/**
 * Batch use cases (split out of src/ops.ts, issue 13): creating a batch (numbered from the
 * journal's counter) and moving it through its lifecycle with the completion and release checks,
 * the release signature, justified BOM deviations, and the produced lots following the batch's
 * disposition. Each use case is ONE journal transaction (state change + record + audit).
 */
import type { BatchStatus, JournalRecord, LotStatus } from '../binding/types.js';
import { checkTransition, REASON_REQUIRED } from '../domain/batch.js';
import { checkStageFor, checkSummary } from '../domain/batch-checks.js';
import { batchChecks } from '../store/batch-checks.js';
import { canonical, cmp, isDecimalString } from '../domain/decimal.js';
import { compileBatchPattern, localDateParts, type CompiledPattern } from '../domain/numbering.js';
import { LgError } from '../errors.js';
import type { Config } from '../config/schema.js';
import type { Journal, TxContext } from '../store/journal.js';
import type { Repo } from '../store/repo.js';
import type { Actor } from './actor.js';
import type { SignatureInput, Signatures, VerifiedSigner } from './signatures.js';
import type { Deviations } from './deviations.js';

export interface BatchInput {
  number?: string;
  product: string;
  productName?: string | null;
  gtin?: string | null;
  plannedQty: string;
  unit: string;
  line?: string;
  bom: Array<{ material: string; quantity: string; unit: string; tolerancePct?: string }>;
  plannedStart?: string | null;
  workOrder?: string | null;
  personnel?: string[];
}

export class Batches {
  readonly batchPattern: CompiledPattern;

  constructor(
    readonly cfg: Readonly<Config>,
    readonly journal: Journal,
    readonly repo: Repo,
    private readonly signatures: Signatures,
    private readonly deviations: Deviations,
  ) {
    this.batchPattern = compileBatchPattern(cfg.numbering.batch);
  }

  async createBatch(input: BatchInput, by: Actor): Promise<{ number: string; record: JournalRecord }> {
    if (!isDecimalString(input.plannedQty) || cmp(input.plannedQty, '0') <= 0) {
      throw new LgError('LG_ERR_VALIDATION', { detail: 'plannedQty must be a positive decimal string' });
    }
    return this.journal.submit((tx) => this.createBatchTx(tx, input, by));
  }

  /** Inside the caller's transaction: createBatch, and a work order's first push (lots.ts). */
  createBatchTx(tx: TxContext, input: BatchInput, by: Actor): { number: string; record: JournalRecord } {
    const line = input.line ?? this.cfg.line.id;
    for (const l of input.bom) {
      const m = this.repo.material(l.material);
      if (!m) throw new LgError('LG_ERR_MATERIAL_NOT_FOUND', { material: l.material });
      if (m.unit !== l.unit) throw new LgError('LG_ERR_UNIT_MISMATCH', { unit: l.unit, expected: m.unit, entity: `material ${m.code}` });
      if (!isDecimalString(l.quantity) || cmp(l.quantity, '0') <= 0) throw new LgError('LG_ERR_VALIDATION', { detail: `bom ${l.material}: quantity must be a positive decimal string` });
      if (l.tolerancePct !== undefined && (!isDecimalString(l.tolerancePct) || cmp(l.tolerancePct, '0') < 0)) {
        throw new LgError('LG_ERR_VALIDATION', { detail: `bom ${l.material}: tolerancePct must be a non-negative decimal string` });
      }
    }
    if (new Set(input.bom.map((l) => l.material)).size !== input.bom.length) throw new LgError('LG_ERR_VALIDATION', { detail: 'a material appears twice in the bill of materials' });
    let number = input.number;
    if (number !== undefined) {
      if (this.repo.batch(number)) throw new LgError('LG_ERR_CONFLICT', { entity: 'batch', id: number });
    } else {
      number = this.nextBatchNumber(tx, line);
    }
    const now = tx.now.toISOString();
    this.repo.db
      .prepare(
        `INSERT INTO batches (number, product, product_name, gtin, planned_qty, unit, line, status, work_order, personnel, planned_start, created_at, updated_at)
         VALUES (@number, @product, @productName, @gtin, @plannedQty, @unit, @line, 'planned', @workOrder, @personnel, @plannedStart, @now, @now)`,
      )
      .run({
        number,
        product: input.product,
        productName: input.productName ?? null,
        gtin: input.gtin ?? null,
        plannedQty: canonical(input.plannedQty),
        unit: input.unit,
        line,
        workOrder: input.workOrder ?? null,
        personnel: JSON.stringify(input.personnel ?? []),
        plannedStart: input.plannedStart ?? null,
        now,
      });
    const insBom = this.repo.db.prepare('INSERT INTO batch_bom (batch, material, quantity, unit, tolerance_pct) VALUES (?, ?, ?, ?, ?)');
    for (const l of input.bom) insBom.run(number, l.material, canonical(l.quantity), l.unit, canonical(l.tolerancePct ?? '0'));
    const created = this.repo.batch(number)!;
    const record = tx.append({ type: 'batch.created', status: 'accepted', batch: number, operator: by.id, line, payload: { ...created, by: by.id } });
    tx.audit({ actor: by.id, action: 'batch.created', entity: 'batch', entityId: number, new: created });
    return { number, record };
  }

  /** Next batch number: counter in the journal, incremented in the creating transaction. */
  private nextBatchNumber(tx: TxContext, line: string): string {
    const parts = localDateParts(tx.now, this.cfg.site.timezone);
    const key = this.batchPattern.counterKey(parts, line, this.cfg.site.id);
    for (;;) {
      const seq = this.repo.nextCounter(key);
      const n = this.batchPattern.render(parts, line, this.cfg.site.id, seq);
      // A number taken by other means (explicit import, a changed pattern) is skipped, never reused.
      if (!this.repo.batch(n)) return n;
    }
  }

  async transitionBatch(
    number: string,
    to: BatchStatus,
    by: Actor,
    reason: string | null,
    signature?: Partial<SignatureInput> | null,
    justifications?: ReadonlyArray<{ material: string; reason: string }> | null,
  ): Promise<JournalRecord> {
    if (REASON_REQUIRED.has(to) && !reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: `move a batch to ${to}` });
    const just = justifications ?? [];
    if (just.length > 0) {
      // A material outside its tolerance is completed only under a deviation: each justification
      // raises one (for that material, in this transaction), which QA must close before release.
      if (to !== 'completed') throw new LgError('LG_ERR_VALIDATION', { detail: 'justifications are only accepted when completing a batch' });
      if (!['supervisor', 'qa', 'admin'].includes(by.role)) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'justify a bill-of-materials deviation', allowed: 'supervisor, qa, admin' });
      if (new Set(just.map((j) => j.material)).size !== just.length) throw new LgError('LG_ERR_VALIDATION', { detail: 'a material is justified twice' });
      for (const j of just) if (!j.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: `justify the consumption of ${j.material}` });
    }
    // Release is an electronic signature (Part 11): user id + signing secret, checked before the transaction.
    let signer: VerifiedSigner | null = null;
    if (to === 'released') {
      if (!signature?.userId || !signature.secret || !signature.meaning) {
        throw new LgError('LG_ERR_SIGNATURE_REQUIRED', { detail: 'send signature {"userId", "secret" (your signing secret, not the token), "meaning": "released"}' });
      }
      signer = await this.signatures.authenticate(signature as SignatureInput, 'batch.release', by.id);
      if (signer.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: 'sign a batch release', allowed: 'qa' });
    }
    return this.journal.submit((tx) => {
      const b = this.repo.batch(number);
      if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
      const refused = checkTransition(number, b.status, to, b.heldFrom, by.role);
      if (refused) throw new LgError(refused.code, refused.details);
      // A recall hold (src/usecases/recalls.ts) is QA's to lift, whatever state the batch was held from.
      if (b.status === 'on_hold' && by.role !== 'qa') {
        const recall = this.repo.recallHolding('batch', number);
        if (recall) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: `move batch ${number} out of the hold of recall ${recall}`, allowed: 'qa' });
      }
      // Completion and release checks (domain/batch-checks.ts), inside this transaction. Resuming a
      // held batch to the state it was held from re-enters a state whose checks already passed —
      // except a release (a recalled batch released again is checked like any release).
      const stage = b.status === 'on_hold' && to !== 'released' ? null : checkStageFor(to);
      let justified: Array<Record<string, unknown>> = [];
      if (just.length > 0) {
        if (stage !== 'completion') throw new LgError('LG_ERR_VALIDATION', { detail: 'justifications are only accepted when completing a batch' });
        const plain = batchChecks(this.repo, number, 'completion');
        justified = just.map((j) => {
          const line = plain.bom.find((l) => l.material === j.material);
          if (!line || line.ok) {
            throw new LgError('LG_ERR_VALIDATION', { detail: `material ${j.material}: ${line ? 'its consumption passes its check' : 'not on the bill of materials'} — a justification covers only a material that fails its check` });
          }
          const { number: deviation } = this.deviations.raiseTx(
            tx,
            {
              batch: number,
              material: j.material,
              type: 'unplanned',
              category: 'minor',
              title: `${j.material} consumed ${line.position} tolerance at completion`,
              description: `${line.consumed} ${line.unit} consumed, window ${line.min}–${line.max} ${line.unit}. Justification by ${by.id}: ${j.reason.trim()}`,
            },
            'completion_justification',
            by.id,
          );
          return { material: j.material, reason: j.reason.trim(), by: by.id, role: by.role, consumed: line.consumed, min: line.min, max: line.max, unit: line.unit, position: line.position, deviation };
        });
      }
      const checks = stage ? batchChecks(this.repo, number, stage) : null;
      if (checks && !checks.ok) throw new LgError('LG_ERR_BATCH_CHECKS_FAILED', { batch: number, to, count: checks.missing.length, missing: checks.missing });
      const why = reason?.trim() || defaultReason(b.status, to);
      this.repo.transitionBatchRow(tx, number, to, by.id, why);
      const lotsFollowed = this.followProducedLots(tx, number, b.status, b.heldFrom, to, signer?.id ?? by.id, why);
      const sig = signer ? { by: signer.id, name: signer.name, role: signer.role, meaning: signature!.meaning, at: tx.now.toISOString() } : undefined;
      const rec = tx.append({
        type: 'batch.status_changed',
        status: 'accepted',
        batch: number,
        operator: signer?.id ?? by.id,
        payload: {
          from: b.status, to, reason: why, by: by.id, role: by.role, signature: sig,
          ...(checks ? { checks: checkSummary(checks) } : {}), ...(justified.length ? { justifications: justified } : {}), ...lotsFollowed,
        },
      });
      for (const j of justified) {
        tx.audit({ actor: by.id, action: 'batch.bom_justified', entity: 'batch', entityId: number, reason: String(j.reason), new: { ...j, record: rec.id } });
      }
      if (signer) {
        const { signature: s } = this.signatures.signTx(tx, signer, { action: 'batch.release', meaning: signature!.meaning!, entity: 'batch', entityId: number, requestedBy: by.id, statement: why });
        return { ...rec, payload: { ...rec.payload, signature: { ...sig, id: s.id, contentHash: s.contentHash, coveredSeq: s.coveredSeq } } };
      }
      return rec;
    });
  }

  /**
   * Put a batch on hold inside the caller's transaction (a recall: src/usecases/recalls.ts). The
   * same transition rules, audit, record and produced-lot following as `transitionBatch` to
   * on_hold, so a released batch goes to its recall hold and its released lots with it (and a
   * later signed re-release releases exactly those). `extra` is added to the record's payload
   * (the recall that caused it). Throws the transition's refusal.
   */
  holdTx(tx: TxContext, number: string, by: Actor, reason: string, extra: Record<string, unknown>): { record: JournalRecord; from: BatchStatus; lotsHeld: string[] } {
    const b = this.repo.batch(number);
    if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
    const refused = checkTransition(number, b.status, 'on_hold', b.heldFrom, by.role);
    if (refused) throw new LgError(refused.code, refused.details);
    this.repo.transitionBatchRow(tx, number, 'on_hold', by.id, reason);
    const followed = this.followProducedLots(tx, number, b.status, b.heldFrom, 'on_hold', by.id, reason, extra);
    const record = tx.append({
      type: 'batch.status_changed',
      status: 'accepted',
      batch: number,
      operator: by.id,
      payload: { from: b.status, to: 'on_hold', reason, by: by.id, role: by.role, ...followed, ...extra },
    });
    return { record, from: b.status, lotsHeld: followed.lotsHeld ?? [] };
  }

  /**
   * The lots a batch produced follow its disposition: a recall hold of a released batch puts its
   * released lots on hold; releasing it again releases exactly the lots that hold put on hold; a
   * rejection rejects every lot it produced that is not used up. Each lot change is a record and
   * an audit entry; the batch record lists the lots (`lotsHeld`, `lotsReleased`, `lotsRejected`).
   */
  private followProducedLots(tx: TxContext, number: string, from: BatchStatus, heldFrom: BatchStatus | null, to: BatchStatus, actor: string, why: string, extra: Record<string, unknown> = {}): Record<string, string[]> {
    const db = this.repo.db;
    const move = (lots: string[], status: LotStatus, reason: string): string[] => {
      for (const id of lots) {
        const before = (db.prepare('SELECT status FROM lots WHERE id = ?').get(id) as { status: LotStatus }).status;
        db.prepare('UPDATE lots SET status = ?, updated_at = ? WHERE id = ?').run(status, tx.now.toISOString(), id);
        tx.audit({ actor, action: 'lot.status_changed', entity: 'lot', entityId: id, reason, old: { status: before }, new: { status } });
        tx.append({ type: 'lot.status_changed', status: 'accepted', lot: id, operator: actor, payload: { from: before, to: status, reason, batch: number, ...extra } });
      }
      return lots;
    };
    const produced = (statuses: LotStatus[]): string[] =>
      (db.prepare(`SELECT id FROM lots WHERE produced_by = ? AND status IN (${statuses.map(() => '?').join(',')}) ORDER BY id`).all(number, ...statuses) as Array<{ id: string }>).map((r) => r.id);
    if (from === 'released' && to === 'on_hold') {
      return { lotsHeld: move(produced(['released']), 'on_hold', `recall hold of batch ${number}: ${why}`) };
    }
    if (from === 'on_hold' && heldFrom === 'released' && to === 'released') {
      const hold = db
        .prepare(`SELECT payload FROM records WHERE batch = ? AND type = 'batch.status_changed' AND json_extract(payload, '$.to') = 'on_hold' ORDER BY seq DESC LIMIT 1`)
        .get(number) as { payload: string } | undefined;
      const held = hold ? ((JSON.parse(hold.payload) as { lotsHeld?: string[] }).lotsHeld ?? []) : [];
      const still = held.filter((id) => (db.prepare('SELECT status FROM lots WHERE id = ?').get(id) as { status: string } | undefined)?.status === 'on_hold');
      return { lotsReleased: move(still, 'released', `batch ${number} released again after its recall hold: ${why}`) };
    }
    if (to === 'rejected') {
      return { lotsRejected: move(produced(['quarantine', 'released', 'on_hold']), 'rejected', `batch ${number} rejected: ${why}`) };
    }
    return {};
  }
}

function defaultReason(from: BatchStatus, to: BatchStatus): string {
  if (from === 'on_hold') return `resumed to ${to}`;
  return to === 'in_process' ? 'production started' : to === 'completed' ? 'production completed' : `moved to ${to}`;
}
