/**
 * Node maps: devices/machines/<name>.yaml, DATA describing where a machine's PackML fields live
 * on its OPC UA server (node ids or browse paths) and how to read them (state tables, enums,
 * counter width). Loaded and validated once at driver creation; a bad map is a config error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { LgError } from '../../errors.js';
import type { OpcuaMachineConfig } from '../../config/devices/opcua-machine.js';
import { canonicalStateName } from '../../readings/packml.js';

const Ref = {
  nodeId: Type.Optional(Type.String({ minLength: 1 })),
  browsePath: Type.Optional(Type.String({ minLength: 1 })),
  select: Type.Optional(Type.String()),
};

const FieldSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('state'), Type.Literal('counter'), Type.Literal('analog'), Type.Literal('enum'), Type.Literal('value')]),
    ...Ref,
    /** state: which `stateTables` entry maps numbers to names. */
    stateNumbering: Type.Optional(Type.String()),
    /** state: OPC 30050 nested state machines, top-down. */
    compose: Type.Optional(Type.Array(Type.Object(Ref, { additionalProperties: false }), { minItems: 1 })),
    superstates: Type.Optional(Type.Array(Type.String())),
    /** enum: number → name. */
    values: Type.Optional(Type.Record(Type.String({ pattern: '^-?[0-9]+$' }), Type.String())),
    /** counter: width for wrap-around (default: from the OPC UA data type, else 32). */
    counterBits: Type.Optional(Type.Integer({ minimum: 8, maximum: 64 })),
    /** counter: most units per second the machine can make; a larger step is a counter.discontinuity (issue 10.3). */
    maxRatePerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

export const NodeMapFileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    namespaces: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' }), Type.String({ minLength: 1 }))),
    parameters: Type.Optional(Type.Record(Type.String(), Type.String())),
    fields: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]*$' }), FieldSchema),
    stateTables: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String({ pattern: '^-?[0-9]+$' }), Type.String()))),
  },
  { additionalProperties: false },
);
export type NodeMapFile = Static<typeof NodeMapFileSchema>;

export type FieldKind = 'state' | 'counter' | 'analog' | 'enum' | 'value';

/** Where one value lives: exactly one of nodeId / browsePath. */
export interface NodeLocation {
  nodeId?: string;
  browsePath?: string;
  select?: string;
}

export interface ResolvedField {
  field: string;
  kind: FieldKind;
  /** One location, or several (composed state, top-down). */
  locations: NodeLocation[];
  stateTable?: ReadonlyMap<number, string>;
  superstates?: ReadonlySet<string>;
  enumValues?: ReadonlyMap<number, string>;
  counterBits?: number;
  maxRatePerSecond?: number;
}

export interface ResolvedNodeMap {
  name: string;
  namespaces: Record<string, string>;
  fields: ResolvedField[];
}

function substitute(s: string, params: Record<string, string>, where: string): string {
  return s.replace(/\$\{(\w+)\}/g, (_w, k: string) => {
    const v = params[k];
    if (v === undefined) throw new Error(`${where}: parameter \${${k}} has no value (set it in the map's parameters or the device's mapParameters)`);
    return v;
  });
}

function numTable(t: Record<string, string> | undefined, where: string, states: boolean): Map<number, string> | undefined {
  if (!t) return undefined;
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(t)) {
    const name = states ? canonicalStateName(v) : v;
    if (name === undefined) throw new Error(`${where}: ${JSON.stringify(v)} is not a PackML state name`);
    m.set(Number(k), name);
  }
  return m;
}

/** Validate and resolve a parsed map against one device's overrides. Throws Error with a path. */
export function resolveNodeMap(
  file: unknown,
  overrides: { nodes?: OpcuaMachineConfig['nodes']; mapParameters?: Record<string, string> } = {},
): ResolvedNodeMap {
  if (!Value.Check(NodeMapFileSchema, file)) {
    const first = [...Value.Errors(NodeMapFileSchema, file)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new Error(first.join('; '));
  }
  const params = { ...(file.parameters ?? {}), ...(overrides.mapParameters ?? {}) };
  const fields: ResolvedField[] = [];
  const names = new Set([...Object.keys(file.fields), ...Object.keys(overrides.nodes ?? {})]);
  for (const field of names) {
    const def = file.fields[field];
    const ov = overrides.nodes?.[field];
    if (!def) throw new Error(`/nodes/${field}: the map ${file.name} has no field ${field} to override`);
    const where = `/fields/${field}`;
    let locations: NodeLocation[];
    if (ov) {
      locations = [{ ...(ov.nodeId ? { nodeId: ov.nodeId } : { browsePath: ov.browsePath }), ...(ov.select !== undefined ? { select: ov.select } : def.select !== undefined ? { select: def.select } : {}) }];
    } else if (def.compose) {
      locations = def.compose.map((c) => ({ ...c }));
    } else {
      locations = [{ nodeId: def.nodeId, browsePath: def.browsePath, select: def.select }];
    }
    locations = locations.map((l, i) => {
      if (!!l.nodeId === !!l.browsePath) throw new Error(`${where}${locations.length > 1 ? `/compose/${i}` : ''}: give exactly one of nodeId or browsePath`);
      const out: NodeLocation = {};
      if (l.nodeId) out.nodeId = substitute(l.nodeId, params, where);
      if (l.browsePath) out.browsePath = substitute(l.browsePath, params, where);
      if (l.select) out.select = l.select;
      return out;
    });
    const rf: ResolvedField = { field, kind: def.kind, locations };
    if (def.kind === 'state') {
      if (def.stateNumbering) {
        const t = file.stateTables?.[def.stateNumbering];
        if (!t) throw new Error(`${where}/stateNumbering: no state table ${def.stateNumbering} in stateTables`);
        rf.stateTable = numTable(t, `/stateTables/${def.stateNumbering}`, true);
      }
      rf.superstates = new Set((def.superstates ?? []).map((s) => canonicalStateName(s) ?? s));
    }
    if (def.kind === 'enum') rf.enumValues = numTable(def.values, `${where}/values`, false);
    if (def.counterBits !== undefined) rf.counterBits = def.counterBits;
    if (def.maxRatePerSecond !== undefined) rf.maxRatePerSecond = def.maxRatePerSecond;
    fields.push(rf);
  }
  return { name: file.name, namespaces: file.namespaces ?? {}, fields };
}

/** Load devices/machines/<name>.yaml and resolve it; LG_ERR_DEVICE_PROFILE on any problem. */
export function loadNodeMap(
  devicesDir: string,
  name: string,
  device: string,
  overrides: { nodes?: OpcuaMachineConfig['nodes']; mapParameters?: Record<string, string> } = {},
): ResolvedNodeMap {
  const file = join(devicesDir, 'machines', `${name}.yaml`);
  try {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    return resolveNodeMap(parsed, overrides);
  } catch (err) {
    throw new LgError('LG_ERR_DEVICE_PROFILE', { device, profile: file, detail: (err as Error).message }, { cause: err });
  }
}
