/**
 * The redelivery window (issue 18; found by the kill9 fault script: loads journaled twice), for
 * every MQTT driver whose journaled state can be AHEAD of what the broker saw acknowledged.
 *
 * A driver journals its state (a scale's placement, a process value's last record) in the commit
 * that a message's PUBACK waits for. A crash — or a lost connection — after that commit but before
 * the PUBACK reached the broker (a socket closed with unread data is reset, and what it still had
 * to send is dropped) makes the broker redeliver messages whose effect is already in the state;
 * replayed, a load is captured twice, a value recorded twice with a new receive time.
 *
 * So the state names the message that made it (`through`: packet id and a hash of the payload
 * bytes). A broker re-sends unacknowledged messages with their original packet ids, first, in
 * order and marked DUP (MQTT 3.1.1 §3.3.1.1, §4.4, §4.6), and PUBACKs go out in order, so what it
 * redelivers is a SUFFIX of what it sent: when a `through` is in it, every redelivered message up to
 * and including it was applied already, and (for the latest `through`) none after it. After a
 * CONNACK with a session present, the DUP messages are therefore HELD — neither processed nor
 * acknowledged, each keeping its place in the PUBACK queue — until the window closes:
 *   (a) every `through` was seen (a scale has one; a value driver one per value);
 *   (b) a message without DUP arrives (the redelivery is over, or there was none);
 *   (c) `maxHeld` are held (the pump would stall on a full window anyway); or
 *   (d) `windowMs` passed since the CONNACK.
 * Then the held messages up to the LAST one that was a `through` are acknowledged without replay
 * (`skipped`), and the rest are processed, in order, exactly as without the window. A connection
 * lost (or a stop) while holding drops them unprocessed and unacknowledged: the broker redelivers
 * them again.
 *
 * Only DUP messages are trusted. aedes 1.2 re-sends its stored messages WITHOUT the flag, and
 * interleaves them with new ones (the kill9 fault script on aedes: 511 loads delivered out of
 * order in 425 kills); a new message there also gets a packet id from a fresh random start, so a
 * new zero could carry the `through`'s id and bytes, and skipping "up to it" would drop new
 * messages — a loss, where a replay is only a double. So on such a broker the window closes at the
 * first message and nothing is skipped (a replay can record twice; never lose). Mosquitto marks
 * redeliveries and sends them first.
 *
 * A `through` can only come back if its PUBACK was lost in the last moments of its connection, so
 * one applied more than THROUGH_MAX_AGE_MS before the CONNACK is not looked for (after a longer
 * outage a replay can record twice, as without the window). A wrong match needs a redelivered
 * (DUP) message that is not the `through` but has its packet id AND its payload bytes: the id
 * reused by the broker after the `through` was acknowledged. Mosquitto numbers a client's packets
 * sequentially across reconnects, so the same id comes again only 65,535 messages later — within
 * THROUGH_MAX_AGE_MS that takes over 109 messages/s on that one connection, and then the identical
 * payload among the few messages in flight. A broker that re-numbers what it redelivers
 * (against §4.4) never matches, and gets the behaviour without the window: a replay can record
 * twice, never lose. The price: after a reconnect, redelivered messages wait up to `windowMs` when
 * nothing matches and nothing new follows them (health: `holding`, `redeliveryWindows`).
 */
import type { AckEntry, PubackQueue } from './puback-queue.js';

/** After a CONNACK with a session present, messages are held at most this long. */
export const REDELIVERY_WINDOW_MS = 1500;

/** A `through` applied longer ago than this before the CONNACK is not looked for (file comment). */
export const THROUGH_MAX_AGE_MS = 10 * 60_000;

/** A message as the broker numbers it: packet id, a hash of its payload bytes, when it was applied (ms). */
export interface MessageIdentity {
  id: number;
  hash: string;
  at: number;
}

/**
 * A 53-bit hash of the payload bytes (cyrb53, public domain): it only has to tell apart messages that
 * already share a packet id, and it runs for every recorded process value, where SHA-256 cost about
 * 5 % of the durable values rate.
 */
