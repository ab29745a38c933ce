/**
 * Pure conversions of OPC UA values into reading values, per field kind. Kept apart from the
 * driver so they are unit-tested without a server. Nothing here throws: a value that cannot be
 * converted comes back as `{ error }` and becomes an error reading.
 */
import type { ErrorCode } from '../../errors.js';
import { mapStateValue } from '../../readings/packml.js';
import type { ResolvedField } from './nodemap.js';

export type Converted =
  | { ok: true; value: unknown; meta?: Record<string, unknown> }
  | { ok: false; code: ErrorCode; detail: string; value: unknown };

/** Counter width from the OPC UA data type name (wrap-around happens at 2^bits). */
export function counterBitsFor(dataType: string | undefined): number {
  switch (dataType) {
    case 'Byte':
    case 'SByte':
      return 8;
    case 'UInt16':
    case 'Int16':
      return 16;
    case 'UInt64':
    case 'Int64':
      return 64;
    default:
      return 32;
  }
}

/** node-opcua gives (U)Int64 as [high, low] 32-bit words. */
function toBigInt(v: unknown, dataType?: string): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') {
    const hi = BigInt(v[0] >>> 0);
    const lo = BigInt(v[1] >>> 0);
    const u = (hi << 32n) | lo;
    return dataType === 'Int64' && u >= 1n << 63n ? u - (1n << 64n) : u;
  }
  return undefined;
}

/** Follow a dotted path ("0.count", "ID") into arrays and structures. */
export function selectPath(v: unknown, path: string | undefined): unknown {
  if (!path) return v;
  let cur: unknown = v;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur) || ArrayBuffer.isView(cur)) {
      cur = (cur as unknown as ArrayLike<unknown>)[Number(part)];
    } else if (typeof cur === 'object') {
      const o = cur as Record<string, unknown>;
      // node-opcua decodes structure fields camelCase except all-caps names ("ID"): accept either.
      cur = part in o ? o[part] : o[part.charAt(0).toLowerCase() + part.slice(1)] ?? o[part.charAt(0).toUpperCase() + part.slice(1)];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** A JSON-safe copy of a value (structures, typed arrays, bigint, LocalizedText). */
export function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object') return v;
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  try {
    return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;
  } catch {
    return String(v);
  }
}

function text(v: unknown): string {
  try {
    const s = typeof v === 'string' ? v : JSON.stringify(plain(v));
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * Convert one raw value of a (non-composed) field.
 * - state: canonical PackML name (meta.raw keeps what the PLC said)
 * - counter: non-negative integer as DECIMAL TEXT (exact, also for 64-bit), meta.counterBits; a
 *   signed counter is read as its unsigned view so that a wrap past Int32 max stays a wrap
 * - analog: number
 * - enum: name from the map's table (unknown numbers pass as `#<n>`), meta.raw
 * - value: a JSON-safe copy
 */
export function convertValue(f: ResolvedField, raw: unknown, dataType?: string): Converted {
  switch (f.kind) {
    case 'state': {
      const name = mapStateValue(raw, f.stateTable);
      if (name === undefined) return { ok: false, code: 'LG_ERR_MACHINE_STATE_UNKNOWN', detail: `unknown PackML state ${text(raw)}`, value: plain(raw) };
      return { ok: true, value: name, meta: { raw: plain(raw) } };
    }
    case 'counter': {
      const bits = f.counterBits ?? counterBitsFor(dataType);
      const b = toBigInt(raw, dataType);
      if (b === undefined) return { ok: false, code: 'LG_ERR_READING_INVALID', detail: `counter ${f.field} is not an integer: ${text(raw)}`, value: plain(raw) };
      const m = 1n << BigInt(bits);
      const u = ((b % m) + m) % m;
      return { ok: true, value: u.toString(), meta: { counterBits: bits } };
    }
    case 'analog': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : toBigInt(raw, dataType);
      const num = typeof n === 'bigint' ? Number(n) : n;
      if (typeof num !== 'number' || !Number.isFinite(num)) return { ok: false, code: 'LG_ERR_READING_INVALID', detail: `${f.field} is not a finite number: ${text(raw)}`, value: plain(raw) };
      return { ok: true, value: num };
    }
    case 'enum': {
      const b = toBigInt(raw, dataType);
      if (b === undefined) return typeof raw === 'string' ? { ok: true, value: raw, meta: { raw } } : { ok: false, code: 'LG_ERR_READING_INVALID', detail: `${f.field} is not an enumeration value: ${text(raw)}`, value: plain(raw) };
      const n = Number(b);
      return { ok: true, value: f.enumValues?.get(n) ?? `#${n}`, meta: { raw: n } };
    }
    default:
      return { ok: true, value: plain(raw) };
  }
}
