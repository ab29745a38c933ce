import { createHash } from 'node:crypto';
import { DEFAULT_YIELD_LIMITS, type YieldLimits } from './batch-review.js';
import type { Statement } from 'better-sqlite3';
import type {
  StationOverride,
  BatchStatus,
  BatchView,
  BomLine,
  Effect,
  JournalRecord,
  LotView,
  MasterData,
  MaterialView,
  UserView,
} from '../binding/types.js';
import { add, cmp, sub, sum, toString as decToString } from '../domain/decimal.js';
import { formatMessage, LgError } from '../errors.js';
import type { Db } from './db.js';
import type { TxContext } from './journal.js';
import { AUDIT_GENESIS, auditHash, rowToRecord } from './journal.js';
import type { GenealogyIO } from '../domain/genealogy.js';
import { checkTransition } from '../domain/batch.js';
import { checkStageFor, checkSummary } from '../domain/batch-checks.js';
import { batchChecks } from './batch-checks.js';

/**
 * All SQL of the domain tables, synchronous (better-sqlite3). Reads are used by the API and by the
 * binder (through `SqliteMasterData`); writes are called inside a journal transaction (TxContext),
 * so each one commits together with the record that caused it.
 */

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export interface BatchRow extends BatchView {
  heldFrom: BatchStatus | null;
  workOrder: string | null;
  personnel: string[];
  plannedStart: string | null;
  completedAt: string | null;
  releasedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface LotRow extends LotView {
  /** The batch that produced this lot (intermediates, finished goods). */
  producedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export class Repo {
  private readonly s: Record<string, Statement>;
  /** Yield limits of the reconciliation (config `reconciliation`), read by the release checks. */
  yieldLimits: YieldLimits = DEFAULT_YIELD_LIMITS;

  constructor(readonly db: Db) {
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      batch: p('SELECT * FROM batches WHERE number = ?'),
      bom: p('SELECT material, quantity, unit, tolerance_pct FROM batch_bom WHERE batch = ? ORDER BY material'),
      material: p('SELECT * FROM materials WHERE code = ?'),
      gtins: p('SELECT gtin FROM material_gtins WHERE material = ? ORDER BY gtin'),
      materialByGtin: p('SELECT m.* FROM material_gtins g JOIN materials m ON m.code = g.material WHERE g.gtin = ?'),
      lot: p('SELECT * FROM lots WHERE id = ?'),
      lotBySupplierLot: p('SELECT * FROM lots WHERE material = ? AND supplier_lot = ?'),
      userByBadge: p('SELECT id, name, role, badge FROM users WHERE badge = ? AND disabled = 0'),
      userById: p('SELECT id, name, role, badge, disabled, created_at, updated_at FROM users WHERE id = ?'),
      userByTokenHash: p('SELECT id, name, role, badge FROM users WHERE token_hash = ? AND disabled = 0'),
      consumed: p('SELECT quantity FROM consumptions WHERE batch = ? AND material = ?'),
      corrected: p('SELECT quantity FROM consumption_corrections WHERE batch = ? AND material = ?'),
      consumption: p('SELECT * FROM consumptions WHERE record_seq = ?'),
      correctionOf: p('SELECT c.record_seq, r.id FROM consumption_corrections c JOIN records r ON r.seq = c.record_seq WHERE c.corrects_seq = ?'),
      insCorrection: p('INSERT INTO consumption_corrections (record_seq, corrects_seq, batch, lot, material, quantity, unit, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      deviceState: p('SELECT value FROM device_state WHERE device = ? AND key = ?'),
      setDeviceState: p(
        `INSERT INTO device_state (device, key, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (device, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ),
      ctx: p('SELECT * FROM station_context WHERE station = ?'),
      upsertCtx: p(
        `INSERT INTO station_context (station, batch, operator, lots, overrides, updated_at) VALUES (@station, @batch, @operator, @lots, @overrides, @updatedAt)
         ON CONFLICT (station) DO UPDATE SET batch = excluded.batch, operator = excluded.operator, lots = excluded.lots, overrides = excluded.overrides, updated_at = excluded.updated_at`,
      ),
      counterGet: p('SELECT value FROM counters WHERE name = ?'),
      counterSet: p('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      lotQty: p('UPDATE lots SET quantity = ?, updated_at = ? WHERE id = ?'),
      insConsumption: p('INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      produced: p('UPDATE batches SET produced_qty = ?, rejected_qty = ?, updated_at = ? WHERE number = ?'),
      personnel: p('UPDATE batches SET personnel = ?, updated_at = ? WHERE number = ?'),
    };
  }

  // ── reads ──────────────────────────────────────────────────────────────────
  batch(number: string): BatchRow | undefined {
    const r = this.s.batch!.get(number) as Row | undefined;
    if (!r) return undefined;
    const bom = (this.s.bom!.all(number) as Row[]).map(
      (b): BomLine => ({ material: String(b.material), quantity: String(b.quantity), unit: String(b.unit), tolerancePct: String(b.tolerance_pct) }),
    );
    return {
      number: String(r.number),
      product: String(r.product),
      productName: str(r.product_name),
      gtin: str(r.gtin),
      plannedQty: String(r.planned_qty),
      unit: String(r.unit),
      line: String(r.line),
      status: r.status as BatchStatus,
      heldFrom: (r.held_from as BatchStatus | null) ?? null,
      workOrder: str(r.work_order),
      bom,
      personnel: JSON.parse(String(r.personnel)) as string[],
      producedQty: String(r.produced_qty),
      rejectedQty: String(r.rejected_qty),
      plannedStart: str(r.planned_start),
      startedAt: str(r.started_at),
      completedAt: str(r.completed_at),
      releasedAt: str(r.released_at),
      createdAt: String(r.created_at),
      updatedAt: String(r.updated_at),
    };
  }

  /**
   * Batches, newest first. `from`/`to` (ISO date or date-time; `to` exclusive) filter on the batch's
   * day: when it started, else its planned start, else when it was created.
   */
  listBatches(f: { status?: string; line?: string; product?: string; from?: string; to?: string; limit: number; after?: string }): BatchRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status) (where.push('status = ?'), args.push(f.status));
    if (f.line) (where.push('line = ?'), args.push(f.line));
    if (f.product) (where.push('product = ?'), args.push(f.product));
    if (f.from) (where.push('COALESCE(started_at, planned_start, created_at) >= ?'), args.push(f.from));
    if (f.to) (where.push('COALESCE(started_at, planned_start, created_at) < ?'), args.push(f.to));
    if (f.after) (where.push('number < ?'), args.push(f.after));
    const sql = `SELECT number FROM batches ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, number DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as Row[]).map((r) => this.batch(String(r.number))!);
  }

  material(code: string): MaterialView | undefined {
    const r = this.s.material!.get(code) as Row | undefined;
    return r ? this.toMaterial(r) : undefined;
  }

  listMaterials(): MaterialView[] {
    return (this.db.prepare('SELECT * FROM materials ORDER BY code').all() as Row[]).map((r) => this.toMaterial(r));
  }

  private toMaterial(r: Row): MaterialView {
    return {
      code: String(r.code),
      name: String(r.name),
      unit: String(r.unit),
      tracking: r.tracking as MaterialView['tracking'],
      shelfLifeDays: r.shelf_life_days === null ? null : Number(r.shelf_life_days),
      gtins: (this.s.gtins!.all(r.code) as Row[]).map((g) => String(g.gtin)),
    };
  }

  materialByGtin(gtin: string): MaterialView | undefined {
    const r = this.s.materialByGtin!.get(gtin) as Row | undefined;
    return r ? this.toMaterial(r) : undefined;
  }

  /**
   * The recall whose hold this lot or batch is under (the recall put it on hold and it has not left
   * that hold since), or null. A recall hold is lifted by QA only (src/usecases/recalls.ts).
   */
  recallHolding(kind: 'lot' | 'batch', ref: string): string | null {
    const r = this.db
      .prepare(
        `SELECT r.number, i.record_seq FROM recall_items i JOIN recalls r ON r.id = i.recall
         WHERE i.kind = ? AND i.ref = ? AND i.action = 'held' ORDER BY i.record_seq DESC LIMIT 1`,
      )
      .get(kind, ref) as Row | undefined;
    if (!r) return null;
    // Left that hold since? A later status change of the object ends it.
    const later = kind === 'lot'
      ? this.db.prepare("SELECT 1 FROM records WHERE lot = ? AND type = 'lot.status_changed' AND seq > ? LIMIT 1").get(ref, r.record_seq)
      : this.db.prepare("SELECT 1 FROM records WHERE batch = ? AND type = 'batch.status_changed' AND seq > ? LIMIT 1").get(ref, r.record_seq);
    return later ? null : String(r.number);
  }

  lot(id: string): LotRow | undefined {
    const r = this.s.lot!.get(id) as Row | undefined;
    return r ? toLot(r) : undefined;
  }

  lotBySupplierLot(material: string, supplierLot: string): LotRow | undefined {
    const r = this.s.lotBySupplierLot!.get(material, supplierLot) as Row | undefined;
    return r ? toLot(r) : undefined;
  }

  listLots(f: { material?: string; status?: string; limit: number; after?: string }): LotRow[] {
    const q = lotsQuery(f);
    return (this.db.prepare(q.sql).all(...q.args) as Row[]).map(toLot);
  }

  /** The recall question's first step: the internal lots received under a supplier's lot number. */
  lotIdsBySupplierLot(f: { supplierLot: string; supplier?: string; material?: string }): string[] {
    const q = supplierLotQuery(f);
    return (this.db.prepare(q.sql).all(...q.args) as Array<{ id: string }>).map((r) => r.id);
  }

  userByBadge(badge: string): UserView | undefined {
    return this.s.userByBadge!.get(badge) as UserView | undefined;
  }

  userById(id: string): (UserView & { disabled: boolean }) | undefined {
    const r = this.s.userById!.get(id) as Row | undefined;
    return r ? { id: String(r.id), name: String(r.name), role: r.role as UserView['role'], badge: str(r.badge), disabled: Number(r.disabled) === 1 } : undefined;
  }

  userByToken(token: string): UserView | undefined {
    return this.s.userByTokenHash!.get(hashToken(token)) as UserView | undefined;
  }

  userCount(): number {
    return Number((this.db.prepare('SELECT COUNT(*) c FROM users').get() as Row).c);
  }

  listUsers(): Array<UserView & { disabled: boolean }> {
    return (this.db.prepare('SELECT id, name, role, badge, disabled FROM users ORDER BY id').all() as Row[]).map((r) => ({
      id: String(r.id),
      name: String(r.name),
      role: r.role as UserView['role'],
      badge: str(r.badge),
      disabled: Number(r.disabled) === 1,
    }));
  }

  /** Net consumed: every consumption minus every correction of one (issue 10.1). */
  consumed(batch: string, material: string): string {
    const rows = this.s.consumed!.all(batch, material) as Row[];
    const corrected = this.s.corrected!.all(batch, material) as Row[];
    return decToString(sub(sum(rows.map((r) => String(r.quantity))), sum(corrected.map((r) => String(r.quantity)))));
  }

  /** The consumption row a `material.consumed` record wrote (absent for a refused one). */
  consumption(recordSeq: number): { batch: string; lot: string; material: string; quantity: string; unit: string } | undefined {
    const r = this.s.consumption!.get(recordSeq) as Row | undefined;
    return r ? { batch: String(r.batch), lot: String(r.lot), material: String(r.material), quantity: String(r.quantity), unit: String(r.unit) } : undefined;
  }

  /** The correction record of a consumption, if it has one. */
  correctionOf(recordSeq: number): { seq: number; id: string } | undefined {
    const r = this.s.correctionOf!.get(recordSeq) as Row | undefined;
    return r ? { seq: Number(r.record_seq), id: String(r.id) } : undefined;
  }

  /**
   * Book a correction (inside its record's transaction): the lot gets the quantity back and the
   * batch's net consumed drops by it. The UNIQUE index on corrects_seq refuses a second one.
   */
  insertCorrection(tx: TxContext, record: JournalRecord, c: { correctsSeq: number; batch: string; lot: string; material: string; quantity: string; unit: string }): { lotBefore: string; lotAfter: string } {
    if (cmp(c.quantity, '0') <= 0) throw new LgError('LG_ERR_QUANTITY_NOT_POSITIVE', { value: `${c.quantity} ${c.unit}` });
    const lot = this.lot(c.lot);
    if (!lot) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: c.lot });
    if (lot.unit !== c.unit) throw new LgError('LG_ERR_UNIT_MISMATCH', { unit: c.unit, expected: lot.unit, entity: `lot ${lot.id}` });
    const lotAfter = decToString(add(lot.quantity, c.quantity));
    this.s.lotQty!.run(lotAfter, tx.now.toISOString(), c.lot);
    this.s.insCorrection!.run(record.seq, c.correctsSeq, c.batch, c.lot, c.material, c.quantity, c.unit, tx.now.toISOString());
    return { lotBefore: lot.quantity, lotAfter };
  }

  /** Write a device's state inside the caller's journal transaction (durable with its commit). */
  setDeviceState(tx: TxContext, device: string, key: string, value: unknown): void {
    this.s.setDeviceState!.run(device, key, JSON.stringify(value ?? null), tx.now.toISOString());
  }

  deviceState(device: string, key: string): unknown {
    const r = this.s.deviceState!.get(device, key) as Row | undefined;
    return r ? JSON.parse(String(r.value)) : undefined;
  }

  stationContext(station: string): { batch: string | null; operator: string | null; lots: Record<string, string>; overrides: Record<string, StationOverride>; updatedAt: string | null } {
    const r = this.s.ctx!.get(station) as Row | undefined;
    if (!r) return { batch: null, operator: null, lots: {}, overrides: {}, updatedAt: null };
    return {
      batch: str(r.batch),
      operator: str(r.operator),
      lots: JSON.parse(String(r.lots)) as Record<string, string>,
      overrides: JSON.parse(String(r.overrides ?? '{}')) as Record<string, StationOverride>,
      updatedAt: String(r.updated_at),
    };
  }

  /** The MasterData view the binder reads through. */
  masterData(): MasterData {
    return {
      batch: (n) => this.batch(n),
      material: (c) => this.material(c),
      materialByGtin: (g) => this.materialByGtin(g),
      lot: (id) => this.lot(id),
      lotBySupplierLot: (m, s) => this.lotBySupplierLot(m, s),
      userByBadge: (b) => this.userByBadge(b),
      consumed: (b, m) => this.consumed(b, m),
      deviceState: (d, k) => this.deviceState(d, k),
    };
  }

  // ── counters ───────────────────────────────────────────────────────────────
  /** Next value of a named counter; call inside a transaction. */
  nextCounter(name: string): number {
    const cur = this.s.counterGet!.get(name) as Row | undefined;
    const next = (cur ? Number(cur.value) : 0) + 1;
    this.s.counterSet!.run(name, next);
    return next;
  }

  // ── writes (inside a journal transaction) ──────────────────────────────────
  setStationContext(
    tx: TxContext,
    station: string,
    change: { batch?: string | null; operator?: string | null; lots?: Record<string, string>; overrides?: Record<string, StationOverride> },
    actor: string,
    reason: string | null,
  ): void {
    const before = this.stationContext(station);
    const after = {
      batch: change.batch !== undefined ? change.batch : before.batch,
      operator: change.operator !== undefined ? change.operator : before.operator,
      lots: change.lots !== undefined ? change.lots : before.lots,
      overrides: change.overrides !== undefined ? change.overrides : before.overrides,
    };
    this.s.upsertCtx!.run({ station, batch: after.batch, operator: after.operator, lots: JSON.stringify(after.lots), overrides: JSON.stringify(after.overrides), updatedAt: tx.now.toISOString() });
    tx.audit({
      actor,
      action: 'station.context_changed',
      entity: 'station',
      entityId: station,
      reason,
      old: { batch: before.batch, operator: before.operator, lots: before.lots, overrides: before.overrides },
      new: after,
    });
  }

  /** Apply a bound reading's effects after its record was appended (same transaction). */
  applyEffects(tx: TxContext, record: JournalRecord, effects: readonly Effect[], actor: string): void {
    for (const e of effects) {
      switch (e.type) {
        case 'station.set_batch':
          // A new (or no) batch ends every override granted at the station: each was for one batch.
          this.setStationContext(tx, e.station, { batch: e.batch, lots: {}, overrides: {} }, actor, `record ${record.id}`);
          break;
        case 'station.set_operator':
          this.setStationContext(tx, e.station, { operator: e.operator }, actor, `record ${record.id}`);
          break;
        case 'station.set_lot': {
          const lots = { ...this.stationContext(e.station).lots };
          // Delete first so the key moves to the end: the last key is the most recently activated
          // lot, which the weight binder uses when several BOM materials are active.
          delete lots[e.material];
          if (e.lot !== null) lots[e.material] = e.lot;
          // Any lot change of this material (another lot, the same one re-scanned, cleared) ends its
          // override; an override record grants a fresh one right after (station.grant_override).
          const overrides = { ...this.stationContext(e.station).overrides };
          delete overrides[e.material];
          this.setStationContext(tx, e.station, { lots, overrides }, actor, `record ${record.id}`);
          break;
        }
        case 'station.grant_override': {
          const ctx = this.stationContext(e.station);
          if (ctx.batch !== e.override.batch || ctx.lots[e.material] !== e.override.lot) {
            throw new LgError('LG_ERR_OVERRIDE_INVALID', { id: e.override.record, detail: 'the lot or batch it was granted for is not active at the station' });
          }
          this.setStationContext(tx, e.station, { overrides: { ...ctx.overrides, [e.material]: e.override } }, actor, `record ${record.id}`);
          break;
        }
        case 'lot.consume': {
          const lot = this.lot(e.lot);
          if (!lot) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: e.lot });
          if (lot.unit !== e.unit) throw new LgError('LG_ERR_UNIT_MISMATCH', { unit: e.unit, expected: lot.unit, entity: `lot ${lot.id}` });
          // Never a negative (or zero) consumption, whoever bound it: the binders refuse one as a
          // record; this is the last line, so stock can only move back through a correction.
          if (cmp(e.quantity, '0') <= 0) throw new LgError('LG_ERR_QUANTITY_NOT_POSITIVE', { value: `${e.quantity} ${e.unit}` });
          // The balance may go below zero: the scale is the truth, and a negative balance is the
          // discrepancy SOP 5.4 asks to investigate — refusing the weighing would hide it.
          this.s.lotQty!.run(decToString(sub(lot.quantity, e.quantity)), tx.now.toISOString(), e.lot);
          this.s.insConsumption!.run(record.seq, e.batch, e.lot, e.material, e.quantity, e.unit, tx.now.toISOString());
          break;
        }
        case 'lot.register':
          this.insertLot(
            tx,
            { id: e.lot.id, material: e.lot.material, supplier: e.lot.supplier ?? null, supplierLot: e.lot.supplierLot ?? null, receiptDate: null, expiry: e.lot.expiry ?? null, status: 'quarantine', quantity: '0', unit: e.lot.unit },
            actor,
            `registered from scan (record ${record.id})`,
          );
          break;
        case 'batch.add_produced': {
          const b = this.batch(e.batch);
          if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: e.batch });
          this.s.produced!.run(decToString(add(b.producedQty, e.good)), decToString(add(b.rejectedQty, e.rejected)), tx.now.toISOString(), e.batch);
          break;
        }
        case 'batch.add_personnel': {
          const b = this.batch(e.batch);
          if (b && !b.personnel.includes(e.operator)) {
            this.s.personnel!.run(JSON.stringify([...b.personnel, e.operator]), tx.now.toISOString(), e.batch);
          }
          break;
        }
        case 'batch.transition': {
          // Automatic moves (machine Execute/Complete) obey the same lifecycle; one that does not
          // apply any more (already started, on hold) is skipped — never a reason to lose the
          // machine record that caused it.
          const b = this.batch(e.batch);
          if (!b || checkTransition(b.number, b.status, e.to, b.heldFrom, 'system')) break;
          // The completion checks apply to the machine as to a person (issue 10.6): a Complete that
          // fails them does not complete the batch; a rejected record says why, and a supervisor
          // completes it through the API once what is missing is done.
          const stage = checkStageFor(e.to);
          const checks = stage ? batchChecks(this, b.number, stage) : null;
          if (checks && !checks.ok) {
            const details = { batch: b.number, to: e.to, count: checks.missing.length };
            tx.append({
              type: 'batch.transition_refused',
              status: 'rejected',
              errorCode: 'LG_ERR_BATCH_CHECKS_FAILED',
              message: formatMessage('LG_ERR_BATCH_CHECKS_FAILED', details),
              station: record.station,
              batch: b.number,
              device: record.device,
              operator: record.operator,
              payload: { from: b.status, to: e.to, reason: e.reason, by: e.actor, role: 'system', cause: record.id, missing: checks.missing },
            });
            break;
          }
          this.transitionBatchRow(tx, e.batch, e.to, e.actor, e.reason);
          tx.append({
            type: 'batch.status_changed',
            status: 'accepted',
            station: record.station,
            batch: b.number,
            device: record.device,
            operator: record.operator,
            payload: { from: b.status, to: e.to, reason: e.reason, by: e.actor, role: 'system', cause: record.id, ...(checks ? { checks: checkSummary(checks) } : {}) },
          });
          break;
        }
        case 'device.set_state':
          this.s.setDeviceState!.run(e.device, e.key, JSON.stringify(e.value ?? null), tx.now.toISOString());
          break;
      }
    }
  }

  insertLot(tx: TxContext, lot: LotView & { producedBy?: string | null }, actor: string, reason: string | null): void {
    const now = tx.now.toISOString();
    this.db
      .prepare(
        `INSERT INTO lots (id, material, supplier, supplier_lot, receipt_date, expiry, status, quantity, unit, produced_by, created_at, updated_at)
         VALUES (@id, @material, @supplier, @supplierLot, @receiptDate, @expiry, @status, @quantity, @unit, @producedBy, @now, @now)`,
      )
      .run({ ...lot, producedBy: lot.producedBy ?? null, now });
    tx.audit({ actor, action: 'lot.created', entity: 'lot', entityId: lot.id, reason, new: lot });
  }

  /** Set the batch's status row (checks are the caller's: domain/batch.ts). */
  transitionBatchRow(tx: TxContext, number: string, to: BatchStatus, actor: string, reason: string | null): { from: BatchStatus } {
    const b = this.batch(number);
    if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
    const now = tx.now.toISOString();
    const heldFrom = to === 'on_hold' ? b.status : null;
    const sets = ['status = @to', 'held_from = @heldFrom', 'updated_at = @now'];
    if (to === 'in_process' && !b.startedAt) sets.push('started_at = @now');
    if (to === 'completed') sets.push('completed_at = @now');
    if (to === 'released') sets.push('released_at = @now');
    this.db.prepare(`UPDATE batches SET ${sets.join(', ')} WHERE number = @number`).run({ to, heldFrom, now, number });
    tx.audit({ actor, action: 'batch.status_changed', entity: 'batch', entityId: number, reason, old: { status: b.status }, new: { status: to } });
    return { from: b.status };
  }

  // ── genealogy ──────────────────────────────────────────────────────────────
  private genealogy: GenealogyIO | null = null;

  /** Genealogy reads; statements are prepared once (a case label asks for its batch's lots). */
  genealogyIO(): GenealogyIO {
    if (this.genealogy) return this.genealogy;
    const byBatch = this.db.prepare('SELECT lot, material, quantity, unit FROM consumptions WHERE batch = ? ORDER BY record_seq');
    const byLot = this.db.prepare('SELECT batch, quantity, unit FROM consumptions WHERE lot = ? ORDER BY record_seq');
    const produced = this.db.prepare('SELECT id FROM lots WHERE produced_by = ? ORDER BY id');
    const labels = this.db.prepare('SELECT id, kind, serial, sscc FROM labels WHERE batch = ? ORDER BY created_at, id');
    const corrByBatch = this.db.prepare('SELECT lot, material, quantity, unit FROM consumption_corrections WHERE batch = ? ORDER BY record_seq');
    const corrByLot = this.db.prepare('SELECT batch, quantity, unit FROM consumption_corrections WHERE lot = ? ORDER BY record_seq');
    // Quantities are net (consumed − corrected); a corrected entry also says how much was taken
    // back in how many corrections, so a correction is never a silent change of the total.
    const group = <K extends string>(rows: Row[], corrections: Row[], key: K) => {
      const m = new Map<string, { key: string; material: string; quantity: string; unit: string; additions: number; corrections?: number; corrected?: string }>();
      for (const r of rows) {
        const k = String(r[key]);
        const cur = m.get(k);
        if (cur) {
          cur.quantity = decToString(add(cur.quantity, String(r.quantity)));
          cur.additions++;
        } else m.set(k, { key: k, material: String(r.material ?? ''), quantity: String(r.quantity), unit: String(r.unit), additions: 1 });
      }
      for (const c of corrections) {
        const cur = m.get(String(c[key]));
        if (!cur) continue; // a correction always names a consumption of the same key
        cur.quantity = decToString(sub(cur.quantity, String(c.quantity)));
        cur.corrections = (cur.corrections ?? 0) + 1;
        cur.corrected = decToString(add(cur.corrected ?? '0', String(c.quantity)));
      }
      return [...m.values()];
    };
    const corr = (g: { corrections?: number; corrected?: string }) => (g.corrections ? { corrections: g.corrections, corrected: g.corrected! } : {});
    const serialTracked = this.db.prepare("SELECT 1 AS y FROM materials WHERE code = ? AND tracking = 'serial'");
    this.genealogy = {
      batch: (n) => this.batch(n),
      // A lot of a serial-tracked material is one unit: its serial is the supplier's number or the id.
      lot: (id) => {
        const l = this.lot(id);
        return l && serialTracked.get(l.material) ? { ...l, serial: l.supplierLot ?? l.id } : l;
      },
      consumptionsOfBatch: (b) =>
        group(byBatch.all(b) as Row[], corrByBatch.all(b) as Row[], 'lot').map((g) => ({ lot: g.key, material: g.material, quantity: g.quantity, unit: g.unit, additions: g.additions, ...corr(g) })),
      consumersOfLot: (l) => group(byLot.all(l) as Row[], corrByLot.all(l) as Row[], 'batch').map((g) => ({ batch: g.key, quantity: g.quantity, unit: g.unit, additions: g.additions, ...corr(g) })),
      lotsProducedBy: (b) => (produced.all(b) as Row[]).map((r) => String(r.id)),
      labelsOfBatch: (b) => (labels.all(b) as Row[]).map((r) => ({ id: String(r.id), kind: String(r.kind), serial: str(r.serial), sscc: str(r.sscc) })),
    };
    return this.genealogy;
  }

  // ── records and audit ──────────────────────────────────────────────────────
  record(idOrSeq: string): JournalRecord | undefined {
    const r = (/^\d+$/.test(idOrSeq)
      ? this.db.prepare('SELECT * FROM records WHERE seq = ?').get(Number(idOrSeq))
      : this.db.prepare('SELECT * FROM records WHERE id = ?').get(idOrSeq)) as Row | undefined;
    return r ? rowToRecord(r) : undefined;
  }

  listRecords(f: RecordFilter): { items: JournalRecord[]; next: number | null } {
    const q = recordsQuery(f);
    const rows = this.db.prepare(q.sql).all(...q.args) as Row[];
    const items = rows.slice(0, f.limit).map(rowToRecord);
    return { items, next: rows.length > f.limit ? items[items.length - 1]!.seq : null };
  }

  listAudit(f: AuditFilter): { items: AuditEntry[]; next: number | null } {
    const q = auditQuery(f);
    const rows = this.db.prepare(q.sql).all(...q.args) as Row[];
    const items = rows.slice(0, f.limit).map(toAudit);
    return { items, next: rows.length > f.limit ? items[items.length - 1]!.seq : null };
  }
}

