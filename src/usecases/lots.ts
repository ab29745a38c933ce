/**
 * Master-data use cases (split out of src/ops.ts, issue 13): materials, lots and ERP work orders
 * (a work order becomes a planned batch). Each use case is ONE journal transaction (state change +
 * record + audit); status moves are checked, quantities are set absolutely and never silently.
 */
import type { LotStatus, LotView } from '../binding/types.js';
import { canonical, cmp, isDecimalString } from '../domain/decimal.js';
import { lotMoveAllowed } from '../domain/lot.js';
import { LgError } from '../errors.js';
import type { Journal } from '../store/journal.js';
import type { Repo } from '../store/repo.js';
import type { Actor } from './actor.js';
import type { BatchInput, Batches } from './batches.js';
import type { Quality } from './quality.js';

export interface LotInput {
  id: string;
  material: string;
  supplier?: string | null;
  supplierLot?: string | null;
  receiptDate?: string | null;
  expiry?: string | null;
  status?: LotStatus;
  quantity: string;
  unit?: string;
  /** The batch that produced this lot (an intermediate or finished-goods lot): the genealogy link. */
  producedBy?: string | null;
}

export interface MaterialInput {
  code: string;
  name: string;
  unit: string;
  tracking?: 'lot' | 'serial' | 'none';
  gtins?: string[];
  shelfLifeDays?: number | null;
}

export class Lots {
  constructor(
    readonly journal: Journal,
    readonly repo: Repo,
    private readonly batches: Batches,
    private readonly quality: Quality,
  ) {}

  /** ERP work order → planned batch (idempotent by work order id; updated while still planned). */
  async upsertWorkOrder(workOrder: string, input: Omit<BatchInput, 'workOrder'>, by: Actor): Promise<{ number: string; created: boolean; changed: boolean }> {
    return this.journal.submit((tx) => {
      const existing = this.repo.db.prepare('SELECT number FROM batches WHERE work_order = ?').get(workOrder) as { number: string } | undefined;
      if (!existing) {
        const r = this.batches.createBatchTx(tx, { ...input, workOrder }, by);
        return { number: r.number, created: true, changed: true };
      }
      const b = this.repo.batch(existing.number)!;
      const same =
        b.product === input.product &&
        cmp(b.plannedQty, input.plannedQty) === 0 &&
        b.unit === input.unit &&
        JSON.stringify(b.bom.map((l) => [l.material, canonical(l.quantity), l.unit, canonical(l.tolerancePct)])) ===
          JSON.stringify([...input.bom].sort((x, y) => x.material.localeCompare(y.material)).map((l) => [l.material, canonical(l.quantity), l.unit, canonical(l.tolerancePct ?? '0')]));
      if (same) return { number: b.number, created: false, changed: false };
      if (b.status !== 'planned') throw new LgError('LG_ERR_BATCH_INVALID_TRANSITION', { batch: b.number, from: b.status, to: 'planned (work order update)' });
      this.repo.db.prepare('DELETE FROM batch_bom WHERE batch = ?').run(b.number);
      const ins = this.repo.db.prepare('INSERT INTO batch_bom (batch, material, quantity, unit, tolerance_pct) VALUES (?, ?, ?, ?, ?)');
      for (const l of input.bom) {
        if (!this.repo.material(l.material)) throw new LgError('LG_ERR_MATERIAL_NOT_FOUND', { material: l.material });
        ins.run(b.number, l.material, canonical(l.quantity), l.unit, canonical(l.tolerancePct ?? '0'));
      }
      this.repo.db
        .prepare('UPDATE batches SET product = ?, product_name = ?, gtin = ?, planned_qty = ?, unit = ?, updated_at = ? WHERE number = ?')
        .run(input.product, input.productName ?? null, input.gtin ?? null, canonical(input.plannedQty), input.unit, tx.now.toISOString(), b.number);
      const after = this.repo.batch(b.number)!;
      tx.append({ type: 'batch.updated', status: 'accepted', batch: b.number, operator: by.id, payload: { workOrder, before: b, after } });
      tx.audit({ actor: by.id, action: 'batch.updated', entity: 'batch', entityId: b.number, reason: `work order ${workOrder}`, old: b, new: after });
      return { number: b.number, created: false, changed: true };
    });
  }

