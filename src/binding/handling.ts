import type { Rejection } from '../errors.js';
import { rejection } from '../errors.js';
import { printable, type ScanInput } from './scan.js';
import type { TxContext } from '../store/journal.js';
import type { BindResult, JournalRecord, RecordDraft, StationContext } from './types.js';

/**
 * Scan binding at the handling-unit stations of issue 15, pure like src/binding/scan.ts: every
 * fact comes from `HandlingView`; the caller (src/usecases/dispatch.ts) applies the effects in the
 * record's transaction. Returns null for a scan these stations do not handle themselves (badges,
 * batch numbers, commands…), which then goes to `bindScan`.
 *
 * Palletising (`role: palletising`):
 *   - a case label (GS1 with GTIN 01 and serial 21) → `handling_unit.packed` onto the station's
 *     open pallet (a pallet is opened by the first case); refused: a serial with no case label
 *     issued here (`LG_ERR_HU_CASE_UNKNOWN`), a case of a batch on hold or rejected — a recall
 *     (`LG_ERR_HU_CASE_ON_HOLD`), a case already on a pallet (`LG_ERR_HU_CASE_ON_PALLET`), a
 *     case onto an open pallet that is on hold (`LG_ERR_HU_ON_HOLD`).
 *   - the close code (`CMD-PALLET-CLOSE`) → `handling_unit.close_requested`; the SSCC label is
 *     then issued and the pallet closed by the use case (a label is not printed inside a scan).
 * Dispatch (`role: dispatch`):
 *   - a delivery number → `delivery.selected` (an open delivery only);
 *   - an SSCC (AI 00) → `delivery.pallet_loaded` onto the selected delivery, refused at the scan
 *     when the pallet is unknown, not closed, already loaded or shipped, on another delivery, on
 *     hold, holds a batch not released, or holds a GTIN the delivery does not plan.
 */

export const PALLET_CLOSE_CODE = 'CMD-PALLET-CLOSE';

export interface PalletView {
  id: string;
  sscc: string | null;
  status: 'open' | 'closing' | 'closed' | 'loaded' | 'shipped';
  onHold: boolean;
  holdReason: string | null;
  delivery: string | null;
}

export interface DeliveryView {
  number: string;
  customer: string;
  shipToGln: string;
  status: 'open' | 'shipped';
  planned: Array<{ gtin: string; quantity: string }>;
}

export interface HandlingView {
  /** The case label issued with this serial (AI 21), with the GTIN it carries. */
  caseLabel(serial: string): { labelId: string; gtin: string; batch: string | null } | undefined;
  caseOnPallet(serial: string): { pallet: string; sscc: string | null } | undefined;
  /** The pallet open at a station, with the GTIN and batch of its cases (null while empty), and its hold. */
  openPallet(station: string): { id: string; gtin: string | null; batch: string | null; onHold?: boolean; holdReason?: string | null } | undefined;
  /** A batch's status and, when on hold, why (a case of a held or rejected batch is not packed). */
  batchHold(batch: string): { status: string; reason: string | null } | undefined;
  palletBySscc(sscc: string): PalletView | undefined;
  /** Batches on a pallet, with their status. */
  palletBatches(pallet: string): Array<{ batch: string; status: string }>;
  palletGtins(pallet: string): string[];
  delivery(number: string): DeliveryView | undefined;
  selectedDelivery(station: string): string | null;
}

export type HandlingEffect =
  | { type: 'pallet.open'; station: string; pallet: string }
  | { type: 'case.pack'; serial: string; gtin: string; labelId: string; batch: string | null; pallet: string }
  | { type: 'pallet.close_request'; station: string; pallet: string }
  | { type: 'delivery.select'; station: string; delivery: string }
  | { type: 'delivery.load'; delivery: string; pallet: string; sscc: string };

/** What a station-specific binder gives `Ops.ingestScan`: a bound scan plus the writes it needs once the record has its seq. */
export interface StationScanResult extends BindResult {
  apply?: (tx: TxContext, rec: JournalRecord) => void;
}

export interface HandlingBindResult {
  record: RecordDraft;
  effects: HandlingEffect[];
}

