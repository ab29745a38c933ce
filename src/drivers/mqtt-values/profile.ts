/**
 * Payload profiles of process values (devices/values/<name>.yaml): how a message carries the
 * number, its source timestamp and its quality. Device specifics are data (ARCHITECTURE.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { LgError } from '../../errors.js';
import type { Quality, ValueSample } from '../../domain/process-value.js';

export const ValueProfile = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    format: Type.Union([Type.Literal('number'), Type.Literal('json')], { description: 'number: the payload is the number as text; json: an object with paths below.' }),
    json: Type.Optional(
      Type.Object(
        {
          value: Type.String({ minLength: 1, description: 'Dotted path of the number (a value may override it with its own `path`).' }),
          timestamp: Type.Optional(Type.String({ minLength: 1, description: 'Dotted path of the source timestamp: ISO 8601 text or epoch milliseconds.' })),
          quality: Type.Optional(Type.String({ minLength: 1, description: 'Dotted path of the quality.' })),
        },
        { additionalProperties: false },
      ),
    ),
    quality: Type.Optional(
      Type.Object(
        {
          good: Type.Array(Type.String(), { description: 'Quality texts that mean good.' }),
          uncertain: Type.Optional(Type.Array(Type.String(), { description: 'Quality texts that mean uncertain (recorded, marked). Anything else is bad (rejected).' })),
        },
        { additionalProperties: false },
      ),
    ),
    maxBytes: Type.Optional(Type.Integer({ minimum: 16, maximum: 65_536, default: 4096, description: 'Longer payloads are rejected unparsed.' })),
  },
  { additionalProperties: false },
);
export type ValueProfile = Static<typeof ValueProfile>;

function bad(device: string, profile: string, detail: string): LgError {
  return new LgError('LG_ERR_DEVICE_PROFILE', { device, profile, detail });
}

export function compileValueProfile(raw: unknown, device = '?', name = '?'): ValueProfile {
  const p = Value.Default(ValueProfile, structuredClone(raw)) as unknown;
  if (!Value.Check(ValueProfile, p)) {
    const errs = [...Value.Errors(ValueProfile, p)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw bad(device, name, errs.join('; '));
  }
  const v = p as ValueProfile;
  if (v.format === 'json' && !v.json) throw bad(device, name, 'format json needs a `json` mapping (value, timestamp, quality paths)');
  if (v.json?.quality && !v.quality) throw bad(device, name, 'json.quality needs a `quality` list (good, uncertain)');
  return v;
}

export function loadValueProfile(devicesDir: string, name: string, device = '?'): ValueProfile {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.includes('..')) throw bad(device, name, 'profile name must be a plain file name');
  const file = join(devicesDir, 'values', `${name}.yaml`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw bad(device, name, `${file}: ${(err as Error).message}`);
  }
  return compileValueProfile(doc, device, name);
}

function getPath(root: unknown, parts: readonly string[]): unknown {
  let cur: unknown = root;
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur, part) ? (cur as Record<string, unknown>)[part] : undefined;
  }
  return cur;
}

/** A profile compiled for one value: paths split once, quality texts in sets. */
export class PayloadReader {
  private readonly valuePath: string[] | null;
  private readonly tsPath: string[] | null;
  private readonly qPath: string[] | null;
  private readonly good: Set<string>;
  private readonly uncertain: Set<string>;
  readonly maxBytes: number;

  constructor(
    readonly profile: ValueProfile,
    path?: string,
  ) {
    const vp = path ?? profile.json?.value;
    this.valuePath = profile.format === 'json' || path ? (vp ?? 'value').split('.') : null;
    this.tsPath = profile.json?.timestamp?.split('.') ?? null;
    this.qPath = profile.json?.quality?.split('.') ?? null;
    this.good = new Set(profile.quality?.good ?? []);
    this.uncertain = new Set(profile.quality?.uncertain ?? []);
    this.maxBytes = profile.maxBytes ?? 4096;
  }

  /** One message → a sample for the filter (garbage stays in `value` for the filter to reject). */
  read(payload: Buffer, receivedAt: number): ValueSample & { raw: string | null; sourceTime: Date | null } {
    if (payload.length > this.maxBytes) return { value: `(${payload.length} bytes, over the profile's maxBytes ${this.maxBytes})`, at: receivedAt, sourceTimed: false, quality: 'good', raw: null, sourceTime: null };
    const text = payload.toString('utf8');
    if (!this.valuePath) return { value: text, at: receivedAt, sourceTimed: false, quality: 'good', raw: text, sourceTime: null };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return { value: text, at: receivedAt, sourceTimed: false, quality: 'good', raw: text, sourceTime: null };
    }
    const value = getPath(doc, this.valuePath);
    let at = receivedAt;
    let sourceTime: Date | null = null;
    if (this.tsPath) {
      const ts = getPath(doc, this.tsPath);
      const ms = typeof ts === 'number' ? ts : typeof ts === 'string' ? Date.parse(ts) : NaN;
      if (Number.isFinite(ms)) {
        at = ms;
        sourceTime = new Date(ms);
      }
    }
    let quality: Quality = 'good';
    let qualityText: string | undefined;
    if (this.qPath) {
      const q = getPath(doc, this.qPath);
      if (q !== undefined) {
        qualityText = String(q);
        quality = this.good.has(qualityText) ? 'good' : this.uncertain.has(qualityText) ? 'uncertain' : 'bad';
      }
    }
    return { value, at, sourceTimed: sourceTime !== null, quality, ...(qualityText !== undefined ? { qualityText } : {}), raw: text, sourceTime };
  }
}
