/**
 * The dispatcher: drains the outbox of every configured sink, at least once, in order per batch.
 *
 * Per sink a SinkWorker keeps a bounded WINDOW of pending records in memory, loaded from the outbox in
 * seq order page by page (never the whole backlog: memory is O(window), not O(backlog)). From the window
 * it forms requests (count, bytes, linger) and keeps up to `maxInFlight` of them in flight.
 *
 * ORDER PER BATCH — the rule: a record may be put in a request only when no record of the same
 * production batch is in flight. Because the window is in seq order and a request takes records in seq
 * order, the records of one batch are always sent as consecutive runs, and the next run of that batch
 * starts only once the previous run is answered. If the previous run failed, its records go back into the
 * window ahead of the later ones (same seq position), so they are sent first again. A lost reply makes
 * the same run arrive twice (a duplicate), never a later record before an earlier one. Records without
 * a batch carry no order constraint.
 * Rate: a line normally runs one batch at a time, so in practice this is one request in flight for that
 * batch — but a request carries up to `batch.maxRecords` (default 500) records, so one round trip moves
 * hundreds of records; measured in bench/upstream.ts. Several batches (lines, stations) do use
 * the concurrency.
 *
 * FAILURES pause the whole sink (not one record): a 5xx/429/timeout says the receiver is unwell, so
 * every request would fail alike. Pause = Retry-After when given, else exponential backoff with full
 * jitter; reset after a success. One failure is counted per attempt window: requests that were already
 * in flight when a failure was counted fail for the same reason and do not grow the backoff again (with
 * 4 requests in flight an outage would otherwise reach the maximum delay after two rounds). While the
 * receiver is unreachable (no HTTP answer, 502/503/504 without Retry-After) the worker probes it every
 * `backoff.probeMs` (HTTP HEAD, MQTT: client connected) and ends the pause as soon as it answers, so
 * recovery is noticed within a probe interval, not after the backoff has run out. A Retry-After is
 * always waited out: the receiver asked for it.
 *
 * PERMANENT REFUSAL (4xx other than 408/429): per-record results (207-style `{results:[…]}`) quarantine
 * exactly the refused records. A whole request refused without per-record results is split in halves
 * and retried until the refused record is alone (binary search, log2(n) extra requests), then only it
 * is quarantined. Quarantined rows leave the window, so later records — of its batch too — proceed.
 *
 * DELIVERED is written only after a positive answer (2xx / PUBACK), in one transaction per reply.
 * After a crash anything not marked delivered is sent again; the record id makes it effectively once.
 */
import { hostname } from 'node:os';
import type { Db } from '../store/db.js';
import type BetterSqlite3 from 'better-sqlite3';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Stmt = BetterSqlite3.Statement<any[]>;
import type { JournalRecord } from '../binding/types.js';
import type { UpstreamConfig, SinkConfig } from '../config/upstream.js';
import { LgError } from '../errors.js';
import { backoffDelay } from '../util/backoff.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { toCloudEvent, type CloudEvent } from './cloudevents.js';
import { HttpSink } from './sinks/http.js';
import { MqttSink } from './sinks/mqtt.js';
import { PostgresSink } from './sinks/postgres.js';
import { EpcisSink, type EpcisEventSource } from './sinks/epcis.js';
import type { OutgoingRecord, RecordOutcome, SendResult, Sink } from './sinks/sink.js';
import { rowToRecord as journalRowToRecord } from '../store/journal.js';


/**
 * Pauses, probes, linger and rates are scheduled on the MONOTONIC clock: a step of the wall clock
 * (NTP after a long outage, a person setting the time) must not pause delivery for the size of the
 * step — a step back by 13 h would otherwise hold every retry for 13 h (found by the clock-jump fault
 * script, issue 18). Only times shown to people or written to the outbox are converted to wall time.
 */