  async upsertMaterial(m: MaterialInput, by: Actor): Promise<{ created: boolean; changed: boolean }> {
    for (const g of m.gtins ?? []) if (!/^\d{14}$/.test(g)) throw new LgError('LG_ERR_VALIDATION', { detail: `GTIN ${g} must be 14 digits (pad GTIN-13 with a leading 0)` });
    return this.journal.submit((tx) => {
      const before = this.repo.material(m.code);
      const after = { code: m.code, name: m.name, unit: m.unit, tracking: m.tracking ?? 'lot', shelfLifeDays: m.shelfLifeDays ?? null, gtins: [...(m.gtins ?? [])].sort() };
      if (before && JSON.stringify(before) === JSON.stringify(after)) return { created: false, changed: false };
      if (before && before.unit !== after.unit) {
        const used = this.repo.db.prepare('SELECT 1 FROM lots WHERE material = ? LIMIT 1').get(m.code);
        if (used) throw new LgError('LG_ERR_UNIT_MISMATCH', { unit: after.unit, expected: before.unit, entity: `material ${m.code} (it has lots)` });
      }
      const now = tx.now.toISOString();
      this.repo.db
        .prepare(
          `INSERT INTO materials (code, name, unit, tracking, shelf_life_days, created_at, updated_at) VALUES (@code, @name, @unit, @tracking, @shelfLifeDays, @now, @now)
           ON CONFLICT (code) DO UPDATE SET name = excluded.name, unit = excluded.unit, tracking = excluded.tracking, shelf_life_days = excluded.shelf_life_days, updated_at = excluded.updated_at`,
        )
        .run({ ...after, now });
      this.repo.db.prepare('DELETE FROM material_gtins WHERE material = ?').run(m.code);
      const insG = this.repo.db.prepare('INSERT INTO material_gtins (gtin, material) VALUES (?, ?)');
      for (const g of after.gtins) {
        const owner = this.repo.materialByGtin(g);
        if (owner && owner.code !== m.code) throw new LgError('LG_ERR_CONFLICT', { entity: 'GTIN', id: `${g} (assigned to ${owner.code})` });
        insG.run(g, m.code);
      }
      tx.append({ type: before ? 'material.updated' : 'material.created', status: 'accepted', operator: by.id, payload: { before: before ?? null, after } });
      tx.audit({ actor: by.id, action: before ? 'material.updated' : 'material.created', entity: 'material', entityId: m.code, old: before, new: after });
      return { created: !before, changed: true };
    });
  }

  /** Create, or (ERP push) update a lot idempotently. Status moves are checked; quantities set absolutely. */
  async upsertLot(input: LotInput, by: Actor, reason: string | null, mode: 'create' | 'upsert'): Promise<{ created: boolean; changed: boolean; lot: LotView }> {
    if (!isDecimalString(input.quantity)) throw new LgError('LG_ERR_VALIDATION', { detail: 'quantity must be a decimal string' });
    for (const [k, v] of [['expiry', input.expiry], ['receiptDate', input.receiptDate]] as const) {
      if (v && !isIsoDate(v)) throw new LgError('LG_ERR_VALIDATION', { detail: `${k} must be a valid date YYYY-MM-DD` });
    }
    return this.journal.submit((tx) => {
      const material = this.repo.material(input.material);
      if (!material) throw new LgError('LG_ERR_MATERIAL_NOT_FOUND', { material: input.material });
      const unit = input.unit ?? material.unit;
      if (unit !== material.unit) throw new LgError('LG_ERR_UNIT_MISMATCH', { unit, expected: material.unit, entity: `material ${material.code}` });
      const before = this.repo.lot(input.id);
      if (before && mode === 'create') throw new LgError('LG_ERR_CONFLICT', { entity: 'lot', id: input.id });
      const after: LotView = {
        id: input.id,
        material: input.material,
        supplier: input.supplier ?? before?.supplier ?? null,
        supplierLot: input.supplierLot ?? before?.supplierLot ?? null,
        receiptDate: input.receiptDate ?? before?.receiptDate ?? null,
        expiry: input.expiry ?? before?.expiry ?? null,
        status: input.status ?? before?.status ?? 'quarantine',
        quantity: canonical(input.quantity),
        unit,
      };
      const producedBy = input.producedBy ?? before?.producedBy ?? null;
      if (producedBy && !this.repo.batch(producedBy)) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: producedBy });
      if (!before) {
        this.repo.insertLot(tx, { ...after, producedBy }, by.id, reason);
        tx.append({ type: 'lot.created', status: 'accepted', lot: after.id, operator: by.id, payload: { ...after, producedBy } });
        return { created: true, changed: true, lot: after };
      }
      if (before.material !== after.material) throw new LgError('LG_ERR_CONFLICT', { entity: 'lot', id: `${after.id} (belongs to material ${before.material})` });
      const { createdAt: _c, updatedAt: _u, producedBy: beforeProducedBy, ...beforeView } = before;
      if (JSON.stringify(beforeView) === JSON.stringify(after) && beforeProducedBy === producedBy) return { created: false, changed: false, lot: after };
      if (!lotMoveAllowed(before.status, after.status)) throw new LgError('LG_ERR_LOT_INVALID_STATUS', { lot: after.id, from: before.status, to: after.status });
      // A recall hold is QA's to lift (not an ERP push, not the floor).
      if (before.status === 'on_hold' && after.status !== 'on_hold' && by.role !== 'qa') {
        const recall = this.repo.recallHolding('lot', after.id);
        if (recall) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: `lift the hold of lot ${after.id} (recall ${recall})`, allowed: 'qa' });
      }
      // Leaving quarantine (or a hold) for use may need a passed receiving inspection (QC plans).
      if (after.status === 'released' && before.status !== 'released') this.quality.checkLotRelease(after.id, after.material);
      this.repo.db
        .prepare(
          `UPDATE lots SET supplier=@supplier, supplier_lot=@supplierLot, receipt_date=@receiptDate, expiry=@expiry, status=@status, quantity=@quantity, unit=@unit, produced_by=@producedBy, updated_at=@now WHERE id=@id`,
        )
        .run({ ...after, producedBy, now: tx.now.toISOString() });
      const statusChanged = before.status !== after.status;
      tx.append({
        type: statusChanged ? 'lot.status_changed' : 'lot.updated',
        status: 'accepted',
        lot: after.id,
        operator: by.id,
        payload: { before: beforeView, after, reason },
      });
      tx.audit({ actor: by.id, action: statusChanged ? 'lot.status_changed' : 'lot.updated', entity: 'lot', entityId: after.id, reason, old: beforeView, new: after });
      return { created: false, changed: true, lot: after };
    });
  }
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
