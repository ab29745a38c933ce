/**
 * Scale profiles: how a scale's MQTT payload maps to a weight. DATA in devices/scales/*.yaml, so a
 * new scale model is a new file, not code (zigbee2mqtt's device definitions are the model).
 *
 * Two formats:
 * - `json`: dotted paths to value / gross / tare / net / unit / stable / timestamp / overload flags.
 * - `ascii`: one indicator line ("ST,GS,+0001.250kg") matched by a regular expression with named
 *   groups `status`, `mode`, `sign`, `value`, `unit`, plus tables saying which status means stable,
 *   unstable, overload…; so the A&D, Kern, Liden/Tiger "ST,GS," family and Mettler-Toledo MT-SICS
 *   ("S S     100.00 g") are all profiles of one parser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { LgError } from '../../errors.js';
import { MASS_UNITS, normaliseUnit } from '../../readings/units.js';

const DecimalText = (description: string) => Type.String({ pattern: '^[0-9]+(\\.[0-9]{1,9})?$', description });
const Path = (description: string) => Type.String({ pattern: '^[^.\\s]+(\\.[^.\\s]+)*$', description });

export const JsonMapping = Type.Object(
  {
    value: Type.Optional(Path('The displayed weight; means gross or net as `valueIs` says.')),
    valueIs: Type.Optional(Type.Union([Type.Literal('gross'), Type.Literal('net')], { default: 'gross', description: 'What `value` is.' })),
    gross: Type.Optional(Path('Gross weight.')),
    tare: Type.Optional(Path('Tare weight (0 when absent).')),
    net: Type.Optional(Path('Net weight. When gross and net are both sent, net must equal gross − tare.')),
    unit: Type.Optional(Path('Unit text ("kg", "g", "lb", "oz"); absent → the profile `payloadUnit`.')),
    stable: Type.Optional(Path('Stable flag (boolean, or 0/1). Absent path → software stability detection.')),
    timestamp: Type.Optional(Path('Source timestamp: ISO 8601 text or Unix milliseconds.')),
    overload: Type.Optional(Path('Boolean: the scale reports overload.')),
    underload: Type.Optional(Path('Boolean: the scale reports underload.')),
  },
  { additionalProperties: false },
);

export const AsciiMapping = Type.Object(
  {
    pattern: Type.String({ minLength: 1, description: 'Regular expression with named groups status, mode, sign, value, unit (all optional but value).' }),
    stable: Type.Array(Type.String(), { description: 'Status values meaning a stable weight.' }),
    unstable: Type.Array(Type.String(), { description: 'Status values meaning an unstable weight.' }),
    overload: Type.Array(Type.String(), { default: [], description: 'Status values meaning overload (with sign "-": underload).' }),
    underload: Type.Array(Type.String(), { default: [], description: 'Status values meaning underload.' }),
    modes: Type.Record(Type.String(), Type.Union([Type.Literal('gross'), Type.Literal('net'), Type.Literal('tare')]), {
      default: {},
      description: 'Mode field values (GS, NT, TR) and what the weight is.',
    }),
    defaultMode: Type.Union([Type.Literal('gross'), Type.Literal('net')], { default: 'gross', description: 'Meaning of a line without a mode field.' }),
  },
  { additionalProperties: false },
);

export const ScaleProfile = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    sources: Type.Optional(Type.Array(Type.String(), { description: 'Where the format is documented.' })),
    format: Type.Union([Type.Literal('json'), Type.Literal('ascii')]),
    topic: Type.String({ minLength: 1, description: 'Topic to subscribe to; {id} is the device id.' }),
    unit: Type.Union(MASS_UNITS.map((u) => Type.Literal(u)), { description: 'Unit captures are expressed in.' }),
    decimals: Type.Integer({ minimum: 0, maximum: 6, description: 'Resolution: captures are rounded (half away from zero) to this many decimals of `unit`.' }),
    payloadUnit: Type.Optional(
      Type.String({ description: 'Unit of a payload that carries none (the indicator is fixed to it). Without it, a payload without a unit is refused (LG_ERR_WEIGHT_UNIT_MISSING).' }),
    ),
    units: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra unit spellings of this scale → g/kg/lb/oz.' })),
    zeroBand: DecimalText('At or below this net weight the platform counts as empty.'),
    capacity: Type.Optional(DecimalText('Max gross weight; above it is overload.')),
    minLoad: Type.Optional(DecimalText('Smallest net weight that can be captured.')),
    maxBytes: Type.Integer({ minimum: 16, maximum: 65536, default: 4096, description: 'Payloads longer than this are refused without parsing.' }),
    json: Type.Optional(JsonMapping),
    ascii: Type.Optional(AsciiMapping),
  },
  { additionalProperties: false },
);
export type ScaleProfile = Static<typeof ScaleProfile>;

/** A validated profile with its regular expression compiled. */
export interface CompiledProfile extends ScaleProfile {
  asciiRe?: RegExp;
}

function bad(device: string, profile: string, detail: string): LgError {
  return new LgError('LG_ERR_DEVICE_PROFILE', { device, profile, detail });
}

/** Validate a profile object (from YAML, with per-device overrides merged in). Throws LG_ERR_DEVICE_PROFILE. */
export function compileProfile(raw: unknown, device = '?', name = '?'): CompiledProfile {
  const withDefaults = Value.Default(ScaleProfile, structuredClone(raw)) as unknown;
  if (!Value.Check(ScaleProfile, withDefaults)) {
    const errs = [...Value.Errors(ScaleProfile, withDefaults)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw bad(device, name, errs.join('; '));
  }
  const p = withDefaults as CompiledProfile;
  if (p.payloadUnit !== undefined && !normaliseUnit(p.payloadUnit, p.units)) throw bad(device, name, `payloadUnit ${JSON.stringify(p.payloadUnit)} is not g, kg, lb or oz`);
  // A format that can never carry a unit needs the unit declared, or every reading would be refused.
  const carriesUnit = p.format === 'json' ? p.json?.unit !== undefined : /\(\?<unit>/.test(p.ascii?.pattern ?? '');
  if (!carriesUnit && p.payloadUnit === undefined) throw bad(device, name, 'the payload format has no unit (json.unit path or ascii group `unit`): declare `payloadUnit`');
  if (p.format === 'json') {
    if (!p.json) throw bad(device, name, 'format json needs a `json` mapping');
    if (!p.json.value && !p.json.gross && !p.json.net) throw bad(device, name, 'json mapping needs value, gross or net');
  } else {
    if (!p.ascii) throw bad(device, name, 'format ascii needs an `ascii` mapping');
    try {
      p.asciiRe = new RegExp(p.ascii.pattern);
    } catch (err) {
      throw bad(device, name, `ascii.pattern: ${(err as Error).message}`);
    }
    if (!/\(\?<value>/.test(p.ascii.pattern)) throw bad(device, name, 'ascii.pattern needs a named group `value`');
  }
  return p;
}

/** Load devices/scales/<name>.yaml, merge overrides, validate. Throws LG_ERR_DEVICE_PROFILE. */
export function loadScaleProfile(devicesDir: string, name: string, opts: { device?: string; overrides?: Record<string, unknown> } = {}): CompiledProfile {
  const device = opts.device ?? '?';
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.includes('..')) throw bad(device, name, 'profile name must be a plain file name');
  const file = join(devicesDir, 'scales', `${name}.yaml`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw bad(device, name, `${file}: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad(device, name, `${file}: not a mapping`);
  const merged = mergeDeep(doc as Record<string, unknown>, opts.overrides ?? {});
  return compileProfile(merged, device, name);
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? mergeDeep(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
