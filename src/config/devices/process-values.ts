/**
 * The `values:` list a device declares (issue 18): process values to record — the critical process
 * parameters of a batch record (temperature, pressure, speed). Used by `mqtt-values` (each value
 * names a topic) and `opcua-machine` (each value names a node id). What is recorded: see
 * src/domain/process-value.ts and the README, "Process values".
 */
import { Type, type Static } from '@sinclair/typebox';

export const ValueName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', description: 'Name of the value in the record ("jacket_temp"); unique per device.' });

export const ValueDeadband = Type.Object(
  {
    absolute: Type.Optional(Type.Number({ minimum: 0, description: 'A change smaller than or equal to this (in `unit`) is not recorded.' })),
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'A change smaller than or equal to this percent of the range span (`range.max − range.min`, as OPC UA PercentDeadband) is not recorded. Needs `range`.' })),
  },
  { additionalProperties: false, description: 'Deadband: with both, the larger band applies. None (or 0) records every different value.' },
);

const common = {
  name: ValueName,
  unit: Type.String({ minLength: 1, maxLength: 32, description: 'Unit written on every record ("°C", "bar", "rpm"); the value is recorded as the source sends it, never converted.' }),
  deadband: Type.Optional(ValueDeadband),
  minIntervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'At most one record per this many ms; a change inside the interval is recorded when it ends (the latest value), never dropped.' })),
  maxIntervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000, description: 'Heartbeat: record the current value after this long without a recorded change (0/absent = only changes).' })),
  range: Type.Optional(
    Type.Object(
      { min: Type.Number({ description: 'Lowest plausible value.' }), max: Type.Number({ description: 'Highest plausible value.' }) },
      { additionalProperties: false, description: 'Plausible range (the sensor span): a value outside is a rejected record LG_ERR_VALUE_OUT_OF_RANGE, never a silent gap.' },
    ),
  ),
};

export const MqttValueSpec = Type.Object(
  {
    ...common,
    topic: Type.String({ minLength: 1, description: 'Topic the value is published on (no wildcards: one topic is one value). `{id}` is replaced by the device id.' }),
    path: Type.Optional(Type.String({ minLength: 1, description: "Where the number is in a JSON payload (dotted path, e.g. `temp.value`); overrides the profile's `value` path. A plain-number payload needs none." })),
  },
  { additionalProperties: false, description: 'One process value published over MQTT.' },
);
export type MqttValueSpec = Static<typeof MqttValueSpec>;

export const OpcuaValueSpec = Type.Object(
  {
    ...common,
    nodeId: Type.String({ minLength: 1, description: 'OPC UA node id of the variable ("ns=2;s=Line1.Reactor.Temp"). A node the server does not know is a start error of this device (LG_ERR_VALUE_SOURCE_UNKNOWN).' }),
  },
  { additionalProperties: false, description: 'One process value read from an OPC UA variable (subscription).' },
);
export type OpcuaValueSpec = Static<typeof OpcuaValueSpec>;

/** Checks the schema cannot say: unique names, percent deadband needs a range, range order. */
export function valueSpecIssues(values: ReadonlyArray<{ name: string; deadband?: { percent?: number }; range?: { min: number; max: number }; minIntervalMs?: number; maxIntervalMs?: number; topic?: string; nodeId?: string }>, at: string): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const names = new Map<string, number>();
  const sources = new Map<string, number>();
  values.forEach((v, i) => {
    const p = `${at}.values[${i}]`;
    const first = names.get(v.name);
    if (first !== undefined) out.push({ path: `${p}.name`, message: `duplicate value name "${v.name}" (also values[${first}])` });
    else names.set(v.name, i);
    const src = v.topic ?? v.nodeId;
    if (src !== undefined) {
      const f = sources.get(src);
      if (f !== undefined) out.push({ path: `${p}.${v.topic !== undefined ? 'topic' : 'nodeId'}`, message: `${src} is already values[${f}]; one source is one value` });
      else sources.set(src, i);
    }
    if (v.nodeId !== undefined && !/^(nsu=[^;]+|ns=\d+);[isgb]=.+$|^[isgb]=.+$/.test(v.nodeId)) out.push({ path: `${p}.nodeId`, message: `"${v.nodeId}" is not an OPC UA node id (ns=2;s=Line1.Temp, nsu=urn:…;i=1001)` });
    if (v.topic !== undefined && /[+#]/.test(v.topic)) out.push({ path: `${p}.topic`, message: 'wildcards are not allowed: one topic is one value' });
    if (v.deadband?.percent !== undefined && !v.range) out.push({ path: `${p}.deadband.percent`, message: 'a percent deadband is a percent of the range span: declare `range` (min, max)' });
    if (v.range && !(v.range.min < v.range.max)) out.push({ path: `${p}.range`, message: `min (${v.range.min}) must be below max (${v.range.max})` });
    if (v.maxIntervalMs !== undefined && v.minIntervalMs !== undefined && v.maxIntervalMs < v.minIntervalMs) out.push({ path: `${p}.maxIntervalMs`, message: `the heartbeat (${v.maxIntervalMs} ms) cannot be shorter than minIntervalMs (${v.minIntervalMs} ms)` });
  });
  return out;
}
