/**
 * Driver seam for the gateway: `mqttValuesKind.create(config, ctx)` (issue 18, process values).
 */
import { MqttValuesConfig } from '../../config/devices/mqtt-values.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { MqttValuesDriver } from './driver.js';
import { loadValueProfile } from './profile.js';

export { MqttValuesDriver, type MqttValuesDriverOptions } from './driver.js';
export { loadValueProfile, compileValueProfile, PayloadReader, ValueProfile } from './profile.js';

export const mqttValuesKind = {
  kind: 'mqtt-values' as const,
  configSchema: MqttValuesConfig,
  /** Loads the payload profile now (throws LG_ERR_DEVICE_PROFILE), connects on start(). */
  create(config: MqttValuesConfig, ctx: { logger: Logger; clock?: Clock; stateDir: string; devicesDir: string }): MqttValuesDriver {
    const profile = loadValueProfile(ctx.devicesDir, config.profile ?? 'plain-number', config.id);
    return new MqttValuesDriver({ config, profile, logger: ctx.logger, ...(ctx.clock ? { clock: ctx.clock } : {}) });
  },
};
