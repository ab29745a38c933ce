import type { TSchema } from '@sinclair/typebox';
import { SerialScannerConfig } from './serial-scanner.js';
import { MqttScaleConfig } from './mqtt-scale.js';
import { OpcuaMachineConfig } from './opcua-machine.js';
import { ZplPrinterConfig } from './zpl-printer.js';
import { MqttValuesConfig } from './mqtt-values.js';

/**
 * Config schemas of every device kind, by `kind`. Each kind's schema lives beside this file.
 * Devices are validated in a second pass against their kind's schema, so an error names the
 * exact field (`devices[2].transport.path: …`) instead of "no union branch matched".
 */
export const DEVICE_KINDS: Record<string, TSchema> = {
  'serial-scanner': SerialScannerConfig,
  'mqtt-scale': MqttScaleConfig,
  'opcua-machine': OpcuaMachineConfig,
  'zpl-printer': ZplPrinterConfig,
  'mqtt-values': MqttValuesConfig,
};
