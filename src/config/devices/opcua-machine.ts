/**
 * Config schema of an OPC UA machine (`kind: opcua-machine`): a PLC exposing PackML state and
 * production counters. Node ids live in a node map (devices/machines/<nodeMap>.yaml), not here;
 * `nodes` only overrides single entries of that map for one machine. Secrets (`password`) arrive
 * already substituted by the config loader's `${env:…}` pass.
 */
import { OpcuaValueSpec } from './process-values.js';
import { Type, type Static } from '@sinclair/typebox';

export const OpcuaSecurityMode = Type.Union([Type.Literal('None'), Type.Literal('Sign'), Type.Literal('SignAndEncrypt')], {
  default: 'None',
  description: 'OPC UA message security mode. Use SignAndEncrypt outside a lab; None sends everything, the password included, in clear.',
});

export const OpcuaSecurityPolicy = Type.Union(
  [Type.Literal('None'), Type.Literal('Basic256Sha256'), Type.Literal('Aes128_Sha256_RsaOaep'), Type.Literal('Aes256_Sha256_RsaPss')],
  {
    default: 'None',
    description:
      'Security policy. Only modern policies are offered (Basic256Sha256 or newer); `None` is allowed only with securityMode None. Basic128Rsa15/Basic256 are deprecated by the OPC Foundation and refused.',
  },
);

export const OpcuaAuth = Type.Union(
  [
    Type.Object({ type: Type.Literal('anonymous', { description: 'No user identity.' }) }, { additionalProperties: false }),
    Type.Object(
      {
        type: Type.Literal('username', { description: 'User name and password identity token.' }),
        username: Type.String({ minLength: 1, description: 'OPC UA user name.' }),
        password: Type.String({ description: 'OPC UA password; write it as ${env:NAME} so it is not in the YAML file.' }),
      },
      { additionalProperties: false },
    ),
  ],
  { default: { type: 'anonymous' }, description: 'How the gateway identifies itself to the server.' },
);

/** One entry of a node map: either a node id or a browse path (see devices/machines/README in the map files). */
export const OpcuaNodeRef = Type.Object(
  {
    nodeId: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Node id, e.g. "ns=3;s=FILL1.Status.StateCurrent", or namespace-URI form "nsu=urn:plc;s=…" (stable across server restarts).',
      }),
    ),
    browsePath: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Browse path from the Objects folder, elements "prefix:Name" separated by "/", prefixes from the map\'s `namespaces` ("/packml:PackMLObjects/vendor:FILL1/packml:Status/packml:UnitModeCurrent").',
      }),
    ),
    select: Type.Optional(
      Type.String({ description: 'Dotted path into a structured value, e.g. "0.count" for ProdProcessedCount[0].Count of OPC 30050.' }),
    ),
  },
  { additionalProperties: false, description: 'Where one logical field lives on the server.' },
);

export const OpcuaDeadband = Type.Object(
  {
    type: Type.Union([Type.Literal('absolute'), Type.Literal('percent')], {
      description: 'absolute: in the value\'s unit; percent: of the node\'s EURange (the server must expose EURange).',
    }),
    value: Type.Number({ minimum: 0, description: 'Deadband size: a change smaller than this is not reported.' }),
  },
  { additionalProperties: false, description: 'Data-change filter for an analog value.' },
);

export const OpcuaMachineConfig = Type.Object(
  {
    kind: Type.Literal('opcua-machine', { description: 'Device kind: a machine (PLC) speaking OPC UA, with PackML state and counters.' }),
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$', description: 'Device id, unique in the gateway ("line1.fill1.plc").' }),
    station: Type.String({ minLength: 1, description: 'Station this machine belongs to (FILL-1); its active batch receives the counts and the state timeline.' }),
    endpoint: Type.String({ pattern: '^opc\\.tcp://', description: 'Endpoint URL, opc.tcp://host:4840/path.' }),
    securityMode: OpcuaSecurityMode,
    securityPolicy: OpcuaSecurityPolicy,
    auth: OpcuaAuth,
    nodeMap: Type.String({
      minLength: 1,
      pattern: '^[A-Za-z0-9._-]+$',
      description: 'Node map: the name of a file devices/machines/<nodeMap>.yaml (packml-generic, opc30050-packml, …).',
    }),
    nodes: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]*$' }), OpcuaNodeRef, {
        description: 'Per-machine overrides of node map entries, by field (state, unitMode, goodCount, rejectCount, speed, stopReason).',
      }),
    ),
    mapParameters: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Values for ${name} placeholders of the node map (e.g. { machine: FILL1 } for the PackMLObjects instance name).',
      }),
    ),
    samplingIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 100,
      description: 'How often the server samples each item (0 = as fast as the server can). Counters are cumulative, so a slower rate loses no units.',
    }),
    publishingIntervalMs: Type.Integer({
      minimum: 10,
      maximum: 60_000,
      default: 250,
      description: 'How often the server sends the collected changes of the one subscription.',
    }),
    deadbands: Type.Optional(
      Type.Record(Type.String(), OpcuaDeadband, { description: 'Deadband per analog field (usually only speed); counters and state never get one.' }),
    ),
    maxClockSkewMs: Type.Integer({
      minimum: 0,
      default: 2000,
      description: 'A reading whose server timestamp differs from the gateway receive time by more than this (plus one publishing interval) is flagged `clockSkew` in its meta.',
    }),
    staleAfterMs: Type.Integer({
      minimum: 500,
      maximum: 600_000,
      default: 10_000,
      description: 'No data change and no keep-alive for this long: the subscription is verified and recreated (and the session reconnected if that fails).',
    }),
    counterMaxRatePerSecond: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          'Most units per second this machine can count (overrides the node map\'s maxRatePerSecond; default 1000). A counter step larger than this rate over one sampling interval (at least 100 ms) is recorded as counter.discontinuity and not booked. Leave headroom (about twice the nominal speed).',
      }),
    ),
    values: Type.Optional(Type.Array(OpcuaValueSpec, { maxItems: 1000, description: 'Process values to record from this machine (issue 18): temperature, pressure, speed… one node each; see README "Process values".' })),
    autoBatchTransitions: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Move the station\'s batch to in_process when the machine first reaches Execute, and to completed when it reaches Complete.',
      }),
    ),
    devAutoAcceptCertificates: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'DEVELOPMENT ONLY: trust any server certificate without a person checking it. Logged as an error on every connect. Never in a plant.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A machine (PLC) speaking OPC UA: PackML state and counters bound to the station\'s batch.' },
);
export type OpcuaMachineConfig = Static<typeof OpcuaMachineConfig>;

/**
 * Cross-field rules TypeBox cannot express, as `path: message` lines (empty = fine), so the
 * loader can report them together with the schema errors.
 */
export function opcuaMachineConfigErrors(c: OpcuaMachineConfig, path = ''): string[] {
  const errs: string[] = [];
  const mode = c.securityMode ?? 'None';
  const policy = c.securityPolicy ?? 'None';
  if (mode === 'None' && policy !== 'None') errs.push(`${path}/securityPolicy: must be None when securityMode is None`);
  if (mode !== 'None' && policy === 'None') errs.push(`${path}/securityPolicy: securityMode ${mode} needs a policy (Basic256Sha256 or newer)`);
  for (const [field, ref] of Object.entries(c.nodes ?? {})) {
    if (!ref.nodeId && !ref.browsePath) errs.push(`${path}/nodes/${field}: give nodeId or browsePath`);
    if (ref.nodeId && ref.browsePath) errs.push(`${path}/nodes/${field}: give nodeId or browsePath, not both`);
  }
  return errs;
}
