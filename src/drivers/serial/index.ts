/**
 * Serial barcode scanners (`kind: serial-scanner`): the seam the gateway wires.
 *
 *   serialScannerKind.create(config, { logger, clock, stateDir, devicesDir }) → SerialScannerDriver
 *
 * Readings: { kind: 'scan', deviceId, receivedAt, raw: Buffer (exact bytes, terminator stripped),
 * error?: { code, message, details } } — error is LG_ERR_SCAN_TOO_LONG or LG_ERR_SCAN_UNPARSEABLE
 * (details.reason 'incomplete'); everything else (GS1, control characters) is the binder's call.
 * `driver.scanDecoding.fnc1Substitute` tells the GS1 parser which character stands for GS.
 */
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { SerialScannerConfig } from '../../config/devices/serial-scanner.js';
import { SerialScannerDriver } from './driver.js';

export { SerialScannerConfig } from '../../config/devices/serial-scanner.js';
export { SerialScannerDriver, type SerialScannerContext, type SerialScannerOptions, type SerialScannerCounts } from './driver.js';
export { Framer, type Frame, type FrameError, type FramerOptions, type FramerStats } from './framer.js';
export { loadScannerProfile, resolveProfile, defaultDevicesDir, hexToBytes, type ResolvedScannerProfile } from './profile.js';

export const serialScannerKind = {
  kind: 'serial-scanner' as const,
  configSchema: SerialScannerConfig,
  create(
    config: SerialScannerConfig,
    ctx: { logger: Logger; clock?: Clock; stateDir?: string; devicesDir?: string },
  ): SerialScannerDriver {
    return new SerialScannerDriver(config, ctx);
  },
};
