import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { SerialScannerConfig } from '../../../src/config/devices/serial-scanner.js';
import { defaultDevicesDir, loadScannerProfile } from '../../../src/drivers/serial/profile.js';
import { serialScannerKind } from '../../../src/drivers/serial/index.js';
import { isLgError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/util/log.js';
import { tempDir } from '../../helpers/tmp.js';

const tmps: Array<() => void> = [];
afterEach(() => tmps.splice(0).forEach((c) => c()));

function dirWith(name: string, yaml: string): string {
  const t = tempDir();
  tmps.push(t.cleanup);
  mkdirSync(join(t.path, 'scanners'));
  writeFileSync(join(t.path, 'scanners', `${name}.yaml`), yaml);
  return t.path;
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return isLgError(err) ? err.code : `not an LgError: ${String(err)}`;
  }
}

describe('scanner profiles', () => {
  it('the repository profiles load and resolve', () => {
    const dir = defaultDevicesDir();
    const generic = loadScannerProfile(dir, 'generic-usb-cdc');
    expect(generic).toMatchObject({ terminator: 'CR', maxFrameBytes: 4096, staleFrameMs: 1000, baudRate: 115200, feedback: { good: null, bad: null } });
    const hw = loadScannerProfile(dir, 'honeywell-1900');
    expect(hw.terminator).toBe('CRLF');
    expect(hw.feedback.good?.toString('hex')).toBe('1b372c');
    expect(hw.feedback.bad?.toString('hex')).toBe('1b382c1b382c');
    const zebra = loadScannerProfile(dir, 'zebra-rs232-standard');
    expect(zebra).toMatchObject({ terminator: 'none', interCharTimeoutMs: 50, baudRate: 9600 });
    expect(zebra.feedback.good?.toString('hex')).toBe('07');
    expect(zebra.feedback.bad).toBeNull();
  });

  it('an override can switch a suffix-less profile to a terminator (the timeout then no longer applies)', () => {
    const z = loadScannerProfile(defaultDevicesDir(), 'zebra-rs232-standard', { overrides: { terminator: 'CRLF', aimIds: true } });
    expect(z).toMatchObject({ terminator: 'CRLF', interCharTimeoutMs: null, aimIds: true, staleFrameMs: 1000 });
  });

  it('applies overrides over the profile', () => {
    const p = loadScannerProfile(defaultDevicesDir(), 'generic-usb-cdc', { overrides: { terminator: 'none', interCharTimeoutMs: 40, fnc1Substitute: '~' } });
    expect(p).toMatchObject({ terminator: 'none', interCharTimeoutMs: 40, fnc1Substitute: '~' });
  });

  it('fails clearly with LG_ERR_DEVICE_PROFILE', () => {
    const dir = defaultDevicesDir();
    expect(codeOf(() => loadScannerProfile(dir, 'no-such-scanner'))).toBe('LG_ERR_DEVICE_PROFILE');
    expect(codeOf(() => loadScannerProfile(dir, '../etc/passwd'))).toBe('LG_ERR_DEVICE_PROFILE');
    expect(codeOf(() => loadScannerProfile(dir, 'generic-usb-cdc', { overrides: { terminator: 'none' } }))).toBe('LG_ERR_DEVICE_PROFILE');
    expect(codeOf(() => loadScannerProfile(dir, 'generic-usb-cdc', { overrides: { baud: 9600 } }))).toBe('LG_ERR_DEVICE_PROFILE');
    const base = 'name: x\ndescription: d\nbaudRate: 9600\ndataBits: 8\nparity: none\nstopBits: 1\n';
    expect(codeOf(() => loadScannerProfile(dirWith('x', `${base}terminator: CRLF\ninterCharTimeoutMs: 50\n`), 'x'))).toBe('LG_ERR_DEVICE_PROFILE');
    expect(codeOf(() => loadScannerProfile(dirWith('x', `${base}terminator: TAB\n`), 'x'))).toBe('LG_ERR_DEVICE_PROFILE');
    expect(codeOf(() => loadScannerProfile(dirWith('x', `${base}terminator: CR\nfeedback: { good: "zz" }\n`), 'x'))).toBe('LG_ERR_DEVICE_PROFILE');
    expect(codeOf(() => loadScannerProfile(dirWith('x', `${base}terminator: CR\n: : :\n`), 'x'))).toBe('LG_ERR_DEVICE_PROFILE');
    expect(codeOf(() => loadScannerProfile(dirWith('y', `${base}terminator: CR\n`), 'y'))).toBe('LG_ERR_DEVICE_PROFILE'); // name mismatch
    expect(codeOf(() => loadScannerProfile(dirWith('x', `${base}terminator: CR\n`), 'x'))).toBeNull();
    try {
      loadScannerProfile(dir, 'no-such-scanner', { device: 'line1.pack.scanner' });
    } catch (err) {
      expect((err as Error).message).toContain('device line1.pack.scanner: profile no-such-scanner');
    }
  });

  it('the config schema accepts both transports and refuses unknown fields', () => {
    const ok = [
      { kind: 'serial-scanner', id: 'a.b', station: 'PACK-1', profile: 'honeywell-1900', transport: { type: 'serial', path: '/dev/serial/by-id/usb-x', baudRate: 9600, parity: 'even' } },
      { kind: 'serial-scanner', id: 'a.b', station: 'PACK-1', transport: { type: 'tcp', host: 'moxa1', port: 4001 }, overrides: { maxFrameBytes: 512 } },
    ];
    for (const c of ok) expect([...Value.Errors(SerialScannerConfig, c)].map((e) => e.path)).toEqual([]);
    const bad = [
      { ...ok[0], extra: 1 },
      { ...ok[0], transport: { type: 'serial', path: '/dev/x', host: 'y' } },
      { ...ok[1], transport: { type: 'tcp', host: 'moxa1' } },
      { ...ok[1], overrides: { terminator: 'TAB' } },
    ];
    for (const c of bad) expect(Value.Check(SerialScannerConfig, c)).toBe(false);
  });

  it('serialScannerKind.create builds a driver and throws LG_ERR_DEVICE_PROFILE for a bad profile', () => {
    const ctx = { logger: silentLogger(), stateDir: '/tmp', devicesDir: defaultDevicesDir() };
    const d = serialScannerKind.create(
      { kind: 'serial-scanner', id: 's1', station: 'WEIGH-1', profile: 'honeywell-1900', transport: { type: 'serial', path: '/dev/ttyUSB9' } },
      ctx,
    );
    expect(d.kind).toBe('serial-scanner');
    expect(d.state).toBe('stopped');
    expect(d.health().details).toMatchObject({ transport: 'serial', path: '/dev/ttyUSB9', baudRate: 115200, framing: { terminator: 'CRLF' } });
    expect(d.scanDecoding).toEqual({ fnc1Substitute: null, aimIds: true });
    expect(serialScannerKind.configSchema).toBe(SerialScannerConfig);
    expect(codeOf(() => serialScannerKind.create({ kind: 'serial-scanner', id: 's2', station: 'X', profile: 'nope', transport: { type: 'tcp', host: 'h', port: 1 } }, ctx))).toBe(
      'LG_ERR_DEVICE_PROFILE',
    );
  });
});
