/**
 * OPC UA machines (`kind: opcua-machine`): the seam the gateway wires (see helper brief).
 *
 *   opcuaMachineKind.create(config, { logger, clock, stateDir, devicesDir }) → DeviceDriver<MachineReading>
 *   listOpcuaCertificates(stateDir) / trustOpcuaCertificate(stateDir, thumbprintOrFile)
 *     → `linegate opcua certs` / `linegate opcua trust <thumbprint|file>` and the API.
 */
import { LgError } from '../../errors.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { OpcuaMachineConfig, opcuaMachineConfigErrors } from '../../config/devices/opcua-machine.js';
import { loadNodeMap } from './nodemap.js';
import { OpcuaMachineDriver } from './driver.js';

export { OpcuaMachineDriver } from './driver.js';
export { loadOpcua } from './load.js';
export type { NodeErrorInfo, OpcuaDriverContext } from './driver.js';
export { listOpcuaCertificates, trustOpcuaCertificate, opcuaPkiDir } from './pki.js';
export type { OpcuaCertificateInfo } from './pki.js';
export { loadNodeMap, resolveNodeMap } from './nodemap.js';
export type { ResolvedNodeMap, ResolvedField } from './nodemap.js';
export { PACKML_STATES, canonicalStateName, tr88Number, mapStateValue } from '../../readings/packml.js';
export { OpcuaMachineConfig, opcuaMachineConfigErrors } from '../../config/devices/opcua-machine.js';

export const opcuaMachineKind = {
  kind: 'opcua-machine' as const,
  configSchema: OpcuaMachineConfig,
  /** Throws LgError (LG_ERR_CONFIG_INVALID, LG_ERR_DEVICE_PROFILE) on a bad config or node map. */
  create(config: OpcuaMachineConfig, ctx: { logger: Logger; clock?: Clock; stateDir: string; devicesDir: string }): OpcuaMachineDriver {
    const errs = opcuaMachineConfigErrors(config, `/devices/${config.id}`);
    if (errs.length) throw new LgError('LG_ERR_CONFIG_INVALID', { file: `device ${config.id}`, detail: errs.join('\n') });
    const map = loadNodeMap(ctx.devicesDir, config.nodeMap, config.id, {
      ...(config.nodes ? { nodes: config.nodes } : {}),
      ...(config.mapParameters ? { mapParameters: config.mapParameters } : {}),
    });
    return new OpcuaMachineDriver(config, map, { logger: ctx.logger, ...(ctx.clock ? { clock: ctx.clock } : {}), stateDir: ctx.stateDir });
  },
};
