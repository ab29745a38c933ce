import type { TSchema } from '@sinclair/typebox';

/**
 * Config schemas of every device kind, by `kind`. Each kind's schema lives beside this file
 * (serial-scanner.ts, mqtt-scale.ts, opcua-machine.ts, zpl-printer.ts) and is registered here.
 */
export const DEVICE_KINDS: Record<string, TSchema> = {};
