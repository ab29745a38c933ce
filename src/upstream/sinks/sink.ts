/**
 * The contract between the dispatcher and a transport. A sink never throws out of `send`: every
 * failure is an outcome, so the dispatcher alone decides what is delivered, retried or quarantined.
 */
export interface OutgoingRecord {
  seq: number;
  id: string;
  type: string;
  site: string;
  line: string | null;
  station: string | null;
  batch: string | null;
  lot: string | null;
  device: string | null;
  /** The serialised CloudEvent (structured JSON). */
  body: string;
  /** Byte length of `body` (UTF-8). */
  bytes: number;
}

export type RecordOutcome =
  | { outcome: 'delivered' }
  | { outcome: 'retry'; status?: number; detail: string }
  | { outcome: 'refused'; status: number; detail: string };

export type SendResult =
  /** The answer covers the whole request. A whole-request refusal of >1 records makes the dispatcher split it. */
  | { kind: 'all'; outcome: 'delivered' }
  | { kind: 'all'; outcome: 'retry'; status?: number; detail: string; retryAfterMs?: number }
  | { kind: 'all'; outcome: 'refused'; status: number; detail: string }
  /** One outcome per record, same order and length as sent. */
  | { kind: 'each'; results: RecordOutcome[]; retryAfterMs?: number };

export interface SinkLimits {
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
  maxInFlight: number;
}

export interface Sink {
  readonly id: string;
  readonly kind: 'http' | 'mqtt' | 'postgres' | 'epcis';
  readonly limits: SinkLimits;
  readonly backoff: { baseMs: number; maxMs: number; probeMs?: number };
  /**
   * Cheap reachability check while the dispatcher backs off (optional): true when the receiver answers
   * at all (so a real delivery is worth trying now). Never throws; bounded by `signal`.
   */
  probe?(signal: AbortSignal): Promise<boolean>;
  /** Connect (MQTT) or prepare; never throws because the peer is absent. */
  start(): Promise<void>;
  /** Deliver records in array order; resolves with outcomes, never rejects. */
  send(records: OutgoingRecord[], signal: AbortSignal): Promise<SendResult>;
  /** Idempotent, bounded. */
  close(): Promise<void>;
}

/** Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Capped at one hour; undefined if absent/invalid. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const s = v.trim();
  let ms: number;
  if (/^\d+$/.test(s)) ms = Number(s) * 1000;
  else {
    const t = Date.parse(s);
    if (Number.isNaN(t)) return undefined;
    ms = t - nowMs;
  }
  return Math.min(Math.max(0, ms), 3_600_000);
}
