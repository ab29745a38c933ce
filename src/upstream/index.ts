/**
 * Public surface of the upstream area (what the gateway and the API use).
 *
 * Wiring (gateway.ts):
 *   const dispatcher = createDispatcher(db, config.upstream, { gatewayId, logger });
 *   const journal = new Journal(db, { site, line, sinks: config.upstream.sinks.map((s) => s.id) });
 *   journal.onCommitted(() => dispatcher.notify());
 *   await dispatcher.start();            … await dispatcher.stop({ timeoutMs: 5000 }) before closing the db
 *   setInterval(() => applyRetention(db, config.upstream.retention), 3_600_000)
 * API: dispatcher.stats() (health/metrics), listQuarantined / replayQuarantined / exportQuarantined.
 */
export { Dispatcher, createDispatcher, createSink, rowToRecord } from './dispatcher.js';
export type { DispatcherOptions, SinkStats, SinkError, QuarantinedEntry, QuarantinedExport } from './dispatcher.js';
export { toCloudEvent, validateCloudEvent, ceSource, ceType, CE_CONTENT_TYPE, CE_BATCH_CONTENT_TYPE, CE_TYPE_VERSION } from './cloudevents.js';
export type { CloudEvent, EnvelopeContext } from './cloudevents.js';
export { HttpSink } from './sinks/http.js';
export { MqttSink, renderTopic } from './sinks/mqtt.js';
export { PostgresSink } from './sinks/postgres.js';
export { EpcisSink } from './sinks/epcis.js';
export { migrate as migratePlantStore, SCHEMA_VERSION as PLANT_SCHEMA_VERSION } from './sinks/postgres-schema.js';
export { parseRetryAfter } from './sinks/sink.js';
export type { Sink, SinkLimits, SendResult, RecordOutcome, OutgoingRecord } from './sinks/sink.js';
export { purgeDelivered, applyRetention } from './retention.js';
export type { PurgeOptions } from './retention.js';
