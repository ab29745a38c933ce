import type { BatchStatus, BindResult, JournalRecord, LotStatus, LotView, StationContext, UserView } from './binding/types.js';
import { bindScan, OVERRIDABLE, type ParsedScan, type ScanStation } from './binding/scan.js';
import { checkTransition, isOpen, REASON_REQUIRED, type Role } from './domain/batch.js';
import { checkStageFor, checkSummary } from './domain/batch-checks.js';
import { batchChecks } from './store/batch-checks.js';
import { canonical, cmp, isDecimalString } from './domain/decimal.js';
import { lotMoveAllowed } from './domain/lot.js';
import { compileBatchPattern, localDateParts, type CompiledPattern } from './domain/numbering.js';
import { LgError, type ErrorCode } from './errors.js';
import type { Config, StationConfig } from './config/schema.js';
import type { Journal, TxContext } from './store/journal.js';
import { hashToken, type Repo } from './store/repo.js';
import type { Clock } from './util/clock.js';
import { newToken } from './util/ids.js';

/**
 * Use cases. Each one is ONE journal transaction holding the state change, the record that tells
 * upstream about it, and the audit entry — so they commit together or not at all, and the caller
 * (API, driver) is answered only after the commit.
 */

export interface Actor {
  id: string;
  role: Role;
}

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

export type ScanParser = (raw: Buffer, opts?: { fnc1Substitute?: string; now?: Date }) => ParsedScan;

export class Ops {
  readonly batchPattern: CompiledPattern;
  private readonly stations = new Map<string, { cfg: StationConfig; scan: ScanStation }>();
  /** Last scan per device, for the duplicate window (in memory: a restart forgets, which only lets one repeat through). */
  private readonly lastScan = new Map<string, { hex: string; at: number }>();

  constructor(
    readonly cfg: Readonly<Config>,
    readonly journal: Journal,
    readonly repo: Repo,
    readonly clock: Clock,
    private readonly parseScan: ScanParser,
  ) {
    this.batchPattern = compileBatchPattern(cfg.numbering.batch);
    const batchRe = this.batchPattern.regex(cfg.line.id, cfg.site.id);
    const badgeRe = new RegExp(cfg.numbering.badgePattern);
    for (const s of cfg.stations) {
      this.stations.set(s.id, {
        cfg: s,
        scan: {
          id: s.id,
          timezone: cfg.site.timezone,
          policies: s.policies,
          commands: s.commands ?? {},
          batchPattern: batchRe,
          badgePattern: badgeRe,
        },
      });
    }
  }

  station(id: string): StationConfig {
    const s = this.stations.get(id);
    if (!s) throw new LgError('LG_ERR_STATION_NOT_FOUND', { station: id });
    return s.cfg;
  }

  stationContext(id: string): StationContext & { updatedAt: string | null } {
    const s = this.station(id);
    return { station: id, role: s.role, ...this.repo.stationContext(id) };
  }

  private bindEnv(tx: TxContext) {
    return { site: this.cfg.site.id, line: this.cfg.line.id, now: tx.now, md: this.repo.masterData() };
  }

  // ── readings ───────────────────────────────────────────────────────────────

  /**
   * A scan from a driver or the API → one record (accepted or rejected), effects applied in the
   * same transaction. Resolves after commit: only then may the operator hear the beep.
   */
  async ingestScan(stationId: string, scan: { raw: Buffer; device: string | null; receivedAt?: Date; sourceTime?: Date | null; error?: { code: ErrorCode; message: string; details?: Record<string, unknown> } | null; fnc1Substitute?: string }, actor?: Actor): Promise<JournalRecord> {
    const st = this.stations.get(stationId);
    if (!st) throw new LgError('LG_ERR_STATION_NOT_FOUND', { station: stationId });
    const receivedAt = scan.receivedAt ?? this.clock.now();
    const dup = this.isDuplicate(scan.device ?? `api:${stationId}`, scan.raw, receivedAt, st.cfg.policies.duplicateWindowMs);
    const parsed = scan.error ? ({ ok: false, code: scan.error.code, message: scan.error.message, details: {} } as ParsedScan) : this.parseScan(scan.raw, { fnc1Substitute: scan.fnc1Substitute, now: receivedAt });
    return this.journal.submit((tx) => {
      const ctx = this.stationContext(stationId);
      let result: BindResult;
      if (dup) {
        result = {
          record: {
            type: 'scan.duplicate',
            status: 'rejected',
            errorCode: 'LG_ERR_SCAN_DUPLICATE',
            message: `the same code was scanned twice within ${st.cfg.policies.duplicateWindowMs} ms; counted once`,
            station: stationId,
            batch: ctx.batch,
            operator: ctx.operator,
            device: scan.device,
            receivedAt,
            payload: { rawHex: scan.raw.subarray(0, 4096).toString('hex'), windowMs: st.cfg.policies.duplicateWindowMs },
          },
          effects: [],
        };
      } else {
        result = bindScan({ raw: scan.raw, device: scan.device, receivedAt, sourceTime: scan.sourceTime ?? null, error: scan.error ?? null, parsed }, ctx, st.scan, this.bindEnv(tx));
      }
      const rec = tx.append(result.record);
      this.repo.applyEffects(tx, rec, result.effects, actor?.id ?? (scan.device ? `device:${scan.device}` : 'api'));
      return rec;
    });
  }

