/**
 * MQTT scale driver: subscribes to a scale's topic, parses each message with its profile, turns the
 * 10 Hz stream into one capture per placement (placement.ts) and emits captures and refusals as
 * `WeightReading`s. Raw readings only go to the in-memory ring trace.
 *
 * Connection decisions:
 * - Persistent session: `clean: false` and a stable client id per scale, QoS 1 subscription, so the
 *   broker queues weights published while the gateway is down and delivers them on reconnect
 *   (Mosquitto keeps them; aedes' default in-memory persistence loses them when IT restarts).
 * - We own reconnection (`reconnectPeriod: 0`) to get exponential backoff with jitter
 *   (src/util/backoff.ts); MQTT.js's own reconnect is a fixed period.
 * - We own resubscription: MQTT.js resubscribes only when its reconnectPeriod > 0, and then only
 *   when the broker says there is no session (`sessionPresent: false`) — a broker that lost its
 *   state without the client noticing would leave us connected and deaf. So on EVERY connack we
 *   subscribe again (idempotent on the broker: same topic, same QoS, queued messages kept) and
 *   check the granted QoS; a refused subscription (0x80) is an error and is retried with backoff.
 * - Health: `connecting` until the first connack; `online` when subscribed and messages flow;
 *   `degraded` when connected but silent for `silenceTimeoutMs` (LG_ERR_SCALE_SILENT) or the
 *   subscription was refused; `offline` when the connection is down.
 *
 * Acknowledgement: MQTT.js sends a QoS 1 PUBACK when our handleMessage callback runs. Without a
 * commit gate that is right after processing, i.e. a few ms before the gateway's journal commits a
 * capture. With `setCommitGate`, the PUBACK of a message that produced a capture or refusal waits
 * for the journal, so a crash in between leads to redelivery, not loss.
 *
 * Pipelined commit gate (issue 18). Waiting in handleMessage for the commit stalls MQTT.js's packet
 * pump, so one connection got one fsync per capture (537–1,199 durable records/s). Instead each
 * QoS 1 message takes a place in an ordered acknowledgement queue and the pump goes on at once;
 * the journal's group commit then holds every capture of the broker's in-flight window, and the
 * PUBACKs go out strictly in the order the PUBLISH packets arrived (MQTT 3.1.1 §4.6), each only
 * once the commit holding it and every earlier one are done. Mechanism, without forking MQTT.js
 * (5.16.0, pinned): handleMessage's callback called WITH an error makes MQTT.js skip its own
 * PUBACK and read the next packet (handlers/publish.js); we then send the PUBACK ourselves
 * through the client's packet writer (`_sendPacket`, not public API — the only way to emit a
 * PUBACK later), only on the same connection it belongs to (a PUBACK for a packet id of a dead
 * connection could acknowledge a different message on the next). The window is bounded
 * (`maxInFlight`, default 1000; announced to MQTT 5 brokers as Receive Maximum): when it is full
 * the pump waits. Mosquitto's own max_inflight_messages (20 by default) bounds it further.
 *
 * A failed commit (disk full, I/O error) acknowledges nothing: the driver stops acknowledging on
 * that connection, rolls the placement state back to the last acknowledged message (as a restart
 * would), reports LG_ERR_STORE_WRITE_FAILED and drops the connection; the broker keeps the
 * unacknowledged messages and redelivers them on the reconnect (with backoff), so everything
 * resumes once the journal commits again. Messages after the failed one whose records did commit
 * are redelivered too; replayed from the rolled-back state they can record a second capture of
 * the same load — visible in the journal, never a lost one. In the gateway the placement state is
 * journaled (device_state, `setStateGate`) in the commit that the message's PUBACK waits for; without
 * a state gate (the driver alone) it goes to a file, written from the state at the last ACKNOWLEDGED
 * message, never from one still waiting for its commit.
 *
 * Replays (found by the kill9 fault script: 40 of 41,895 loads journaled twice in 1,000 kills). The
 * journaled placement state can be AHEAD of what the broker knows was acknowledged: a kill (or a lost
 * connection) after the commit of a load and of the zero after it, but before their PUBACKs reached
 * the broker, makes the broker redeliver the load, and replayed from the restored `empty` state it
 * was captured a second time. A redelivered message carries the DUP flag (MQTT 3.1.1 §3.3.1.1; the
 * broker re-sends exactly the messages it had sent and not seen acknowledged, in order). So a DUP
 * message whose payload source time is EARLIER than the source time of the last message applied to
 * the state (`appliedThrough`, kept in memory and journaled with the state) was already applied: it
 * is acknowledged without being replayed (counted, `replaysSkipped`). Only DUP messages, only with a
 * source timestamp, only when older (never equal: a second-resolution clock repeats a timestamp), and
 * only within `REPLAY_WINDOW_MS` of it (a broker's in-flight window spans seconds; a far older
 * timestamp is a clock set back, processed as new).
 *
 * Redelivery window (payloads without a timestamp): the state also names the message that made it
 * (`through`, journaled with it), and after a reconnect to a kept session the redelivered (DUP)
 * messages are held until it comes back — those up to it are acknowledged without replay — or
 * until the redelivery is over (src/drivers/redelivery-window.ts, the rules and their limits; a
 * broker that does not mark redeliveries, as aedes 1.2, gets no skip: a double, never a loss).
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { BaseDriver, type DriverHealth } from '../driver.js';
import type { WeightReading } from '../../readings/reading.js';
import { formatMessage } from '../../errors.js';
import { Backoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { parseDec, toString as decToString, type Dec, cmp } from '../../domain/decimal.js';
import type { MqttScaleConfig } from '../../config/devices/mqtt-scale.js';
import type { CompiledProfile } from './profile.js';
import { readTlsMaterial, sessionOptions, type TlsMaterial } from '../mqtt-session.js';
import { DEFER_ACK, PubackQueue, type AckEntry as QueueEntry } from '../puback-queue.js';
import { REDELIVERY_WINDOW_MS, RedeliveryWindow, identity, parseIdentity, recentThroughs, type HeldMessage, type MessageIdentity, type Staged as WindowStaged } from '../redelivery-window.js';
import { PlacementMachine, type Emission, type PlacementSnapshot, type TraceEntry } from './placement.js';
import { parseWeightPayload, rawText, type ParseState } from './weight.js';

export interface MqttScaleDriverOptions {
  config: MqttScaleConfig;
  profile: CompiledProfile;
  logger: Logger;
  clock?: Clock;
  /** Folder for the placement state file (so a load still on the platform after a restart is not captured twice). */
  stateDir?: string;
  /** Reconnect backoff (tests shorten it). */
  backoff?: { baseMs: number; maxMs: number };
  /** Ring trace length (messages). */
  traceSize?: number;
  /** Largest number of QoS 1 messages processed but not yet acknowledged (the commit window). */
  maxInFlight?: number;
  /** How long the redelivery window holds messages at most (REDELIVERY_WINDOW_MS; tests lengthen it). */
  redeliveryWindowMs?: number;
}

