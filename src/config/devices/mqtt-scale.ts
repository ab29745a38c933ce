/**
 * Config schema of an MQTT scale (`kind: mqtt-scale`) and of the embedded aedes broker.
 * The lead wires both into the main schema; secrets (`password`, TLS keys) arrive already
 * substituted by the config loader's `${env:…}` pass, so nothing here reads the environment.
 */
import { Type, type Static } from '@sinclair/typebox';

const DecimalText = (description: string) =>
  Type.String({ pattern: '^[0-9]+(\\.[0-9]{1,9})?$', description });

export const MqttScaleTlsConfig = Type.Object(
  {
    ca: Type.Optional(Type.String({ description: 'CA bundle that signed the broker certificate: PEM text, or the path of a PEM file.' })),
    cert: Type.Optional(Type.String({ description: 'Client certificate (PEM text or file path), for brokers that authenticate clients by certificate.' })),
    key: Type.Optional(Type.String({ description: 'Private key of the client certificate (PEM text or file path); a path to a systemd credential, or ${env:…}, never inline.' })),
    rejectUnauthorized: Type.Optional(Type.Boolean({ default: true, description: 'Refuse a broker certificate that does not chain to `ca`. Leave true outside a lab.' })),
  },
  { additionalProperties: false, description: 'TLS options for mqtts:// and wss:// brokers.' },
);

export const MqttScaleBrokerConfig = Type.Object(
  {
    url: Type.String({ minLength: 1, description: 'Broker URL: mqtt://host:1883, mqtts://host:8883, ws(s)://… The embedded broker is mqtt://127.0.0.1:<port>.' }),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'MQTT client id. Must be stable and unique per scale so the broker keeps its persistent session; default `linegate-<site>-<scale id>` (derived from the scale id).' })),
    username: Type.Optional(Type.String({ description: 'Broker user name.' })),
    password: Type.Optional(Type.String({ description: 'Broker password; write it as ${env:NAME} so it is not in the YAML file.' })),
    tls: Type.Optional(MqttScaleTlsConfig),
    protocolVersion: Type.Optional(Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: 'MQTT protocol: 4 = 3.1.1 (the embedded aedes broker supports only this), 5 = MQTT 5.' })),
  },
  { additionalProperties: false, description: 'The MQTT broker the scale publishes to.' },
);

export const MqttScaleStabilityConfig = Type.Object(
  {
    readings: Type.Integer({ minimum: 2, maximum: 1000, description: 'Number of readings that must agree before a weight counts as stable (used only when the scale sends no stable flag).' }),
    tolerance: DecimalText('Largest spread (max − min) of those readings, as decimal text in the scale unit, e.g. "0.002" kg.'),
    windowMs: Type.Integer({ minimum: 50, maximum: 60_000, description: 'The readings must all fall in this many milliseconds.' }),
  },
  { additionalProperties: false, description: 'Software stability detection for scales without a stable flag.' },
);

export const MqttScaleConfig = Type.Object(
  {
    kind: Type.Literal('mqtt-scale', { description: 'Device kind: a scale publishing weights over MQTT.' }),
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$', description: 'Device id, unique in the gateway ("line1.weigh1.scale"); also the default MQTT client id suffix.' }),
    station: Type.String({ minLength: 1, description: 'Station this scale belongs to (WEIGH-1, PACK-1); its role decides what a capture means.' }),
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Set false to keep the scale in the file without connecting to it.' })),
    profile: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$', description: 'Scale profile: the name of a file devices/scales/<profile>.yaml (payload format and field mapping).' }),
    broker: MqttScaleBrokerConfig,
    topic: Type.Optional(Type.String({ minLength: 1, description: 'Topic to subscribe to (wildcards allowed); overrides the profile topic. `{id}` is replaced by the device id.' })),
    silenceTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, default: 5000, description: 'A connected scale that publishes nothing for this long is reported degraded (scales publish continuously, ~10 Hz).' })),
    stability: Type.Optional(MqttScaleStabilityConfig),
    zeroBand: Type.Optional(DecimalText('Net weights at or below this (scale unit) count as an empty platform; overrides the profile.')),
    min: Type.Optional(DecimalText('Smallest net weight (scale unit) accepted as a capture; a stable load above the zero band but below it is refused (LG_ERR_WEIGHT_OUT_OF_RANGE).')),
    max: Type.Optional(DecimalText('Capacity (scale unit): a gross weight above it is refused as overload (LG_ERR_WEIGHT_OVERLOAD).')),
    overrides: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Profile fields to override for this one scale (e.g. { unit: g, decimals: 1 }); validated like the profile.' })),
  },
  { additionalProperties: false, description: 'A scale publishing weights over MQTT.' },
);
export type MqttScaleConfig = Static<typeof MqttScaleConfig>;

export const EmbeddedBrokerConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Run an in-process aedes MQTT broker (MQTT 3.1.1 only, in-memory: queued messages are lost on restart). For demos and single-PC installs; production points scales at the plant broker.' }),
    host: Type.String({ default: '127.0.0.1', description: 'Address to listen on. Keep 127.0.0.1 unless scales on the network must reach it (it has no authentication).' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883, description: 'TCP port (0 = any free port, for tests).' }),
  },
  { additionalProperties: false, description: 'Embedded MQTT broker.' },
);
export type EmbeddedBrokerConfig = Static<typeof EmbeddedBrokerConfig>;