const monoNow = (): number => performance.now();
/** Pause after the journal refused to record a delivery outcome. */
const STORE_FAILURE_PAUSE_MS = 1000;
const toWall = (mono: number): Date => new Date(Date.now() + (mono - performance.now()));

export interface DispatcherOptions {
  /** Gateway id in the CloudEvents source; defaults to the host name. */
  gatewayId?: string;
  logger?: Logger;
  clock?: Clock;
  /** Most records held in memory per sink (default: max(1000, 2 × maxInFlight × maxRecords)). */
  windowRecords?: number;
  /** Most serialised bytes held in memory per sink (default 32 MiB). */
  windowBytes?: number;
  /** Rows read per outbox query (default 500). */
  pageSize?: number;
  /** Safety-net poll of the outbox when nobody calls notify() (default 1000 ms). */
  pollMs?: number;
  /** Random source for the backoff jitter (tests). */
  random?: () => number;
  /** The EPCIS events of a record, for `epcis` sinks (src/usecases/exports.ts). */
  epcis?: EpcisEventSource;
}

export interface SinkError {
  code: 'LG_ERR_SINK_UNREACHABLE' | 'LG_ERR_SINK_REFUSED' | 'LG_ERR_STORE_WRITE_FAILED';
  message: string;
  status?: number;
  at: string;
}

export interface SinkStats {
  sink: string;
  kind: Sink['kind'];
  state: 'stopped' | 'running' | 'backoff' | 'stopping';
  /** Records owed to this sink (outbox state pending), from the database. */
  backlog: number;
  quarantined: number;
  /** Receive time of the oldest pending record, and its age in ms. */
  oldestPendingAt: string | null;
  oldestAgeMs: number | null;
  inFlightRequests: number;
  inFlightRecords: number;
  /** Records in the in-memory window (bounded). */
  windowRecords: number;
  deliveredTotal: number;
  quarantinedTotal: number;
  /** Records delivered per second over the last 10 s. */
  ratePerSec: number;
  lastDeliveredAt: string | null;
  lastError: SinkError | null;
  /** When the sink resumes after a failure (null when not backing off). */
  resumeAt: string | null;
  failuresSinceSuccess: number;
  /** Reachability probes sent while backing off (see backoff.probeMs). */
  probesTotal: number;
  /** Delivery attempts that failed and will be retried (metrics: linegate_delivery_retries_total). */
  retriesTotal: number;
}

export interface QuarantinedEntry {
  seq: number;
  id: string;
  type: string;
  batch: string | null;
  lot: string | null;
  station: string | null;
  attempts: number;
  /** The receiver's answer: `{code, status, detail, at}`. */
  error: { code: string; status?: number; detail: string; at: string } | null;
}

export interface QuarantinedExport extends QuarantinedEntry {
  event: CloudEvent<JournalRecord>;
}

interface Item extends OutgoingRecord {
  state: 'ready' | 'inflight';
  /** Largest request this record may join (lowered by split-and-retry). */
  limit: number;
  /** When it entered the window (linger is measured from here). */
  readyAt: number;
}

interface RecordRow {
  seq: number;
  id: string;
  type: string;
  status: 'accepted' | 'rejected';
  error_code: string | null;
  message: string | null;
  site: string;
  line: string | null;
  station: string | null;
  batch: string | null;
  lot: string | null;
  operator: string | null;
  device: string | null;
  payload: string;
  source_time: string | null;
  received_at: string;
  clock_synced: number;
  attempts?: number;
  last_error?: string | null;
}


/** A `records` row as the outbox queries select it → JournalRecord (the journal's one mapping). */
export function rowToRecord(r: RecordRow): JournalRecord {
  return journalRowToRecord(r as unknown as Record<string, unknown>);
}

const RECORD_COLS = `r.seq, r.id, r.type, r.status, r.error_code, r.message, r.site, r.line, r.station, r.batch, r.lot,
  r.operator, r.device, r.payload, r.source_time, r.received_at, r.clock_synced`;

