import type { Config } from './config/schema.js';
import type { Logger } from './util/log.js';
import { Gateway } from './gateway.js';
import { installSignals } from './main.js';

/** `linegate demo`: the gateway with every device simulated (filled in below). */
export async function runDemo(cfg: Readonly<Config>, logger: Logger): Promise<number> {
  const gw = new Gateway(cfg, { logger });
  installSignals(gw, logger);
  await gw.start();
  return new Promise<number>(() => {});
}
