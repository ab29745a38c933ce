/**
 * Scanner profiles: DATA in devices/scanners/<name>.yaml, validated with the TypeBox schema from
 * src/config/devices/serial-scanner.ts. A bad or missing profile is a configuration error
 * (LG_ERR_DEVICE_PROFILE) found at start-up, never a surprise at the first scan.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDevicesDir } from '../../util/paths.js';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { LgError } from '../../errors.js';
import {
  ScannerProfileOverrides,
  ScannerProfileSchema,
  type ScannerProfileFile,
  type ScannerTerminator,
} from '../../config/devices/serial-scanner.js';

/** A profile after defaults, overrides and the cross-field checks; feedback already decoded to bytes. */
export interface ResolvedScannerProfile {
  name: string;
  description: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
  terminator: ScannerTerminator;
  interCharTimeoutMs: number | null;
  staleFrameMs: number;
  maxFrameBytes: number;
  fnc1Substitute: string | null;
  aimIds: boolean;
  feedback: { good: Buffer | null; bad: Buffer | null };
}

export { defaultDevicesDir };
/** "1B 37 2C" → <Buffer 1b 37 2c>. The schema pattern has already checked the text. */
export function hexToBytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

function fail(device: string, profile: string, detail: string, cause?: unknown): never {
  throw new LgError('LG_ERR_DEVICE_PROFILE', { device, profile, detail }, cause === undefined ? undefined : { cause });
}

function schemaErrors(schema: Parameters<typeof Value.Errors>[0], value: unknown): string {
  return [...Value.Errors(schema, value)]
    .slice(0, 8)
    .map((e) => `${e.path || '/'}: ${e.message}`)
    .join('; ');
}

/**
 * Read, validate and resolve a profile. `device` is only for the error message.
 * Throws LgError(LG_ERR_DEVICE_PROFILE) with every problem found.
 */
export function loadScannerProfile(
  devicesDir: string,
  name: string,
  opts: { device?: string; overrides?: unknown } = {},
): ResolvedScannerProfile {
  const device = opts.device ?? '(profile check)';
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name) || name.includes('..')) {
    fail(device, name, 'a profile name is lower-case letters, digits, ".", "_" and "-" (the file name without .yaml)');
  }
  const file = join(devicesDir, 'scanners', `${name}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(device, name, code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? String(err)})`, err);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    fail(device, name, `${file} is not valid YAML: ${(err as Error).message}`, err);
  }
  // Apply schema defaults (staleFrameMs, maxFrameBytes, aimIds) to a copy, then check.
  const withDefaults = Value.Default(ScannerProfileSchema, Value.Clone(doc ?? {}));
  if (!Value.Check(ScannerProfileSchema, withDefaults)) {
    fail(device, name, `${file}: ${schemaErrors(ScannerProfileSchema, withDefaults)}`);
  }
  const p = withDefaults as ScannerProfileFile;
  if (p.name !== name) fail(device, name, `${file}: name "${p.name}" does not match the file name`);

  if (p.terminator !== 'none' && p.interCharTimeoutMs !== undefined) {
    // Refused in the FILE rather than silently ignored: with a terminator, silence means an
    // INCOMPLETE scan, which is what staleFrameMs handles (as a rejected frame, not a good one).
    fail(device, name, `${file}: interCharTimeoutMs applies only to terminator none; with ${p.terminator} use staleFrameMs`);
  }

  let merged: ScannerProfileFile = p;
  if (opts.overrides !== undefined) {
    if (!Value.Check(ScannerProfileOverrides, opts.overrides)) {
      fail(device, name, `overrides: ${schemaErrors(ScannerProfileOverrides, opts.overrides)}`);
    }
    merged = { ...p, ...(opts.overrides as object) };
  }
  return resolveProfile(merged, device);
}

/** Cross-field rules the JSON Schema cannot say, and hex decoding. */
export function resolveProfile(p: ScannerProfileFile, device = '(profile check)'): ResolvedScannerProfile {
  if (p.terminator === 'none' && p.interCharTimeoutMs === undefined) {
    fail(device, p.name, 'terminator none needs interCharTimeoutMs (how long a silence ends a scan)');
  }
  if (p.fnc1Substitute !== undefined && [...p.fnc1Substitute].some((c) => c === '\r' || c === '\n')) {
    fail(device, p.name, 'fnc1Substitute cannot be CR or LF');
  }
  return {
    name: p.name,
    description: p.description,
    baudRate: p.baudRate,
    dataBits: p.dataBits,
    parity: p.parity,
    stopBits: p.stopBits,
    terminator: p.terminator,
    // A device override may switch a suffix-less profile to a terminator (the scanner was
    // reprogrammed to send CR LF); the profile's timeout then no longer applies.
    interCharTimeoutMs: p.terminator === 'none' ? (p.interCharTimeoutMs ?? null) : null,
    staleFrameMs: p.staleFrameMs,
    maxFrameBytes: p.maxFrameBytes,
    fnc1Substitute: p.fnc1Substitute ?? null,
    aimIds: p.aimIds,
    feedback: {
      good: p.feedback?.good ? hexToBytes(p.feedback.good) : null,
      bad: p.feedback?.bad ? hexToBytes(p.feedback.bad) : null,
    },
  };
}
