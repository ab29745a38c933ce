import { Type, type TSchema } from '@sinclair/typebox';
import { EpcisSinkConfig, HttpSinkConfig, MqttSinkConfig, PostgresSinkConfig, RetentionConfig, SparkplugConfig } from './upstream.js';

/** Sink schemas by kind (validated in a second pass, like devices, for precise error paths). */
export const SINK_KINDS: Record<string, TSchema> = { http: HttpSinkConfig, mqtt: MqttSinkConfig, postgres: PostgresSinkConfig, epcis: EpcisSinkConfig };

/** First-pass shape of `upstream`: sinks need an id and a known kind; the rest is checked per kind. */
export const UpstreamConfigSchema = Type.Object(
  {
    sinks: Type.Array(
      Type.Object(
        {
          id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$', description: 'Sink identifier (outbox rows are kept per sink).' }),
          kind: Type.Union([Type.Literal('http'), Type.Literal('mqtt'), Type.Literal('postgres'), Type.Literal('epcis')], { description: 'http (the ERP endpoint), mqtt (the plant broker), postgres (the plant store) or epcis (an EPCIS 2.0 capture interface).' }),
        },
        { additionalProperties: true },
      ),
      { default: [] },
    ),
    gatewayId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Gateway id in the CloudEvents source; default: the id generated on first start (settings.json).' })),
    retention: Type.Optional(RetentionConfig),
    sparkplug: Type.Optional(SparkplugConfig),
  },
  { additionalProperties: false, default: {} },
);
