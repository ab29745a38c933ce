/**
 * Station use cases (split out of src/ops.ts, issue 13): readings bound at a station (scans from a
 * driver or the API, weights and machine values already bound), a supervisor's override of a
 * refused lot scan, the correction of a wrong consumption, and the station context (batch,
 * operator) set through the API. Each use case is ONE journal transaction: the state change, the
 * record that tells upstream about it, and the audit entry; the caller is answered after commit.
 */
import type { BindResult, JournalRecord, StationContext } from '../binding/types.js';
import { bindScan, OVERRIDABLE, type ParsedScan, type ScanInput, type ScanStation } from '../binding/scan.js';
import type { StationScanResult } from '../binding/handling.js';
import { isOpen } from '../domain/batch.js';
import { add, canonical, cmp, isDecimalString, sub, toString as decToString } from '../domain/decimal.js';
import { lotRefusals } from '../domain/lot.js';
import { localDate, type CompiledPattern } from '../domain/numbering.js';
import { LgError, type ErrorCode } from '../errors.js';
import type { Config, StationConfig } from '../config/schema.js';
import type { Journal, TxContext } from '../store/journal.js';
import type { Repo } from '../store/repo.js';
import type { Clock } from '../util/clock.js';
import type { Actor } from './actor.js';

export type ScanParser = (raw: Buffer, opts?: { fnc1Substitute?: string; now?: Date }) => ParsedScan;

export class Stations {
  private readonly stations = new Map<string, { cfg: StationConfig; scan: ScanStation }>();
  /** Last scan per device, for the duplicate window (in memory: a restart forgets, which only lets one repeat through). */
  private readonly lastScan = new Map<string, { hex: string; at: number }>();

  constructor(
    readonly cfg: Readonly<Config>,
    readonly journal: Journal,
    readonly repo: Repo,
    readonly clock: Clock,
    private readonly parseScan: ScanParser,
    batchPattern: CompiledPattern,
  ) {
    const batchRe = batchPattern.regex(cfg.line.id, cfg.site.id);
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
  async ingestBound(make: (tx: TxContext, env: ReturnType<Stations['bindEnv']>) => BindResult, actor: string): Promise<JournalRecord> {
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
}
