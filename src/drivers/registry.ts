import type { TSchema } from '@sinclair/typebox';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { DeviceDriver } from './driver.js';
import { serialScannerKind } from './serial/index.js';
import { mqttScaleKind } from './mqtt-scale/index.js';
import { opcuaMachineKind } from './opcua/index.js';
import { mqttValuesKind } from './mqtt-values/index.js';

export interface DriverKind {
  kind: string;
  configSchema: TSchema;
  create(config: never, ctx: { logger: Logger; clock: Clock; stateDir: string; devicesDir: string }): DeviceDriver;
}

/**
 * Device kinds that produce readings. Printers (`zpl-printer`) are not here: they take jobs from
 * the label service's durable queue instead of producing readings (src/labels).
 */
export const DRIVER_KINDS: Record<string, DriverKind> = {
  [serialScannerKind.kind]: serialScannerKind as unknown as DriverKind,
  [mqttScaleKind.kind]: mqttScaleKind as unknown as DriverKind,
  [opcuaMachineKind.kind]: opcuaMachineKind as unknown as DriverKind,
  [mqttValuesKind.kind]: mqttValuesKind as unknown as DriverKind,
};

/** Kinds handled outside the driver loop. */
export const NON_DRIVER_KINDS: ReadonlySet<string> = new Set(['zpl-printer']);
