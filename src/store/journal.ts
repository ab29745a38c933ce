import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { JournalRecord, RecordDraft } from '../binding/types.js';
import { LgError, isLgError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';
import { uuidv7 } from '../util/ids.js';
import type { Db } from './db.js';

/**
 * The journal is the guarantee (ARCHITECTURE.md, "the one idea"): a reading becomes a record here,
 * in the same transaction as its outbox rows and the state it changes, before anyone is told it
 * was accepted.
 *
 * Group commit: work submitted during one turn of the event loop is run in ONE SQLite transaction
 * (each item in its own savepoint, so one failing item rolls back only itself) and every promise
 * resolves only after COMMIT returned. With synchronous=FULL the commit fsyncs the WAL, so an
 * acknowledged record survives a power cut. Batching is self-tuning: while a commit's fsync blocks
 * the event loop, new requests queue in the kernel and form the next, larger group.
 */

export interface AuditInput {
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  reason?: string | null;
  old?: unknown;
  new?: unknown;
}

export interface TxContext {
  db: Db;
  /** The transaction's "now" (one clock reading per group). */
  now: Date;
  append(draft: RecordDraft): JournalRecord;
  audit(entry: AuditInput): void;
}

interface Item {
  fn: (tx: TxContext) => unknown;
  /**
   * A plain append (one record + its outbox rows): no savepoint needed — if its INSERT fails,
   * SQLite's statement journal rolls back that statement alone and the group goes on.
   */
  draft?: RecordDraft;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** submitLatest: only the last item of a group with this key runs. */
  key?: string;
}

export interface JournalOptions {
  site: string;
  line: string;
  /** Upstream sink ids: each record gets one outbox row per sink. */
  sinks: string[];
  clock?: Clock;
  logger?: Logger;
  /** Largest group; the rest waits for the next one. */
  maxGroup?: number;
}

export const AUDIT_GENESIS = '0'.repeat(64);

export class Journal {
  private queue: Item[] = [];
  private scheduled = false;
  private closed = false;
  private flushing: Promise<void> | null = null;
  private listeners = new Set<(records: JournalRecord[]) => void>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxGroup: number;
  private sinks: string[];

  private readonly insRecord: Statement;
  private readonly insOutbox: Statement;
  private readonly lastAudit: Statement;
  private readonly insAudit: Statement;
  private readonly runItem: (item: Item, ctx: TxContext) => unknown;

  /** Committed-group statistics, for health and the bench. */
  readonly stats = { groups: 0, items: 0, records: 0, failures: 0, lastCommitMs: 0 };

  constructor(
    readonly db: Db,
    private readonly opts: JournalOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.logger = (opts.logger ?? silentLogger()).child({ component: 'journal' });
    this.maxGroup = opts.maxGroup ?? 5000;
    this.sinks = [...opts.sinks];
    this.insRecord = db.prepare(
      `INSERT INTO records (id,type,status,error_code,message,site,line,station,batch,lot,operator,device,payload,source_time,received_at,clock_synced)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    this.insOutbox = db.prepare(`INSERT INTO outbox (sink, seq) VALUES (?, ?)`);
    this.lastAudit = db.prepare(`SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`);
    this.insAudit = db.prepare(
      `INSERT INTO audit (seq,at,actor,action,entity,entity_id,reason,old_value,new_value,prev_hash,hash)
       VALUES (@seq,@at,@actor,@action,@entity,@entityId,@reason,@oldValue,@newValue,@prevHash,@hash)`,
    );
    // A transaction function called inside another transaction runs as a SAVEPOINT.
    this.runItem = db.transaction((item: Item, ctx: TxContext) => item.fn(ctx));
  }

  get site(): string {
    return this.opts.site;
  }
  get line(): string {
    return this.opts.line;
  }
  get sinkIds(): readonly string[] {
    return this.sinks;
  }

  /** Run `fn` inside the next group transaction; resolves with its result after COMMIT. */
  submit<T>(fn: (tx: TxContext) => T, key?: string): Promise<T> {
    if (this.closed) return Promise.reject(new LgError('LG_ERR_STORE_CLOSED'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject, ...(key !== undefined ? { key } : {}) });
      this.schedule();
    });
  }

  /**
   * Like `submit`, for work where only the latest matters (a device's state document): of the items
   * with the same key that land in ONE group, only the last runs; the earlier ones settle with its
   * outcome. Nothing moves between groups, so what commits is exactly what the group would have
   * committed item by item (a state is never durable before, or without, the records of its group —
   * the scale's PUBACK order and redelivery window rely on that).
   */
  submitLatest<T>(key: string, fn: (tx: TxContext) => T): Promise<T> {
    return this.submit(fn, key);
  }

  append(draft: RecordDraft): Promise<JournalRecord> {
    if (this.closed) return Promise.reject(new LgError('LG_ERR_STORE_CLOSED'));
    return new Promise<JournalRecord>((resolve, reject) => {
      this.queue.push({ fn: (tx) => tx.append(draft), draft, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  onCommitted(cb: (records: JournalRecord[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Wait for everything submitted so far to be committed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Commit what is queued, then refuse new work. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, this.maxGroup);
    if (group.length === 0) return;
    // submitLatest: an earlier item of a key that occurs again later in this group is superseded
    // (it settles with the outcome of the last one, at `supersededBy[i]`).
    let supersededBy: Map<number, number> | null = null;
    let lastOfKey: Map<string, number> | null = null;
    for (let i = group.length - 1; i >= 0; i--) {
      const key = group[i]!.key;
      if (key === undefined) continue;
      lastOfKey ??= new Map();
      const later = lastOfKey.get(key);
      if (later === undefined) lastOfKey.set(key, i);
      else (supersededBy ??= new Map()).set(i, later);
    }
    const now = this.clock.now();
    const synced = this.clock.synced() ? 1 : 0;
    const committed: JournalRecord[] = [];
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    const t0 = performance.now();
    try {
      const tx = this.db.transaction(() => {
        for (let i = 0; i < group.length; i++) {
          const item = group[i]!;
          if (supersededBy?.has(i)) {
            outcomes.push({ ok: true, value: undefined }); // replaced below by the later item's outcome
            continue;
          }
          if (item.draft) {
            try {
              const rec = this.insertRecord(item.draft, now, synced);
              outcomes.push({ ok: true, value: rec });
              committed.push(rec);
            } catch (err) {
              outcomes.push({ ok: false, value: err });
            }
            continue;
          }
          const appended: JournalRecord[] = [];
          const ctx: TxContext = {
            db: this.db,
            now,
            append: (draft) => {
              const rec = this.insertRecord(draft, now, synced);
              appended.push(rec);
              return rec;
            },
            audit: (entry) => this.insertAudit(entry, now),
          };
          try {
            const value = this.runItem(item, ctx);
            if (value && typeof (value as Promise<unknown>).then === 'function') {
              throw new Error('journal work must be synchronous');
            }
            outcomes.push({ ok: true, value });
            committed.push(...appended);
          } catch (err) {
            outcomes.push({ ok: false, value: err });
          }
        }
      });
      tx.immediate();
    } catch (err) {
      // The group did not commit: nothing in it is durable, so nobody may be told otherwise.
      this.stats.failures++;
      const wrapped = new LgError('LG_ERR_STORE_WRITE_FAILED', { detail: (err as Error).message }, { cause: err });
      this.logger.error({ err, items: group.length }, 'journal commit failed: readings were NOT acknowledged');
      for (const item of group) item.reject(wrapped);
      return;
    }
    this.stats.groups++;
    this.stats.items += group.length;
    this.stats.records += committed.length;
    this.stats.lastCommitMs = performance.now() - t0;
    if (supersededBy) for (const [i, later] of supersededBy) outcomes[i] = outcomes[later]!;
    group.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.value);
    });
    for (const [i, o] of outcomes.entries()) {
      if (!o.ok && !isLgError(o.value)) {
        this.logger.error({ err: o.value, item: i }, 'journal work item failed (rolled back alone)');
      }
    }
    if (committed.length > 0) {
      for (const cb of this.listeners) {
        try {
          cb(committed);
        } catch (err) {
          this.logger.error({ err }, 'onCommitted listener threw');
        }
      }
    }
  }

  private insertRecord(draft: RecordDraft, now: Date, synced: number): JournalRecord {
    const receivedAt = toIso(draft.receivedAt) ?? now.toISOString();
    const rec = {
      id: uuidv7(now.getTime()),
      type: draft.type,
      status: draft.status,
      errorCode: draft.errorCode ?? null,
      message: draft.message ?? null,
      site: this.opts.site,
      line: draft.line ?? this.opts.line,
      station: draft.station ?? null,
      batch: draft.batch ?? null,
      lot: draft.lot ?? null,
      operator: draft.operator ?? null,
      device: draft.device ?? null,
      payload: JSON.stringify(draft.payload ?? {}),
      sourceTime: toIso(draft.sourceTime),
      receivedAt,
      clockSynced: synced,
    };
    const info = this.insRecord.run(
      rec.id, rec.type, rec.status, rec.errorCode, rec.message, rec.site, rec.line, rec.station, rec.batch,
      rec.lot, rec.operator, rec.device, rec.payload, rec.sourceTime, rec.receivedAt, rec.clockSynced,
    );
    const seq = Number(info.lastInsertRowid);
    for (const sink of this.sinks) this.insOutbox.run(sink, seq);
    return {
      ...rec,
      seq,
      payload: draft.payload ?? {},
      clockSynced: synced === 1,
    } as JournalRecord;
  }

  private insertAudit(entry: AuditInput, now: Date): void {
    const last = this.lastAudit.get() as { seq: number; hash: string } | undefined;
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? AUDIT_GENESIS;
    const row = {
      seq,
      at: now.toISOString(),
      actor: entry.actor,
      action: entry.action,
      entity: entry.entity,
      entityId: entry.entityId,
      reason: entry.reason ?? null,
      oldValue: entry.old === undefined ? null : JSON.stringify(entry.old),
      newValue: entry.new === undefined ? null : JSON.stringify(entry.new),
      prevHash,
    };
    this.insAudit.run({ ...row, hash: auditHash(row) });
  }
}

export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  reason: string | null;
  oldValue: string | null;
  newValue: string | null;
  prevHash: string;
}

/** The hash of an audit entry covers every column and the previous entry's hash. */
export function auditHash(row: AuditRow): string {
  const canonical = JSON.stringify([
    row.seq,
    row.at,
    row.actor,
    row.action,
    row.entity,
    row.entityId,
    row.reason,
    row.oldValue,
    row.newValue,
    row.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

function toIso(v: Date | string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** Map a `records` row (snake_case) to a JournalRecord. */
export function rowToRecord(r: Record<string, unknown>): JournalRecord {
  return {
    seq: Number(r.seq),
    id: String(r.id),
    type: String(r.type),
    status: r.status as JournalRecord['status'],
    errorCode: (r.error_code as string | null) ?? null,
    message: (r.message as string | null) ?? null,
    site: String(r.site),
    line: (r.line as string | null) ?? null,
    station: (r.station as string | null) ?? null,
    batch: (r.batch as string | null) ?? null,
    lot: (r.lot as string | null) ?? null,
    operator: (r.operator as string | null) ?? null,
    device: (r.device as string | null) ?? null,
    payload: JSON.parse(String(r.payload)) as Record<string, unknown>,
    sourceTime: (r.source_time as string | null) ?? null,
    receivedAt: String(r.received_at),
    clockSynced: Number(r.clock_synced) === 1,
  };
}