/** Redelivered (DUP) messages at most this much older than the last applied one are taken as replays. */
export const REPLAY_WINDOW_MS = 5 * 60_000;

/** A place in the acknowledgement queue; its tag is the placement state right after the message, when it changed it. */
type AckEntry = QueueEntry<PlacementSnapshot | null>;

/** What a processed message waits for before its PUBACK, and the state it leaves (when it changed). */
type Staged = WindowStaged<PlacementSnapshot | null>;

function dec(s: string | undefined): Dec | undefined {
  return s === undefined ? undefined : parseDec(s);
}

/** Limits after config overrides profile. Exported for tests. */
export function placementOptionsFor(config: MqttScaleConfig, profile: CompiledProfile, traceSize?: number) {
  const zeroBand = parseDec(config.zeroBand ?? profile.zeroBand);
  const stability = config.stability
    ? { readings: config.stability.readings, tolerance: parseDec(config.stability.tolerance), windowMs: config.stability.windowMs }
    : undefined;
  // Same load settling back after a bump: within the stability tolerance, or 2 d, whichever is larger.
  const twoD = { units: 2n, scale: profile.decimals };
  const bumpTolerance = stability && cmp(stability.tolerance, twoD) > 0 ? stability.tolerance : twoD;
  return {
    zeroBand,
    capacity: dec(config.max ?? profile.capacity),
    minLoad: dec(config.min ?? profile.minLoad),
    stability,
    bumpTolerance,
    ...(traceSize !== undefined ? { traceSize } : {}),
  };
}

