import type { JournalRecord } from './binding/types.js';

/**
 * Live events for station pages (Server-Sent Events): scan verdicts, context changes, device and
 * printer status, live scale weights. In memory and best effort by design — the journal is the
 * record: a `record` event carries its journal seq as SSE id, and a stream that reconnects with
 * `Last-Event-ID` gets the station's missed records replayed from the journal (src/api/sse.ts).
 */
export interface LiveEvent {
  event: string;
  data: Record<string, unknown>;
}

type Listener = (e: LiveEvent) => void;

export class LiveEvents {
  private readonly byStation = new Map<string, Set<Listener>>();
  private readonly all = new Set<Listener>();

  subscribe(station: string | null, cb: Listener): () => void {
    if (station === null) {
      this.all.add(cb);
      return () => this.all.delete(cb);
    }
    let set = this.byStation.get(station);
    if (!set) this.byStation.set(station, (set = new Set()));
    set.add(cb);
    return () => set!.delete(cb);
  }

  /** station null = every station (e.g. a line-wide alarm). */
  publish(station: string | null, e: LiveEvent): void {
    const targets = station === null ? [...this.byStation.values()].flatMap((s) => [...s]) : [...(this.byStation.get(station) ?? [])];
    for (const cb of [...targets, ...this.all]) {
      try {
        cb(e);
      } catch {
        /* a broken subscriber must not affect the others */
      }
    }
  }

  listenerCount(): number {
    let n = this.all.size;
    for (const s of this.byStation.values()) n += s.size;
    return n;
  }
}

/**
 * The record type station pages never show: process values (issue 18; MQTT / OPC UA at up to
 * 1,000 a second) would flood the live stream, its replay and the "recent" list, and push the
 * scan verdicts the operator acts on out of them. They stay in the journal, the batch report and
 * `GET /records?type=process.value`.
 */
export const NOT_AT_STATION = 'process.value';

/** The verdict an operator sees for a record. */
export function verdictOf(r: JournalRecord): LiveEvent {
  return {
    event: 'record',
    data: {
      seq: r.seq,
      id: r.id,
      type: r.type,
      accepted: r.status === 'accepted',
      code: r.errorCode,
      message: r.message,
      station: r.station,
      batch: r.batch,
      lot: r.lot,
      operator: r.operator,
      device: r.device,
      at: r.receivedAt,
      // What a station page shows beside the verdict (weights, materials, commands); never raw bytes.
      detail: pick(r.payload, VERDICT_DETAIL),
    },
  };
}

const VERDICT_DETAIL = ['material', 'quantity', 'quantityUnit', 'position', 'unit', 'net', 'command', 'overrides', 'by', 'reason', 'previous', 'state', 'badge'] as const;

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = o[k];
    if (v !== undefined && v !== null && (typeof v !== 'string' || v.length <= 200)) out[k] = v;
  }
  return out;
}
