import type { BatchStatus, BindResult, JournalRecord, LotStatus, LotView, StationContext, UserView } from './binding/types.js';
import { bindScan, OVERRIDABLE, type ParsedScan, type ScanInput, type ScanStation } from './binding/scan.js';
import type { StationScanResult } from './binding/handling.js';
import { checkTransition, isOpen, REASON_REQUIRED, type Role } from './domain/batch.js';
import { checkStageFor, checkSummary } from './domain/batch-checks.js';
import { batchChecks } from './store/batch-checks.js';
import { add, canonical, cmp, isDecimalString, sub, toString as decToString } from './domain/decimal.js';
import { lotMoveAllowed, lotRefusals } from './domain/lot.js';
import { compileBatchPattern, localDate, localDateParts, type CompiledPattern } from './domain/numbering.js';
import { LgError, type ErrorCode } from './errors.js';
import type { Config, StationConfig } from './config/schema.js';
import type { Journal, TxContext } from './store/journal.js';
import { hashToken, type Repo } from './store/repo.js';
import type { Clock } from './util/clock.js';
import { newToken } from './util/ids.js';
import { Signatures, type SignatureInput, type VerifiedSigner } from './usecases/signatures.js';
import { Deviations } from './usecases/deviations.js';
import { Quality } from './usecases/quality.js';

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

  /** Electronic signatures (src/usecases/signatures.ts). */
  readonly signatures: Signatures;
  /** Deviations (src/usecases/deviations.ts). */
  readonly deviations: Deviations;
  /** QC inspections (src/usecases/quality.ts). */
  readonly quality: Quality;

  constructor(
    readonly cfg: Readonly<Config>,
    readonly journal: Journal,
    readonly repo: Repo,
    readonly clock: Clock,
    private readonly parseScan: ScanParser,
  ) {
    this.signatures = new Signatures(repo.db, journal, clock, cfg.signatures);
    this.deviations = new Deviations(repo.db, journal, this.signatures, cfg.line.id, cfg.deviations.auto);
    this.quality = new Quality(repo.db, journal, this.signatures, clock, cfg.line.id);
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
    // timezone: every binder compares dates (lot expiry) with the site-local date (issue 10.10).
    return { site: this.cfg.site.id, line: this.cfg.line.id, now: tx.now, timezone: this.cfg.site.timezone, md: this.repo.masterData() };
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
      let custom: StationScanResult | null = null;
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
        // A scan posted by a person (the API) is theirs: they are its operator, also for the
        // station's requireOperator policy; whoever is signed in at the station is kept beside.
        const bindCtx = actor ? { ...ctx, operator: actor.id } : ctx;
        const input = { raw: scan.raw, device: scan.device, receivedAt, sourceTime: scan.sourceTime ?? null, error: scan.error ?? null, parsed };
        // Issue 15: palletising and dispatch stations bind their own scans first (src/usecases/dispatch.ts).
        custom = this.stationScanBinders[ctx.role]?.(input, bindCtx, tx) ?? null;
        result = custom ?? bindScan(input, bindCtx, st.scan, this.bindEnv(tx));
      }
      if (actor) {
        // Credited to the caller (IEC 62443-4-2 CR 2.12): `operator` is the caller — except a
        // badge scan, whose operator is the badge's owner being signed in — and the payload
        // says who posted it and who was signed in at the station, when that is someone else.
        if (result.record.type !== 'operator.signed_in' || result.record.status !== 'accepted') result.record.operator = actor.id;
        result.record.payload = { ...result.record.payload, postedBy: actor.id, ...(ctx.operator && ctx.operator !== actor.id ? { stationOperator: ctx.operator } : {}) };
      }
      const rec = tx.append(result.record);
      this.repo.applyEffects(tx, rec, result.effects, actor?.id ?? (scan.device ? `device:${scan.device}` : 'api'));
      custom?.apply?.(tx, rec);
      return rec;
    });
  }

  /** Scan binders by station role, registered by the gateway (issue 15); null = bind as usual. */
  readonly stationScanBinders: Partial<Record<string, (scan: ScanInput, ctx: StationContext, tx: TxContext) => StationScanResult | null>> = {};

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
   *
   * What it covers (issue 10.2): that lot, in that batch, at that station, for the refusal codes
   * the lot has at this moment (the scan's code plus any other the lot has now — e.g. expired AND
   * in quarantine — all of which must be overridable, or nothing is granted). The station context
   * keeps it until that material's lot or the station's batch changes, and every path that
   * consumes (scale, hand entry) honours it through the weight binder.
   *
   * Who (issue 10.18): `by` grants it (supervisor, qa or admin); `requestedBy` is the person whose
   * session asked (an operator at the station when the supervisor co-signs with their token; the
   * supervisor themselves otherwise). Both are on the record and in the audit entry.
   */
  async overrideScan(recordId: string, reason: string, by: Actor, requestedBy: Actor = by): Promise<JournalRecord> {
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
      const lot = this.repo.lot(r.lot);
      const batch = this.repo.batch(ctx.batch);
      if (!lot || !batch) throw new LgError('LG_ERR_OVERRIDE_INVALID', { id: recordId, detail: 'the refused scan names no known lot' });
      const codes = new Set<string>([r.errorCode]);
      if (!batch.bom.some((l) => l.material === material)) codes.add('LG_ERR_MATERIAL_NOT_IN_BOM');
      const scannedExpiry = typeof r.payload.expiry === 'string' ? r.payload.expiry : null;
      for (const x of lotRefusals(lot, localDate(tx.now, this.cfg.site.timezone), scannedExpiry)) codes.add(x.code);
      const never = [...codes].filter((c) => !OVERRIDABLE.has(c));
      if (never.length) throw new LgError('LG_ERR_OVERRIDE_INVALID', { id: recordId, detail: `the lot is now also refused with ${never.join(', ')}, which no override lets through` });
      const rec = tx.append({
        type: 'lot.override',
        status: 'accepted',
        station: r.station,
        batch: r.batch,
        lot: r.lot,
        operator: ctx.operator,
        device: r.device,
        payload: {
          overrides: r.id,
          overriddenCode: r.errorCode,
          overriddenCodes: [...codes],
          material,
          reason,
          by: by.id,
          role: by.role,
          requestedBy: requestedBy.id,
          requestedByRole: requestedBy.role,
        },
      });
      tx.audit({
        actor: by.id,
        action: 'scan.overridden',
        entity: 'record',
        entityId: r.id,
        reason,
        old: { errorCode: r.errorCode },
        new: { override: rec.id, codes: [...codes], grantedBy: by.id, grantedByRole: by.role, requestedBy: requestedBy.id, requestedByRole: requestedBy.role },
      });
      this.repo.applyEffects(
        tx,
        rec,
        [
          { type: 'station.set_lot', station: r.station!, material, lot: r.lot },
          { type: 'station.grant_override', station: r.station!, material, override: { lot: r.lot, batch: r.batch!, record: rec.id, codes: [...codes] } },
        ],
        by.id,
      );
      return rec;
    });
  }

  /**
   * Correct a wrong consumption (issue 10.1): its own record, `material.consumption_corrected`,
   * naming the `material.consumed` record it corrects, with a reason, granted by a supervisor (qa,
   * admin) and audited. It gives the quantity back to the lot and takes it off the batch's consumed
   * total, exactly (decimal arithmetic). A consumption is corrected at most once (the store's
   * UNIQUE index too), never by more than it consumed, and only while its batch is planned,
   * in_process or on_hold: a completed batch is put on hold first, a released or rejected one is
   * final. `quantity` (in the unit of the consumption's lot) defaults to the whole consumption.
   */
  async correctConsumption(recordId: string, input: { reason: string; quantity?: string }, by: Actor, requestedBy: Actor = by): Promise<JournalRecord> {
    if (!['supervisor', 'qa', 'admin'].includes(by.role)) {
      throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'correct a consumption', allowed: 'supervisor, qa, admin' });
    }
    if (!input.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'correct a consumption' });
    if (input.quantity !== undefined) {
      if (!isDecimalString(input.quantity)) throw new LgError('LG_ERR_VALIDATION', { detail: 'quantity must be a decimal string' });
      if (cmp(input.quantity, '0') <= 0) throw new LgError('LG_ERR_QUANTITY_NOT_POSITIVE', { value: input.quantity });
    }
    return this.journal.submit((tx) => {
      const r = this.repo.record(recordId);
      if (!r) throw new LgError('LG_ERR_RECORD_NOT_FOUND', { id: recordId });
      const row = r.type === 'material.consumed' && r.status === 'accepted' ? this.repo.consumption(r.seq) : undefined;
      if (!row) throw new LgError('LG_ERR_CORRECTION_INVALID', { id: r.id, detail: 'only an accepted material.consumed record (one that moved stock) can be corrected' });
      const done = this.repo.correctionOf(r.seq);
      if (done) throw new LgError('LG_ERR_ALREADY_CORRECTED', { id: r.id, by: done.id });
      const batch = this.repo.batch(row.batch);
      if (!batch) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: row.batch });
      if (!['planned', 'in_process', 'on_hold'].includes(batch.status)) {
        throw new LgError('LG_ERR_CORRECTION_INVALID', {
          id: r.id,
          detail: batch.status === 'completed' ? `batch ${batch.number} is completed; put it on hold first` : `batch ${batch.number} is ${batch.status}, its record is final`,
        });
      }
      const quantity = canonical(input.quantity ?? row.quantity);
      if (cmp(quantity, row.quantity) > 0) throw new LgError('LG_ERR_CORRECTION_TOO_LARGE', { id: r.id, quantity: `${quantity} ${row.unit}`, consumed: `${row.quantity} ${row.unit}` });
      const consumedBefore = this.repo.consumed(row.batch, row.material);
      const lotRow = this.repo.lot(row.lot);
      if (!lotRow) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: row.lot });
      const rec = tx.append({
        type: 'material.consumption_corrected',
        status: 'accepted',
        station: r.station,
        batch: row.batch,
        lot: row.lot,
        operator: requestedBy.id,
        payload: {
          corrects: r.id,
          correctsSeq: r.seq,
          material: row.material,
          quantity,
          unit: row.unit,
          consumed: row.quantity,
          whole: cmp(quantity, row.quantity) === 0,
          reason: input.reason,
          by: by.id,
          role: by.role,
          requestedBy: requestedBy.id,
          requestedByRole: requestedBy.role,
          consumedBefore,
          consumedAfter: decToString(sub(consumedBefore, quantity)),
          lotBalanceBefore: lotRow.quantity,
          lotBalanceAfter: decToString(add(lotRow.quantity, quantity)),
        },
      });
      const lot = this.repo.insertCorrection(tx, rec, { correctsSeq: r.seq, batch: row.batch, lot: row.lot, material: row.material, quantity, unit: row.unit });
      tx.audit({
        actor: by.id,
        action: 'consumption.corrected',
        entity: 'record',
        entityId: r.id,
        reason: input.reason,
        old: { consumed: row.quantity, unit: row.unit, lotBalance: lot.lotBefore, batchConsumed: consumedBefore },
        new: {
          correction: rec.id,
          quantity,
          lotBalance: lot.lotAfter,
          batchConsumed: decToString(sub(consumedBefore, quantity)),
          grantedBy: by.id,
          requestedBy: requestedBy.id,
        },
      });
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
   * The lots a batch produced follow its disposition: a recall hold of a released batch puts its
   * released lots on hold; releasing it again releases exactly the lots that hold put on hold; a
   * rejection rejects every lot it produced that is not used up. Each lot change is a record and
   * an audit entry; the batch record lists the lots (`lotsHeld`, `lotsReleased`, `lotsRejected`).
   */
  private followProducedLots(tx: TxContext, number: string, from: BatchStatus, heldFrom: BatchStatus | null, to: BatchStatus, actor: string, why: string): Record<string, string[]> {
    const db = this.repo.db;
    const move = (lots: string[], status: LotStatus, reason: string): string[] => {
      for (const id of lots) {
        const before = (db.prepare('SELECT status FROM lots WHERE id = ?').get(id) as { status: LotStatus }).status;
        db.prepare('UPDATE lots SET status = ?, updated_at = ? WHERE id = ?').run(status, tx.now.toISOString(), id);
        tx.audit({ actor, action: 'lot.status_changed', entity: 'lot', entityId: id, reason, old: { status: before }, new: { status } });
        tx.append({ type: 'lot.status_changed', status: 'accepted', lot: id, operator: actor, payload: { from: before, to: status, reason, batch: number } });
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
      // Never lock everybody out: the last active admin keeps the role and stays enabled
      // (checked inside the transaction, so two admins demoting each other cannot both succeed).
      if (before.role === 'admin' && !before.disabled && (after.role !== 'admin' || after.disabled)) {
        const others = this.repo.listUsers().filter((u) => u.role === 'admin' && !u.disabled && u.id !== id).length;
        if (others === 0) throw new LgError('LG_ERR_LAST_ADMIN', { user: id, detail: after.disabled ? 'it cannot be disabled' : `its role cannot become ${after.role}` });
      }
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
