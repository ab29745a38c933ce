/**
 * Upstream configuration: where every record goes (HTTP and/or MQTT sinks) and how long delivered
 * records are kept. The lead wires `UpstreamConfig` into the main schema as `upstream`.
 *
 * Secrets (`token`, `password`, key files) are written as `${env:NAME}` in YAML; the config loader
 * substitutes them before validation, so here they are plain strings.
 */
import { Type, type Static } from '@sinclair/typebox';

export const BackoffConfig = Type.Object(
  {
    baseMs: Type.Integer({ minimum: 1, default: 500, description: 'First retry ceiling in ms; doubles per failed attempt (full jitter).' }),
    maxMs: Type.Integer({
      minimum: 1,
      default: 10_000,
      description:
        'Largest retry delay in ms (default 10 s, for an ERP on the plant network; raise it for a remote or metered receiver). A Retry-After from the receiver overrides it (capped at 1 h).',
    }),
    probeMs: Type.Integer({
      minimum: 0,
      default: 2_000,
      description:
        'While backing off after the receiver was unreachable (connection refused, timeout, 5xx without Retry-After), probe it this often with a cheap request (HTTP HEAD; MQTT: is the client connected) and resume at once when it answers. 0 = no probes, wait the backoff out.',
    }),
  },
  { additionalProperties: false, description: 'Exponential backoff with full jitter after a failed delivery (the whole sink pauses).' },
);

export const BatchConfig = Type.Object(
  {
    maxRecords: Type.Integer({ minimum: 1, maximum: 10_000, default: 500, description: 'Most records in one request (batched mode) or one publish round (MQTT).' }),
    maxBytes: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'Most bytes of serialised CloudEvents in one request. A single larger record is still sent alone.' }),
    lingerMs: Type.Integer({ minimum: 0, default: 50, description: 'How long a partial batch waits for more records before it is sent anyway.' }),
  },
  { additionalProperties: false, description: 'How records are grouped into one request.' },
);

export const ClientCertConfig = Type.Object(
  {
    cert: Type.String({ minLength: 1, description: 'Path to the client certificate (PEM) for mutual TLS.' }),
    key: Type.String({ minLength: 1, description: 'Path to the private key (PEM) of the client certificate.' }),
    ca: Type.Optional(Type.String({ minLength: 1, description: 'Path to a CA bundle (PEM) to trust for the receiver, in addition to the system roots.' })),
  },
  { additionalProperties: false, description: 'Optional client certificate (mutual TLS) for an https:// URL.' },
);

export const HttpSinkConfig = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Stable sink id; it names the outbox rows, so renaming it re-sends everything.' }),
    kind: Type.Literal('http', { description: 'HTTP(S) POST of CloudEvents (structured JSON).' }),
    url: Type.String({ minLength: 1, pattern: '^https?://', description: 'Receiver URL, http:// or https://.' }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra request headers (e.g. an API key header).' })),
    token: Type.Optional(Type.String({ minLength: 1, description: 'Bearer token sent as `Authorization: Bearer …`; write it as ${env:NAME}.' })),
    clientCert: Type.Optional(ClientCertConfig),
    timeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Whole-request timeout in ms; a timed-out request is retried (the receiver deduplicates by id).' }),
    batch: BatchConfig,
    mode: Type.Union([Type.Literal('batched'), Type.Literal('single')], {
      default: 'batched',
      description: "'batched': application/cloudevents-batch+json arrays; 'single': one application/cloudevents+json event per request.",
    }),
    maxInFlight: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Most concurrent requests. Records of one production batch are never in two requests at once (order).' }),
    backoff: BackoffConfig,
  },
  { additionalProperties: false, description: 'An HTTP receiver (the ERP).' },
);

