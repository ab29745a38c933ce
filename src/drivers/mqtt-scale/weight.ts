/**
 * Pure payload → weight parsing for MQTT scales. No I/O, no clock, no floats.
 *
 * Exactness: JSON payloads go through `parseJsonExact` (numbers stay lexemes) and ASCII lines are
 * text already; every quantity becomes a BigInt-backed `Dec`. Conversion to the profile unit and
 * rounding to its resolution happen once per field (gross and tare), half away from zero, and net
 * is then computed as gross − tare on the rounded values, so `net = gross − tare` holds exactly
 * in every reading we emit.
 */
import { type ErrorCode } from '../../errors.js';
import { type Dec, DecimalError, add, toString as decToString } from '../../domain/decimal.js';
import { JsonNumber, JsonSyntaxError, parseJsonExact, getPath, type JsonValue } from './json.js';
import { addExact, convertMass, lexemeToDec, normaliseUnit, subExact, type MassUnit } from '../../readings/units.js';
import type { CompiledProfile } from './profile.js';

export interface WeightSample {
  gross: Dec;
  tare: Dec;
  net: Dec;
  /** Always the profile unit, rounded to the profile decimals. */
  unit: MassUnit;
  /** The scale's own flag; null when it sends none (software detection decides). */
  stable: boolean | null;
  sourceTime: Date | null;
  /** The displayed net was a signed zero ("-0.000"): below zero by less than one digit (issue 10.5). */
  negativeZero?: true;
}

export type ParseOutcome =
  /** `text`: the payload as decoded (kept as the raw text of the reading, saves a second decode). */
  | { kind: 'weight'; sample: WeightSample; text?: string }
  /** An ASCII tare line (TR): remembered for later net lines, not a weight on the platform. */
  | { kind: 'tare'; tare: Dec; text?: string }
  | { kind: 'refusal'; code: ErrorCode; detail: string; details: Record<string, unknown> };

/** Parser state that outlives one message (the last tare an ASCII indicator announced). */
export interface ParseState {
  lastTare: Dec | null;
}

const ZERO: Dec = { units: 0n, scale: 0 };
const DEC_TEXT_RE = /^\s*[+-]?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/;

function refuse(code: ErrorCode, detail: string, details: Record<string, unknown> = {}): ParseOutcome {
  return { kind: 'refusal', code, detail, details: { detail, ...details } };
}

class Refusal extends Error {
  constructor(readonly outcome: ParseOutcome) {
    super('refusal');
  }
}
const fail = (code: ErrorCode, detail: string, details: Record<string, unknown> = {}): never => {
  throw new Refusal(refuse(code, detail, details));
};

/** Text kept as `raw` on readings: UTF-8 when valid, else base64 (prefixed); capped at `cap` bytes. */
export function rawText(payload: Buffer | string, cap = 1024): { raw: string; bytes: number; truncated: boolean } {
  const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const truncated = buf.length > cap;
  const slice = truncated ? buf.subarray(0, cap) : buf;
  const text = decodeUtf8(slice);
  return { raw: text ?? `base64:${slice.toString('base64')}`, bytes: buf.length, truncated };
}

// ignoreBOM: keep a byte order mark in the decoded text, so the raw on the record is what was sent
// (parseWeightPayload skips it before parsing).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function decodeUtf8(b: Buffer): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}

