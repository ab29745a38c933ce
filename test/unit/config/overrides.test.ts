import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { defaultDevicesDir, loadScannerProfile } from '../../../src/drivers/serial/profile.js';
import { SerialScannerDriver } from '../../../src/drivers/serial/driver.js';
import type { SerialScannerConfig } from '../../../src/config/devices/serial-scanner.js';
import { silentLogger } from '../../../src/util/log.js';
import { baseConfig } from '../../helpers/gateway.js';

const SCANNER_PROFILES = readdirSync(join(defaultDevicesDir(), 'scanners'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length));

function loadWithDevice(device: Record<string, unknown>) {
  const text = stringify(baseConfig('/tmp/unused-state', { devices: [device] }));
  return parseConfig(text, 'test.yaml', { env: {} });
}

function scanner(profile: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'line1.pack.scanner', kind: 'serial-scanner', station: 'PACK-1', profile, transport: { type: 'tcp', host: '127.0.0.1', port: 7101 }, ...extra };
}

describe('10.11 profile values win over defaults; only what the user wrote overrides', () => {
  it('guards against an empty devices/scanners folder (the loop below must test something)', () => {
    expect(SCANNER_PROFILES.length).toBeGreaterThanOrEqual(3);
  });

  for (const profile of SCANNER_PROFILES) {
    it(`10.11 ${profile}: without overrides in the YAML the loaded device has none, and the driver runs the profile as written (beeps, aimIds)`, () => {
      const cfg = loadWithDevice(scanner(profile));
      const dev = cfg.devices[0] as unknown as SerialScannerConfig;
      expect(dev.overrides).toBeUndefined();
      const asWritten = loadScannerProfile(defaultDevicesDir(), profile);
      const driver = new SerialScannerDriver(dev, { logger: silentLogger() });
      expect(driver.profile).toEqual(asWritten);
    });

    it(`10.11 ${profile}: a one-field override changes that field only; feedback, aimIds and framing stay the profile's`, () => {
      const cfg = loadWithDevice(scanner(profile, { overrides: { maxFrameBytes: 512 } }));
      const dev = cfg.devices[0] as unknown as SerialScannerConfig;
      expect(dev.overrides).toEqual({ maxFrameBytes: 512 });
      const asWritten = loadScannerProfile(defaultDevicesDir(), profile);
      const driver = new SerialScannerDriver(dev, { logger: silentLogger() });
      expect(driver.profile).toEqual({ ...asWritten, maxFrameBytes: 512 });
    });
  }

  it('10.11 honeywell-1900 keeps Host ACK beeps and AIM ids through the config loader (the case seen in the plant)', () => {
    const dev = loadWithDevice(scanner('honeywell-1900')).devices[0] as unknown as SerialScannerConfig;
    const p = new SerialScannerDriver(dev, { logger: silentLogger() }).profile;
    expect(p.feedback.good?.toString('hex')).toBe('1b372c');
    expect(p.feedback.bad).not.toBeNull();
    expect(p.aimIds).toBe(true);
  });

  it('10.11 an explicit user override still wins (aimIds false, feedback replaced)', () => {
    const dev = loadWithDevice(scanner('honeywell-1900', { overrides: { aimIds: false, feedback: { good: '07' } } })).devices[0] as unknown as SerialScannerConfig;
    const p = new SerialScannerDriver(dev, { logger: silentLogger() }).profile;
    expect(p.aimIds).toBe(false);
    expect(p.feedback).toEqual({ good: Buffer.from([0x07]), bad: null });
  });

  it('10.11 the loader invents no optional objects for other kinds either (scale broker tls, overrides)', () => {
    const cfg = loadWithDevice({ id: 'line1.weigh.scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', broker: { url: 'mqtt://127.0.0.1:1884' } });
    const dev = cfg.devices[0] as Record<string, any>;
    expect(dev.broker.tls).toBeUndefined();
    expect(dev.overrides).toBeUndefined();
    expect(dev.stability).toBeUndefined();
  });
});