export const MqttSinkConfig = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Stable sink id; it names the outbox rows, so renaming it re-sends everything.' }),
    kind: Type.Literal('mqtt', { description: 'MQTT publish of one CloudEvent (structured JSON) per record.' }),
    url: Type.String({ minLength: 1, pattern: '^(mqtts?|wss?|tcp|ssl)://', description: 'Broker URL, e.g. mqtt://broker:1883 or mqtts://broker:8883.' }),
    clientId: Type.String({ minLength: 1, maxLength: 23, description: 'MQTT client id; must be stable so the broker keeps the persistent session.' }),
    username: Type.Optional(Type.String({ description: 'Broker user name.' })),
    password: Type.Optional(Type.String({ description: 'Broker password; write it as ${env:NAME}.' })),
    clientCert: Type.Optional(ClientCertConfig),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: 'MQTT 3.1.1 (4) or 5. aedes speaks 3.1.1 only.' }),
    topic: Type.String({
      minLength: 1,
      default: 'linegate/{site}/{line}/{type}',
      description:
        'Topic template; {site} {line} {station} {batch} {lot} {type} {device} {enterprise} {area} are replaced (missing values become "_", MQTT wildcards and "/" inside values are replaced by "_"). "isa95" is short for {enterprise}/{site}/{area}/{line}/{station}/{type}.',
    }),
    namespace: Type.Optional(
      Type.Object(
        {
          enterprise: Type.String({ minLength: 1, description: 'ISA-95 enterprise level of the topic tree ({enterprise}).' }),
          area: Type.String({ minLength: 1, description: 'ISA-95 area of this line ({area}), e.g. "filling-hall".' }),
        },
        { additionalProperties: false, description: 'The levels of the plant namespace this gateway does not know from site/line config.' },
      ),
    ),
    qos: Type.Literal(1, { default: 1, description: 'QoS 1 only: a record counts as delivered on PUBACK.' }),
    keepaliveS: Type.Integer({ minimum: 5, default: 30, description: 'MQTT keep-alive in seconds.' }),
    timeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'How long to wait for the PUBACKs of one publish round before it is retried.' }),
    batch: BatchConfig,
    maxInFlight: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Most concurrent publish rounds.' }),
    backoff: BackoffConfig,
  },
  { additionalProperties: false, description: 'The plant MQTT broker (e.g. a unified namespace), QoS 1 with a persistent session (clean=false).' },
);

export const PostgresTlsConfig = Type.Object(
  {
    ca: Type.Optional(Type.String({ minLength: 1, description: 'Path to a CA bundle (PEM) to trust for the server, in addition to the system roots.' })),
    cert: Type.Optional(Type.String({ minLength: 1, description: 'Path to a client certificate (PEM), for `cert` authentication.' })),
    key: Type.Optional(Type.String({ minLength: 1, description: 'Path to the private key (PEM) of the client certificate.' })),
    mode: Type.Union([Type.Literal('off'), Type.Literal('require'), Type.Literal('verify-full')], {
      default: 'off',
      description: "'off': no TLS unless the URL says sslmode=…; 'require': encrypted, server certificate not checked; 'verify-full': encrypted, certificate and host name checked (use this across a plant network).",
    }),
  },
  { additionalProperties: false, description: 'TLS to the PostgreSQL server.' },
);

export const PostgresSinkConfig = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Stable sink id; it names the outbox rows, so renaming it re-sends everything (harmless: the store ignores ids it has).' }),
    kind: Type.Literal('postgres', { description: 'The plant store: every record, master data, state and genealogy edges in PostgreSQL.' }),
    url: Type.String({ minLength: 1, pattern: '^postgres(ql)?://', description: 'Connection URL, e.g. postgres://linegate@plant-db:5432/plant. Put the password in `password`, not here.' }),
    password: Type.Optional(Type.String({ description: 'Database password; write it as ${env:NAME} or ${cred:NAME}.' })),
    schema: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'linegate', description: 'Schema of the plant store (one per plant); created and migrated by linegate.' }),
    tls: Type.Optional(PostgresTlsConfig),
    timeoutMs: Type.Integer({ minimum: 100, default: 15_000, description: 'Connect timeout and statement timeout of one delivery transaction in ms; a timed-out delivery is retried.' }),
    batch: BatchConfig,
    maxInFlight: Type.Integer({ minimum: 1, maximum: 16, default: 2, description: 'Most concurrent delivery transactions (connections). Records of one batch are never in two at once.' }),
    backoff: BackoffConfig,
  },
  { additionalProperties: false, description: 'A PostgreSQL plant store shared by every line gateway of the plant.' },
);

