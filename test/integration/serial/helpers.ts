import type { ScanReading } from '../../../src/drivers/driver.js';
import { SerialScannerDriver, type SerialScannerOptions } from '../../../src/drivers/serial/driver.js';
import type { SerialScannerConfig } from '../../../src/config/devices/serial-scanner.js';
import { silentLogger } from '../../../src/util/log.js';
import { waitFor } from '../../helpers/net.js';

/** A driver plus the readings it emitted, and a helper to wait for the n-th one. */
export function makeDriver(config: Omit<SerialScannerConfig, 'kind' | 'id' | 'station'> & { id?: string }, opts: SerialScannerOptions = {}) {
  const driver = new SerialScannerDriver(
    { kind: 'serial-scanner', id: config.id ?? 'line1.pack.scanner', station: 'PACK-1', ...config } as SerialScannerConfig,
    { logger: silentLogger() },
    { reconnect: { baseMs: 100, maxMs: 400, minMs: 50 }, ...opts },
  );
  const readings: ScanReading[] = [];
  driver.on('reading', (r) => readings.push(r));
  const nth = (n: number, timeoutMs = 5000): Promise<ScanReading> =>
    waitFor(() => readings[n - 1], timeoutMs, 10, `reading #${n} (have ${readings.length})`);
  return { driver, readings, nth };
}