/** Build a sink from its config. An `epcis` sink needs the event source (the gateway's EPCIS export). */
export function createSink(cfg: SinkConfig, logger?: Logger, epcis?: EpcisEventSource): Sink {
  if (cfg.kind === 'postgres') return new PostgresSink(cfg, logger?.child({ component: 'upstream', sink: cfg.id }));
  if (cfg.kind === 'epcis') {
    if (!epcis) throw new LgError('LG_ERR_INTERNAL', { detail: `sink ${cfg.id}: an EPCIS sink needs the EPCIS event source (DispatcherOptions.epcis)` });
    return new EpcisSink(cfg, epcis);
  }
  return cfg.kind === 'http' ? new HttpSink(cfg) : new MqttSink(cfg, logger?.child({ component: 'upstream', sink: cfg.id }));
}

/** Build the dispatcher for an upstream config. */
export function createDispatcher(db: Db, cfg: UpstreamConfig, opts: DispatcherOptions = {}): Dispatcher {
  return new Dispatcher(db, cfg.sinks.map((s) => createSink(s, opts.logger, opts.epcis)), { ...opts, gatewayId: opts.gatewayId ?? cfg.gatewayId });
}

export class Dispatcher {
  private readonly workers = new Map<string, SinkWorker>();
  constructor(db: Db, sinks: Sink[], opts: DispatcherOptions = {}) {
    const logger = (opts.logger ?? silentLogger()).child({ component: 'upstream' });
    const gatewayId = opts.gatewayId ?? hostname();
    for (const s of sinks) {
      if (this.workers.has(s.id)) throw new Error(`duplicate sink id ${s.id}`);
      this.workers.set(s.id, new SinkWorker(db, s, { ...opts, gatewayId, logger: logger.child({ sink: s.id }) }));
    }
  }

  sinkIds(): string[] {
    return [...this.workers.keys()];
  }

  /** Connect the sinks and begin draining. Returns once every sink has been started. */
  async start(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.start()));
  }

  /**
   * Stop: no new requests; wait up to `timeoutMs` for in-flight ones, then abort them (their records
   * stay pending and are re-sent on the next start). Bounded by timeoutMs + ~2 s for sink close.
   */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop(opts.timeoutMs ?? 5000)));
  }

  /** New records were committed (wire to Journal.onCommitted): wake the workers now rather than at the next poll. */
  notify(): void {
    for (const w of this.workers.values()) w.notify();
  }

  stats(): SinkStats[] {
    return [...this.workers.values()].map((w) => w.stats());
  }

  listQuarantined(sink: string, opts: { limit?: number; after?: number } = {}): QuarantinedEntry[] {
    return this.worker(sink).listQuarantined(opts.limit ?? 100, opts.after ?? 0);
  }

  /** Put quarantined records back to pending (all, or the given seqs); returns how many. */
  replayQuarantined(sink: string, seqs: number[] | 'all'): number {
    return this.worker(sink).replay(seqs);
  }

  /** Every quarantined record of a sink with the answer and the exact event, read page by page. */
  exportQuarantined(sink: string): Generator<QuarantinedExport> {
    return this.worker(sink).exportQuarantined();
  }

  private worker(sink: string): SinkWorker {
    const w = this.workers.get(sink);
    if (!w) throw new LgError('LG_ERR_SINK_NOT_FOUND', { sink });
    return w;
  }
}

class SinkWorker {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly windowMax: number;
  private readonly windowBytesMax: number;
  private readonly pageSize: number;
  private readonly pollMs: number;
  private readonly gatewayId: string;

