/**
 * Issue 15: handling units (cases on pallets), dispatch of pallets on deliveries to customers.
 *
 * - Packing: case scans at a `palletising` station go onto the station's open pallet (binding in
 *   src/binding/handling.ts, applied here in the scan's transaction). The close code requests the
 *   close; the pallet's SSCC label is then issued through the label service (which allocates the
 *   SSCC) and the pallet closed with that SSCC in a second transaction. Between the two the pallet
 *   is `closing` (no case can be added); after a crash, `recover()` finishes what a committed
 *   label started, or reopens the close when no label was issued.
 * - Unpack (with reason) takes a case off an open or closed pallet; a repack is a new pack scan.
 *   Both are records; `pallet_cases` is only the current content.
 * - Customers and deliveries are ERP master data (idempotent PUTs). At a `dispatch` station a
 *   delivery number selects the delivery, SSCC scans load pallets (refused at the scan with the
 *   reason), and shipping (API) records the shipment. The ERP may push a shipment it recorded
 *   itself; one that contradicts a recorded shipment is refused and recorded.
 * Every step is a journal record (forwarded upstream like any other) plus an audit entry where a
 * person decides.
 */
import type { JournalRecord, StationContext } from '../binding/types.js';
import { bindHandlingScan, type DeliveryView, type HandlingEffect, type HandlingView, type PalletView, type StationScanResult } from '../binding/handling.js';
import type { ScanInput } from '../binding/scan.js';
import type { Config } from '../config/schema.js';
import { isValidCheckDigit } from '../gs1/index.js';
import { LgError, isLgError, type ErrorCode } from '../errors.js';
import type { Db } from '../store/db.js';
import type { Journal, TxContext } from '../store/journal.js';
import type { LabelService } from '../labels/queue.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { uuidv7 } from '../util/ids.js';
import { localDate } from '../domain/numbering.js';

type Actor = { id: string; role?: string };
type Row = Record<string, unknown>;

export interface PalletInfo extends PalletView {
  station: string;
  openedAt: string;
  closedAt: string | null;
  labelId: string | null;
  cases: Array<{ serial: string; gtin: string; batch: string | null; packedAt: string }>;
  batches: string[];
}

export interface DeliveryInfo extends DeliveryView {
  shipToName: string | null;
  plannedDate: string | null;
  shippedAt: string | null;
  shippedBy: string | null;
  shippedSource: 'gateway' | 'erp' | null;
  pallets: Array<{ sscc: string; loadedAt: string; loadedBy: string | null }>;
  customerName: string;
  customerGln: string;
}

export interface CustomerInput {
  id: string;
  name: string;
  gln: string;
}

export interface DeliveryInput {
  number: string;
  customer: string;
  shipTo: { gln: string; name?: string | null };
  plannedDate?: string | null;
  items?: Array<{ gtin: string; quantity: string }>;
}

export class Dispatch {
  /** Set by the gateway once the label service exists. */
  labels: LabelService | null = null;
  printerFor: (station: string) => string | null = () => null;

  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly cfg: Readonly<Config>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  // ── scans ────────────────────────────────────────────────────────────────────────────────

  /** The station scan binder registered with Ops for `palletising` and `dispatch` stations. */
  readonly bindScan = (scan: ScanInput, ctx: StationContext, tx: TxContext): StationScanResult | null => {
    const r = bindHandlingScan(scan, ctx, this.view(), uuidv7(tx.now.getTime()));
    if (!r) return null;
    return { record: r.record, effects: [], apply: (t, rec) => this.apply(t, rec, r.effects) };
  };