export function payloadHash(payload: Buffer | string): string {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** The identity of a message, when it has a packet id (only those come back from a broker). */
export function identity(messageId: number | null, payload: Buffer | string, atMs: number): MessageIdentity | null {
  return messageId === null ? null : { id: messageId, hash: payloadHash(payload), at: atMs };
}

/** A stored `through`, when well-formed (a hand-edited or older state has none). */
export function parseIdentity(t: unknown): MessageIdentity | null {
  const x = t as { id?: unknown; hash?: unknown; at?: unknown } | null | undefined;
  if (!x || typeof x.id !== 'number' || !Number.isInteger(x.id) || x.id <= 0 || x.id > 65_535) return null;
  if (typeof x.hash !== 'string' || x.hash.length === 0 || typeof x.at !== 'number' || !Number.isFinite(x.at)) return null;
  return { id: x.id, hash: x.hash, at: x.at };
}

/** The `through`s worth looking for at a CONNACK at `nowMs` (applied at most THROUGH_MAX_AGE_MS before, either way of a clock step). */
export function recentThroughs(throughs: Array<MessageIdentity | null>, nowMs: number, maxAgeMs = THROUGH_MAX_AGE_MS): MessageIdentity[] {
  return throughs.filter((t): t is MessageIdentity => t !== null && Math.abs(nowMs - t.at) <= maxAgeMs);
}

export interface HeldMessage<M> {
  /** What the driver needs to process it later (topic, arrival time…). */
  message: M;
  payload: Buffer;
  messageId: number | null;
  dup: boolean;
}

/** What processing a message hands the PUBACK queue: the commit it waits for and its tag. */
export interface Staged<T> {
  held: Promise<unknown> | undefined;
  tag: T;
}

export interface RedeliveryWindowOptions<T, M> {
  acks: PubackQueue<T>;
  throughs: MessageIdentity[];
  /** The tag of a place that changes nothing (skipped or dropped). */
  none: T;
  maxHeld: number;
  windowMs: number;
  /** Process a held message now (the window closed without it being a replay). */
  apply: (m: HeldMessage<M>) => Staged<T>;
  /** The window closed: how many were held, how many were skipped as already applied. */
  closed: (held: number, skipped: number) => void;
}

interface Held<T, M> extends HeldMessage<M> {
  entry: AckEntry<T>;
  settle: (held: Promise<unknown> | undefined) => void;
}

export class RedeliveryWindow<T, M> {
  private readonly held: Array<Held<T, M>> = [];
  private readonly waiting = new Map<number, Set<string>>();
  private waitingCount = 0;
  private lastMatch = -1;
  private open = true;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: RedeliveryWindowOptions<T, M>) {
    for (const t of o.throughs) {
      const s = this.waiting.get(t.id) ?? new Set<string>();
      if (!s.has(t.hash)) (s.add(t.hash), this.waitingCount++);
      this.waiting.set(t.id, s);
    }
    this.timer = setTimeout(() => this.close(), o.windowMs);
    this.timer.unref();
  }

  get isOpen(): boolean {
    return this.open;
  }

  get holding(): number {
    return this.open ? this.held.length : 0;
  }

  /**
   * A message arrived on the window's connection. Returns its place in the PUBACK queue when it is
   * held, or null when the window is (now) closed and the caller processes it as usual.
   */
  offer(m: HeldMessage<M>): AckEntry<T> | null {
    if (!this.open) return null;
    // A message without DUP: the broker's redelivery is over (or there was none, or it does not mark).
    if (!m.dup) {
      this.close();
      return null;
    }
    let settle!: Held<T, M>['settle'];
    const decided = new Promise<unknown>((resolve, reject) => {
      settle = (held) => (held ? held.then(resolve, reject) : resolve(undefined));
    });
    const entry = this.o.acks.push(decided, m.messageId, this.o.none)!;
    this.held.push({ ...m, entry, settle });
    const hashes = m.messageId !== null ? this.waiting.get(m.messageId) : undefined;
    if (hashes) {
      const h = payloadHash(m.payload);
      if (hashes.delete(h)) {
        this.waitingCount--;
        this.lastMatch = this.held.length - 1;
      }
    }
    if (this.waitingCount === 0 || this.held.length >= this.o.maxHeld) this.close();
    return entry;
  }

  /** Close: the held messages up to the last `through` were applied already; the rest are processed, in order. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    clearTimeout(this.timer);
    const skip = this.lastMatch + 1;
    this.o.closed(this.held.length, skip);
    this.held.forEach((h, i) => {
      if (i < skip) return h.settle(undefined);
      const staged = this.o.apply(h);
      h.entry.tag = staged.tag;
      h.settle(staged.held);
    });
  }

  /** The connection is gone (or the driver stops): nothing held is processed or acknowledged; the broker redelivers it. */
  drop(): void {
    if (!this.open) return;
    this.open = false;
    clearTimeout(this.timer);
    for (const h of this.held) {
      // Never acknowledged (a stop drops the window while the connection is still up).
      h.entry.messageId = null;
      h.settle(undefined);
    }
  }
}