  private window: Item[] = [];
  private windowBytes = 0;
  private cursor = 0;
  private exhausted = false;
  private rescan = false;
  private running = false;
  private stopping = false;
  private pausedUntil = 0;
  private failures = 0;
  /** Bumped on every counted failure; a request that fails with a stale epoch does not count again. */
  private failEpoch = 0;
  /** The last counted failure was "receiver unreachable" without Retry-After: probing may end the pause. */
  private probeable = false;
  private probe: AbortController | undefined;
  private nextProbeAt = 0;
  private probesTotal = 0;
  private retriesTotal = 0;
  private inFlight = new Map<number, { ac: AbortController; items: Item[]; done: Promise<void> }>();
  private nextReqId = 1;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;

  private deliveredTotal = 0;
  private quarantinedTotal = 0;
  private lastDeliveredAt: string | null = null;
  private lastError: SinkError | null = null;
  private rateBuckets: Array<{ at: number; n: number }> = [];
  private countCache: { at: number; backlog: number; quarantined: number; oldest: string | null } | undefined;

  private readonly q: {
    page: Stmt;
    delivered: Stmt;
    quarantine: Stmt;
    failed: Stmt;
    backlog: Stmt;
    quarantinedCount: Stmt;
    oldest: Stmt;
    listQ: Stmt;
    exportQ: Stmt;
  };

