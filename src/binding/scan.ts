import type { ErrorCode, Rejection } from '../errors.js';
import { rejection } from '../errors.js';
import { lotUsable } from '../domain/lot.js';
import { localDate } from '../domain/numbering.js';
import { isOpen } from '../domain/batch.js';
import type { BindEnv, BindResult, Effect, LotView, MaterialView, RecordDraft, StationContext } from './types.js';

/**
 * Scan binding: (scan, station context, master data) → record + effects. Pure: every fact comes
 * from the arguments; the caller applies the effects in the record's transaction.
 *
 * Classification order (first match wins), per station:
 *   1. a driver-level fault (overlong frame…)          → rejected `scan.rejected`
 *   2. control characters other than GS               → rejected `scan.rejected`
 *   3. a configured command code                      → `station.command`
 *   4. an operator badge (badge pattern)              → `operator.signed_in`
 *   5. a batch number (batch-number pattern)          → `batch.selected`
 *   6. GS1 data with a GTIN (AI 01/02) → material lot  → `lot.scanned` (verified against the batch)
 *      GS1 data with an SSCC (AI 00)                   → `handling_unit.scanned`
 *      (valid GS1 lacking the lot or any key: `LG_ERR_GS1_LOT_MISSING` / `LG_ERR_GS1_KEY_MISSING`)
 *   7. plain text equal to an internal lot id          → `lot.scanned` (an AIM identifier of a
 *      text symbology, `]C0` …, is not part of the text in 3–5 and 7)
 *   otherwise                                          → rejected `scan.unrecognised`
 */

/** What the GS1 parser gives the binder (src/gs1 parseScan, narrowed to what binding needs). */
export type ParsedScan =
  | {
      ok: true;
      gs1: boolean;
      aim: string | null;
      /** The symbology the AIM identifier names (`code128`, `gs1-128`…; `unknown` without one). */
      symbology?: string;
      /** Data without the AIM identifier; GS kept for GS1. */
      text: string;
      /** `value` normalised for lookups (GTIN-14, ISO dates); `raw` exactly as carried. */
      elements: ReadonlyArray<{ ai: string; value: string; raw?: string }>;
    }
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };

export type StationCommand = 'clear_lots' | 'sign_out' | 'clear_batch';

export interface ScanStation {
  id: string;
  timezone: string;
  policies: { unknownLot: 'refuse' | 'quarantine'; requireOperator: boolean };
  commands: Readonly<Record<string, StationCommand>>;
  batchPattern: RegExp;
  badgePattern: RegExp;
}

export interface ScanInput {
  raw: Buffer;
  device: string | null;
  receivedAt: Date;
  sourceTime?: Date | null;
  /** Set by the driver (overlong frame, …). */
  error?: { code: ErrorCode; message: string; details?: Record<string, unknown> } | null;
  parsed: ParsedScan;
}

const GS = '\x1d';
/** C0 controls and DEL, except GS (FNC1) — CR/LF are terminators and never reach here. */
const CONTROL = /[\x00-\x1c\x1e\x1f\x7f]/;

/** Printable form of raw scan bytes for records and messages: GS as <GS>, other controls as <0xNN>. */
export function printable(raw: Buffer, max = 200): string {
  let out = '';
  for (const b of raw.subarray(0, max)) {
    if (b === 0x1d) out += '<GS>';
    else if (b < 0x20 || b === 0x7f || b > 0x7e) out += `<0x${b.toString(16).padStart(2, '0')}>`;
    else out += String.fromCharCode(b);
  }
  return raw.length > max ? `${out}…(${raw.length} bytes)` : out;
}

