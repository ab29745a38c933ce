/**
 * MQTT process-value driver (`kind: mqtt-values`, issue 18): subscribes to one topic per declared
 * value, reads the number (devices/values/<profile>.yaml), and passes each sample through the
 * value's filter (deadband, minimum interval, heartbeat: src/domain/process-value.ts). What the
 * filter keeps — and every garbage sample — becomes a `ValueReading`, journaled as a record.
 *
 * Acknowledgement: the same pipelined commit gate as the scale driver (see the long comment in
 * src/drivers/mqtt-scale/driver.ts; one queue for both, src/drivers/puback-queue.ts): a QoS 1
 * message that produced a reading is acknowledged only
 * after the journal commit that holds its record, PUBACKs strictly in PUBLISH order, the packet
 * pump never waits for a commit except when `maxInFlight` messages are unacknowledged (announced
 * to MQTT 5 brokers as Receive Maximum). A message the filter drops is acknowledged at once when
 * nothing is waiting before it. A failed commit acknowledges nothing more on that connection,
 * rolls the filters back to the last acknowledged state and drops the connection: the broker
 * redelivers, nothing is lost.
 *
 * Restart: each record carries (in the same transaction) the value's last recorded state in
 * device_state (key `value:<name>`); the gateway hands it back before start (`restoreRecorded`),
 * so a message the broker redelivers after a crash is a duplicate (same source time) or inside
 * the deadband, not a second record. Without a source timestamp that held only for the last
 * message: the state also names the message that produced the record (`through`), and after a
 * reconnect to a kept session the redelivery window (src/drivers/redelivery-window.ts) holds the
 * messages until every value's `through` came back (or the redelivery is over); those up to the
 * last one are acknowledged without being recorded again. A redelivered GARBAGE sample is
 * recorded (rejected) again: rejections change no state, so nothing names them.
 *
 * The minimum interval holds a change back and records it when the interval ends (`trailing`).
 * That held message has been acknowledged: a crash inside the interval loses the held-back sample
 * (at most one per value, at most minIntervalMs old); the next sample records the value again.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { BaseDriver, type DriverHealth } from '../driver.js';
import type { ValueReading } from '../../readings/reading.js';
import { formatMessage } from '../../errors.js';
import { Backoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { MqttValuesConfig } from '../../config/devices/mqtt-values.js';
import type { MqttValueSpec } from '../../config/devices/process-values.js';
import { ValueFilter, type Decision, type FilterSnapshot, type Recorded } from '../../domain/process-value.js';
import { PayloadReader, type ValueProfile } from './profile.js';
import { readTlsMaterial, sessionOptions, type TlsMaterial } from '../mqtt-session.js';
import { DEFER_ACK, PubackQueue, type AckEntry as QueueEntry } from '../puback-queue.js';
import { REDELIVERY_WINDOW_MS, RedeliveryWindow, identity, parseIdentity, recentThroughs, type MessageIdentity, type Staged } from '../redelivery-window.js';

export interface MqttValuesDriverOptions {
  config: MqttValuesConfig;
  profile: ValueProfile;
  logger: Logger;
  clock?: Clock;
  backoff?: { baseMs: number; maxMs: number };
  /** How long the redelivery window holds messages at most (REDELIVERY_WINDOW_MS; tests change it). */
  redeliveryWindowMs?: number;
}


interface Declared {
  spec: MqttValueSpec;
  topic: string;
  reader: PayloadReader;
  filter: ValueFilter;
  /** Filter state at the last acknowledged message (what a rollback returns to). */
  confirmed: FilterSnapshot;
  /** The message that produced the last record (journaled with it), and at the last acknowledged message. */
  through: MessageIdentity | null;
  confirmedThrough: MessageIdentity | null;
  trailing: NodeJS.Timeout | null;
  counts: { messages: number; recorded: number; rejected: number; skipped: number };
}

/** The value whose filter state a message changed, and that state. */
type Changed = { value: Declared; snapshot: FilterSnapshot; through: MessageIdentity | null } | null;
/** A message held by the redelivery window: its topic and arrival time. */
type Arrival = { topic: string; at: Date };
type AckEntry = QueueEntry<Changed>;

