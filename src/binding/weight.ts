/**
 * Binding of scale readings (pure): a capture at a weighing station becomes the consumption of the
 * active lot into the active batch; at a packing station it becomes `weight.captured` for the case.
 *
 * Decisions (for the next engineer):
 * - Which lot: `ctx.lots` maps material → active lot. Only materials on the batch's bill of
 *   materials are candidates. With several, the most recently activated wins, read as the LAST
 *   key in `ctx.lots` insertion order: the station context must delete-then-set a material's key
 *   when a lot is scanned, so the newest scan is last. (A dispensing booth weighs one material at a
 *   time; if two are active the operator scanned the second one last.)
 * - Lot checks: status quarantine/on_hold/rejected/depleted → the lot codes; expiry is a date
 *   (YYYY-MM-DD, the ERP's) compared with the SITE-LOCAL date of `env.now` (`env.timezone`, the
 *   same date the scan binder uses — issue 10.10): a lot is usable on its expiry day and expired
 *   from the next day, in the plant's calendar.
 * - Supervisor overrides (issue 10.2): `ctx.overrides[material]` is in force only for that lot in
 *   that batch (the store drops it when either changes at the station) and lets through only the
 *   refusal codes it was granted for. A lot that picked up another refusal since (e.g. expired
 *   overnight, or put on hold after a quarantine override) is still refused. An override of
 *   LG_ERR_MATERIAL_NOT_IN_BOM makes that lot a candidate although no BOM line names it; such a
 *   consumption has no tolerance to judge (`position: 'not_in_bom'`). Every consumption an
 *   override let through names it (`payload.override`).
 * - Quantities that move stock are positive: a net of zero or below (a hand entry of "-50") is a
 *   rejected record LG_ERR_QUANTITY_NOT_POSITIVE (issue 10.1). A wrong consumption is corrected
 *   with its own record (`material.consumption_corrected`, Ops.correctConsumption), never with a
 *   negative one.
 * - Units: the capture is converted to the BOM line's unit exactly (metric ↔ metric is exact;
 *   lb/oz → metric is rounded once, half away from zero, at 9 decimals — decimal.ts's limit). The
 *   `lot.consume` effect is expressed in the LOT's unit (its balance's unit), converted the same way.
 * - Tolerance is cumulative: consumed so far (md.consumed) + this addition, against the BOM
 *   quantity ± tolerancePct. Only OVER can be judged at an addition: in a multi-addition weighing
 *   every addition but the last is "under" by design, so an addition is never refused or flagged
 *   for being under. The record says where the total stands (`position: under|within|over`,
 *   `remaining`) for the station display; an under-consumed batch is the completion check's job.
 *   Over: policy `refuse` → rejected record, no effect; policy `flag` → accepted record with
 *   `errorCode` LG_ERR_WEIGHT_OUT_OF_TOLERANCE and `payload.flag = 'over_tolerance'`, and the
 *   effect (the material is physically in the batch; the record makes the deviation visible).
 * - A consumption larger than the lot's recorded balance is still accepted (the material was
 *   weighed, the balance goes negative and the record carries `lotBalanceExceeded: true`): the
 *   book balance is wrong, not the scale.
 * - Each capture is its own record; nothing is aggregated.
 */
import type { WeightReading } from '../readings/reading.js';
import { formatMessage, type ErrorCode } from '../errors.js';
import { add, cmp, isDecimalString, mul, parseDec, sub, toString as decToString, type Dec } from '../domain/decimal.js';
import { convertMassExact, normaliseUnit, type MassUnit } from '../readings/units.js';
import { localDate } from '../domain/numbering.js';
import type { BindEnv, BindResult, BomLine, LotView, RecordDraft, StationContext, StationOverride } from './types.js';

export interface WeightPolicy {
  tolerance: 'refuse' | 'flag';
  /** Station policy `requireOperator`: a capture with nobody signed in is refused (LG_ERR_NO_OPERATOR). */
  requireOperator?: boolean;
}

