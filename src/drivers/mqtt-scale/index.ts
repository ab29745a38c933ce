/**
 * Driver seam for the gateway: `mqttScaleKind.create(config, ctx)`.
 */
import { MqttScaleConfig } from '../../config/devices/mqtt-scale.js';
import { LgError } from '../../errors.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { MqttScaleDriver } from './driver.js';
import { loadScaleProfile } from './profile.js';

export { MqttScaleDriver, placementOptionsFor, type MqttScaleDriverOptions } from './driver.js';
export { loadScaleProfile, compileProfile, ScaleProfile, type CompiledProfile } from './profile.js';
export { parseWeightPayload, rawText, type WeightSample, type ParseOutcome, type ParseState } from './weight.js';
export { PlacementMachine, StabilityDetector, type Emission, type TraceEntry, type Phase, type PlacementOptions, type PlacementSnapshot } from './placement.js';
export { convertMass, convertMassExact, normaliseUnit, lexemeToDec, type MassUnit } from '../../readings/units.js';
export { parseJsonExact, JsonNumber } from './json.js';

export const mqttScaleKind = {
  kind: 'mqtt-scale' as const,
  configSchema: MqttScaleConfig,
  /** Loads and validates the profile now (throws LgError LG_ERR_DEVICE_PROFILE), connects on start(). */
  create(config: MqttScaleConfig, ctx: { logger: Logger; clock?: Clock; stateDir: string; devicesDir: string }): MqttScaleDriver {
    const profile = loadScaleProfile(ctx.devicesDir, config.profile, { device: config.id, ...(config.overrides ? { overrides: config.overrides } : {}) });
    // A scale that sends no stable flag and has no software stability configured could never
    // capture anything: refuse the configuration instead of running silently useless.
    const hasFlag = profile.format === 'ascii' ? profile.ascii!.stable.length > 0 : profile.json!.stable !== undefined;
    if (!hasFlag && !config.stability) {
      throw new LgError('LG_ERR_DEVICE_PROFILE', { device: config.id, profile: config.profile, detail: 'the profile has no stable flag: configure `stability` (readings, tolerance, windowMs) for this scale' });
    }
    return new MqttScaleDriver({ config, profile, logger: ctx.logger, ...(ctx.clock ? { clock: ctx.clock } : {}), stateDir: ctx.stateDir });
  },
};