  constructor(
    private readonly db: Db,
    readonly sink: Sink,
    opts: DispatcherOptions & { gatewayId: string; logger: Logger },
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.random = opts.random ?? Math.random;
    this.gatewayId = opts.gatewayId;
    this.windowMax = opts.windowRecords ?? Math.max(1000, 2 * sink.limits.maxInFlight * sink.limits.maxRecords);
    this.windowBytesMax = opts.windowBytes ?? 32 * 1024 * 1024;
    this.pageSize = opts.pageSize ?? 500;
    this.pollMs = opts.pollMs ?? 1000;
    this.q = {
      page: db.prepare(
        `SELECT ${RECORD_COLS} FROM outbox o JOIN records r ON r.seq = o.seq
         WHERE o.sink = ? AND o.state = 'pending' AND o.seq > ? ORDER BY o.seq LIMIT ?`,
      ),
      delivered: db.prepare(
        `UPDATE outbox SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL, next_attempt_at = NULL
         WHERE sink = ? AND seq = ? AND state = 'pending'`,
      ),
      quarantine: db.prepare(
        `UPDATE outbox SET state = 'quarantined', attempts = attempts + 1, last_error = ?, next_attempt_at = NULL
         WHERE sink = ? AND seq = ? AND state = 'pending'`,
      ),
      failed: db.prepare(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE sink = ? AND seq = ? AND state = 'pending'`),
      backlog: db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE sink = ? AND state = 'pending'`),
      quarantinedCount: db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE sink = ? AND state = 'quarantined'`),
      oldest: db.prepare(
        `SELECT r.received_at AS at FROM outbox o JOIN records r ON r.seq = o.seq WHERE o.sink = ? AND o.state = 'pending' ORDER BY o.seq LIMIT 1`,
      ),
      listQ: db.prepare(
        `SELECT o.seq, r.id, r.type, r.batch, r.lot, r.station, o.attempts, o.last_error FROM outbox o JOIN records r ON r.seq = o.seq
         WHERE o.sink = ? AND o.state = 'quarantined' AND o.seq > ? ORDER BY o.seq LIMIT ?`,
      ),
      exportQ: db.prepare(
        `SELECT ${RECORD_COLS}, o.attempts, o.last_error FROM outbox o JOIN records r ON r.seq = o.seq
         WHERE o.sink = ? AND o.state = 'quarantined' AND o.seq > ? ORDER BY o.seq LIMIT ?`,
      ),
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    // Start from scratch: whatever is pending in the database is the truth (crash-safe restart).
    this.window = [];
    this.windowBytes = 0;
    this.cursor = 0;
    this.exhausted = false;
    await this.sink.start();
    this.pollTimer = setInterval(() => {
      this.exhausted = false;
      this.schedulePump();
    }, this.pollMs);
    this.pollTimer.unref?.();
    this.log.info({ kind: this.sink.kind }, 'upstream sink started');
    this.schedulePump();
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.probe?.abort();
    const pending = [...this.inFlight.values()];
    if (pending.length > 0) {
      let t: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((r) => (t = setTimeout(r, timeoutMs)));
      await Promise.race([Promise.all(pending.map((p) => p.done)), expired]);
      if (t) clearTimeout(t);
      for (const p of this.inFlight.values()) p.ac.abort();
      await Promise.all([...this.inFlight.values()].map((p) => p.done));
    }
    await this.sink.close();
    this.stopping = false;
    this.window = [];
    this.windowBytes = 0;
    this.log.info({}, 'upstream sink stopped');
  }

  notify(): void {
    this.exhausted = false;
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private wakeAt(at: number): void {
    if (!this.running) return;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, at - monoNow()));
  }

  private pump(): void {
    if (!this.running) return;
    try {
      this.fill();
    } catch (err) {
      this.log.error({ err }, 'reading the outbox failed; retrying');
      this.wakeAt(monoNow() + 1000);
      return;
    }
    const now = monoNow();
    if (now < this.pausedUntil) {
      const probeMs = this.sink.backoff.probeMs ?? 0;
      if (this.probeable && probeMs > 0 && this.sink.probe && this.nextProbeAt < this.pausedUntil) {
        if (now >= this.nextProbeAt && !this.probe) this.startProbe(probeMs);
        this.wakeAt(Math.min(this.pausedUntil, Math.max(this.nextProbeAt, now + 10)));
      } else {
        this.wakeAt(this.pausedUntil);
      }
      return;
    }
    while (this.inFlight.size < this.sink.limits.maxInFlight) {
      const pick = this.pickGroup(now);
      if (pick.items.length === 0) break;
      if (!pick.full && !this.stopping) {
        const due = pick.items[0]!.readyAt + this.sink.limits.lingerMs;
        // Linger only while the database has nothing more for us; a backlog is sent at once.
        if (due > now && this.exhausted) {
          this.wakeAt(due);
          break;
        }
      }
      this.dispatch(pick.items);
    }
  }

  private startProbe(probeMs: number): void {
    const ac = new AbortController();
    this.probe = ac;
    this.probesTotal++;
    const epoch = this.failEpoch;
    void this.sink.probe!(ac.signal)
      .catch(() => false)
      .then((ok) => {
        this.probe = undefined;
        this.nextProbeAt = monoNow() + probeMs;
        if (ok && this.running && epoch === this.failEpoch && monoNow() < this.pausedUntil) {
          this.log.info({ failures: this.failures, pausedForMs: this.pausedUntil - monoNow() }, 'receiver answers again; resuming delivery');
          this.pausedUntil = 0;
          this.probeable = false;
        }
        this.schedulePump();
      });
  }

  /** Top up the window from the outbox, in seq order, within the memory bounds. */
  private fill(): void {
    if (this.rescan) {
      // Replayed rows are behind the cursor: rebuild the window from the start, keeping in-flight items.
      this.rescan = false;
      this.window = this.window.filter((i) => i.state === 'inflight');
      this.windowBytes = this.window.reduce((s, i) => s + i.bytes, 0);
      this.cursor = 0;
      this.exhausted = false;
    }
    if (this.exhausted) return;
    const inflightSeqs = new Set<number>();
    for (const i of this.window) if (i.state === 'inflight') inflightSeqs.add(i.seq);
    let added = false;
    const now = monoNow();
    while (this.window.length < this.windowMax && this.windowBytes < this.windowBytesMax) {
      const want = Math.min(this.pageSize, this.windowMax - this.window.length);
      const rows = this.q.page.all(this.sink.id, this.cursor, want) as RecordRow[];
      for (const row of rows) {
        this.cursor = row.seq;
        if (inflightSeqs.has(row.seq)) continue;
        const item = this.toItem(row, now);
        this.window.push(item);
        this.windowBytes += item.bytes;
        added = true;
      }
      if (rows.length < want) {
        this.exhausted = true;
        break;
      }
    }
    if (added && inflightSeqs.size > 0) this.window.sort((a, b) => a.seq - b.seq);
  }

  private toItem(row: RecordRow, now: number): Item {
    const rec = rowToRecord(row);
    const body = JSON.stringify(toCloudEvent(rec, { gatewayId: this.gatewayId }));
    return {
      seq: rec.seq,
      id: rec.id,
      type: rec.type,
      site: rec.site,
      line: rec.line,
      station: rec.station,
      batch: rec.batch,
      lot: rec.lot,
      device: rec.device,
      body,
      bytes: Buffer.byteLength(body),
      state: 'ready',
      limit: Number.POSITIVE_INFINITY,
      readyAt: now,
    };
  }

  /** Next request: ready records in seq order, skipping batches that have a record in flight. */
  private pickGroup(_now: number): { items: Item[]; full: boolean } {
    const { maxRecords, maxBytes } = this.sink.limits;
    const blocked = new Set<string>();
    for (const i of this.window) if (i.state === 'inflight' && i.batch !== null) blocked.add(i.batch);
    const items: Item[] = [];
    let bytes = 0;
    let cap = maxRecords;
    for (const i of this.window) {
      if (i.state !== 'ready') continue;
      if (i.batch !== null && blocked.has(i.batch)) continue;
      const newCap = Math.min(cap, i.limit);
      if (items.length > 0 && (items.length >= newCap || bytes + i.bytes > maxBytes)) return { items, full: true };
      items.push(i);
      bytes += i.bytes;
      cap = newCap;
      if (items.length >= cap) return { items, full: true };
    }
    return { items, full: false };
  }

  private dispatch(items: Item[]): void {
    for (const i of items) i.state = 'inflight';
    const reqId = this.nextReqId++;
    const ac = new AbortController();
    const epoch = this.failEpoch;
    const done = this.sink
      .send(items, ac.signal)
      .catch((err: unknown): SendResult => ({ kind: 'all', outcome: 'retry', detail: `sink threw: ${(err as Error)?.message ?? String(err)}` }))
      .then((res) => this.handle(items, res, epoch))
      .catch((err: unknown) => this.log.error({ err }, 'handling a sink reply failed'))
      .finally(() => {
        this.inFlight.delete(reqId);
        this.schedulePump();
      });
    this.inFlight.set(reqId, { ac, items, done });
  }

  private handle(items: Item[], res: SendResult, epoch: number): void {
    const outcomes: RecordOutcome[] =
      res.kind === 'each'
        ? res.results
        : res.outcome === 'delivered'
          ? items.map(() => ({ outcome: 'delivered' }))
          : res.outcome === 'retry'
            ? items.map(() => ({ outcome: 'retry', ...(res.status !== undefined ? { status: res.status } : {}), detail: res.detail }))
            : items.length > 1
              ? items.map(() => ({ outcome: 'retry', status: res.status, detail: `split: ${res.detail}` }))
              : [{ outcome: 'refused', status: res.status, detail: res.detail }];
    const splitting = res.kind === 'all' && res.outcome === 'refused' && items.length > 1;
    const nowIso = this.clock.now().toISOString();
    const gone = new Set<number>();
    let delivered = 0;
    let quarantined = 0;
    let retry: { status?: number; detail: string } | undefined;
    const retryAfterMs = res.kind === 'all' ? (res.outcome === 'retry' ? res.retryAfterMs : undefined) : res.retryAfterMs;
    // Counted only if no failure was counted since this request was sent (one per attempt window).
    const counted = epoch === this.failEpoch || retryAfterMs !== undefined;
    const resumeAt = (): number =>
      counted ? monoNow() + (retryAfterMs ?? backoffDelay(this.failures, { ...this.sink.backoff, random: this.random })) : Math.max(this.pausedUntil, monoNow());
    let resume = 0;
    const aborted = this.stopping || !this.running;

    const write = this.db.transaction(() => {
      items.forEach((item, idx) => {
        const o = outcomes[idx] ?? { outcome: 'retry', detail: 'no outcome' };
        if (o.outcome === 'delivered') {
          this.q.delivered.run(nowIso, this.sink.id, item.seq);
          gone.add(item.seq);
          delivered++;
        } else if (o.outcome === 'refused') {
          const err = JSON.stringify({ code: 'LG_ERR_SINK_REFUSED', status: o.status, detail: o.detail, at: nowIso });
          this.q.quarantine.run(err, this.sink.id, item.seq);
          gone.add(item.seq);
          quarantined++;
          this.log.error({ seq: item.seq, id: item.id, status: o.status, detail: o.detail }, 'record refused by the receiver: quarantined');
        } else {
          retry ??= o;
        }
      });
      if (retry && !splitting && !aborted) {
        resume = resumeAt();
        const err = JSON.stringify({ code: 'LG_ERR_SINK_UNREACHABLE', status: retry.status, detail: retry.detail, at: nowIso });
        const next = toWall(resume).toISOString();
        items.forEach((item) => {
          if (!gone.has(item.seq)) this.q.failed.run(err, next, this.sink.id, item.seq);
        });
      }
    });
    try {
      write();
    } catch (err) {
      // The database refused (closed at shutdown, disk full, fsync EIO): nothing is marked; everything is
      // resent later — after a pause: resending at once re-delivered the same records thousands of times a
      // second while the journal could not write (found by the fsync-eio fault script, issue 18).
      this.log.error({ err }, 'could not record delivery outcome; the records will be sent again');
      for (const i of items) i.state = 'ready';
      if (!aborted) {
        this.pausedUntil = Math.max(this.pausedUntil, monoNow() + STORE_FAILURE_PAUSE_MS);
        this.lastError = { code: 'LG_ERR_STORE_WRITE_FAILED', message: (err as Error).message, at: nowIso };
      }
      return;
    }

    if (gone.size > 0) {
      this.window = this.window.filter((i) => !gone.has(i.seq));
      this.windowBytes = this.window.reduce((s, i) => s + i.bytes, 0);
    }
    for (const i of items) {
      if (gone.has(i.seq)) continue;
      i.state = 'ready';
      if (splitting) i.limit = Math.max(1, Math.floor(items.length / 2));
    }
    if (delivered > 0) {
      this.deliveredTotal += delivered;
      this.lastDeliveredAt = nowIso;
      this.rateBuckets.push({ at: monoNow(), n: delivered });
    }
    this.quarantinedTotal += quarantined;
    if (quarantined > 0) this.lastError = { code: 'LG_ERR_SINK_REFUSED', message: 'record(s) refused and quarantined', at: nowIso };
    if (retry && !splitting && !aborted) {
      const r = retry as { status?: number; detail: string };
      this.retriesTotal++;
      if (counted) {
        this.failures++;
        this.failEpoch++;
        this.probeable = retryAfterMs === undefined && (r.status === undefined || r.status === 502 || r.status === 503 || r.status === 504);
        this.nextProbeAt = monoNow() + (this.sink.backoff.probeMs ?? 0);
      }
      this.pausedUntil = Math.max(this.pausedUntil, resume);
      this.lastError = { code: 'LG_ERR_SINK_UNREACHABLE', message: r.detail, ...(r.status !== undefined ? { status: r.status } : {}), at: nowIso };
      this.log.warn({ detail: r.detail, status: r.status, resumeInMs: resume - monoNow(), failures: this.failures }, 'delivery failed; backing off');
    } else if (delivered > 0 && !retry) {
      this.failures = 0;
    }
  }

  stats(): SinkStats {
    const now = monoNow();
    if (!this.countCache || now - this.countCache.at > 1000) {
      const backlog = (this.q.backlog.get(this.sink.id) as { n: number }).n;
      const quarantined = (this.q.quarantinedCount.get(this.sink.id) as { n: number }).n;
      const oldest = (this.q.oldest.get(this.sink.id) as { at: string } | undefined)?.at ?? null;
      this.countCache = { at: now, backlog, quarantined, oldest };
    }
    this.rateBuckets = this.rateBuckets.filter((b) => now - b.at <= 10_000);
    const inFlightRecords = [...this.inFlight.values()].reduce((s, p) => s + p.items.length, 0);
    const c = this.countCache;
    return {
      sink: this.sink.id,
      kind: this.sink.kind,
      state: this.stopping ? 'stopping' : !this.running ? 'stopped' : now < this.pausedUntil ? 'backoff' : 'running',
      backlog: c.backlog,
      quarantined: c.quarantined,
      oldestPendingAt: c.oldest,
      oldestAgeMs: c.oldest ? Math.max(0, this.clock.now().getTime() - Date.parse(c.oldest)) : null,
      inFlightRequests: this.inFlight.size,
      inFlightRecords,
      windowRecords: this.window.length,
      deliveredTotal: this.deliveredTotal,
      quarantinedTotal: this.quarantinedTotal,
      ratePerSec: this.rateBuckets.reduce((s, b) => s + b.n, 0) / 10,
      lastDeliveredAt: this.lastDeliveredAt,
      lastError: this.lastError,
      resumeAt: now < this.pausedUntil ? toWall(this.pausedUntil).toISOString() : null,
      failuresSinceSuccess: this.failures,
      probesTotal: this.probesTotal,
      retriesTotal: this.retriesTotal,
    };
  }

  listQuarantined(limit: number, after: number): QuarantinedEntry[] {
    const rows = this.q.listQ.all(this.sink.id, after, Math.max(1, Math.min(limit, 10_000))) as Array<{
      seq: number; id: string; type: string; batch: string | null; lot: string | null; station: string | null; attempts: number; last_error: string | null;
    }>;
    return rows.map((r) => ({
      seq: r.seq, id: r.id, type: r.type, batch: r.batch, lot: r.lot, station: r.station, attempts: r.attempts, error: parseError(r.last_error),
    }));
  }

  replay(seqs: number[] | 'all'): number {
    let n = 0;
    if (seqs === 'all') {
      n = this.db.prepare(`UPDATE outbox SET state = 'pending', next_attempt_at = NULL WHERE sink = ? AND state = 'quarantined'`).run(this.sink.id).changes;
    } else {
      const stmt = this.db.prepare(`UPDATE outbox SET state = 'pending', next_attempt_at = NULL WHERE sink = ? AND seq = ? AND state = 'quarantined'`);
      this.db.transaction(() => {
        for (const s of seqs) n += stmt.run(this.sink.id, s).changes;
      })();
    }
    if (n > 0) {
      this.log.info({ count: n }, 'quarantined records replayed');
      this.countCache = undefined;
      this.rescan = true;
      this.schedulePump();
    }
    return n;
  }

  *exportQuarantined(): Generator<QuarantinedExport> {
    let after = 0;
    for (;;) {
      const rows = this.q.exportQ.all(this.sink.id, after, 500) as RecordRow[];
      for (const r of rows) {
        const rec = rowToRecord(r);
        yield {
          seq: r.seq, id: r.id, type: r.type, batch: r.batch, lot: r.lot, station: r.station, attempts: r.attempts ?? 0,
          error: parseError(r.last_error ?? null),
          event: toCloudEvent(rec, { gatewayId: this.gatewayId }),
        };
        after = r.seq;
      }
      if (rows.length < 500) return;
    }
  }
}

function parseError(s: string | null): QuarantinedEntry['error'] {
  if (!s) return null;
  try {
    return JSON.parse(s) as QuarantinedEntry['error'];
  } catch {
    return { code: 'LG_ERR_SINK_REFUSED', detail: s, at: '' };
  }
}