  view(): HandlingView {
    const db = this.db;
    return {
      caseLabel: (serial) => {
        const r = db.prepare("SELECT id, batch, json_extract(fields, '$.gtin') AS gtin FROM labels WHERE serial = ? AND kind = 'case'").get(serial) as Row | undefined;
        return r && r.gtin ? { labelId: String(r.id), gtin: String(r.gtin), batch: (r.batch as string | null) ?? null } : undefined;
      },
      caseOnPallet: (serial) => {
        const r = db.prepare('SELECT c.pallet, p.sscc FROM pallet_cases c JOIN pallets p ON p.id = c.pallet WHERE c.serial = ?').get(serial) as Row | undefined;
        return r ? { pallet: String(r.pallet), sscc: (r.sscc as string | null) ?? null } : undefined;
      },
      openPallet: (station) => {
        const r = db.prepare("SELECT p.id, p.on_hold, p.hold_reason FROM station_handling s JOIN pallets p ON p.id = s.pallet AND p.status = 'open' WHERE s.station = ?").get(station) as Row | undefined;
        if (!r) return undefined;
        const first = db.prepare('SELECT gtin, batch FROM pallet_cases WHERE pallet = ? LIMIT 1').get(r.id) as Row | undefined;
        return { id: String(r.id), gtin: (first?.gtin as string | undefined) ?? null, batch: (first?.batch as string | null | undefined) ?? null, onHold: Boolean(r.on_hold), holdReason: (r.hold_reason as string | null) ?? null };
      },
      batchHold: (batch) => {
        const b = db.prepare('SELECT status FROM batches WHERE number = ?').get(batch) as Row | undefined;
        if (!b) return undefined;
        if (b.status !== 'on_hold') return { status: String(b.status), reason: null };
        const why = db.prepare("SELECT json_extract(payload, '$.reason') AS reason FROM records WHERE batch = ? AND type = 'batch.status_changed' AND json_extract(payload, '$.to') = 'on_hold' ORDER BY seq DESC LIMIT 1").get(batch) as Row | undefined;
        return { status: 'on_hold', reason: (why?.reason as string | null | undefined) ?? null };
      },
      palletBySscc: (sscc) => {
        const r = db.prepare('SELECT * FROM pallets WHERE sscc = ?').get(sscc) as Row | undefined;
        return r ? palletView(r) : undefined;
      },
      palletBatches: (pallet) =>
        (db.prepare('SELECT DISTINCT c.batch, b.status FROM pallet_cases c LEFT JOIN batches b ON b.number = c.batch WHERE c.pallet = ? ORDER BY c.batch').all(pallet) as Row[]).map((r) => ({
          batch: String(r.batch ?? '(none)'),
          status: String(r.status ?? 'unknown'),
        })),
      palletGtins: (pallet) => (db.prepare('SELECT DISTINCT gtin FROM pallet_cases WHERE pallet = ? ORDER BY gtin').all(pallet) as Row[]).map((r) => String(r.gtin)),
      delivery: (number) => {
        const r = db.prepare('SELECT * FROM deliveries WHERE number = ?').get(number) as Row | undefined;
        return r ? deliveryView(r) : undefined;
      },
      selectedDelivery: (station) => ((db.prepare('SELECT delivery FROM station_handling WHERE station = ?').get(station) as Row | undefined)?.delivery as string | null | undefined) ?? null,
    };
  }

  private setStation(tx: TxContext, station: string, change: { pallet?: string | null; delivery?: string | null }): void {
    tx.db.prepare('INSERT INTO station_handling (station) VALUES (?) ON CONFLICT(station) DO NOTHING').run(station);
    if (change.pallet !== undefined) tx.db.prepare('UPDATE station_handling SET pallet = ? WHERE station = ?').run(change.pallet, station);
    if (change.delivery !== undefined) tx.db.prepare('UPDATE station_handling SET delivery = ? WHERE station = ?').run(change.delivery, station);
  }

  private apply(tx: TxContext, rec: JournalRecord, effects: HandlingEffect[]): void {
    const now = tx.now.toISOString();
    for (const e of effects) {
      switch (e.type) {
        case 'pallet.open': {
          tx.db.prepare("INSERT INTO pallets (id, station, status, opened_at, opened_seq) VALUES (?, ?, 'open', ?, ?)").run(e.pallet, e.station, now, rec.seq);
          this.setStation(tx, e.station, { pallet: e.pallet });
          break;
        }
        case 'case.pack': {
          tx.db.prepare('INSERT INTO pallet_cases (serial, gtin, label_id, batch, pallet, packed_at, record_seq) VALUES (?,?,?,?,?,?,?)').run(e.serial, e.gtin, e.labelId, e.batch, e.pallet, now, rec.seq);
          break;
        }
        case 'pallet.close_request':
          tx.db.prepare("UPDATE pallets SET status = 'closing' WHERE id = ? AND status = 'open'").run(e.pallet);
          this.setStation(tx, e.station, { pallet: null });
          break;
        case 'delivery.select':
          this.setStation(tx, e.station, { delivery: e.delivery });
          break;
        case 'delivery.load':
          tx.db.prepare('INSERT INTO delivery_units (pallet, delivery, sscc, loaded_at, loaded_by, record_seq) VALUES (?,?,?,?,?,?)').run(e.pallet, e.delivery, e.sscc, now, rec.operator, rec.seq);
          tx.db.prepare("UPDATE pallets SET status = 'loaded', delivery = ? WHERE id = ?").run(e.delivery, e.pallet);
          break;
      }
    }
  }