/** Parse one MQTT payload with a profile. Never throws. */
export function parseWeightPayload(payload: Buffer | string, profile: CompiledProfile, state: ParseState = { lastTare: null }): ParseOutcome {
  const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (buf.length > profile.maxBytes) return refuse('LG_ERR_WEIGHT_PAYLOAD', `payload is ${buf.length} bytes, over the limit of ${profile.maxBytes}`, { bytes: buf.length });
  if (buf.length === 0) return refuse('LG_ERR_WEIGHT_PAYLOAD', 'empty payload');
  const text = decodeUtf8(buf);
  if (text === null) return refuse('LG_ERR_WEIGHT_PAYLOAD', 'payload is not UTF-8 text');
  // A leading UTF-8 byte order mark (Windows bridges, .NET's Encoding.UTF8) is an encoding marker,
  // not content: RFC 8259 §8.1 lets a parser ignore it, and so do we (issue 10.5). `text` (the raw
  // kept on the record) still shows it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    const o = profile.format === 'json' ? parseJsonPayload(body, profile) : parseAsciiPayload(body, profile, state);
    if (o.kind !== 'refusal') o.text = text;
    return o;
  } catch (err) {
    if (err instanceof Refusal) return err.outcome;
    // Anything unforeseen is still a refusal, never a throw out of the data path.
    return refuse('LG_ERR_WEIGHT_PAYLOAD', `unexpected: ${(err as Error).message}`);
  }
}

function toDec(v: JsonValue | undefined, field: string): Dec | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof JsonNumber) return decOrFail(v.lexeme, field);
  if (typeof v === 'string') {
    // "NaN", "Infinity", "-Infinity", "1,5", "" all end here.
    if (!DEC_TEXT_RE.test(v)) return fail('LG_ERR_WEIGHT_PAYLOAD', `${field} is not a finite decimal: ${JSON.stringify(v.slice(0, 40))}`, { field });
    return decOrFail(v.trim().replace(/^\+/, ''), field);
  }
  return fail('LG_ERR_WEIGHT_PAYLOAD', `${field} must be a number, got ${Array.isArray(v) ? 'array' : typeof v}`, { field });
}

function decOrFail(lexeme: string, field: string): Dec {
  try {
    return lexemeToDec(lexeme);
  } catch (err) {
    if (err instanceof DecimalError) return fail('LG_ERR_WEIGHT_PAYLOAD', `${field}: ${err.message}`, { field });
    throw err;
  }
}

function toBool(v: JsonValue | undefined, field: string): boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v;
  if (v instanceof JsonNumber && (v.lexeme === '0' || v.lexeme === '1')) return v.lexeme === '1';
  return fail('LG_ERR_WEIGHT_PAYLOAD', `${field} must be true/false, got ${v instanceof JsonNumber ? v.lexeme : JSON.stringify(v)}`, { field });
}

function toTime(v: JsonValue | undefined): Date | null {
  if (v === undefined || v === null) return null;
  let d: Date | undefined;
  if (v instanceof JsonNumber && /^\d{1,15}$/.test(v.lexeme)) d = new Date(Number(v.lexeme));
  else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) d = new Date(v);
  if (!d || Number.isNaN(d.getTime())) return fail('LG_ERR_WEIGHT_PAYLOAD', `timestamp is not ISO 8601 text or Unix ms: ${JSON.stringify(v instanceof JsonNumber ? v.lexeme : v).slice(0, 60)}`, { field: 'timestamp' });
  return d;
}

/**
 * The payload's unit: its own, else the profile's `payloadUnit`. A payload without a unit on a
 * profile that declares none is refused (issue 10.5): "12" is not 12 kg just because captures are
 * expressed in kg — the indicator may be set to g or lb.
 */
function unitOf(text: string | undefined, profile: CompiledProfile): MassUnit {
  const t = text ?? profile.payloadUnit;
  if (t === undefined) return fail('LG_ERR_WEIGHT_UNIT_MISSING', 'the payload carries no unit and the profile declares no payloadUnit', { unit: null });
  const u = normaliseUnit(t, profile.units);
  if (!u) return fail('LG_ERR_WEIGHT_UNIT', `unit ${JSON.stringify(t.slice(0, 20))} is not supported`, { unit: t.slice(0, 20) });
  return u;
}

