import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { OpcuaMachineConfig, opcuaMachineConfigErrors } from '../../../src/config/devices/opcua-machine.js';
import { opcuaMachineKind } from '../../../src/drivers/opcua/index.js';
import { LgError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/util/log.js';
import { join } from 'node:path';

const base = {
  kind: 'opcua-machine',
  id: 'line1.fill1.plc',
  station: 'FILL-1',
  endpoint: 'opc.tcp://plc1:4840',
  securityMode: 'SignAndEncrypt',
  securityPolicy: 'Basic256Sha256',
  auth: { type: 'username', username: 'mes', password: 'x' },
  nodeMap: 'packml-generic',
  samplingIntervalMs: 100,
  publishingIntervalMs: 250,
  maxClockSkewMs: 2000,
  staleAfterMs: 10000,
};

describe('OpcuaMachineConfig', () => {
  it('accepts a full config, fills defaults, and documents every field', () => {
    expect(Value.Check(OpcuaMachineConfig, base)).toBe(true);
    const withDefaults = Value.Default(OpcuaMachineConfig, { kind: 'opcua-machine', id: 'm', station: 'S', endpoint: 'opc.tcp://h:4840', nodeMap: 'packml-generic' });
    expect(withDefaults).toMatchObject({ securityMode: 'None', securityPolicy: 'None', auth: { type: 'anonymous' }, samplingIntervalMs: 100, publishingIntervalMs: 250 });
    for (const [k, v] of Object.entries(OpcuaMachineConfig.properties)) expect((v as { description?: string }).description, k).toBeTruthy();
  });
  it('refuses deprecated policies, bad endpoints and unknown fields', () => {
    expect(Value.Check(OpcuaMachineConfig, { ...base, securityPolicy: 'Basic128Rsa15' })).toBe(false);
    expect(Value.Check(OpcuaMachineConfig, { ...base, endpoint: 'http://plc1' })).toBe(false);
    expect(Value.Check(OpcuaMachineConfig, { ...base, nodeIds: {} })).toBe(false);
  });
  it('cross-field rules: mode and policy must agree; an override needs exactly one location', () => {
    expect(opcuaMachineConfigErrors(base as OpcuaMachineConfig)).toEqual([]);
    expect(opcuaMachineConfigErrors({ ...base, securityMode: 'None' } as OpcuaMachineConfig, '/devices/0')).toEqual(['/devices/0/securityPolicy: must be None when securityMode is None']);
    expect(opcuaMachineConfigErrors({ ...base, securityPolicy: 'None' } as OpcuaMachineConfig)[0]).toMatch(/needs a policy/);
    expect(opcuaMachineConfigErrors({ ...base, nodes: { speed: {} } } as OpcuaMachineConfig)[0]).toMatch(/nodes\/speed/);
    try {
      opcuaMachineKind.create({ ...base, securityPolicy: 'None' } as OpcuaMachineConfig, { logger: silentLogger(), stateDir: '/tmp/none', devicesDir: join(import.meta.dirname, '..', '..', '..', 'devices') });
      expect.unreachable();
    } catch (e) {
      expect((e as LgError).code).toBe('LG_ERR_CONFIG_INVALID');
    }
  });
});