  // ── closing a pallet: SSCC label, then the close ─────────────────────────────────────────

  onCommitted(records: readonly JournalRecord[]): void {
    for (const r of records) {
      if (r.status === 'accepted' && r.type === 'handling_unit.close_requested') void this.closePallet(String(r.payload.pallet), r);
    }
  }

  /** Closes in progress: the commit listener and the API caller share one close, never two labels. */
  private readonly closing = new Map<string, Promise<PalletInfo | null>>();

  /** Issue the SSCC label and close the pallet; a failure leaves it open again and is a rejected record. */
  closePallet(palletId: string, req: JournalRecord): Promise<PalletInfo | null> {
    const running = this.closing.get(palletId);
    if (running) return running;
    const p = this.doClose(palletId, req).finally(() => this.closing.delete(palletId));
    this.closing.set(palletId, p);
    return p;
  }

  private async doClose(palletId: string, req: JournalRecord): Promise<PalletInfo | null> {
    try {
      // A label already issued for this close request (a crash between the two steps): found after the request's seq.
      const existing = this.db.prepare("SELECT json_extract(payload, '$.labelId') AS id FROM records WHERE seq > ? AND type = 'label.queued' AND json_extract(payload, '$.trigger.recordId') = ? LIMIT 1").get(req.seq, req.id) as Row | undefined;
      let label: { labelId: string; sscc: string | null };
      if (existing) {
        const l = this.db.prepare('SELECT id, sscc FROM labels WHERE id = ?').get(existing.id) as Row;
        label = { labelId: String(l.id), sscc: (l.sscc as string | null) ?? null };
      } else {
        if (!this.labels) throw new LgError('LG_ERR_PRINTER_NOT_FOUND', { printer: '(label service not running)' });
        const printer = this.printerFor(req.station ?? '');
        if (!printer) throw new LgError('LG_ERR_PRINTER_NOT_FOUND', { printer: `(none configured for ${req.station ?? 'the line'})` });
        const cases = this.db.prepare('SELECT gtin, batch, COUNT(*) AS n FROM pallet_cases WHERE pallet = ? GROUP BY gtin, batch').all(palletId) as Row[];
        if (cases.length === 0) throw new LgError('LG_ERR_HU_PALLET_EMPTY', { pallet: palletId });
        const c = cases[0]!;
        const batch = this.db.prepare('SELECT b.number, b.product, b.product_name, m.name AS mname, m.shelf_life_days FROM batches b LEFT JOIN materials m ON m.code = b.product WHERE b.number = ?').get(c.batch) as Row | undefined;
        let expiry: string | undefined;
        if (batch?.shelf_life_days) {
          const day = localDate(this.clock.now(), this.cfg.site.timezone);
          expiry = new Date(Date.parse(`${day}T00:00:00Z`) + Number(batch.shelf_life_days) * 86_400_000).toISOString().slice(0, 10);
        }
        const q = await this.labels.createLabel({
          template: 'pallet',
          printer,
          fields: { productName: String(batch?.product_name ?? batch?.mname ?? batch?.product ?? c.gtin), contentGtin: String(c.gtin), count: String(c.n), batch: String(c.batch), expiry },
          batch: (c.batch as string | null) ?? null,
          station: req.station,
          operator: req.operator,
          trigger: { type: req.type, recordId: req.id },
        });
        label = { labelId: q.labelId, sscc: q.sscc };
      }
      await this.journal.submit((tx) => {
        const p = tx.db.prepare('SELECT * FROM pallets WHERE id = ?').get(palletId) as Row | undefined;
        if (!p || p.status !== 'closing') return;
        const now = tx.now.toISOString();
        tx.db.prepare("UPDATE pallets SET status = 'closed', sscc = ?, label_id = ?, closed_at = ? WHERE id = ?").run(label.sscc, label.labelId, now, palletId);
        const cases = (tx.db.prepare('SELECT serial, gtin, batch FROM pallet_cases WHERE pallet = ? ORDER BY serial').all(palletId) as Row[]).map((r) => ({ serial: String(r.serial), gtin: String(r.gtin), batch: r.batch as string | null }));
        const rec = tx.append({
          type: 'handling_unit.closed',
          status: 'accepted',
          station: req.station,
          batch: cases[0]?.batch ?? null,
          operator: req.operator,
          payload: { pallet: palletId, sscc: label.sscc, labelId: label.labelId, cases, count: cases.length, request: req.id },
        });
        tx.db.prepare('UPDATE pallets SET closed_seq = ? WHERE id = ?').run(rec.seq, palletId);
      });
      return this.pallet(palletId);
    } catch (err) {
      const code: ErrorCode = isLgError(err) ? err.code : 'LG_ERR_INTERNAL';
      this.logger.error({ err, pallet: palletId }, 'a pallet could not be closed');
      await this.journal
        .submit((tx) => {
          // Back to open at its station (if the station has not opened another meanwhile).
          tx.db.prepare("UPDATE pallets SET status = 'open' WHERE id = ? AND status = 'closing'").run(palletId);
          if (req.station) {
            const cur = tx.db.prepare('SELECT pallet FROM station_handling WHERE station = ?').get(req.station) as Row | undefined;
            if (!cur?.pallet) this.setStation(tx, req.station, { pallet: palletId });
          }
          tx.append({
            type: 'handling_unit.close_failed',
            status: 'rejected',
            errorCode: code,
            message: (err as Error).message,
            station: req.station,
            operator: req.operator,
            payload: { pallet: palletId, request: req.id, details: isLgError(err) ? err.details : {} },
          });
        })
        .catch((e: unknown) => this.logger.error({ err: e }, 'handling_unit.close_failed could not be journaled'));
      return null;
    }
  }