/**
 * The SQL of the documented list filters, built here so that test/unit/store/query-plans.test.ts
 * checks the plan of exactly the statements the API runs (issue 18: each uses an index).
 */
export interface Query {
  sql: string;
  args: unknown[];
}

export interface AuditFilter {
  entity?: string;
  entityId?: string;
  after?: number;
  limit: number;
}

export function lotsQuery(f: { material?: string; status?: string; limit: number; after?: string }): Query {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.material) (where.push('material = ?'), args.push(f.material));
  if (f.status) (where.push('status = ?'), args.push(f.status));
  if (f.after) (where.push('id > ?'), args.push(f.after));
  return { sql: `SELECT * FROM lots ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ?`, args: [...args, f.limit] };
}

export function supplierLotQuery(f: { supplierLot: string; supplier?: string; material?: string }): Query {
  const where = ['supplier_lot = ?'];
  const args: unknown[] = [f.supplierLot];
  if (f.supplier) (where.push('supplier = ?'), args.push(f.supplier));
  if (f.material) (where.push('material = ?'), args.push(f.material));
  return { sql: `SELECT id FROM lots WHERE ${where.join(' AND ')} ORDER BY id`, args };
}

export function auditQuery(f: AuditFilter): Query {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.entity) (where.push('entity = ?'), args.push(f.entity));
  if (f.entityId) (where.push('entity_id = ?'), args.push(f.entityId));
  if (f.after !== undefined) (where.push('seq > ?'), args.push(f.after));
  return { sql: `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ?`, args: [...args, f.limit + 1] };
}