/** Gross/tare/net in the payload unit → normalised sample in the profile unit. */
function assemble(
  parts: { gross?: Dec; tare?: Dec; net?: Dec },
  unitFor: MassUnit | (() => MassUnit),
  profile: CompiledProfile,
  stable: boolean | null,
  sourceTime: Date | null,
): WeightSample {
  const tare = parts.tare ?? ZERO;
  let { gross, net } = parts;
  if (gross === undefined && net === undefined) return fail('LG_ERR_WEIGHT_PAYLOAD', 'payload carries no weight (value, gross or net)');
  if (gross !== undefined && net !== undefined && subExact(subExact(gross, tare), net).units !== 0n) {
    return fail('LG_ERR_WEIGHT_PAYLOAD', `net ${decToString(net)} is not gross ${decToString(gross)} − tare ${decToString(tare)}`);
  }
  if (gross === undefined) gross = addExact(net as Dec, tare);
  // The unit is judged after the payload is known to be consistent (a broken payload is a payload error).
  const unit = typeof unitFor === 'function' ? unitFor() : unitFor;
  const g = convertMass(gross, unit, profile.unit, profile.decimals);
  const t = convertMass(tare, unit, profile.unit, profile.decimals);
  // Both at profile.decimals: subtract units directly.
  return { gross: g, tare: t, net: { units: g.units - t.units, scale: g.scale }, unit: profile.unit, stable, sourceTime };
}

