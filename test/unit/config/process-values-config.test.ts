import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { baseConfig } from '../../helpers/gateway.js';

/** Issue 18: the `values` config — the README's example is valid, every start error is named by path. */
function issuesOf(devices: unknown[]): Array<{ path: string; message: string }> {
  try {
    parseConfig(stringify(baseConfig('/tmp/unused-state', { devices })), 'test.yaml', { env: {} });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

const mqttValues = (values: unknown[], extra: Record<string, unknown> = {}) => ({ id: 'r1.sensors', kind: 'mqtt-values', station: 'FILL-1', broker: { url: 'mqtt://127.0.0.1:1883' }, values, ...extra });
const opcua = (values: unknown[]) => ({ id: 'fill1.plc', kind: 'opcua-machine', station: 'FILL-1', endpoint: 'opc.tcp://127.0.0.1:4840', nodeMap: 'packml-generic', values });

describe('process values config', () => {
  it("the README's example (section Process values) is a valid configuration", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Process values'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const { devices } = parse(yaml) as { devices: unknown[] };
    expect(devices.map((d: any) => d.kind)).toEqual(['mqtt-values', 'opcua-machine']);
    expect(issuesOf(devices)).toEqual([]);
    const cfg = parseConfig(stringify(baseConfig('/tmp/unused-state', { devices })), 'test.yaml', { env: {} });
    expect((cfg.devices[0] as any).values.map((v: any) => v.name)).toEqual(['jacket_temp', 'agitator_speed']);
    expect((cfg.devices[0] as any).profile).toBe('json-value');
  });

  it('a duplicate name, a duplicate topic, a wildcard, a percent deadband without range, min ≥ max, heartbeat < interval: start errors by path', () => {
    const v = (name: string, topic: string, extra: Record<string, unknown> = {}) => ({ name, unit: '°C', topic, ...extra });
    const issues = issuesOf([
      mqttValues([
        v('t', 'a/t'),
        v('t', 'a/u'),
        v('x', 'a/t'),
        v('w', 'a/+/w'),
        v('p', 'a/p', { deadband: { percent: 1 } }),
        v('r', 'a/r', { range: { min: 5, max: 5 } }),
        v('h', 'a/h', { minIntervalMs: 5000, maxIntervalMs: 1000 }),
      ]),
    ]);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath).toEqual({
      'devices[0].values[1].name': expect.stringContaining('duplicate value name "t"'),
      'devices[0].values[2].topic': expect.stringContaining('already values[0]'),
      'devices[0].values[3].topic': expect.stringContaining('wildcards'),
      'devices[0].values[4].deadband.percent': expect.stringContaining('declare `range`'),
      'devices[0].values[5].range': expect.stringContaining('must be below'),
      'devices[0].values[6].maxIntervalMs': expect.stringContaining('heartbeat'),
    });
  });

  it('schema errors: missing unit, negative deadband, no values, unknown profile, malformed and duplicate OPC UA nodes', () => {
    expect(issuesOf([mqttValues([{ name: 't', topic: 'a' }])]).map((i) => i.path)).toEqual(['devices[0].values[0].unit']);
    expect(issuesOf([mqttValues([{ name: 't', unit: 'x', topic: 'a', deadband: { absolute: -1 } }])]).map((i) => i.path)).toEqual(['devices[0].values[0].deadband.absolute']);
    expect(issuesOf([mqttValues([])]).map((i) => i.path)).toEqual(['devices[0].values']);
    expect(issuesOf([mqttValues([{ name: 't', unit: 'x', topic: 'a' }], { profile: 'no-such-profile' })])).toEqual([{ path: 'devices[0].profile', message: expect.stringContaining('unknown value profile "no-such-profile" (known: json-value, plain-number') }]);
    const issues = issuesOf([opcua([{ name: 'a', unit: 'x', nodeId: 'Temperature' }, { name: 'b', unit: 'x', nodeId: 'ns=2;s=T' }, { name: 'a', unit: 'x', nodeId: 'ns=2;s=T' }])]);
    expect(Object.fromEntries(issues.map((i) => [i.path, i.message]))).toEqual({
      'devices[0].values[0].nodeId': expect.stringContaining('not an OPC UA node id'),
      'devices[0].values[2].name': expect.stringContaining('duplicate value name "a"'),
      'devices[0].values[2].nodeId': expect.stringContaining('already values[1]'),
    });
  });
});