export class MqttValuesDriver extends BaseDriver<ValueReading> {
  readonly clientId: string;
  private client: MqttClient | null = null;
  private readonly byTopic = new Map<string, Declared>();
  private readonly byName = new Map<string, Declared>();
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private started = false;
  private connected = false;
  private subscribed = false;
  private connects = 0;
  private lastMessageAt: number | null = null;
  private connectedAt: number | null = null;
  private silent = false;
  private gate: ((r: ValueReading) => Promise<unknown>) | null = null;
  private readonly acks: PubackQueue<Changed>;
  private readonly maxInFlight: number;
  private gatedLastReadingAt: Date | null = null;
  private window: RedeliveryWindow<Changed, Arrival> | null = null;
  private replaysSkipped = 0;
  private windowsOpened = 0;

  /** TLS material read at construction (a wrong file path is a start error, as for scales). */
  private readonly tls: TlsMaterial;

  constructor(private readonly o: MqttValuesDriverOptions) {
    super(o.config.id, 'mqtt-values', { logger: o.logger, ...(o.clock ? { clock: o.clock } : {}) });
    const c = o.config;
    this.clientId = c.broker.clientId ?? `linegate-${c.id}`;
    this.backoff = new Backoff({ baseMs: o.backoff?.baseMs ?? 500, maxMs: o.backoff?.maxMs ?? 30_000 });
    this.maxInFlight = Math.max(1, Math.min(65_535, c.maxInFlight ?? 1000));
    this.acks = new PubackQueue<Changed>({
      maxInFlight: this.maxInFlight,
      client: () => this.client,
      acknowledged: (c) => {
        if (c) (c.value.confirmed = c.snapshot), (c.value.confirmedThrough = c.through);
      },
      failed: (err, dropped) => this.commitFailed(err, dropped),
    });
    this.tls = readTlsMaterial(c.broker, c.id);
    for (const spec of c.values) {
      const topic = spec.topic.replaceAll('{id}', c.id);
      const filter = new ValueFilter(spec);
      const d: Declared = { spec, topic, reader: new PayloadReader(o.profile, spec.path), filter, confirmed: filter.snapshot(), through: null, confirmedThrough: null, trailing: null, counts: { messages: 0, recorded: 0, rejected: 0, skipped: 0 } };
      this.byTopic.set(topic, d);
      this.byName.set(spec.name, d);
    }
  }

  /** Declared value names (the gateway restores their last recorded state). */
  get valueNames(): string[] {
    return [...this.byName.keys()];
  }

  /** Last recorded state per value, from the journal (device_state), before start. */
  restoreRecorded(last: ReadonlyMap<string, Recorded>): void {
    for (const [name, stored] of last) {
      const d = this.byName.get(name);
      if (!d) continue;
      const { through, ...r } = stored as Recorded & { through?: unknown };
      d.filter.restore({ last: r, pending: null });
      d.confirmed = d.filter.snapshot();
      d.through = d.confirmedThrough = parseIdentity(through);
    }
  }