function base(reading: WeightReading, ctx: StationContext): Omit<RecordDraft, 'type' | 'status' | 'payload'> {
  return {
    station: ctx.station,
    batch: ctx.batch,
    operator: ctx.operator,
    device: reading.deviceId,
    sourceTime: reading.sourceTime ?? null,
    receivedAt: reading.receivedAt,
  };
}

function weightPayload(reading: WeightReading): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  if (reading.value) {
    p.net = reading.value.net;
    p.tare = reading.value.tare;
    p.gross = reading.value.gross;
    p.unit = reading.value.unit;
    p.stable = reading.value.stable;
  }
  if (reading.raw !== undefined) p.raw = reading.raw;
  return p;
}

function reject(type: string, reading: WeightReading, ctx: StationContext, code: ErrorCode, details: Record<string, unknown>, extra: Record<string, unknown> = {}, lot: string | null = null): BindResult {
  return {
    record: {
      ...base(reading, ctx),
      lot,
      type,
      status: 'rejected',
      errorCode: code,
      message: formatMessage(code, details),
      payload: { ...weightPayload(reading), ...extra },
    },
    effects: [],
  };
}

const LOT_STATUS_CODE: Partial<Record<LotView['status'], ErrorCode>> = {
  quarantine: 'LG_ERR_LOT_QUARANTINED',
  on_hold: 'LG_ERR_LOT_ON_HOLD',
  rejected: 'LG_ERR_LOT_REJECTED',
  depleted: 'LG_ERR_LOT_DEPLETED',
};

function pctOf(x: Dec, pct: Dec): Dec {
  const m = mul(x, pct);
  return { units: m.units, scale: m.scale + 2 };
}

export function bindWeight(reading: WeightReading, ctx: StationContext, env: BindEnv, policy: WeightPolicy): BindResult {
  // A refusal from the driver (bad payload, overload…): recorded, never consumed.
  if (reading.error) {
    const r = reject('weight.captured', reading, ctx, reading.error.code, { device: reading.deviceId }, {
      error: { message: reading.error.message, ...(reading.error.details ? { details: reading.error.details } : {}) },
    });
    // The driver's message already says what was wrong with this payload (detail, repeats…).
    r.record.message = reading.error.message;
    return r;
  }
  const v = reading.value;
  if (!v || !isDecimalString(v.net) || !isDecimalString(v.gross) || !isDecimalString(v.tare)) {
    return reject('weight.captured', reading, ctx, 'LG_ERR_READING_INVALID', { device: reading.deviceId, detail: 'weight reading without a decimal value' });
  }
  if (policy.requireOperator && !ctx.operator && (ctx.role === 'weighing' || ctx.role === 'packing')) {
    return reject(ctx.role === 'weighing' ? 'material.consumed' : 'weight.captured', reading, ctx, 'LG_ERR_NO_OPERATOR', { station: ctx.station });
  }
  if (ctx.role === 'weighing') return bindConsumption(reading, v, ctx, env, policy);

  const type = 'weight.captured';
  if (ctx.role === 'packing') {
    // The label needs a batch: a case weighed with no batch active is refused, visibly.
    if (!ctx.batch) return reject(type, reading, ctx, 'LG_ERR_NO_ACTIVE_BATCH', { station: ctx.station });
    const batch = env.md.batch(ctx.batch);
    if (!batch) return reject(type, reading, ctx, 'LG_ERR_BATCH_NOT_FOUND', { batch: ctx.batch });
    if (batch.status !== 'in_process' && batch.status !== 'planned') return reject(type, reading, ctx, 'LG_ERR_BATCH_NOT_OPEN', { batch: ctx.batch, status: batch.status });
  }
  return {
    record: { ...base(reading, ctx), lot: null, type, status: 'accepted', payload: { ...weightPayload(reading), role: ctx.role } },
    effects: [],
  };
}