function parseJsonPayload(text: string, profile: CompiledProfile): ParseOutcome {
  const map = profile.json!;
  let doc: JsonValue;
  try {
    doc = parseJsonExact(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return refuse('LG_ERR_WEIGHT_PAYLOAD', `malformed JSON: ${err.message}`);
    throw err;
  }
  if (doc === null || typeof doc !== 'object' || doc instanceof JsonNumber || Array.isArray(doc)) {
    return refuse('LG_ERR_WEIGHT_PAYLOAD', 'payload is not a JSON object');
  }
  const at = (p: string | undefined): JsonValue | undefined => (p ? getPath(doc, p) : undefined);

  if (toBool(at(map.overload), 'overload') === true) return refuse('LG_ERR_WEIGHT_OVERLOAD', 'the scale reports overload', { value: 'overload' });
  if (toBool(at(map.underload), 'underload') === true) return refuse('LG_ERR_WEIGHT_UNDERLOAD', 'the scale reports underload', { value: 'underload' });

  const unitRaw = at(map.unit);
  if (unitRaw !== undefined && unitRaw !== null && typeof unitRaw !== 'string') {
    return refuse('LG_ERR_WEIGHT_PAYLOAD', 'unit must be text', { field: 'unit' });
  }
  const value = toDec(at(map.value), 'value');
  const parts = {
    gross: toDec(at(map.gross), 'gross') ?? (map.valueIs !== 'net' ? value : undefined),
    tare: toDec(at(map.tare), 'tare'),
    net: toDec(at(map.net), 'net') ?? (map.valueIs === 'net' ? value : undefined),
  };
  const stable = toBool(at(map.stable), 'stable');
  const sourceTime = toTime(at(map.timestamp));
  const sample = assemble(parts, () => unitOf(typeof unitRaw === 'string' ? unitRaw : undefined, profile), profile, stable, sourceTime);
  // The sign of a zero survives only in the text: "-0.000" on the net (or on a gross without tare).
  const netText = at(map.net) ?? (map.valueIs === 'net' ? at(map.value) : undefined);
  const shown = netText !== undefined && netText !== null ? netText : parts.tare === undefined || parts.tare.units === 0n ? (at(map.gross) ?? at(map.value)) : undefined;
  if (sample.net.units === 0n && isNegativeText(shown)) sample.negativeZero = true;
  return { kind: 'weight', sample };
}

function isNegativeText(v: JsonValue | undefined): boolean {
  if (v instanceof JsonNumber) return v.lexeme.startsWith('-');
  return typeof v === 'string' && v.trim().startsWith('-');
}

function parseAsciiPayload(text: string, profile: CompiledProfile, state: ParseState): ParseOutcome {
  const map = profile.ascii!;
  const line = text.replace(/[\r\n]+$/, '');
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(line)) return refuse('LG_ERR_WEIGHT_PAYLOAD', 'control characters in the scale line');
  const m = profile.asciiRe!.exec(line);
  if (!m || !m.groups) return refuse('LG_ERR_WEIGHT_PAYLOAD', `line does not match the ${profile.name} format: ${JSON.stringify(line.slice(0, 60))}`);
  const g = m.groups;
  const status = g.status?.trim() ?? '';
  const sign = g.sign?.trim() ?? '';
  const valueText = (g.value ?? '').replace(/\s+/g, '');

  let stable: boolean | null = null;
  if (status !== '' || map.stable.length > 0) {
    if (map.overload.includes(status)) {
      return sign === '-'
        ? refuse('LG_ERR_WEIGHT_UNDERLOAD', `the scale reports underload (${status})`, { value: line.trim().slice(0, 40) })
        : refuse('LG_ERR_WEIGHT_OVERLOAD', `the scale reports overload (${status})`, { value: line.trim().slice(0, 40) });
    }
    if (map.underload.includes(status)) return refuse('LG_ERR_WEIGHT_UNDERLOAD', `the scale reports underload (${status})`, { value: line.trim().slice(0, 40) });
    if (map.stable.includes(status)) stable = true;
    else if (map.unstable.includes(status)) stable = false;
    else return refuse('LG_ERR_WEIGHT_PAYLOAD', `status ${JSON.stringify(status)} is not a weight status of ${profile.name}`, { status });
  }

  let mode: 'gross' | 'net' | 'tare' = map.defaultMode;
  const modeText = g.mode?.trim();
  if (modeText) {
    const mm = map.modes[modeText];
    if (!mm) return refuse('LG_ERR_WEIGHT_PAYLOAD', `mode ${JSON.stringify(modeText)} is not known to ${profile.name}`, { mode: modeText });
    mode = mm;
  }
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(valueText)) return refuse('LG_ERR_WEIGHT_PAYLOAD', `weight ${JSON.stringify(valueText.slice(0, 20))} is not a number`);
  const v = decOrFail((sign === '-' ? '-' : '') + (valueText.startsWith('.') ? '0' + valueText : valueText), 'value');
  const unitText = g.unit?.trim();
  // A "unit" with digits in it is a broken number ("+00A1.250kg" → value "00", unit "A1.250kg"),
  // a payload error, not an unsupported unit (issue 10.5).
  if (unitText && /[0-9]/.test(unitText) && !normaliseUnit(unitText, profile.units)) {
    return refuse('LG_ERR_WEIGHT_PAYLOAD', `weight ${JSON.stringify(`${valueText}${unitText}`.slice(0, 20))} is not a number followed by a unit`);
  }
  const unit = unitOf(unitText ? unitText : undefined, profile);
  // A minus sign on what rounds to zero at the profile's resolution ("-0.000", "-0.0004"): below zero.
  const negativeSign = sign === '-';

  if (mode === 'tare') {
    const t = convertMass(v, unit, profile.unit, profile.decimals);
    state.lastTare = t;
    return { kind: 'tare', tare: t };
  }
  if (mode === 'gross') {
    const sample = assemble({ gross: v }, unit, profile, stable, null);
    if (negativeSign && sample.net.units === 0n) sample.negativeZero = true;
    return { kind: 'weight', sample };
  }
  // Net line: the tare is the last one the indicator announced (TR line), 0 if none, in profile unit.
  const netP = convertMass(v, unit, profile.unit, profile.decimals);
  const tare = state.lastTare ?? ZERO;
  const sample: WeightSample = { gross: add(netP, tare), tare: normaliseScale(tare, profile.decimals), net: netP, unit: profile.unit, stable, sourceTime: null };
  if (negativeSign && sample.net.units === 0n) sample.negativeZero = true;
  return { kind: 'weight', sample };
}

function normaliseScale(d: Dec, decimals: number): Dec {
  if (d.scale === decimals) return d;
  return convertMass(d, 'kg', 'kg', decimals);
}