export class MqttScaleDriver extends BaseDriver<WeightReading> {
  readonly topic: string;
  readonly clientId: string;
  private client: MqttClient | null = null;
  private machine: PlacementMachine;
  private readonly parseState: ParseState = { lastTare: null };
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private started = false;
  private connected = false;
  private subscribed = false;
  private sessionPresent: boolean | null = null;
  private lastMessageAt: number | null = null;
  private connectedAt: number | null = null;
  private connects = 0;
  private silent = false;
  private savedPhaseKey = '';
  private stateDirty = false;
  private stateWriting: Promise<void> | null = null;
  private commitGate: ((r: WeightReading) => Promise<unknown>) | null = null;
  private stateGate: ((s: PlacementSnapshot) => Promise<unknown>) | null = null;
  private gatedLastReadingAt: Date | null = null;
  private pendingGates = 0;
  /** Ordered acknowledgement queue (see the file comment and puback-queue.ts). */
  private readonly acks: PubackQueue<PlacementSnapshot | null>;
  /** Placement state at the last acknowledged message: what the state file and a rollback use. */
  private confirmed: PlacementSnapshot;
  private confirmedDirty = false;
  /** Source time (ms) of the last message applied to the placement state (see "Replays"). */
  private appliedThrough: number | null = null;
  /** The message that made the current placement state (see "Replays"). */
  private through: MessageIdentity | null = null;
  private window: RedeliveryWindow<PlacementSnapshot | null, Date> | null = null;
  private replaysSkipped = 0;
  private windowsOpened = 0;
  private readonly maxInFlight: number;
  private readonly silenceMs: number;
  private readonly stateFile: string | null;
  private readonly tls: TlsMaterial;

