/**
 * Process values (issue 18): a value reading → a `process.value` record bound to the batch
 * selected at the device's station (batch null when none is: a temperature during cleaning is
 * still a fact of the line, but of no batch — nothing is consumed, so nothing is refused for it).
 * Garbage (not a number, bad quality, out of the declared range) is the same record type,
 * rejected, with the code. An accepted value also stores the value's last recorded state in
 * device_state (key `value:<name>`) in the same transaction, so a restart resumes the deadband
 * and the duplicate check exactly where the journal is — with the MQTT message that produced it
 * (`through`), which the driver's redelivery window looks for after a reconnect.
 */
import type { ValueReading } from '../readings/reading.js';
import type { BindResult, StationContext } from './types.js';

export const PROCESS_VALUE = 'process.value';

export function valueStateKey(name: string): string {
  return `value:${name}`;
}

export function bindValue(r: ValueReading, ctx: StationContext): BindResult {
  const base = {
    type: PROCESS_VALUE,
    station: ctx.station,
    batch: ctx.batch,
    device: r.deviceId,
    sourceTime: r.sourceTime ?? null,
    receivedAt: r.receivedAt,
  };
  const source = { ...(r.source.topic !== undefined ? { topic: r.source.topic } : {}), ...(r.source.nodeId !== undefined ? { nodeId: r.source.nodeId } : {}), ...(r.source.quality !== undefined ? { sourceQuality: r.source.quality } : {}) };
  if (r.error || r.value === null) {
    return {
      record: {
        ...base,
        status: 'rejected',
        errorCode: r.error?.code ?? 'LG_ERR_VALUE_NOT_NUMERIC',
        message: r.error?.message ?? null,
        payload: { ...(r.error?.details ?? {}), name: r.name, value: null, received: r.error?.details?.value ?? null, unit: r.unit, quality: r.quality, ...source, ...(r.raw !== undefined ? { raw: r.raw } : {}) },
      },
      effects: [],
    };
  }
  const at = (r.sourceTime ?? r.receivedAt).getTime();
  const state: { value: number; at: number; quality: string; through?: NonNullable<ValueReading['through']> } = { value: r.value, at, quality: r.quality };
  if (r.through) state.through = r.through;
  return {
    record: { ...base, status: 'accepted', payload: { name: r.name, value: r.value, unit: r.unit, quality: r.quality, reason: r.reason, ...source } },
    effects: [{ type: 'device.set_state', device: r.deviceId, key: valueStateKey(r.name), value: state }],
  };
}