export const EpcisSinkConfig = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Stable sink id; it names the outbox rows, so renaming it re-sends everything.' }),
    kind: Type.Literal('epcis', { description: 'GS1 EPCIS 2.0 capture interface: the EPCIS events of the records (commissioning, packing, transformation, shipping) as EPCISDocuments.' }),
    url: Type.String({ minLength: 1, pattern: '^https?://', description: 'Base URL of the EPCIS 2.0 REST interface; documents are POSTed to <url>/capture (EPCIS 2.0 REST binding).' }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra request headers (e.g. an API key header).' })),
    token: Type.Optional(Type.String({ minLength: 1, description: 'Bearer token sent as `Authorization: Bearer …`; write it as ${env:NAME}.' })),
    clientCert: Type.Optional(ClientCertConfig),
    timeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Timeout of one capture request in ms; a timed-out capture is retried (event ids are stable, so a repeat is the same event).' }),
    captureJob: Type.Object(
      {
        follow: Type.Boolean({ default: true, description: "Follow the capture job the 202 answer's Location names until it finished: delivered only when it succeeded; a failed job is a refusal (the refused record is isolated and quarantined). false: a 202 counts as delivered." }),
        pollMs: Type.Integer({ minimum: 10, default: 500, description: 'How often the capture job is read while it runs.' }),
        timeoutMs: Type.Integer({ minimum: 100, default: 30_000, description: 'How long to wait for a running capture job; then the capture is tried again later.' }),
      },
      { additionalProperties: false, default: {}, description: 'The capture job a 202 answer names (EPCIS 2.0 REST: GET /capture/{captureID}).' },
    ),
    batch: BatchConfig,
    maxInFlight: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'Most concurrent captures.' }),
    backoff: BackoffConfig,
  },
  { additionalProperties: false, description: 'An EPCIS 2.0 repository (capture interface).' },
);

export const SinkConfig = Type.Union([HttpSinkConfig, MqttSinkConfig, PostgresSinkConfig, EpcisSinkConfig], { description: 'One upstream destination.' });

const SparkplugId = (what: string) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[^/+#]+$', description: what });

export const SparkplugConfig = Type.Object(
  {
    url: Type.String({ minLength: 1, pattern: '^(mqtts?|wss?|tcp|ssl)://', description: 'Broker URL (the plant UNS broker), e.g. mqtts://uns:8883.' }),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'MQTT client id; default lg-sp-{groupId}-{edgeNodeId}.' })),
    username: Type.Optional(Type.String({ description: 'Broker user name.' })),
    password: Type.Optional(Type.String({ description: 'Broker password; write it as ${env:NAME}.' })),
    clientCert: Type.Optional(ClientCertConfig),
    groupId: SparkplugId('Sparkplug group id (e.g. the site or area).'),
    edgeNodeId: Type.Optional(SparkplugId('Sparkplug edge node id; default: the line id.')),
    primaryHostId: Type.Optional(SparkplugId('Primary host application id: when set, the node births only while spBv1.0/STATE/{id} says online, and dies when it goes offline.')),
    keepaliveS: Type.Integer({ minimum: 5, default: 30, description: 'MQTT keep-alive in seconds (how soon the broker publishes the death certificate of a vanished gateway: ~1.5×).' }),
  },
  { additionalProperties: false, description: 'Sparkplug B edge node on the plant broker: live state of devices and stations (not the record stream — records go through the sinks).' },
);

export const RetentionConfig = Type.Object(
  {
    deliveredDays: Type.Integer({ minimum: 1, description: 'Records delivered to every sink and older than this many days may be purged. Undelivered or quarantined records are never purged.' }),
    batchRecordYears: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          'Records of a batch record (everything but high-volume telemetry) are kept at least this many years past the batch\'s last expiry (its produced lots and labels), or past its completion if it has none; open batches are kept. Default 5.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Journal retention.' },
);

export const UpstreamConfig = Type.Object(
  {
    gatewayId: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Gateway id in the CloudEvents source (urn:linegate:{site}:{line}:{gatewayId}); defaults to the host name.' })),
    sinks: Type.Array(SinkConfig, { description: 'Every configured sink receives every record.' }),
    retention: Type.Optional(RetentionConfig),
    sparkplug: Type.Optional(SparkplugConfig),
  },
  { additionalProperties: false, description: 'Forwarding of every record to the ERP / plant broker.' },
);

export type BackoffConfig = Static<typeof BackoffConfig>;
export type BatchConfig = Static<typeof BatchConfig>;
export type ClientCertConfig = Static<typeof ClientCertConfig>;
export type HttpSinkConfig = Static<typeof HttpSinkConfig>;
export type MqttSinkConfig = Static<typeof MqttSinkConfig>;
export type PostgresSinkConfig = Static<typeof PostgresSinkConfig>;
export type EpcisSinkConfig = Static<typeof EpcisSinkConfig>;
export type SinkConfig = Static<typeof SinkConfig>;
export type RetentionConfig = Static<typeof RetentionConfig>;
export type SparkplugConfig = Static<typeof SparkplugConfig>;
export type UpstreamConfig = Static<typeof UpstreamConfig>;