  constructor(private readonly o: MqttScaleDriverOptions) {
    super(o.config.id, 'mqtt-scale', { logger: o.logger, ...(o.clock ? { clock: o.clock } : {}) });
    const c = o.config;
    this.topic = (c.topic ?? o.profile.topic).replaceAll('{id}', c.id);
    this.clientId = c.broker.clientId ?? `linegate-${c.id}`;
    this.silenceMs = c.silenceTimeoutMs ?? 5000;
    this.machine = new PlacementMachine(placementOptionsFor(c, o.profile, o.traceSize));
    this.backoff = new Backoff({ baseMs: o.backoff?.baseMs ?? 500, maxMs: o.backoff?.maxMs ?? 30_000 });
    this.stateFile = o.stateDir ? join(o.stateDir, 'scales', `${c.id}.json`) : null;
    this.tls = readTlsMaterial(c.broker, c.id);
    this.maxInFlight = Math.max(1, Math.min(65_535, o.maxInFlight ?? 1000));
    this.acks = new PubackQueue<PlacementSnapshot | null>({
      maxInFlight: this.maxInFlight,
      client: () => this.client,
      acknowledged: (s) => {
        if (s) (this.confirmed = s), (this.confirmedDirty = true);
      },
      flushed: () => {
        if (this.confirmedDirty) (this.confirmedDirty = false), this.saveState(false);
      },
      failed: (err, dropped) => this.commitFailed(err, dropped),
    });
    this.restoreState();
    this.confirmed = this.snapshot();
    this.lastQueuedKey = this.phaseKey();
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
    // handleMessage, not the 'message' event: MQTT.js sends the PUBACK only when its callback runs
    // and handles the next packet after that. The pipelined gate (file comment) answers DEFER_ACK
    // and acknowledges in order itself once the journal has committed.
    client.handleMessage = (packet, cb) => {
      // Stopping: nothing new is processed or acknowledged; the broker redelivers it next time.
      if (client !== this.client || this.stopping) return cb(DEFER_ACK);
      // After a failed commit nothing more is acknowledged on this connection (it is being
      // dropped); the broker redelivers these messages on the next one.
      if (this.acks.ackFailed) return cb(DEFER_ACK);
      const qos1 = packet.qos > 0 && packet.messageId !== undefined;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      // Nothing waiting and nothing produced: MQTT.js acknowledges at once (the 10 Hz stream).
      const entry = this.onMessage(payload, qos1 ? packet.messageId! : null, packet.dup === true);
      if (!entry) return cb();
      if (!qos1) return cb();
      // The pump reads on while the commit runs, unless the window is full.
      this.acks.deferred(cb);
    };
    client.on('close', () => this.onClose());
    client.on('error', (err) => {
      this.setError('LG_ERR_DEVICE_DISCONNECTED', formatMessage('LG_ERR_DEVICE_DISCONNECTED', { kind: 'scale', device: this.id, detail: err.message }));
      this.logger.debug({ err: err.message }, 'mqtt error');
    });
    const tick = Math.max(50, Math.min(1000, Math.floor(this.silenceMs / 4)));
    this.silenceTimer = setInterval(() => this.checkSilence(), tick);
    this.silenceTimer.unref();
  }

  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.setState('stopping');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    this.reconnectTimer = null;
    this.silenceTimer = null;
    // Held messages are neither processed nor acknowledged: the broker redelivers them next time.
    this.dropWindow();
    const out: Emission[] = [];
    this.machine.closeEpisode(out);
    if (out.length > 0) this.push(this.stage(out, null, null, this.clock.now()), null);
    // Bounded: a journal that does not answer must not block shutdown.
    await this.acks.drain(2000);
    // Only a state the journal has confirmed is saved (this.confirmed): with a capture still
    // waiting for its commit, the file keeps the last acknowledged phase, so the redelivered
    // message is captured again.
    this.saveState(true);
    await this.flushState();
    const client = this.client;
    this.client = null;
    if (client) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          client.end(true);
          resolve();
        }, 2000);
        // A clean DISCONNECT: the broker keeps the session (clean:false) and queues for us.
        client.end(false, {}, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.connected = false;
    this.subscribed = false;
    this.started = false;
    this.setState('stopped');
  }

  /** The last messages seen, oldest first (raw text, parsed net, phase, events). */
  trace(): TraceEntry[] {
    return this.machine.trace();
  }

  /**
   * Hold the broker acknowledgement of a message until what it produced is durable. With a gate
   * set, every capture/refusal is handed to `gate(reading)` INSTEAD of the 'reading' event, and
   * the PUBACK of the MQTT message that produced it (and the placement state file) waits for the
   * returned promise. A crash between the capture and the journal commit then leaves the message
   * unacknowledged; the broker redelivers it to the persistent session after the restart and the
   * capture happens again — "the journal is the guarantee", not the MQTT client's memory.
   * The 10 Hz readings that produce nothing are acknowledged at once. A rejected gate promise is
   * logged and the message acknowledged (the gateway logs what it could not journal).
   */
  setCommitGate(gate: ((r: WeightReading) => Promise<unknown>) | null): void {
    this.commitGate = gate;
  }

  /**
   * Make the placement state durable in the journal before the PUBACK of the message that changed
   * it (the gateway writes it into device_state in a journal transaction; it joins the same group
   * commit as the captures). Without it, the state went to a file asynchronously AFTER the PUBACK:
   * a kill -9 in that window restored a stale phase, so a redelivered load could be ignored (an
   * acknowledged load lost) or captured a second time — the kill9 fault script saw 41 lost and
   * 131 doubled in 527 kills. With a state gate the file is neither written nor read; `restore`
   * hands back the journal's state before start.
   */
  setStateGate(gate: ((s: PlacementSnapshot) => Promise<unknown>) | null): void {
    this.stateGate = gate;
  }

  /** The placement state the journal holds (device_state), before start; replaces the file's. */
  restorePlacement(s: PlacementSnapshot | null | undefined): void {
    if (!s || typeof s.phase !== 'string') return;
    this.machine.restore(s, parseDec);
    this.appliedThrough = appliedMs(s);
    this.through = parseIdentity(s.through);
    this.confirmed = this.snapshot();
    this.savedPhaseKey = this.phaseKey();
    this.lastQueuedKey = this.phaseKey();
  }

  /**
   * Process one payload as if it had arrived from the broker. The MQTT handler calls this; the
   * bench and tests call it too. Never throws. Returns a promise only when a commit gate holds it.
   */
  handlePayload(payload: Buffer | string, at: Date = this.clock.now(), opts: { redelivered?: boolean } = {}): Promise<void> | undefined {
    const entry = this.process(payload, at, null, opts.redelivered === true);
    if (!entry) return undefined;
    return new Promise<void>((resolve) => entry.waiters.push(resolve));
  }

  /**
   * Parse and feed one message; returns its place in the acknowledgement queue, or null when it
   * can be acknowledged at once (nothing waiting before it and nothing produced).
   */
  private process(payload: Buffer | string, at: Date, messageId: number | null, dup = false): AckEntry | null {
    return this.push(this.apply(payload, at, messageId, dup), messageId);
  }

  private push(staged: Staged, messageId: number | null): AckEntry | null {
    return this.acks.push(staged.held, messageId, staged.tag);
  }

  /** Parse and feed one message: what its acknowledgement waits for, and the state it leaves. */
  private apply(payload: Buffer | string, at: Date, messageId: number | null, dup: boolean): Staged {
    let out: Emission[];
    try {
      const outcome = parseWeightPayload(payload, this.o.profile, this.parseState);
      const source = outcome.kind === 'weight' ? (outcome.sample.sourceTime?.getTime() ?? null) : null;
      // A redelivered message older than the last one applied was applied already ("Replays").
      if (dup && source !== null && this.appliedThrough !== null && source < this.appliedThrough && this.appliedThrough - source <= REPLAY_WINDOW_MS) {
        this.replaysSkipped++;
        return { held: undefined, tag: null };
      }
      const raw = outcome.kind === 'refusal' ? this.rawFor(payload, outcome) : (outcome.text ?? rawText(payload).raw);
      out = this.machine.process(outcome, at, raw);
      if (source !== null) this.appliedThrough = source;
      // Every weight, stable or not, for the live display of the station page (not journaled).
      if (outcome.kind === 'weight' && this.listenerCount('sample') > 0) {
        this.emit('sample', { device: this.id, net: decToString(outcome.sample.net), unit: outcome.sample.unit, stable: outcome.sample.stable ?? this.machine.currentPhase === 'captured', phase: this.machine.currentPhase, at: at.toISOString() });
      }
    } catch (err) {
      // Defensive: parse and process are written not to throw; if they do, it is still a refusal.
      this.logger.error({ err }, 'scale message handling failed');
      out = [{ type: 'refusal', code: 'LG_ERR_WEIGHT_PAYLOAD', detail: `internal: ${(err as Error).message}`, details: {}, at, raw: rawText(payload).raw }];
    }
    return this.stage(out, messageId, payload, at);
  }

  /** The placement state with the source time of the last message applied to it and that message. */
  private snapshot(): PlacementSnapshot {
    return { ...this.machine.snapshot(), appliedThrough: this.appliedThrough === null ? null : new Date(this.appliedThrough).toISOString(), through: this.through };
  }

  /** Hand what a message produced to the journal; a changed placement state goes with it. */
  private stage(out: Emission[], messageId: number | null, payload: Buffer | string | null, at: Date): Staged {
    const key = this.phaseKey();
    let snapshot: PlacementSnapshot | null = null;
    if (key !== this.lastQueuedKey) {
      // Only a message with a packet id can come back from the broker ("Replays").
      this.through = payload !== null ? identity(messageId, payload, at.getTime()) : null;
      snapshot = this.snapshot();
    }
    this.lastQueuedKey = key;
    const emitted = out.length > 0 ? this.emitAll(out) : undefined;
    const stored = snapshot && this.stateGate ? this.stateGate(snapshot) : undefined;
    const held = emitted && stored ? Promise.all([emitted, stored]) : (emitted ?? stored);
    return { held, tag: snapshot };
  }

  /** The connection's redelivery window (if open) is dropped: held messages are neither processed nor acknowledged. */
  private dropWindow(): void {
    this.window?.drop();
    this.window = null;
  }

  /** Pipeline figures, for health and the bench. */
  get pipeline(): { acked: number; maxQueued: number; commitFailures: number } {
    return this.acks.stats;
  }

  /**
   * A commit failed: acknowledge nothing more on this connection, roll the placement state back to
   * the last acknowledged message, say why, and reconnect so the broker redelivers.
   */
  private commitFailed(err: unknown, queued: number): void {
    const code = (err as { code?: string }).code;
    this.logger.error({ err, queued }, 'journal commit failed: scale messages NOT acknowledged; the broker will redeliver them');
    this.setError('LG_ERR_STORE_WRITE_FAILED', formatMessage('LG_ERR_STORE_WRITE_FAILED', { detail: `${code ?? ''} ${(err as Error).message ?? String(err)}`.trim() }));
    const counters = { ...this.machine.counters };
    this.machine = new PlacementMachine(placementOptionsFor(this.o.config, this.o.profile, this.o.traceSize));
    this.machine.restore(this.confirmed, parseDec);
    this.appliedThrough = appliedMs(this.confirmed);
    this.through = parseIdentity(this.confirmed.through);
    this.dropWindow();
    Object.assign(this.machine.counters, counters);
    this.lastQueuedKey = this.phaseKey();
    const client = this.client;
    if (client && !this.stopping) {
      this.setState('degraded');
      // Drop the connection (no DISCONNECT: the session and its unacknowledged messages stay);
      // onClose reconnects with backoff.
      client.stream?.destroy();
    }
  }

  private rawFor(payload: Buffer | string, outcome: { details: Record<string, unknown> }): string {
    const r = rawText(payload);
    if (r.truncated) {
      outcome.details.bytes = r.bytes;
      outcome.details.truncated = true;
    }
    return r.raw;
  }

  private onConnect(sessionPresent: boolean): void {
    this.connected = true;
    // A new connection: a new generation of packet ids, acknowledged afresh.
    this.acks.connected();
    this.connects++;
    this.sessionPresent = sessionPresent;
    this.connectedAt = this.clock.now().getTime();
    this.dropWindow();
    // The broker kept our session: it redelivers what it did not see acknowledged, first ("Replays").
    const throughs = sessionPresent && !this.stopping ? recentThroughs([this.through], this.connectedAt) : [];
    if (throughs.length > 0) {
      this.windowsOpened++;
      const w: RedeliveryWindow<PlacementSnapshot | null, Date> = new RedeliveryWindow({
        acks: this.acks,
        throughs,
        none: null,
        maxHeld: this.maxInFlight,
        windowMs: this.o.redeliveryWindowMs ?? REDELIVERY_WINDOW_MS,
        apply: (h: HeldMessage<Date>) => this.apply(h.payload, h.message, h.messageId, h.dup),
        closed: (held, skipped) => {
          if (this.window === w) this.window = null;
          this.replaysSkipped += skipped;
          if (held > 0) this.logger.info({ held, skipped, through: this.through }, skipped > 0 ? 'redelivered scale messages already applied to the journaled state: acknowledged without replay' : 'redelivery window closed: held scale messages processed');
        },
      });
      this.window = w;
    }
    this.logger.info({ sessionPresent, topic: this.topic, connects: this.connects, redeliveryWindow: this.window !== null }, 'scale broker connected');
    this.subscribe();
  }

  private subscribe(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    client.subscribe(this.topic, { qos: 1 }, (err, granted) => {
      if (this.stopping || client !== this.client) return;
      const refused = !granted || granted.length === 0 || granted.some((g) => g.qos === 128 || g.qos > 2);
      if (err || refused) {
        const detail = err ? err.message : `broker refused subscription to ${this.topic}`;
        this.setError('LG_ERR_DEVICE_OPEN_FAILED', formatMessage('LG_ERR_DEVICE_OPEN_FAILED', { kind: 'scale', device: this.id, path: this.topic, detail }));
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
    // Unacknowledged messages of the dead connection are redelivered by the broker; their
    // commits still settle the queue (the PUBACKs themselves are not sent: sendPuback checks gen).
    this.acks.closed();
    this.dropWindow();
    const wasConnected = this.connected;
    this.connected = false;
    this.subscribed = false;
    if (this.stopping) return;
    // Dropped by us after a failed commit: the journal's error is what health must keep naming.
    if (wasConnected && !this.acks.ackFailed) {
      this.logger.warn({ topic: this.topic }, 'scale broker connection lost');
      this.setError('LG_ERR_DEVICE_DISCONNECTED', formatMessage('LG_ERR_DEVICE_DISCONNECTED', { kind: 'scale', device: this.id, detail: `connection to ${redactUrl(this.o.config.broker.url)} lost` }));
    }
    this.setState('offline');
    this.scheduleRetry(() => {
      if (this.client && !this.stopping) this.client.reconnect();
    });
  }

  private scheduleRetry(fn: () => void): void {
    if (this.reconnectTimer || this.stopping) return;
    const ms = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping) fn();
    }, ms);
    this.reconnectTimer.unref();
  }

  private onMessage(payload: Buffer, messageId: number | null, dup: boolean): AckEntry | null {
    const now = this.clock.now();
    this.lastMessageAt = now.getTime();
    if (this.silent || this.state === 'degraded') {
      this.silent = false;
      if (this.subscribed) this.setState('online');
    }
    const held = this.window?.offer({ message: now, payload, messageId, dup });
    if (held) return held;
    return this.process(payload, now, messageId, dup);
  }

  private checkSilence(): void {
    if (!this.connected || !this.subscribed || this.stopping) return;
    const now = this.clock.now().getTime();
    const since = this.lastMessageAt !== null && this.connectedAt !== null ? Math.max(this.lastMessageAt, this.connectedAt) : (this.lastMessageAt ?? this.connectedAt ?? now);
    if (!this.silent && now - since > this.silenceMs) {
      this.silent = true;
      this.setError('LG_ERR_SCALE_SILENT', formatMessage('LG_ERR_SCALE_SILENT', { device: this.id, ms: this.silenceMs, topic: this.topic }));
      this.setState('degraded');
    }
  }

  private emitAll(out: Emission[]): Promise<void> | undefined {
    const gate = this.commitGate;
    const pending: Array<Promise<unknown>> = [];
    for (const e of out) {
      const r: WeightReading =
        e.type === 'capture'
          ? {
              kind: 'weight',
              deviceId: this.id,
              receivedAt: e.at,
              sourceTime: e.sample.sourceTime,
              value: { net: decToString(e.sample.net), tare: decToString(e.sample.tare), gross: decToString(e.sample.gross), unit: e.sample.unit, stable: true },
              raw: e.raw,
            }
          : {
              kind: 'weight',
              deviceId: this.id,
              receivedAt: e.at,
              sourceTime: e.sample?.sourceTime ?? null,
              value: e.sample
                ? { net: decToString(e.sample.net), tare: decToString(e.sample.tare), gross: decToString(e.sample.gross), unit: e.sample.unit, stable: e.sample.stable ?? false }
                : null,
              raw: e.raw,
              error: { code: e.code, message: formatMessage(e.code, { device: this.id, unit: '?', value: '?', min: '?', max: '?', ...e.details }), details: e.details },
            };
      if (r.error) this.setError(r.error.code, r.error.message);
      if (gate) {
        this.gatedLastReadingAt = r.receivedAt;
        this.pendingGates++;
        pending.push(
          Promise.resolve()
            .then(() => gate(r))
            .catch((err: unknown) => {
              this.logger.error({ err, reading: { value: r.value, error: r.error?.code ?? null } }, 'commit gate failed: the message is NOT acknowledged');
              throw err;
            })
            .finally(() => this.pendingGates--),
        );
        continue;
      }
      try {
        this.emitReading(r);
      } catch (err) {
        // A throwing listener must not break the MQTT data path.
        this.logger.error({ err }, 'reading listener threw');
      }
    }
    return pending.length > 0 ? Promise.all(pending).then(() => undefined) : undefined;
  }

  override health(): DriverHealth {
    const h = super.health();
    if (this.gatedLastReadingAt && (!h.lastReadingAt || h.lastReadingAt < this.gatedLastReadingAt.toISOString())) {
      h.lastReadingAt = this.gatedLastReadingAt.toISOString();
    }
    return h;
  }

  protected override details(): Record<string, unknown> {
    const c = this.machine.counters;
    return {
      broker: redactUrl(this.o.config.broker.url),
      clientId: this.clientId,
      topic: this.topic,
      profile: this.o.profile.name,
      connected: this.connected,
      subscribed: this.subscribed,
      sessionPresent: this.sessionPresent,
      connects: this.connects,
      lastMessageAt: this.lastMessageAt !== null ? new Date(this.lastMessageAt).toISOString() : null,
      silenceTimeoutMs: this.silenceMs,
      phase: this.machine.currentPhase,
      messages: c.messages,
      captures: c.captures,
      refusals: c.refusals,
      repeatedRefusals: c.repeats,
      bumpsIgnored: c.bumps,
      replaysSkipped: this.replaysSkipped,
      redeliveryWindows: this.windowsOpened,
      holding: this.window?.holding ?? 0,
    };
  }

  private restoreState(): void {
    if (!this.stateFile) return;
    try {
      const s = JSON.parse(readFileSync(this.stateFile, 'utf8')) as PlacementSnapshot;
      if (s && typeof s.phase === 'string') {
        this.machine.restore(s, parseDec);
        this.appliedThrough = appliedMs(s);
        this.through = parseIdentity(s.through);
        this.savedPhaseKey = this.phaseKey();
      }
    } catch {
      /* no state yet, or unreadable: start empty (worst case one extra capture of a load left on the platform) */
    }
  }

  private lastQueuedKey = '';

  private phaseKey(): string {
    return `${this.machine.currentPhase}|${this.machine.counters.captures}`;
  }

  /**
   * Persist the placement state when the phase or last capture changed (a few times per
   * placement). Written asynchronously and coalesced — at most one write in flight, the latest
   * snapshot wins — so the 10 Hz data path never waits for the disk. A crash in the window loses
   * at most the "already captured" mark: the load still on the platform would be captured again
   * after the restart, and the journal shows both records.
   */
  private saveState(force: boolean): void {
    if (!this.stateFile || this.stateGate) return;
    const c = this.confirmed;
    const key = `${c.phase}|${c.lastCapture?.at ?? ''}|${c.lastCapture?.net ?? ''}`;
    if (!force && key === this.savedPhaseKey) return;
    this.savedPhaseKey = key;
    this.stateDirty = true;
    if (!this.stateWriting) this.stateWriting = this.writeStateLoop().finally(() => (this.stateWriting = null));
  }

  private async writeStateLoop(): Promise<void> {
    const file = this.stateFile!;
    while (this.stateDirty) {
      this.stateDirty = false;
      const text = JSON.stringify(this.confirmed);
      try {
        await mkdir(dirname(file), { recursive: true });
        const tmp = `${file}.tmp`;
        await writeFile(tmp, text);
        await rename(tmp, file);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'could not save scale placement state');
      }
    }
  }

  /** Wait for pending state writes (stop() calls it). */
  async flushState(): Promise<void> {
    while (this.stateWriting) await this.stateWriting;
  }
}

function appliedMs(s: PlacementSnapshot): number | null {
  const t = s.appliedThrough ? Date.parse(s.appliedThrough) : NaN;
  return Number.isFinite(t) ? t : null;
}

function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return u;
  }
}
