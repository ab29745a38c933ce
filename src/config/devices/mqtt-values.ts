/**
 * Config schema of an MQTT process-value device (`kind: mqtt-values`, issue 18): a sensor, PLC
 * gateway or IoT bridge publishing numbers (temperature, pressure, speed) on MQTT topics. Each
 * declared value becomes `process.value` records bound to the batch at the device's station.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MqttScaleBrokerConfig } from './mqtt-scale.js';
import { MqttValueSpec } from './process-values.js';

export const MqttValuesConfig = Type.Object(
  {
    kind: Type.Literal('mqtt-values', { description: 'Device kind: process values (numbers) published over MQTT.' }),
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$', description: 'Device id, unique in the gateway ("line1.reactor.sensors"); also the default MQTT client id suffix.' }),
    station: Type.String({ minLength: 1, description: 'Station whose selected batch the values are recorded against.' }),
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Set false to keep the device in the file without connecting to it.' })),
    profile: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$', default: 'plain-number', description: 'Payload profile: devices/values/<profile>.yaml (plain number, or JSON with value / timestamp / quality paths).' })),
    broker: MqttScaleBrokerConfig,
    values: Type.Array(MqttValueSpec, { minItems: 1, maxItems: 1000, description: 'The values to record, one topic each.' }),
    silenceTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000, description: 'Connected but no message on any topic for this long: the device is reported degraded. Absent: never (sensors that publish only on change).' })),
    maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, default: 1000, description: 'Commit window: most QoS 1 messages read but not yet acknowledged (journaled before their PUBACK); announced to MQTT 5 brokers as Receive Maximum.' })),
  },
  { additionalProperties: false, description: 'Process values published over MQTT.' },
);
export type MqttValuesConfig = Static<typeof MqttValuesConfig>;
