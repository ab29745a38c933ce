/**
 * MQTT sink: one CloudEvent (structured JSON) per record, QoS 1, persistent session (clean=false),
 * topic from a template. A record counts as delivered when its PUBACK arrives — the broker has then
 * taken responsibility for it; queued delivery to subscribers is the broker's job.
 *
 * MQTT.js keeps its own in-memory queue of unacknowledged publishes; that is a convenience, not the
 * guarantee (ARCHITECTURE.md): we never publish while disconnected (that would grow the queue without
 * bound during an outage) — the dispatcher backs off and the outbox keeps the records. A publish whose
 * PUBACK does not come within `timeoutMs` is reported as 'retry'; MQTT.js may also resend it after a
 * reconnect, which at worst makes a duplicate the consumer drops by id.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttSinkConfig } from '../../config/upstream.js';
import type { Logger } from '../../util/log.js';
import type { OutgoingRecord, RecordOutcome, SendResult, Sink, SinkLimits } from './sink.js';

const TOPIC_FIELDS = ['site', 'line', 'station', 'batch', 'lot', 'type', 'device'] as const;

/** The ISA-95 equipment hierarchy as a topic tree (a unified namespace); `topic: isa95` selects it. */
export const ISA95_TOPIC = '{enterprise}/{site}/{area}/{line}/{station}/{type}';

/** Fill the topic template; values cannot inject levels or wildcards. `{enterprise}`/`{area}` come from the sink's namespace. */
export function renderTopic(
  template: string,
  rec: Pick<OutgoingRecord, (typeof TOPIC_FIELDS)[number]>,
  ns: { enterprise?: string; area?: string } = {},
): string {
  const t = template === 'isa95' ? ISA95_TOPIC : template;
  return t.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const isNs = key === 'enterprise' || key === 'area';
    if (!isNs && !(TOPIC_FIELDS as readonly string[]).includes(key)) return whole;
    const v = isNs ? ns[key as 'enterprise' | 'area'] : rec[key as (typeof TOPIC_FIELDS)[number]];
    if (v === null || v === undefined || v === '') return '_';
    return String(v).replace(/[/+#\u0000]/g, '_');
  });
}

export class MqttSink implements Sink {
  readonly kind = 'mqtt' as const;
  readonly id: string;
  readonly limits: SinkLimits;
  readonly backoff: { baseMs: number; maxMs: number; probeMs?: number };
  private client: MqttClient | undefined;
  private closed = false;
  private lastError = '';

  constructor(private readonly cfg: MqttSinkConfig, private readonly logger?: Logger) {
    this.id = cfg.id;
    this.limits = { maxRecords: cfg.batch.maxRecords, maxBytes: cfg.batch.maxBytes, lingerMs: cfg.batch.lingerMs, maxInFlight: cfg.maxInFlight };
    this.backoff = cfg.backoff;
  }

  async start(): Promise<void> {
    if (this.closed) {
      // Started again after close(): a new client, same clientId, so the broker resumes the session.
      this.closed = false;
      this.client = undefined;
    }
    if (this.client) return;
    const opts: IClientOptions = {
      clientId: this.cfg.clientId,
      clean: false, // persistent session: the broker keeps our session across reconnects
      protocolVersion: this.cfg.protocolVersion ?? 4,
      keepalive: this.cfg.keepaliveS ?? 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // Never queue while offline: the outbox is the queue.
      queueQoSZero: false,
      ...(this.cfg.username !== undefined ? { username: this.cfg.username } : {}),
      ...(this.cfg.password !== undefined ? { password: this.cfg.password } : {}),
      ...(this.cfg.clientCert
        ? {
            cert: readFileSync(this.cfg.clientCert.cert),
            key: readFileSync(this.cfg.clientCert.key),
            ...(this.cfg.clientCert.ca ? { ca: readFileSync(this.cfg.clientCert.ca) } : {}),
          }
        : {}),
    };
    const client = mqtt.connect(this.cfg.url, opts);
    client.on('error', (err) => {
      this.lastError = err.message;
      this.logger?.warn({ err: err.message }, 'mqtt sink error');
    });
    client.on('connect', () => this.logger?.info({ url: this.cfg.url }, 'mqtt sink connected'));
    client.on('offline', () => this.logger?.warn({ url: this.cfg.url }, 'mqtt sink offline; reconnecting'));
    this.client = client;
  }

  async send(records: OutgoingRecord[], signal: AbortSignal): Promise<SendResult> {
    const client = this.client;
    if (!client || this.closed) return { kind: 'all', outcome: 'retry', detail: 'sink not started or closed' };
    if (!client.connected) return { kind: 'all', outcome: 'retry', detail: `broker not connected${this.lastError ? `: ${this.lastError}` : ''}` };
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const stop = AbortSignal.any([signal, timeout]);
    const abortPromise = new Promise<'aborted'>((resolve) => {
      if (stop.aborted) resolve('aborted');
      stop.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    // Publish all in order on one connection (MQTT keeps the order of one client's QoS 1 publishes),
    // then wait for every PUBACK or the timeout.
    const acks = records.map((rec) =>
      client
        .publishAsync(renderTopic(this.cfg.topic, rec, this.cfg.namespace), rec.body, { qos: 1 })
        .then((): RecordOutcome => ({ outcome: 'delivered' }))
        .catch((err: Error): RecordOutcome => ({ outcome: 'retry', detail: err.message })),
    );
    const settled = acks.map((p) =>
      Promise.race([p, abortPromise.then((): RecordOutcome => ({ outcome: 'retry', detail: timeout.aborted ? `no PUBACK within ${this.cfg.timeoutMs} ms` : 'aborted' }))]),
    );
    const results = await Promise.all(settled);
    if (results.every((r) => r.outcome === 'delivered')) return { kind: 'all', outcome: 'delivered' };
    return { kind: 'each', results };
  }

  /** The client reconnects by itself (every second): the broker is back when it is connected. */
  async probe(): Promise<boolean> {
    return !this.closed && this.client?.connected === true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    if (!client) return;
    // force=true: do not wait for in-flight PUBACKs (they are still pending in the outbox).
    await Promise.race([client.endAsync(true), new Promise((r) => setTimeout(r, 2000))]);
  }
}