/** `newPalletId`: the id a pallet opened by this scan gets (ids are made by the caller; binding stays pure). */
export function bindHandlingScan(scan: ScanInput, ctx: StationContext, view: HandlingView, newPalletId: string): HandlingBindResult | null {
  if (scan.error) return null;
  const latin = scan.raw.toString('latin1');
  const parsed = scan.parsed;
  const textAim = parsed.ok && !parsed.gs1 ? parsed.aim : null;
  const text = (textAim && latin.startsWith(textAim) ? latin.slice(textAim.length) : latin).trim();
  const gs1 = parsed.ok && parsed.gs1 ? Object.fromEntries(parsed.elements.map((e) => [e.ai, e.value])) : null;
  const base = {
    station: ctx.station,
    batch: ctx.batch,
    operator: ctx.operator,
    device: scan.device,
    receivedAt: scan.receivedAt,
    sourceTime: scan.sourceTime ?? null,
  };
  const payload: Record<string, unknown> = { raw: printable(scan.raw), bytes: scan.raw.length, ...(gs1 ? { gs1 } : {}) };
  const reject = (type: string, r: Rejection, extra: Record<string, unknown> = {}, batch: string | null = ctx.batch): HandlingBindResult => ({
    record: { ...base, batch, type, status: 'rejected', errorCode: r.code, message: r.message, payload: { ...payload, ...extra, details: r.details } },
    effects: [],
  });
  const accept = (type: string, extra: Record<string, unknown>, effects: HandlingEffect[], batch: string | null = ctx.batch): HandlingBindResult => ({
    record: { ...base, batch, type, status: 'accepted', payload: { ...payload, ...extra } },
    effects,
  });

  if (ctx.role === 'palletising') {
    if (text === PALLET_CLOSE_CODE) {
      const open = view.openPallet(ctx.station);
      if (!open) return reject('handling_unit.close_requested', rejection('LG_ERR_HU_NO_OPEN_PALLET', { station: ctx.station }));
      return accept('handling_unit.close_requested', { pallet: open.id }, [{ type: 'pallet.close_request', station: ctx.station, pallet: open.id }]);
    }
    // The case label carries (01)…(11)(17) in one symbol and (10)(21) in the other: either symbol
    // with the serial identifies the case; a GTIN or batch scanned with it must match the label.
    const serial = gs1?.['21'];
    if (!serial) return null;
    const label = view.caseLabel(serial);
    const scannedGtin = gs1?.['01'] ?? null;
    if (!label || (scannedGtin && scannedGtin !== label.gtin) || (gs1?.['10'] && label.batch && gs1['10'] !== label.batch)) {
      return reject('handling_unit.packed', rejection('LG_ERR_HU_CASE_UNKNOWN', { gtin: scannedGtin ?? '(not scanned)', serial }), { serial });
    }
    const gtin = label.gtin;
    // Held stock (a recall, a QA hold of the batch) is refused at the scan, before anything else.
    const hold = label.batch ? view.batchHold(label.batch) : undefined;
    if (hold && (hold.status === 'on_hold' || hold.status === 'rejected')) {
      return reject('handling_unit.packed', rejection('LG_ERR_HU_CASE_ON_HOLD', { serial, batch: label.batch, reason: hold.reason ?? `batch ${hold.status}` }), { gtin, serial }, label.batch);
    }
    const on = view.caseOnPallet(serial);
    if (on) return reject('handling_unit.packed', rejection('LG_ERR_HU_CASE_ON_PALLET', { serial, pallet: on.sscc ?? on.pallet }), { gtin, serial, pallet: on.pallet }, label.batch);
    const open = view.openPallet(ctx.station);
    // One GTIN and one batch per pallet: the pallet label states them (AI 02 and 10), and a
    // label never states what is not true. A mixed pallet would need a label without them.
    if (open && open.gtin && (open.gtin !== gtin || open.batch !== label.batch)) {
      return reject('handling_unit.packed', rejection('LG_ERR_HU_PALLET_MIXED', { serial, gtin, batch: label.batch, pallet: open.id, palletGtin: open.gtin, palletBatch: open.batch }), { gtin, serial, pallet: open.id }, label.batch);
    }
    if (open?.onHold) return reject('handling_unit.packed', rejection('LG_ERR_HU_ON_HOLD', { sscc: `(open pallet ${open.id})`, reason: open.holdReason ?? 'no reason given' }), { gtin, serial, pallet: open.id }, label.batch);
    const pallet = open?.id ?? newPalletId;
    const effects: HandlingEffect[] = open ? [] : [{ type: 'pallet.open', station: ctx.station, pallet }];
    effects.push({ type: 'case.pack', serial, gtin, labelId: label.labelId, batch: label.batch, pallet });
    return accept('handling_unit.packed', { gtin, serial, case: label.labelId, pallet, opened: !open }, effects, label.batch);
  }

  if (ctx.role === 'dispatch') {
    const sscc = gs1?.['00'];
    if (!sscc) {
      if (gs1) return null;
      const d = view.delivery(text);
      if (!d) return null;
      if (d.status !== 'open') return reject('delivery.selected', rejection('LG_ERR_DELIVERY_STATE', { delivery: d.number, status: d.status, detail: 'it cannot be loaded any more' }), { delivery: d.number });
      return accept('delivery.selected', { delivery: d.number, customer: d.customer, previous: view.selectedDelivery(ctx.station) }, [{ type: 'delivery.select', station: ctx.station, delivery: d.number }]);
    }
    const pallet = view.palletBySscc(sscc);
    if (!pallet) return reject('delivery.pallet_loaded', rejection('LG_ERR_HU_PALLET_NOT_FOUND', { sscc }), { sscc });
    const number = view.selectedDelivery(ctx.station);
    const facts = { sscc, pallet: pallet.id, delivery: number };
    if (!number) return reject('delivery.pallet_loaded', rejection('LG_ERR_DELIVERY_NOT_SELECTED', { station: ctx.station }), facts);
    const d = view.delivery(number);
    if (!d) return reject('delivery.pallet_loaded', rejection('LG_ERR_DELIVERY_NOT_FOUND', { delivery: number }), facts);
    if (d.status !== 'open') return reject('delivery.pallet_loaded', rejection('LG_ERR_DELIVERY_STATE', { delivery: number, status: d.status, detail: 'it cannot be loaded any more' }), facts);
    if (pallet.status === 'shipped') return reject('delivery.pallet_loaded', rejection('LG_ERR_HU_PALLET_STATE', { sscc, status: pallet.status, detail: `it already left with delivery ${pallet.delivery}` }), facts);
    if (pallet.delivery && pallet.delivery !== number) {
      return reject('delivery.pallet_loaded', rejection('LG_ERR_DELIVERY_WRONG', { sscc, delivery: number, detail: `it is loaded onto delivery ${pallet.delivery}` }), facts);
    }
    if (pallet.status === 'loaded') return reject('delivery.pallet_loaded', rejection('LG_ERR_HU_PALLET_STATE', { sscc, status: pallet.status, detail: `it is already loaded onto this delivery (${number}); scanned twice` }), facts);
    if (pallet.status !== 'closed') return reject('delivery.pallet_loaded', rejection('LG_ERR_HU_PALLET_STATE', { sscc, status: pallet.status, detail: 'only a closed pallet can be loaded' }), facts);
    if (pallet.onHold) return reject('delivery.pallet_loaded', rejection('LG_ERR_HU_ON_HOLD', { sscc, reason: pallet.holdReason ?? 'no reason given' }), facts);
    const notReleased = view.palletBatches(pallet.id).find((b) => b.status !== 'released');
    if (notReleased) return reject('delivery.pallet_loaded', rejection('LG_ERR_DELIVERY_BATCH_NOT_RELEASED', { sscc, batch: notReleased.batch, status: notReleased.status }), facts);
    if (d.planned.length) {
      const planned = new Set(d.planned.map((i) => i.gtin));
      const foreign = view.palletGtins(pallet.id).filter((g) => !planned.has(g));
      if (foreign.length) return reject('delivery.pallet_loaded', rejection('LG_ERR_DELIVERY_WRONG', { sscc, delivery: number, detail: `it holds GTIN ${foreign.join(', ')}, which the delivery does not plan` }), facts);
    }
    return accept('delivery.pallet_loaded', { ...facts, customer: d.customer }, [{ type: 'delivery.load', delivery: number, pallet: pallet.id, sscc }], null);
  }
  return null;
}
