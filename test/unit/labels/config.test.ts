import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ZplPrinterConfig } from '../../../src/config/devices/zpl-printer.js';
import { printerSetupFromConfig } from '../../../src/labels/setup.js';
import { isLgError } from '../../../src/errors.js';

const devicesDir = join(import.meta.dirname, '..', '..', '..', 'devices');

describe('zpl-printer config', () => {
  it('validates a printer entry and builds its setup from the model file', () => {
    const cfg = { kind: 'zpl-printer', id: 'line1.pack.printer', station: 'PACK-1', transport: { type: 'tcp', host: '10.0.0.5', port: 9100 }, timing: {} };
    const check = (c: unknown): boolean => Value.Check(ZplPrinterConfig, Value.Default(ZplPrinterConfig, structuredClone(c)));
    expect(check(cfg)).toBe(true);
    expect(check({ ...cfg, timing: { confirmTimeoutMs: 5 } })).toBe(false);
    expect(check({ ...cfg, transport: { type: 'tcp' } })).toBe(false);
    expect(check({ ...cfg, colour: 'red' })).toBe(false);
    expect((Value.Default(ZplPrinterConfig, structuredClone(cfg)) as { timing: { confirmTimeoutMs: number } }).timing.confirmTimeoutMs).toBe(15_000);
    const [setup] = printerSetupFromConfig([cfg as never], { devicesDir });
    expect(setup).toMatchObject({ id: 'line1.pack.printer', station: 'PACK-1', model: { dpi: 203, hostStatus: true } });
    expect(setup!.transport.describe()).toBe('tcp://10.0.0.5:9100');
    const [usb] = printerSetupFromConfig([{ ...cfg, model: 'generic-203dpi-oneway', transport: { type: 'file', path: '/dev/usb/lp0' } } as never], { devicesDir });
    expect(usb!.transport.supportsStatus).toBe(false);
  });

  it('refuses an unknown model with LG_ERR_DEVICE_PROFILE', () => {
    try {
      printerSetupFromConfig([{ kind: 'zpl-printer', id: 'p', station: 'S', model: 'nope', transport: { type: 'file', path: '/x' }, timing: {} } as never], { devicesDir });
      expect.unreachable();
    } catch (err) {
      expect(isLgError(err) && err.code).toBe('LG_ERR_DEVICE_PROFILE');
    }
  });
});