export function recordsQuery(f: RecordFilter): Query {
  const where: string[] = [];
  const args: unknown[] = [];
  const eq = (col: string, v: string | undefined): void => {
    if (v !== undefined) (where.push(`${col} = ?`), args.push(v));
  };
  eq('batch', f.batch);
  eq('lot', f.lot);
  eq('station', f.station);
  eq('status', f.status);
  eq('device', f.device);
  eq('error_code', f.errorCode);
  if (f.type !== undefined) {
    // A prefix is a range on the type index (issue 18): LIKE is case-insensitive in SQLite and
    // cannot use a BINARY index, so it walked the whole journal. The prefix is literal (% and _
    // match themselves).
    if (f.type.endsWith('*')) {
      const range = prefixRange(f.type.slice(0, -1));
      if (range) {
        where.push('type >= ?');
        args.push(range.from);
        if (range.to !== null) (where.push('type < ?'), args.push(range.to));
      }
    } else eq('type', f.type);
  }
  if (f.notType !== undefined) {
    // Inlined, not bound: SQLite uses a partial index `… WHERE type <> 'process.value'` only for a
    // literal term. The value is a record type constant of the code, never request input.
    if (!/^[a-z0-9_.]+$/.test(f.notType)) throw new Error(`recordsQuery: not a record type: ${f.notType}`);
    where.push(`type <> '${f.notType}'`);
  }
  if (f.from) (where.push('received_at >= ?'), args.push(f.from));
  if (f.to) (where.push('received_at < ?'), args.push(f.to));
  if (f.after !== undefined) (where.push(f.order === 'desc' ? 'seq < ?' : 'seq > ?'), args.push(f.after));
  const sql = `SELECT * FROM records ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq ${f.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
  return { sql, args: [...args, f.limit + 1] };
}

/**
 * The half-open range [from, to) of strings starting with `prefix`, in SQLite's BINARY (UTF-8
 * byte) order, which is code point order: `to` is the prefix with its last code point + 1. Null
 * for an empty prefix (everything); `to` null when the last code point is the largest there is.
 */
export function prefixRange(prefix: string): { from: string; to: string | null } | null {
  if (prefix === '') return null;
  const cps = [...prefix];
  const last = cps.pop()!.codePointAt(0)!;
  if (last >= 0x10ffff) return { from: prefix, to: null };
  // Skip the surrogate block: it is not valid in UTF-8 text.
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  return { from: prefix, to: cps.join('') + String.fromCodePoint(next) };
}

export interface RecordFilter {
  batch?: string;
  lot?: string;
  station?: string;
  type?: string;
  /** Leave this record type out (the station pages leave out `process.value`, issue 18). */
  notType?: string;
  status?: string;
  errorCode?: string;
  device?: string;
  from?: string;
  to?: string;
  after?: number;
  limit: number;
  order?: 'asc' | 'desc';
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  reason: string | null;
  old: unknown;
  new: unknown;
  hash: string;
  prevHash: string;
}

function toAudit(r: Row): AuditEntry {
  return {
    seq: Number(r.seq),
    at: String(r.at),
    actor: String(r.actor),
    action: String(r.action),
    entity: String(r.entity),
    entityId: String(r.entity_id),
    reason: str(r.reason),
    old: r.old_value === null ? null : JSON.parse(String(r.old_value)),
    new: r.new_value === null ? null : JSON.parse(String(r.new_value)),
    hash: String(r.hash),
    prevHash: String(r.prev_hash),
  };
}

function toLot(r: Row): LotRow {
  return {
    id: String(r.id),
    material: String(r.material),
    supplier: str(r.supplier),
    supplierLot: str(r.supplier_lot),
    receiptDate: str(r.receipt_date),
    expiry: str(r.expiry),
    status: r.status as LotView['status'],
    quantity: String(r.quantity),
    unit: String(r.unit),
    producedBy: str(r.produced_by),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBroken: { seq: number; reason: string } | null;
}

/**
 * Walk the audit chain from the start: recompute each entry's hash and check it links to the one
 * before. Reports the first entry that does not match (an edited row shows as its own hash
 * mismatch; a deleted row as a gap or a broken link at the next one).
 */
export function verifyAudit(db: Db): AuditVerification {
  let prevHash = AUDIT_GENESIS;
  let expectedSeq = 1;
  let checked = 0;
  for (const r of db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<Row>) {
    const seq = Number(r.seq);
    if (seq !== expectedSeq) return { ok: false, checked, firstBroken: { seq, reason: `entry ${expectedSeq} is missing (sequence jumps to ${seq})` } };
    if (String(r.prev_hash) !== prevHash) {
      return { ok: false, checked, firstBroken: { seq, reason: 'prev_hash does not match the hash of the entry before it' } };
    }
    const computed = auditHash({
      seq,
      at: String(r.at),
      actor: String(r.actor),
      action: String(r.action),
      entity: String(r.entity),
      entityId: String(r.entity_id),
      reason: str(r.reason),
      oldValue: str(r.old_value),
      newValue: str(r.new_value),
      prevHash: String(r.prev_hash),
    });
    if (computed !== String(r.hash)) {
      return { ok: false, checked, firstBroken: { seq, reason: 'content does not match its hash (the entry was edited)' } };
    }
    prevHash = String(r.hash);
    expectedSeq++;
    checked++;
  }
  return { ok: true, checked, firstBroken: null };
}