  /** The gateway journals each reading through this; the PUBACK waits for it (file comment). */
  setCommitGate(gate: ((r: ValueReading) => Promise<unknown>) | null): void {
    this.gate = gate;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.setState('connecting');
    const c = this.o.config;
    const client = mqtt.connect(c.broker.url, sessionOptions(c.broker, this.clientId, this.tls, this.maxInFlight));
    this.client = client;
    client.on('connect', (connack) => this.onConnect(connack.sessionPresent ?? false));
    client.handleMessage = (packet, cb) => {
      // Stopping: nothing new is processed or acknowledged; the broker redelivers it next time.
      if (client !== this.client || this.acks.ackFailed || this.stopping) return cb(DEFER_ACK);
      const qos1 = packet.qos > 0 && packet.messageId !== undefined;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const entry = this.onMessage(packet.topic, payload, qos1 ? packet.messageId! : null, packet.dup === true);
      if (!entry || !qos1) return cb();
      this.acks.deferred(cb);
    };
    client.on('close', () => this.onClose());
    client.on('error', (err) => {
      this.setError('LG_ERR_DEVICE_DISCONNECTED', formatMessage('LG_ERR_DEVICE_DISCONNECTED', { kind: 'values', device: this.id, detail: err.message }));
    });
    if (c.silenceTimeoutMs !== undefined) {
      const ms = c.silenceTimeoutMs;
      this.silenceTimer = setInterval(() => this.checkSilence(ms), Math.max(50, Math.min(1000, Math.floor(ms / 4))));
      this.silenceTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.setState('stopping');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    this.reconnectTimer = this.silenceTimer = null;
    // Held messages are neither processed nor acknowledged: the broker redelivers them next time.
    this.dropWindow();
    // Held-back changes are recorded now rather than lost with the process.
    for (const d of this.byName.values()) this.flushTrailing(d);
    await this.acks.drain(2000);
    const client = this.client;
    this.client = null;
    if (client) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => (client.end(true), resolve()), 2000);
        client.end(false, {}, () => (clearTimeout(t), resolve()));
      });
    }
    this.connected = this.subscribed = false;
    this.setState('stopped');
  }

  /** One payload as if it had arrived on `topic` (tests, bench). Resolves once journaled. */
  handlePayload(topic: string, payload: Buffer | string): Promise<void> | undefined {
    const entry = this.onMessage(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, null);
    if (!entry) return undefined;
    return new Promise<void>((resolve) => entry.waiters.push(resolve));
  }

  private onMessage(topic: string, payload: Buffer, messageId: number | null, dup = false): AckEntry | null {
    const now = this.clock.now();
    this.lastMessageAt = now.getTime();
    if (this.silent && this.subscribed) {
      this.silent = false;
      this.setState('online');
    }
    const held = this.window?.offer({ message: { topic, at: now }, payload, messageId, dup });
    if (held) return held;
    const staged = this.stage(topic, payload, messageId, now);
    return this.acks.push(staged.held, messageId, staged.tag);
  }

  /** Filter one message: what its PUBACK waits for, and the value state it leaves. */
  private stage(topic: string, payload: Buffer, messageId: number | null, now: Date): Staged<Changed> {
    const d = this.byTopic.get(topic);
    // Subscriptions are exact topics; anything else (a broker bug) is not ours to record.
    if (!d) return { held: undefined, tag: null };
    d.counts.messages++;
    const sample = d.reader.read(payload, now.getTime());
    let decision: Decision;
    try {
      decision = d.filter.offer(sample);
    } catch (err) {
      decision = { kind: 'reject', code: 'LG_ERR_VALUE_NOT_NUMERIC', details: { name: d.spec.name, value: null, detail: `internal: ${(err as Error).message}` } };
    }
    if (decision.kind === 'skip') {
      d.counts.skipped++;
      if (decision.why === 'interval') this.armTrailing(d);
      else if (d.trailing && d.filter.pendingDueAt === null) (clearTimeout(d.trailing), (d.trailing = null));
      return { held: undefined, tag: null };
    }
    // A record: the message that produced it is journaled with the value's state — unless the
    // sample has a source timestamp, which already tells a redelivery (at or before the last record).
    if (decision.kind === 'record') d.through = sample.sourceTime ? null : identity(messageId, payload, now.getTime());
    const held = this.emitValue(d, decision, now, sample.sourceTime, sample.qualityText, sample.raw);
    return { held, tag: decision.kind === 'record' ? this.changed(d) : null };
  }

  private changed(d: Declared): Changed {
    return { value: d, snapshot: d.filter.snapshot(), through: d.through };
  }

  /** The connection's redelivery window (if open) is dropped: held messages are neither processed nor acknowledged. */
  private dropWindow(): void {
    this.window?.drop();
    this.window = null;
  }

  private emitValue(d: Declared, decision: Exclude<Decision, { kind: 'skip' }>, receivedAt: Date, sourceTime: Date | null, qualityText: string | undefined, raw: string | null): Promise<unknown> | undefined {
    const base = { kind: 'value' as const, deviceId: this.id, receivedAt, sourceTime, name: d.spec.name, unit: d.spec.unit, source: { topic: d.topic, ...(qualityText !== undefined ? { quality: qualityText } : {}) } };
    let r: ValueReading;
    if (decision.kind === 'record') {
      d.counts.recorded++;
      if (d.trailing && decision.reason !== 'trailing') (clearTimeout(d.trailing), (d.trailing = null));
      r = { ...base, value: decision.value, quality: decision.quality, reason: decision.reason, through: d.through };
      if (decision.reason === 'trailing') r.sourceTime = sourceTime ?? new Date(decision.at);
    } else {
      d.counts.rejected++;
      const message = formatMessage(decision.code, { device: this.id, unit: d.spec.unit, ...decision.details });
      r = { ...base, value: null, quality: decision.code === 'LG_ERR_VALUE_BAD_QUALITY' ? 'bad' : 'good', reason: null, error: { code: decision.code, message, details: decision.details }, ...(raw !== null ? { raw: raw.length > 512 ? raw.slice(0, 512) : raw } : {}) };
      this.setError(decision.code, message);
    }
    const gate = this.gate;
    if (!gate) {
      try {
        this.emitReading(r);
      } catch (err) {
        this.logger.error({ err }, 'reading listener threw');
      }
      return undefined;
    }
    this.gatedLastReadingAt = receivedAt;
    return gate(r);
  }

  private armTrailing(d: Declared): void {
    if (d.trailing) return;
    // Time left, from the held sample, until the interval since the last record ends.
    const wait = d.filter.pendingWaitMs;
    if (wait === null) return;
    d.trailing = setTimeout(() => {
      d.trailing = null;
      this.flushTrailing(d);
    }, Math.max(0, wait));
    d.trailing.unref();
  }

  private flushTrailing(d: Declared): void {
    if (d.trailing) (clearTimeout(d.trailing), (d.trailing = null));
    if (this.acks.ackFailed) return;
    const decision = d.filter.takePending();
    if (!decision) return;
    const held = this.emitValue(d, decision as Exclude<Decision, { kind: 'skip' }>, this.clock.now(), null, undefined, null);
    this.acks.push(held, null, this.changed(d));
  }

  /** Pipeline figures, for health and the bench. */
  get pipeline(): { acked: number; maxQueued: number; commitFailures: number } {
    return this.acks.stats;
  }

  private commitFailed(err: unknown, queued: number): void {
    const code = (err as { code?: string }).code;
    this.logger.error({ err, queued }, 'journal commit failed: process values NOT acknowledged; the broker will redeliver them');
    this.setError('LG_ERR_STORE_WRITE_FAILED', formatMessage('LG_ERR_STORE_WRITE_FAILED', { detail: `${code ?? ''} ${(err as Error).message ?? String(err)}`.trim() }));
    for (const d of this.byName.values()) {
      if (d.trailing) (clearTimeout(d.trailing), (d.trailing = null));
      d.filter.restore(d.confirmed);
      d.through = d.confirmedThrough;
    }
    this.dropWindow();
    const client = this.client;
    if (client && !this.stopping) {
      this.setState('degraded');
      client.stream?.destroy();
    }
  }

  private onConnect(sessionPresent: boolean): void {
    this.connected = true;
    this.acks.connected();
    this.connects++;
    this.connectedAt = this.clock.now().getTime();
    this.dropWindow();
    // The broker kept our session: it redelivers what it did not see acknowledged, first.
    const throughs = sessionPresent && !this.stopping ? recentThroughs([...this.byName.values()].map((d) => d.through), this.connectedAt) : [];
    if (throughs.length > 0) {
      this.windowsOpened++;
      const w: RedeliveryWindow<Changed, Arrival> = new RedeliveryWindow({
        acks: this.acks,
        throughs,
        none: null,
        maxHeld: this.maxInFlight,
        windowMs: this.o.redeliveryWindowMs ?? REDELIVERY_WINDOW_MS,
        apply: (h) => this.stage(h.message.topic, h.payload, h.messageId, h.message.at),
        closed: (held, skipped) => {
          if (this.window === w) this.window = null;
          this.replaysSkipped += skipped;
          if (held > 0) this.logger.info({ held, skipped }, skipped > 0 ? 'redelivered process values already recorded: acknowledged without recording again' : 'redelivery window closed: held process values processed');
        },
      });
      this.window = w;
    }
    this.logger.info({ sessionPresent, topics: this.byTopic.size, connects: this.connects, redeliveryWindow: this.window !== null }, 'process-value broker connected');
    this.subscribe();
  }

  private subscribe(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    const topics = [...this.byTopic.keys()];
    client.subscribe(topics, { qos: 1 }, (err, granted) => {
      if (this.stopping || client !== this.client) return;
      const refused = !granted || granted.length < topics.length || granted.some((g) => g.qos === 128 || g.qos > 2);
      if (err || refused) {
        const bad = granted?.filter((g) => g.qos === 128 || g.qos > 2).map((g) => g.topic) ?? topics;
        const detail = err ? err.message : `broker refused subscription to ${bad.join(', ')}`;
        this.setError('LG_ERR_DEVICE_OPEN_FAILED', formatMessage('LG_ERR_DEVICE_OPEN_FAILED', { kind: 'values', device: this.id, path: bad.join(', '), detail }));
        this.setState('degraded');
        this.scheduleRetry(() => this.subscribe());
        return;
      }
      this.subscribed = true;
      this.backoff.reset();
      this.silent = false;
      this.setState('online');
    });
  }

  private onClose(): void {
    this.acks.closed();
    this.dropWindow();
    const wasConnected = this.connected;
    this.connected = this.subscribed = false;
    if (this.stopping) return;
    if (wasConnected && !this.acks.ackFailed) {
      this.setError('LG_ERR_DEVICE_DISCONNECTED', formatMessage('LG_ERR_DEVICE_DISCONNECTED', { kind: 'values', device: this.id, detail: 'broker connection lost' }));
    }
    this.setState('offline');
    this.scheduleRetry(() => {
      if (this.client && !this.stopping) this.client.reconnect();
    });
  }

  private scheduleRetry(fn: () => void): void {
    if (this.reconnectTimer || this.stopping) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping) fn();
    }, this.backoff.next());
    this.reconnectTimer.unref();
  }

  private checkSilence(ms: number): void {
    if (!this.connected || !this.subscribed || this.stopping || this.silent) return;
    const since = Math.max(this.lastMessageAt ?? 0, this.connectedAt ?? 0);
    if (this.clock.now().getTime() - since > ms) {
      this.silent = true;
      this.setError('LG_ERR_DEVICE_DISCONNECTED', formatMessage('LG_ERR_DEVICE_DISCONNECTED', { kind: 'values', device: this.id, detail: `no message on any value topic for ${ms} ms` }));
      this.setState('degraded');
    }
  }

  override health(): DriverHealth {
    const h = super.health();
    if (this.gatedLastReadingAt && (!h.lastReadingAt || h.lastReadingAt < this.gatedLastReadingAt.toISOString())) h.lastReadingAt = this.gatedLastReadingAt.toISOString();
    return h;
  }

  protected override details(): Record<string, unknown> {
    return {
      broker: this.o.config.broker.url.replace(/\/\/[^@/]*@/, '//***@'),
      clientId: this.clientId,
      connected: this.connected,
      subscribed: this.subscribed,
      connects: this.connects,
      unacknowledged: this.acks.length,
      replaysSkipped: this.replaysSkipped,
      redeliveryWindows: this.windowsOpened,
      holding: this.window?.holding ?? 0,
      values: [...this.byName.values()].map((d) => ({ name: d.spec.name, topic: d.topic, unit: d.spec.unit, last: d.filter.lastRecorded?.value ?? null, ...d.counts })),
    };
  }
}
