/**
 * From config + device data to the LabelService's printer setups (for the gateway wiring).
 */
import { join } from 'node:path';
import { LgError } from '../errors.js';
import type { PrinterModel, ZplPrinterConfig } from '../config/devices/zpl-printer.js';
import { loadPrinterModels } from './template.js';
import type { PrinterSetup } from './queue.js';
import { DeviceFilePrinterTransport, TcpPrinterTransport, type PrinterTransport } from './transport.js';

export function transportFromConfig(t: ZplPrinterConfig['transport']): PrinterTransport {
  return t.type === 'tcp' ? new TcpPrinterTransport(t.host, t.port ?? 9100) : new DeviceFilePrinterTransport(t.path);
}

/**
 * One PrinterSetup per enabled `kind: zpl-printer` device. `models` may be passed (tests) or is
 * loaded from `<devicesDir>/printers`. Unknown model → LG_ERR_DEVICE_PROFILE.
 */
export function printerSetupFromConfig(
  devices: ReadonlyArray<ZplPrinterConfig>,
  opts: { devicesDir: string; models?: Map<string, PrinterModel> },
): PrinterSetup[] {
  const models = opts.models ?? loadPrinterModels(join(opts.devicesDir, 'printers'));
  return devices
    .filter((d) => d.kind === 'zpl-printer' && d.enabled !== false)
    .map((d) => {
      const model = models.get(d.model ?? 'zebra-203dpi-4in');
      if (!model) throw new LgError('LG_ERR_DEVICE_PROFILE', { device: d.id, profile: d.model, detail: 'no such file in devices/printers' });
      return {
        id: d.id,
        station: d.station,
        model,
        transport: transportFromConfig(d.transport),
        timing: d.timing ?? {},
        ...(d.templates ? { templates: d.templates } : {}),
      };
    });
}