  private isDuplicate(key: string, raw: Buffer, at: Date, windowMs: number): boolean {
    const hex = raw.toString('hex');
    const last = this.lastScan.get(key);
    const t = at.getTime();
    this.lastScan.set(key, { hex, at: t });
    return windowMs > 0 && !!last && last.hex === hex && t - last.at >= 0 && t - last.at < windowMs;
  }

  /** Append an already-bound result (weights, machine values) with its effects. */
  async ingestBound(make: (tx: TxContext, env: ReturnType<Ops['bindEnv']>) => BindResult, actor: string): Promise<JournalRecord> {
    return this.journal.submit((tx) => {
      const result = make(tx, this.bindEnv(tx));
      const rec = tx.append(result.record);
      this.repo.applyEffects(tx, rec, result.effects, actor);
      return rec;
    });
  }

  /**
   * A supervisor lets one refused lot scan through, with a reason. The override is its own record
   * (linked to the refused one) and an audit entry; the lot becomes the station's active lot.
   */
  async overrideScan(recordId: string, reason: string, by: Actor): Promise<JournalRecord> {
    if (!['supervisor', 'qa', 'admin'].includes(by.role)) {
      throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'override a refused scan', allowed: 'supervisor, qa, admin' });
    }
    if (!reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'override a refused scan' });
    return this.journal.submit((tx) => {
      const r = this.repo.record(recordId);
      if (!r) throw new LgError('LG_ERR_RECORD_NOT_FOUND', { id: recordId });
      if (r.type !== 'lot.scanned' || r.status !== 'rejected' || !r.errorCode || !OVERRIDABLE.has(r.errorCode)) {
        throw new LgError('LG_ERR_OVERRIDE_INVALID', { id: recordId, detail: `only a lot scan refused with ${[...OVERRIDABLE].join(', ')} can be overridden` });
      }
      const already = this.repo.db
        .prepare(`SELECT 1 FROM records WHERE type = 'lot.override' AND seq > ? AND json_extract(payload, '$.overrides') = ? LIMIT 1`)
        .get(r.seq, r.id);
      if (already) throw new LgError('LG_ERR_OVERRIDE_INVALID', { id: recordId, detail: 'it was already overridden' });
      const ctx = this.stationContext(r.station!);
      if (!ctx.batch || ctx.batch !== r.batch) {
        throw new LgError('LG_ERR_OVERRIDE_INVALID', { id: recordId, detail: `the station's active batch changed since the scan (now ${ctx.batch ?? 'none'})` });
      }
      const material = String(r.payload.material ?? '');
      if (!r.lot || !material) throw new LgError('LG_ERR_OVERRIDE_INVALID', { id: recordId, detail: 'the refused scan names no known lot' });
      const rec = tx.append({
        type: 'lot.override',
        status: 'accepted',
        station: r.station,
        batch: r.batch,
        lot: r.lot,
        operator: ctx.operator,
        device: r.device,
        payload: { overrides: r.id, overriddenCode: r.errorCode, material, reason, by: by.id, role: by.role },
      });
      tx.audit({ actor: by.id, action: 'scan.overridden', entity: 'record', entityId: r.id, reason, old: { errorCode: r.errorCode }, new: { override: rec.id } });
      this.repo.applyEffects(tx, rec, [{ type: 'station.set_lot', station: r.station!, material, lot: r.lot }], by.id);
      return rec;
    });
  }

  /** Set the station's batch and/or operator through the API (lots are activated by scanning). */
  async setStationContext(stationId: string, change: { batch?: string | null; operator?: string | null }, by: Actor, reason: string | null): Promise<JournalRecord[]> {
    this.station(stationId);
    return this.journal.submit((tx) => {
      const out: JournalRecord[] = [];
      const ctx = this.stationContext(stationId);
      if (change.batch !== undefined && change.batch !== ctx.batch) {
        if (change.batch !== null) {
          const b = this.repo.batch(change.batch);
          if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: change.batch });
          if (!isOpen(b.status) || b.status === 'on_hold') throw new LgError('LG_ERR_BATCH_NOT_OPEN', { batch: b.number, status: b.status });
        }
        const rec = tx.append({ type: 'batch.selected', status: 'accepted', station: stationId, batch: change.batch, operator: ctx.operator, payload: { previous: ctx.batch, by: by.id, reason } });
        this.repo.applyEffects(tx, rec, [{ type: 'station.set_batch', station: stationId, batch: change.batch }], by.id);
        out.push(rec);
      }
      if (change.operator !== undefined && change.operator !== ctx.operator) {
        if (change.operator !== null) {
          const u = this.repo.userById(change.operator);
          if (!u || u.disabled) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: change.operator });
        }
        const batch = change.batch !== undefined ? change.batch : ctx.batch;
        const rec = tx.append({
          type: change.operator ? 'operator.signed_in' : 'operator.signed_out',
          status: 'accepted',
          station: stationId,
          batch,
          operator: change.operator ?? ctx.operator,
          payload: { previous: ctx.operator, by: by.id, reason },
        });
        const effects = [{ type: 'station.set_operator', station: stationId, operator: change.operator } as const];
        this.repo.applyEffects(tx, rec, batch && change.operator ? [...effects, { type: 'batch.add_personnel', batch, operator: change.operator } as const] : effects, by.id);
        out.push(rec);
      }
      return out;
    });
  }

  // ── batches ────────────────────────────────────────────────────────────────

  async createBatch(input: BatchInput, by: Actor): Promise<{ number: string; record: JournalRecord }> {
    if (!isDecimalString(input.plannedQty) || cmp(input.plannedQty, '0') <= 0) {
      throw new LgError('LG_ERR_VALIDATION', { detail: 'plannedQty must be a positive decimal string' });
    }
    return this.journal.submit((tx) => this.createBatchTx(tx, input, by));
  }

  private createBatchTx(tx: TxContext, input: BatchInput, by: Actor): { number: string; record: JournalRecord } {
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
    signature?: { meaning: string } | null,
    justifications?: ReadonlyArray<{ material: string; reason: string }> | null,
  ): Promise<JournalRecord> {
    if (REASON_REQUIRED.has(to) && !reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: `move a batch to ${to}` });
    const just = justifications ?? [];
    if (just.length > 0) {
      // Until deviations exist (issue 13), a material outside its tolerance can be completed only
      // with a justification per material from a supervisor, QA or admin — recorded and audited.
      if (to !== 'completed') throw new LgError('LG_ERR_VALIDATION', { detail: 'justifications are only accepted when completing a batch' });
      if (!['supervisor', 'qa', 'admin'].includes(by.role)) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'justify a bill-of-materials deviation', allowed: 'supervisor, qa, admin' });
      if (new Set(just.map((j) => j.material)).size !== just.length) throw new LgError('LG_ERR_VALIDATION', { detail: 'a material is justified twice' });
      for (const j of just) if (!j.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: `justify the consumption of ${j.material}` });
    }
    if (to === 'released' && !signature?.meaning?.trim()) {
      throw new LgError('LG_ERR_SIGNATURE_REQUIRED', { detail: 'send signature.meaning (e.g. "Reviewed and approved for release")' });
    }
    return this.journal.submit((tx) => {
      const b = this.repo.batch(number);
      if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
      const refused = checkTransition(number, b.status, to, b.heldFrom, by.role);
      if (refused) throw new LgError(refused.code, refused.details);
      // Completion and release checks (domain/batch-checks.ts), inside this transaction. Resuming a
      // held batch to the state it was held from re-enters a state whose checks already passed.
      const stage = b.status === 'on_hold' ? null : checkStageFor(to);
      let justified: Array<Record<string, unknown>> = [];
      if (just.length > 0) {
        if (stage !== 'completion') throw new LgError('LG_ERR_VALIDATION', { detail: 'justifications are only accepted when completing a batch' });
        const plain = batchChecks(this.repo, number, 'completion');
        justified = just.map((j) => {
          const line = plain.bom.find((l) => l.material === j.material);
          if (!line || line.ok) {
            throw new LgError('LG_ERR_VALIDATION', { detail: `material ${j.material}: ${line ? 'its consumption passes its check' : 'not on the bill of materials'} — a justification covers only a material that fails its check` });
          }
          return { material: j.material, reason: j.reason.trim(), by: by.id, role: by.role, consumed: line.consumed, min: line.min, max: line.max, unit: line.unit, position: line.position };
        });
      }
      const extra = new Map(justified.map((j) => [String(j.material), [{ id: 'this completion', status: 'justified', summary: String(j.reason) }]]));
      const checks = stage ? batchChecks(this.repo, number, stage, extra) : null;
      if (checks && !checks.ok) throw new LgError('LG_ERR_BATCH_CHECKS_FAILED', { batch: number, to, count: checks.missing.length, missing: checks.missing });
      const why = reason?.trim() || defaultReason(b.status, to);
      this.repo.transitionBatchRow(tx, number, to, by.id, why);
      const sig = to === 'released' ? { by: by.id, role: by.role, meaning: signature!.meaning, at: tx.now.toISOString() } : undefined;
      const rec = tx.append({
        type: 'batch.status_changed',
        status: 'accepted',
        batch: number,
        operator: by.id,
        payload: { from: b.status, to, reason: why, by: by.id, role: by.role, signature: sig, ...(checks ? { checks: checkSummary(checks) } : {}), ...(justified.length ? { justifications: justified } : {}) },
      });
      for (const j of justified) {
        tx.audit({ actor: by.id, action: 'batch.bom_justified', entity: 'batch', entityId: number, reason: String(j.reason), new: { ...j, record: rec.id } });
      }
      return rec;
    });
  }

  /** ERP work order → planned batch (idempotent by work order id; updated while still planned). */
  async upsertWorkOrder(workOrder: string, input: Omit<BatchInput, 'workOrder'>, by: Actor): Promise<{ number: string; created: boolean; changed: boolean }> {
    return this.journal.submit((tx) => {
      const existing = this.repo.db.prepare('SELECT number FROM batches WHERE work_order = ?').get(workOrder) as { number: string } | undefined;
      if (!existing) {
        const r = this.createBatchTx(tx, { ...input, workOrder }, by);
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

  // ── materials and lots ─────────────────────────────────────────────────────

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

  // ── users ──────────────────────────────────────────────────────────────────

  /** Create a user and return their bearer token — the only time it is ever shown. */
  async createUser(u: { id: string; name: string; role: UserView['role']; badge?: string | null }, by: Actor): Promise<{ token: string }> {
    const token = newToken();
    await this.journal.submit((tx) => {
      if (this.repo.userById(u.id)) throw new LgError('LG_ERR_CONFLICT', { entity: 'user', id: u.id });
      if (u.badge && this.repo.userByBadge(u.badge)) throw new LgError('LG_ERR_CONFLICT', { entity: 'badge', id: u.badge });
      const now = tx.now.toISOString();
      this.repo.db
        .prepare('INSERT INTO users (id, name, role, token_hash, badge, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)')
        .run(u.id, u.name, u.role, hashToken(token), u.badge ?? null, now, now);
      tx.audit({ actor: by.id, action: 'user.created', entity: 'user', entityId: u.id, new: { id: u.id, name: u.name, role: u.role, badge: u.badge ?? null } });
    });
    return { token };
  }

  async updateUser(id: string, change: { name?: string; role?: UserView['role']; badge?: string | null; disabled?: boolean; rotateToken?: boolean }, by: Actor): Promise<{ token?: string }> {
    const token = change.rotateToken ? newToken() : undefined;
    await this.journal.submit((tx) => {
      const before = this.repo.userById(id);
      if (!before) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: id });
      if (change.badge && change.badge !== before.badge && this.repo.userByBadge(change.badge)) throw new LgError('LG_ERR_CONFLICT', { entity: 'badge', id: change.badge });
      const after = {
        name: change.name ?? before.name,
        role: change.role ?? before.role,
        badge: change.badge !== undefined ? change.badge : before.badge,
        disabled: change.disabled ?? before.disabled,
      };
      this.repo.db
        .prepare(`UPDATE users SET name = ?, role = ?, badge = ?, disabled = ?, updated_at = ?${token ? ', token_hash = ?' : ''} WHERE id = ?`)
        .run(after.name, after.role, after.badge, after.disabled ? 1 : 0, tx.now.toISOString(), ...(token ? [hashToken(token)] : []), id);
      tx.audit({
        actor: by.id,
        action: 'user.updated',
        entity: 'user',
        entityId: id,
        old: { name: before.name, role: before.role, badge: before.badge, disabled: before.disabled },
        new: { ...after, tokenRotated: !!token },
      });
    });
    return token ? { token } : {};
  }
}

function defaultReason(from: BatchStatus, to: BatchStatus): string {
  if (from === 'on_hold') return `resumed to ${to}`;
  return to === 'in_process' ? 'production started' : to === 'completed' ? 'production completed' : `moved to ${to}`;
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