function bindConsumption(
  reading: WeightReading,
  v: NonNullable<WeightReading['value']>,
  ctx: StationContext,
  env: BindEnv,
  policy: WeightPolicy,
): BindResult {
  const type = 'material.consumed';
  if (cmp(parseDec(v.net), '0') <= 0) {
    return reject(type, reading, ctx, 'LG_ERR_QUANTITY_NOT_POSITIVE', { value: `${v.net} ${v.unit}` });
  }
  if (!ctx.batch) return reject(type, reading, ctx, 'LG_ERR_NO_ACTIVE_BATCH', { station: ctx.station });
  const batch = env.md.batch(ctx.batch);
  if (!batch) return reject(type, reading, ctx, 'LG_ERR_BATCH_NOT_FOUND', { batch: ctx.batch });
  if (batch.status !== 'in_process' && batch.status !== 'planned') return reject(type, reading, ctx, 'LG_ERR_BATCH_NOT_OPEN', { batch: ctx.batch, status: batch.status });

  // The active lot: last-activated among the materials on this batch's BOM (or let in by an
  // override of LG_ERR_MATERIAL_NOT_IN_BOM for exactly that lot and batch).
  let line: BomLine | undefined;
  let lotId: string | undefined;
  let material: string | undefined;
  let override: StationOverride | undefined;
  for (const [m, lot] of Object.entries(ctx.lots)) {
    if (!lot) continue;
    const l = batch.bom.find((b) => b.material === m);
    const ov = overrideFor(ctx, m, lot);
    if (l || ov?.codes.includes('LG_ERR_MATERIAL_NOT_IN_BOM')) {
      line = l;
      lotId = lot;
      material = m;
      override = ov;
    }
  }
  if (!material || !lotId) return reject(type, reading, ctx, 'LG_ERR_NO_ACTIVE_LOT', { station: ctx.station, forMaterial: '' });
  const lot = env.md.lot(lotId);
  if (!lot) return reject(type, reading, ctx, 'LG_ERR_LOT_NOT_FOUND', { lot: lotId }, { material }, lotId);
  if (lot.material !== material) return reject(type, reading, ctx, 'LG_ERR_MATERIAL_NOT_IN_BOM', { material: lot.material, batch: batch.number }, { material: lot.material }, lotId);
  const covered = (code: ErrorCode): boolean => !!override && override.codes.includes(code);
  const overridden: string[] = line ? [] : ['LG_ERR_MATERIAL_NOT_IN_BOM'];
  const statusCode = LOT_STATUS_CODE[lot.status];
  if (statusCode) {
    if (!covered(statusCode)) return reject(type, reading, ctx, statusCode, { lot: lot.id }, { material, ...(override ? { override: override.record } : {}) }, lotId);
    overridden.push(statusCode);
  }
  const today = localDate(env.now, env.timezone ?? 'UTC');
  if (lot.expiry && lot.expiry.slice(0, 10) < today) {
    if (!covered('LG_ERR_LOT_EXPIRED')) {
      return reject(type, reading, ctx, 'LG_ERR_LOT_EXPIRED', { lot: lot.id, expiry: lot.expiry }, { material, siteDate: today, ...(override ? { override: override.record } : {}) }, lotId);
    }
    overridden.push('LG_ERR_LOT_EXPIRED');
  }
  const overridePayload = override && overridden.length ? { override: { record: override.record, codes: overridden } } : {};

  const from = normaliseUnit(v.unit);
  if (!from) return reject(type, reading, ctx, 'LG_ERR_WEIGHT_UNIT', { device: reading.deviceId, unit: v.unit }, { material }, lotId);
  const lotUnit = normaliseUnit(lot.unit);
  if (!lotUnit) return reject(type, reading, ctx, 'LG_ERR_UNIT_MISMATCH', { unit: v.unit, expected: lot.unit, entity: `lot ${lot.id}` }, { material }, lotId);
  if (!line) return bindOffBom(reading, v, ctx, env, batch.number, material, lot, from, lotUnit, overridePayload);
  const bomUnit = normaliseUnit(line.unit);
  if (!bomUnit) return reject(type, reading, ctx, 'LG_ERR_UNIT_MISMATCH', { unit: v.unit, expected: line.unit, entity: `BOM line ${material}` }, { material }, lotId);

  const net = parseDec(v.net);
  const qty = from === bomUnit ? net : convertMassExact(net, from, bomUnit);
  const lotQty = from === lotUnit ? net : convertMassExact(net, from, lotUnit);
  const planned = parseDec(line.quantity);
  const tol = pctOf(planned, parseDec(line.tolerancePct));
  const min = sub(planned, tol);
  const max = add(planned, tol);
  const before = parseDec(env.md.consumed(batch.number, material) || '0');
  const after = add(before, qty);
  const position = cmp(after, max) > 0 ? 'over' : cmp(after, min) < 0 ? 'under' : 'within';
  const payload: Record<string, unknown> = {
    ...weightPayload(reading),
    material,
    quantity: decToString(qty),
    quantityUnit: line.unit,
    planned: line.quantity,
    tolerancePct: line.tolerancePct,
    min: decToString(min),
    max: decToString(max),
    consumedBefore: decToString(before),
    consumedAfter: decToString(after),
    remaining: decToString(sub(planned, after)),
    position,
    ...overridePayload,
  };
  if (lotUnit !== bomUnit) {
    payload.lotQuantity = decToString(lotQty);
    payload.lotUnit = lot.unit;
  }
  if (cmp(parseDec(lot.quantity), lotQty) < 0) payload.lotBalanceExceeded = true;

  const effect = { type: 'lot.consume' as const, lot: lot.id, batch: batch.number, material, quantity: decToString(lotQty), unit: lot.unit };
  if (position === 'over') {
    const details = { value: `${decToString(qty)} ${line.unit}`, material, min: decToString(min), max: decToString(max) };
    if (policy.tolerance === 'refuse') {
      return {
        record: { ...base(reading, ctx), lot: lot.id, type, status: 'rejected', errorCode: 'LG_ERR_WEIGHT_OUT_OF_TOLERANCE', message: formatMessage('LG_ERR_WEIGHT_OUT_OF_TOLERANCE', details), payload },
        effects: [],
      };
    }
    payload.flag = 'over_tolerance';
    return {
      record: { ...base(reading, ctx), lot: lot.id, type, status: 'accepted', errorCode: 'LG_ERR_WEIGHT_OUT_OF_TOLERANCE', message: formatMessage('LG_ERR_WEIGHT_OUT_OF_TOLERANCE', details), payload },
      effects: [effect],
    };
  }
  return {
    record: { ...base(reading, ctx), lot: lot.id, type, status: 'accepted', payload },
    effects: [effect],
  };
}