  /** After a crash: pallets left `closing` are finished (their label exists) or retried. */
  async recover(): Promise<number> {
    const rows = this.db.prepare("SELECT p.id, (SELECT MAX(seq) FROM records r WHERE r.type = 'handling_unit.close_requested' AND json_extract(r.payload, '$.pallet') = p.id) AS seq FROM pallets p WHERE p.status = 'closing'").all() as Row[];
    for (const r of rows) {
      const req = r.seq ? (this.db.prepare('SELECT seq, id, type, station, operator FROM records WHERE seq = ?').get(r.seq) as Row) : null;
      if (!req) continue;
      await this.closePallet(String(r.id), { seq: Number(req.seq), id: String(req.id), type: String(req.type), station: (req.station as string | null) ?? null, operator: (req.operator as string | null) ?? null } as JournalRecord);
    }
    return rows.length;
  }

  /** Close the open pallet of a station from the API (same path as the close code). */
  async requestClose(station: string, by: Actor): Promise<PalletInfo | null> {
    const rec = await this.journal.submit((tx) => {
      const open = this.view().openPallet(station);
      if (!open) throw new LgError('LG_ERR_HU_NO_OPEN_PALLET', { station });
      const r = tx.append({ type: 'handling_unit.close_requested', status: 'accepted', station, operator: by.id, payload: { pallet: open.id, via: 'api' } });
      this.apply(tx, r, [{ type: 'pallet.close_request', station, pallet: open.id }]);
      return r;
    });
    // onCommitted starts the close too; closePallet is idempotent (the label is found by its trigger).
    return this.closePallet(String(rec.payload.pallet), rec);
  }

  // ── unpack, hold ─────────────────────────────────────────────────────────────────────────

