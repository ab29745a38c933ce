/**
 * The pipelined commit gate's acknowledgement queue (issue 18), one for every MQTT driver whose
 * messages become journaled records (scales, process values).
 *
 * Each QoS 1 message that waits for a commit takes a place here and MQTT.js's packet pump goes on
 * at once (handleMessage's callback called with DEFER_ACK: MQTT.js 5.16.0, pinned, then skips its
 * own PUBACK and reads the next packet — handlers/publish.js). PUBACKs go out strictly in the order
 * the PUBLISH packets arrived (MQTT 3.1.1 §4.6), each once the commit that holds it and every
 * earlier one are done, and only on the connection the message came in on: a packet id of a dead
 * connection could acknowledge a different message on the next (`gen`). The window is bounded
 * (`maxInFlight`; announced to MQTT 5 brokers as Receive Maximum): when it is full the pump waits.
 *
 * A failed commit acknowledges nothing more on that connection (`failed` until the next CONNACK):
 * the queue is dropped (its waiters released), the driver rolls its own state back and drops the
 * connection, and the broker redelivers everything unacknowledged.
 *
 * The PUBACK itself goes through the client's packet writer (`_sendPacket`, not public API — the
 * only way to emit a PUBACK after handleMessage returned); test/integration/scale/pipelined-gate
 * and the values gate tests check the order and the connection on real brokers.
 */
import type { MqttClient } from 'mqtt';

/** Passed to MQTT.js's handleMessage callback: "do not send the PUBACK" (we send it in order). */
export const DEFER_ACK = new Error('linegate: PUBACK deferred to the commit gate');

export interface AckEntry<T> {
  /** Connection generation the message arrived on; a PUBACK is only ever sent on that one. */
  gen: number;
  /** MQTT packet id (QoS 1), or null (QoS 0, a driver's own emission, a bench or test feed). */
  messageId: number | null;
  settled: boolean;
  /** The driver's state after this message (what becomes "confirmed" once it is acknowledged). */
  tag: T;
  /** Called once the entry leaves the queue (acknowledged, or dropped after a failed commit). */
  waiters: Array<() => void>;
}

export interface PubackQueueOptions<T> {
  maxInFlight: number;
  /** The live client (null while stopped). */
  client: () => MqttClient | null;
  /** An entry was acknowledged (or needed no commit), in arrival order. */
  acknowledged: (tag: T) => void;
  /** After a run of acknowledgements (once per flush). */
  flushed?: () => void;
  /** A commit failed: the queue is already dropped; the driver rolls back and drops the connection. */
  failed: (err: unknown, dropped: number) => void;
}

export class PubackQueue<T> {
  private readonly entries: Array<AckEntry<T>> = [];
  /** Pump callbacks held while the window is full. */
  private readonly paused: Array<() => void> = [];
  private gen = 0;
  /** The current connection's acknowledgements stopped after a failed commit. */
  private stopped = false;
  /** Pipeline figures, for health and the bench. */
  readonly stats = { acked: 0, maxQueued: 0, commitFailures: 0 };

  constructor(private readonly o: PubackQueueOptions<T>) {}

  get length(): number {
    return this.entries.length;
  }

  /** True after a failed commit, until the next connection. */
  get ackFailed(): boolean {
    return this.stopped;
  }

  /**
   * A message processed: `held` is the commit it waits for (undefined: nothing to commit). Returns
   * its place, or null when it was acknowledged at once (nothing held and nothing queued before it).
   */
  push(held: Promise<unknown> | undefined, messageId: number | null, tag: T): AckEntry<T> | null {
    if (!held && this.entries.length === 0) {
      this.o.acknowledged(tag);
      this.o.flushed?.();
      this.stats.acked++;
      return null;
    }
    const entry: AckEntry<T> = { gen: this.gen, messageId, settled: !held, tag, waiters: [] };
    this.entries.push(entry);
    if (this.entries.length > this.stats.maxQueued) this.stats.maxQueued = this.entries.length;
    held?.then(
      () => {
        entry.settled = true;
        this.flush();
      },
      (err: unknown) => this.fail(entry, err),
    );
    return entry;
  }

  /** The tail of handleMessage for a message that took a place: the pump reads on unless the window is full. */
  deferred(cb: (err?: Error) => void): void {
    if (this.entries.length >= this.o.maxInFlight) this.paused.push(() => cb(DEFER_ACK));
    else cb(DEFER_ACK);
  }

  /** A CONNACK: a new generation of packet ids, acknowledged afresh. */
  connected(): void {
    this.gen++;
    this.stopped = false;
  }

  /**
   * The connection closed: its unacknowledged messages are redelivered by the broker; their commits
   * still settle the queue (their PUBACKs are not sent: the generation moved on).
   */
  closed(): void {
    this.gen++;
    for (const cb of this.paused.splice(0)) cb();
  }

  /** Resolves when the queue is empty, or after `ms` (a journal that does not answer must not block shutdown). */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.entries.length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  }

  private flush(): void {
    let any = false;
    while (this.entries.length > 0 && this.entries[0]!.settled) {
      const e = this.entries.shift()!;
      if (e.messageId !== null) this.sendPuback(e);
      this.stats.acked++;
      this.o.acknowledged(e.tag);
      any = true;
      for (const w of e.waiters) w();
    }
    if (any) this.o.flushed?.();
    while (this.paused.length > 0 && this.entries.length < this.o.maxInFlight) this.paused.shift()!();
  }

  private sendPuback(e: AckEntry<T>): void {
    const client = this.o.client();
    if (!client || e.gen !== this.gen || !client.connected || this.stopped) return;
    (client as unknown as { _sendPacket(p: { cmd: 'puback'; messageId: number }, cb: () => void): void })._sendPacket({ cmd: 'puback', messageId: e.messageId! }, () => undefined);
  }

  private fail(entry: AckEntry<T>, err: unknown): void {
    if (!this.entries.includes(entry)) return; // already dropped with the rest of its queue
    this.stats.commitFailures++;
    const dropped = this.entries.splice(0);
    this.stopped = true;
    this.gen++;
    this.o.failed(err, dropped.length);
    // Held pump callbacks belong to the connection being dropped (the driver's handleMessage
    // defers everything while `ackFailed`).
    for (const cb of this.paused.splice(0)) cb();
    for (const e of dropped) for (const w of e.waiters) w();
  }
}