/** The override in force at the station for this material, if it names exactly this lot and the station's batch. */
function overrideFor(ctx: StationContext, material: string, lot: string): StationOverride | undefined {
  const ov = ctx.overrides?.[material];
  return ov && ov.lot === lot && ov.batch === ctx.batch ? ov : undefined;
}

/**
 * A lot let in by an override of LG_ERR_MATERIAL_NOT_IN_BOM: no BOM line, so no tolerance to judge;
 * the quantity is in the lot's unit and the batch's consumed total of that material still grows.
 */
function bindOffBom(
  reading: WeightReading,
  v: NonNullable<WeightReading['value']>,
  ctx: StationContext,
  env: BindEnv,
  batch: string,
  material: string,
  lot: LotView,
  from: MassUnit,
  lotUnit: MassUnit,
  overridePayload: Record<string, unknown>,
): BindResult {
  const net = parseDec(v.net);
  const lotQty = from === lotUnit ? net : convertMassExact(net, from, lotUnit);
  const before = parseDec(env.md.consumed(batch, material) || '0');
  const payload: Record<string, unknown> = {
    ...weightPayload(reading),
    material,
    quantity: decToString(lotQty),
    quantityUnit: lot.unit,
    consumedBefore: decToString(before),
    consumedAfter: decToString(add(before, lotQty)),
    position: 'not_in_bom',
    ...overridePayload,
  };
  if (cmp(parseDec(lot.quantity), lotQty) < 0) payload.lotBalanceExceeded = true;
  return {
    record: { ...base(reading, ctx), lot: lot.id, type: 'material.consumed', status: 'accepted', payload },
    effects: [{ type: 'lot.consume', lot: lot.id, batch, material, quantity: decToString(lotQty), unit: lot.unit }],
  };
}