  async unpack(serial: string, reason: string, by: Actor): Promise<JournalRecord> {
    if (!reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'unpack a case' });
    return this.journal.submit((tx) => {
      const c = tx.db.prepare('SELECT c.*, p.sscc, p.status AS pstatus FROM pallet_cases c JOIN pallets p ON p.id = c.pallet WHERE c.serial = ?').get(serial) as Row | undefined;
      if (!c) throw new LgError('LG_ERR_HU_CASE_UNKNOWN', { serial, gtin: '(not on a pallet)' });
      if (c.pstatus !== 'open' && c.pstatus !== 'closed') throw new LgError('LG_ERR_HU_PALLET_STATE', { sscc: c.sscc ?? c.pallet, status: c.pstatus, detail: 'a case can be unpacked only from an open or closed pallet still on site' });
      tx.db.prepare('DELETE FROM pallet_cases WHERE serial = ?').run(serial);
      const rec = tx.append({ type: 'handling_unit.unpacked', status: 'accepted', batch: (c.batch as string | null) ?? null, operator: by.id, payload: { serial, gtin: c.gtin, pallet: c.pallet, sscc: c.sscc, reason, packedBy: c.record_seq } });
      tx.audit({ actor: by.id, action: 'case.unpacked', entity: 'pallet', entityId: String(c.sscc ?? c.pallet), reason, old: { serial, pallet: c.pallet }, new: null });
      return rec;
    });
  }

  async setHold(sscc: string, hold: boolean, reason: string, by: Actor): Promise<PalletInfo> {
    if (!reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: hold ? 'hold a pallet' : 'release a pallet from hold' });
    const id = await this.journal.submit((tx) => {
      const p = tx.db.prepare('SELECT * FROM pallets WHERE sscc = ?').get(sscc) as Row | undefined;
      if (!p) throw new LgError('LG_ERR_HU_PALLET_NOT_FOUND', { sscc });
      if (p.status === 'shipped') throw new LgError('LG_ERR_HU_PALLET_STATE', { sscc, status: p.status, detail: 'it has left the site' });
      if (Boolean(p.on_hold) === hold) return String(p.id);
      tx.db.prepare('UPDATE pallets SET on_hold = ?, hold_reason = ?, hold_by = ? WHERE id = ?').run(hold ? 1 : 0, hold ? reason : null, hold ? by.id : null, p.id);
      tx.append({ type: hold ? 'handling_unit.held' : 'handling_unit.hold_released', status: 'accepted', operator: by.id, payload: { pallet: p.id, sscc, reason } });
      tx.audit({ actor: by.id, action: hold ? 'pallet.held' : 'pallet.hold_released', entity: 'pallet', entityId: sscc, reason, old: { onHold: Boolean(p.on_hold) }, new: { onHold: hold } });
      return String(p.id);
    });
    return this.pallet(id)!;
  }

  // ── queries ──────────────────────────────────────────────────────────────────────────────

  pallet(idOrSscc: string): PalletInfo | null {
    const r = this.db.prepare('SELECT * FROM pallets WHERE id = ? OR sscc = ?').get(idOrSscc, idOrSscc) as Row | undefined;
    if (!r) return null;
    const cases = (this.db.prepare('SELECT serial, gtin, batch, packed_at FROM pallet_cases WHERE pallet = ? ORDER BY packed_at, serial').all(r.id) as Row[]).map((c) => ({
      serial: String(c.serial),
      gtin: String(c.gtin),
      batch: (c.batch as string | null) ?? null,
      packedAt: String(c.packed_at),
    }));
    return {
      ...palletView(r),
      station: String(r.station),
      openedAt: String(r.opened_at),
      closedAt: (r.closed_at as string | null) ?? null,
      labelId: (r.label_id as string | null) ?? null,
      cases,
      batches: [...new Set(cases.map((c) => c.batch).filter((b): b is string => !!b))],
    };
  }

  /** Where a case is now: its pallet and delivery (null pallet = not on one). */
  caseInfo(serial: string): { serial: string; gtin: string; batch: string | null; labelId: string; pallet: PalletInfo | null } | null {
    const l = this.view().caseLabel(serial);
    if (!l) return null;
    const on = this.view().caseOnPallet(serial);
    return { serial, gtin: l.gtin, batch: l.batch, labelId: l.labelId, pallet: on ? this.pallet(on.pallet) : null };
  }

  delivery(number: string): DeliveryInfo | null {
    const r = this.db.prepare('SELECT d.*, c.name AS cname, c.gln AS cgln FROM deliveries d JOIN customers c ON c.id = d.customer WHERE d.number = ?').get(number) as Row | undefined;
    if (!r) return null;
    const pallets = (this.db.prepare('SELECT sscc, loaded_at, loaded_by FROM delivery_units WHERE delivery = ? ORDER BY record_seq').all(number) as Row[]).map((p) => ({
      sscc: String(p.sscc),
      loadedAt: String(p.loaded_at),
      loadedBy: (p.loaded_by as string | null) ?? null,
    }));
    return {
      ...deliveryView(r),
      shipToName: (r.ship_to_name as string | null) ?? null,
      plannedDate: (r.planned_date as string | null) ?? null,
      shippedAt: (r.shipped_at as string | null) ?? null,
      shippedBy: (r.shipped_by as string | null) ?? null,
      shippedSource: (r.shipped_source as 'gateway' | 'erp' | null) ?? null,
      pallets,
      customerName: String(r.cname),
      customerGln: String(r.cgln),
    };
  }

  customer(id: string): { id: string; name: string; gln: string } | null {
    const r = this.db.prepare('SELECT id, name, gln FROM customers WHERE id = ?').get(id) as Row | undefined;
    return r ? { id: String(r.id), name: String(r.name), gln: String(r.gln) } : null;
  }

  // ── master data (ERP) ────────────────────────────────────────────────────────────────────

  /** A refusal that is also a record: appended in its own transaction, then thrown. */
  private async refuse(type: string, code: ErrorCode, details: Record<string, unknown>, by: Actor, payload: Record<string, unknown>): Promise<never> {
    const err = new LgError(code, details);
    await this.journal.append({ type, status: 'rejected', errorCode: code, message: err.message, operator: by.id, payload: { ...payload, details } });
    throw err;
  }

  async upsertCustomer(c: CustomerInput, by: Actor): Promise<{ customer: { id: string; name: string; gln: string }; created: boolean; changed: boolean }> {
    if (!/^\d{13}$/.test(c.gln) || !isValidCheckDigit(c.gln)) await this.refuse('customer.refused', 'LG_ERR_GS1_CHECK_DIGIT', { ai: '414', value: c.gln }, by, { customer: c.id, gln: c.gln });
    return this.journal.submit((tx) => {
      const before = this.customer(c.id);
      if (before && before.name === c.name && before.gln === c.gln) return { customer: before, created: false, changed: false };
      const now = tx.now.toISOString();
      tx.db.prepare('INSERT INTO customers (id, name, gln, created_at, updated_at) VALUES (@id, @name, @gln, @now, @now) ON CONFLICT(id) DO UPDATE SET name = @name, gln = @gln, updated_at = @now').run({ ...c, now });
      const after = { id: c.id, name: c.name, gln: c.gln };
      tx.audit({ actor: by.id, action: before ? 'customer.updated' : 'customer.created', entity: 'customer', entityId: c.id, old: before, new: after });
      tx.append({ type: before ? 'customer.updated' : 'customer.created', status: 'accepted', operator: by.id, payload: after });
      return { customer: after, created: !before, changed: true };
    });
  }

  async upsertDelivery(d: DeliveryInput, by: Actor): Promise<{ delivery: DeliveryInfo; created: boolean; changed: boolean }> {
    const payload = { delivery: d.number, customer: d.customer, shipTo: d.shipTo };
    if (!this.customer(d.customer)) await this.refuse('delivery.refused', 'LG_ERR_CUSTOMER_NOT_FOUND', { customer: d.customer }, by, payload);
    if (!/^\d{13}$/.test(d.shipTo.gln) || !isValidCheckDigit(d.shipTo.gln)) await this.refuse('delivery.refused', 'LG_ERR_GS1_CHECK_DIGIT', { ai: '410', value: d.shipTo.gln }, by, payload);
    const bad = (d.items ?? []).find((i) => !/^\d{14}$/.test(i.gtin) || !isValidCheckDigit(i.gtin));
    if (bad) await this.refuse('delivery.refused', 'LG_ERR_GS1_CHECK_DIGIT', { ai: '02', value: bad.gtin }, by, payload);
    const before = this.delivery(d.number);
    if (before && before.status !== 'open') await this.refuse('delivery.refused', 'LG_ERR_DELIVERY_STATE', { delivery: d.number, status: before.status, detail: 'a shipped delivery is not changed' }, by, payload);
    const planned = JSON.stringify(d.items ?? []);
    const same = before && before.customer === d.customer && before.shipToGln === d.shipTo.gln && before.shipToName === (d.shipTo.name ?? null) && before.plannedDate === (d.plannedDate ?? null) && JSON.stringify(before.planned) === planned;
    if (same) return { delivery: before, created: false, changed: false };
    await this.journal.submit((tx) => {
      const now = tx.now.toISOString();
      tx.db
        .prepare(
          `INSERT INTO deliveries (number, customer, ship_to_gln, ship_to_name, planned, planned_date, status, created_at, updated_at) VALUES (@number, @customer, @gln, @name, @planned, @date, 'open', @now, @now)
           ON CONFLICT(number) DO UPDATE SET customer = @customer, ship_to_gln = @gln, ship_to_name = @name, planned = @planned, planned_date = @date, updated_at = @now`,
        )
        .run({ number: d.number, customer: d.customer, gln: d.shipTo.gln, name: d.shipTo.name ?? null, planned, date: d.plannedDate ?? null, now });
      const after = { number: d.number, customer: d.customer, shipTo: d.shipTo, plannedDate: d.plannedDate ?? null, items: d.items ?? [] };
      tx.audit({ actor: by.id, action: before ? 'delivery.updated' : 'delivery.created', entity: 'delivery', entityId: d.number, old: before, new: after });
      tx.append({ type: before ? 'delivery.updated' : 'delivery.created', status: 'accepted', operator: by.id, payload: after });
    });
    return { delivery: this.delivery(d.number)!, created: !before, changed: true };
  }

  // ── shipping ─────────────────────────────────────────────────────────────────────────────

  /** Close the delivery: its loaded pallets are shipped; one `delivery.shipped` record with the content. */
  async ship(number: string, by: Actor): Promise<DeliveryInfo> {
    const d = this.delivery(number);
    if (!d) throw new LgError('LG_ERR_DELIVERY_NOT_FOUND', { delivery: number });
    if (d.status !== 'open') await this.refuse('delivery.ship_refused', 'LG_ERR_DELIVERY_STATE', { delivery: number, status: d.status, detail: 'it was shipped already' }, by, { delivery: number });
    if (d.pallets.length === 0) await this.refuse('delivery.ship_refused', 'LG_ERR_DELIVERY_STATE', { delivery: number, status: 'empty', detail: 'no pallet is loaded' }, by, { delivery: number });
    // A pallet put on hold after it was loaded (a recall, a QA hold) does not leave: unload it or release the hold.
    const held = d.pallets.map((p) => this.view().palletBySscc(p.sscc)!).find((p) => p.onHold);
    if (held) await this.refuse('delivery.ship_refused', 'LG_ERR_HU_ON_HOLD', { sscc: held.sscc, reason: held.holdReason ?? 'no reason given' }, by, { delivery: number, sscc: held.sscc });
    await this.journal.submit((tx) => {
      const ssccs = d.pallets.map((p) => p.sscc);
      this.recordShipment(tx, d, ssccs, tx.now.toISOString(), by, 'gateway');
    });
    return this.delivery(number)!;
  }

  private recordShipment(tx: TxContext, d: DeliveryInfo, ssccs: string[], shippedAt: string, by: Actor, source: 'gateway' | 'erp'): void {
    const now = tx.now.toISOString();
    const pallets = ssccs.map((sscc) => {
      const p = this.pallet(sscc)!;
      return { sscc, pallet: p.id, cases: p.cases.map((c) => c.serial), batches: p.batches, gtins: [...new Set(p.cases.map((c) => c.gtin))] };
    });
    const rec = tx.append({
      type: 'delivery.shipped',
      status: 'accepted',
      operator: by.id,
      payload: { delivery: d.number, customer: d.customer, customerGln: d.customerGln, shipToGln: d.shipToGln, shippedAt, source, pallets, count: pallets.length },
    });
    for (const p of pallets) tx.db.prepare("UPDATE pallets SET status = 'shipped', delivery = ? WHERE id = ?").run(d.number, p.pallet);
    tx.db.prepare("UPDATE deliveries SET status = 'shipped', shipped_at = ?, shipped_by = ?, shipped_source = ?, shipped_seq = ?, updated_at = ? WHERE number = ?").run(shippedAt, by.id, source, rec.seq, now, d.number);
    tx.db.prepare('UPDATE station_handling SET delivery = NULL WHERE delivery = ?').run(d.number);
    tx.audit({ actor: by.id, action: 'delivery.shipped', entity: 'delivery', entityId: d.number, old: { status: d.status }, new: { status: 'shipped', ssccs, source } });
  }

  /**
   * A shipment the ERP recorded itself: the SSCCs that left. Idempotent (the same shipment again
   * changes nothing); one that contradicts the recorded shipment, names an unknown pallet or one
   * on another delivery, on hold or not closed is refused, and the refusal recorded.
   */
  async pushShipment(number: string, s: { ssccs: string[]; shippedAt?: string | null }, by: Actor): Promise<{ delivery: DeliveryInfo; changed: boolean }> {
    const d = this.delivery(number);
    const payload = { delivery: number, ssccs: s.ssccs };
    if (!d) return this.refuse('delivery.shipment_refused', 'LG_ERR_DELIVERY_NOT_FOUND', { delivery: number }, by, payload);
    const want = [...new Set(s.ssccs)].sort();
    if (d.status === 'shipped') {
      const have = d.pallets.map((p) => p.sscc).sort();
      if (JSON.stringify(have) === JSON.stringify(want)) return { delivery: d, changed: false };
      return this.refuse('delivery.shipment_refused', 'LG_ERR_DELIVERY_SHIPMENT_CONFLICT', { delivery: number, detail: `recorded SSCCs ${have.join(', ')}; pushed ${want.join(', ')}` }, by, payload);
    }
    if (want.length === 0) return this.refuse('delivery.shipment_refused', 'LG_ERR_VALIDATION', { detail: 'a shipment names at least one SSCC' }, by, payload);
    for (const sscc of want) {
      const p = this.view().palletBySscc(sscc);
      if (!p) return this.refuse('delivery.shipment_refused', 'LG_ERR_HU_PALLET_NOT_FOUND', { sscc }, by, payload);
      if (p.delivery && p.delivery !== number) return this.refuse('delivery.shipment_refused', 'LG_ERR_DELIVERY_SHIPMENT_CONFLICT', { delivery: number, detail: `pallet ${sscc} is on delivery ${p.delivery}` }, by, payload);
      if (p.status !== 'closed' && p.status !== 'loaded') return this.refuse('delivery.shipment_refused', 'LG_ERR_HU_PALLET_STATE', { sscc, status: p.status, detail: 'only a closed pallet can ship' }, by, payload);
      if (p.onHold) return this.refuse('delivery.shipment_refused', 'LG_ERR_HU_ON_HOLD', { sscc, reason: p.holdReason ?? '' }, by, payload);
    }
    const loaded = d.pallets.map((p) => p.sscc).filter((x) => !want.includes(x));
    if (loaded.length) return this.refuse('delivery.shipment_refused', 'LG_ERR_DELIVERY_SHIPMENT_CONFLICT', { delivery: number, detail: `pallets ${loaded.join(', ')} are loaded here but not in the shipment` }, by, payload);
    await this.journal.submit((tx) => {
      const now = tx.now.toISOString();
      for (const sscc of want) {
        const p = this.view().palletBySscc(sscc)!;
        if (p.status === 'closed') {
          const r = tx.append({ type: 'delivery.pallet_loaded', status: 'accepted', operator: by.id, payload: { sscc, pallet: p.id, delivery: number, customer: d.customer, source: 'erp' } });
          this.apply(tx, r, [{ type: 'delivery.load', delivery: number, pallet: p.id, sscc }]);
        }
      }
      this.recordShipment(tx, this.delivery(number)!, want, s.shippedAt ?? now, by, 'erp');
    });
    return { delivery: this.delivery(number)!, changed: true };
  }
}

function palletView(r: Row): PalletView {
  return {
    id: String(r.id),
    sscc: (r.sscc as string | null) ?? null,
    status: r.status as PalletView['status'],
    onHold: Boolean(r.on_hold),
    holdReason: (r.hold_reason as string | null) ?? null,
    delivery: (r.delivery as string | null) ?? null,
  };
}

function deliveryView(r: Row): DeliveryView {
  return {
    number: String(r.number),
    customer: String(r.customer),
    shipToGln: String(r.ship_to_gln),
    status: r.status as DeliveryView['status'],
    planned: JSON.parse(String(r.planned)) as DeliveryView['planned'],
  };
}