export function bindScan(scan: ScanInput, ctx: StationContext, st: ScanStation, env: BindEnv): BindResult {
  const base = {
    station: ctx.station,
    batch: ctx.batch,
    operator: ctx.operator,
    device: scan.device,
    receivedAt: scan.receivedAt,
    sourceTime: scan.sourceTime ?? null,
  };
  const payload: Record<string, unknown> = {
    raw: printable(scan.raw),
    rawHex: scan.raw.length <= 4096 ? scan.raw.toString('hex') : scan.raw.subarray(0, 4096).toString('hex'),
    bytes: scan.raw.length,
  };
  // 10.15/10.16: the symbology identifier and the GS1 data as carried stay on every scan record.
  if (scan.parsed.ok) Object.assign(payload, scanFacts(scan.parsed));
  const reject = (type: string, r: Rejection, extra: Partial<RecordDraft> = {}, effects: Effect[] = []): BindResult => ({
    record: { ...base, ...extra, type, status: 'rejected', errorCode: r.code, message: r.message, payload: { ...payload, ...(extra.payload ?? {}), details: r.details } },
    effects,
  });
  const accept = (type: string, extra: Partial<RecordDraft>, effects: Effect[]): BindResult => ({
    record: { ...base, ...extra, type, status: 'accepted', payload: { ...payload, ...(extra.payload ?? {}) } },
    effects,
  });

  if (scan.error) return reject('scan.rejected', rejection(scan.error.code, scan.error.details ?? {}));

  const latin = scan.raw.toString('latin1');
  if (CONTROL.test(latin)) {
    const found = [...new Set([...latin].filter((c) => CONTROL.test(c)).map((c) => `0x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))];
    return reject('scan.rejected', rejection('LG_ERR_SCAN_CONTROL_CHARS', { detail: found.join(' ') }));
  }
  // 10.15: an AIM identifier on a text symbology (`]C0L-SALT`, `]A0…`, `]Q1…`) is not part of the
  // lot, batch, badge or command it carries.
  const textAim = scan.parsed.ok && !scan.parsed.gs1 ? scan.parsed.aim : null;
  const text = (textAim && latin.startsWith(textAim) ? latin.slice(textAim.length) : latin).trim();

  const command = st.commands[text];
  if (command) return bindCommand(command, text, ctx, accept);

  if (st.badgePattern.test(text)) {
    const user = env.md.userByBadge(text);
    if (!user) return reject('operator.signed_in', rejection('LG_ERR_UNKNOWN_BADGE', { badge: text }));
    const effects: Effect[] = [{ type: 'station.set_operator', station: ctx.station, operator: user.id }];
    if (ctx.batch) effects.push({ type: 'batch.add_personnel', batch: ctx.batch, operator: user.id });
    return accept('operator.signed_in', { operator: user.id, payload: { user: user.id, name: user.name, role: user.role } }, effects);
  }

  if (st.batchPattern.test(text)) {
    const b = env.md.batch(text);
    if (!b) return reject('batch.selected', rejection('LG_ERR_BATCH_NOT_FOUND', { batch: text }), { batch: null });
    if (!isOpen(b.status) || b.status === 'on_hold') {
      return reject('batch.selected', rejection('LG_ERR_BATCH_NOT_OPEN', { batch: b.number, status: b.status }), { batch: null });
    }
    const effects: Effect[] = [{ type: 'station.set_batch', station: ctx.station, batch: b.number }];
    if (ctx.operator) effects.push({ type: 'batch.add_personnel', batch: b.number, operator: ctx.operator });
    return accept('batch.selected', { batch: b.number, payload: { product: b.product, status: b.status, previous: ctx.batch } }, effects);
  }

  const parsed = scan.parsed;
  if (parsed.ok && parsed.gs1) {
    const get = (ai: string): string | undefined => parsed.elements.find((e) => e.ai === ai)?.value;
    const gs1 = Object.fromEntries(parsed.elements.map((e) => [e.ai, e.value]));
    const sscc = get('00');
    const gtin = get('01') ?? get('02');
    if (gtin) {
      const material = env.md.materialByGtin(gtin);
      if (!material) return reject('lot.scanned', rejection('LG_ERR_UNKNOWN_GTIN', { gtin }), { payload: { gs1 } });
      // A serial-tracked material (issue 15: serial-level links) is identified unit by unit: its
      // lots are its serials (AI 21; the lot id or the supplier's lot number is the serial), and
      // an AI 10 printed with it is kept in the record as the maker's lot. Others go by AI 10.
      const bySerial = material.tracking === 'serial';
      const lotCode = bySerial ? get('21') : get('10');
      // 10.17: valid GS1 data that lacks what this station needs is not "invalid GS1".
      if (!lotCode) return reject('lot.scanned', rejection('LG_ERR_GS1_LOT_MISSING', { gtin, material: material.code, ais: parsed.elements.map((e) => e.ai).join(', ') }), { payload: { gs1 } });
      const expiry = toIsoDate(get('17'));
      const byId = env.md.lot(lotCode);
      const lot = bySerial ? (env.md.lotBySupplierLot(material.code, lotCode) ?? (byId?.material === material.code ? byId : undefined)) : (byId ?? env.md.lotBySupplierLot(material.code, lotCode));
      return bindLot({ material, lot, lotCode, scannedExpiry: expiry, serial: get('21') ?? null, gs1 }, ctx, st, env, reject, accept);
    }
    if (sscc) return accept('handling_unit.scanned', { payload: { sscc, gs1 } }, []);
    return reject('scan.unrecognised', rejection('LG_ERR_GS1_KEY_MISSING', { ais: parsed.elements.map((e) => e.ai).join(', ') }), { payload: { gs1 } });
  }
  if (!parsed.ok && looksLikeGs1(scan.raw)) {
    // Clearly meant as GS1 (AIM identifier or FNC1) but invalid: say exactly what is wrong.
    return reject('scan.rejected', rejection(parsed.code, parsed.details));
  }

  const lot = env.md.lot(text);
  if (lot) {
    const material = env.md.material(lot.material);
    if (material) return bindLot({ material, lot, lotCode: text, scannedExpiry: null, serial: null, gs1: null }, ctx, st, env, reject, accept);
  }
  return reject('scan.unrecognised', rejection('LG_ERR_SCAN_UNRECOGNISED', { text: printable(scan.raw, 80) }));
}

/** What a parsed scan adds to its record: AIM identifier, symbology, and GS1 values as carried. */
function scanFacts(p: Extract<ParsedScan, { ok: true }>): Record<string, unknown> {
  const out: Record<string, unknown> = { aim: p.aim };
  if (p.symbology !== undefined) out.symbology = p.symbology;
  if (p.gs1) {
    // Bracketed element string (HRI form) of the values exactly as carried, next to the
    // normalised `gs1` map the binder adds.
    out.elementString = p.elements.map((e) => `(${e.ai})${e.raw ?? e.value}`).join('');
    out.gs1Raw = Object.fromEntries(p.elements.map((e) => [e.ai, e.raw ?? e.value]));
  }
  return out;
}

function looksLikeGs1(raw: Buffer): boolean {
  const s = raw.toString('latin1');
  return /^\](C1|d2|d5|Q3|Q4|e0|J1|E0|E3|E4)/.test(s) || s.includes(GS);
}

/** GS1 YYMMDD (already validated and, for DD=00, resolved by the parser) → YYYY-MM-DD. */
function toIsoDate(v: string | undefined): string | null {
  if (!v) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  return null;
}

type Reject = (type: string, r: Rejection, extra?: Partial<RecordDraft>, effects?: Effect[]) => BindResult;
type Accept = (type: string, extra: Partial<RecordDraft>, effects: Effect[]) => BindResult;

function bindLot(
  s: { material: MaterialView; lot: LotView | undefined; lotCode: string; scannedExpiry: string | null; serial: string | null; gs1: Record<string, string> | null },
  ctx: StationContext,
  st: ScanStation,
  env: BindEnv,
  reject: Reject,
  accept: Accept,
): BindResult {
  const facts = { material: s.material.code, lotCode: s.lotCode, expiry: s.scannedExpiry, serial: s.serial, gs1: s.gs1 };
  const lotId = s.lot?.id ?? null;
  if (st.policies.requireOperator && !ctx.operator) return reject('lot.scanned', rejection('LG_ERR_NO_OPERATOR', { station: ctx.station }), { lot: lotId, payload: facts });
  if (!ctx.batch) return reject('lot.scanned', rejection('LG_ERR_NO_ACTIVE_BATCH', { station: ctx.station }), { lot: lotId, payload: facts });
  const batch = env.md.batch(ctx.batch);
  if (!batch) return reject('lot.scanned', rejection('LG_ERR_BATCH_NOT_FOUND', { batch: ctx.batch }), { lot: lotId, payload: facts });
  if (batch.status !== 'planned' && batch.status !== 'in_process') {
    return reject('lot.scanned', rejection('LG_ERR_BATCH_NOT_OPEN', { batch: batch.number, status: batch.status }), { lot: lotId, payload: facts });
  }
  if (!s.lot) {
    if (st.policies.unknownLot === 'quarantine') {
      // Registered so QA can find and release it; refused now, like any quarantined lot.
      const id = s.lotCode;
      return reject('lot.scanned', rejection('LG_ERR_LOT_QUARANTINED', { lot: id }), { lot: id, payload: { ...facts, registered: true } }, [
        { type: 'lot.register', lot: { id, material: s.material.code, supplierLot: s.lotCode, expiry: s.scannedExpiry, unit: s.material.unit } },
      ]);
    }
    return reject('lot.scanned', rejection('LG_ERR_UNKNOWN_LOT', { lot: s.lotCode, material: s.material.code }), { payload: facts });
  }
  if (!batch.bom.some((l) => l.material === s.material.code)) {
    return reject('lot.scanned', rejection('LG_ERR_MATERIAL_NOT_IN_BOM', { material: s.material.code, batch: batch.number }), { lot: s.lot.id, payload: facts });
  }
  const unusable = lotUsable(s.lot, localDate(env.now, st.timezone), s.scannedExpiry);
  if (unusable) return reject('lot.scanned', unusable, { lot: s.lot.id, payload: facts });
  return accept(
    'lot.scanned',
    { lot: s.lot.id, payload: { ...facts, lot: s.lot.id, supplierLot: s.lot.supplierLot, lotStatus: s.lot.status, lotExpiry: s.lot.expiry, ...(s.material.tracking === 'serial' ? { tracking: 'serial' } : {}) } },
    [{ type: 'station.set_lot', station: ctx.station, material: s.material.code, lot: s.lot.id }],
  );
}

function bindCommand(command: StationCommand, text: string, ctx: StationContext, accept: Accept): BindResult {
  const effects: Effect[] =
    command === 'clear_lots'
      ? Object.keys(ctx.lots).map((m) => ({ type: 'station.set_lot', station: ctx.station, material: m, lot: null }) as Effect)
      : command === 'sign_out'
        ? [{ type: 'station.set_operator', station: ctx.station, operator: null }]
        : [{ type: 'station.set_batch', station: ctx.station, batch: null }];
  return accept('station.command', { payload: { command, code: text } }, effects);
}

/** Refusal codes a supervisor may override at a lot scan (never an unknown or QA-rejected lot). */
export const OVERRIDABLE: ReadonlySet<string> = new Set([
  'LG_ERR_LOT_EXPIRED',
  'LG_ERR_LOT_ON_HOLD',
  'LG_ERR_LOT_QUARANTINED',
  'LG_ERR_MATERIAL_NOT_IN_BOM',
  'LG_ERR_LOT_DEPLETED',
]);
