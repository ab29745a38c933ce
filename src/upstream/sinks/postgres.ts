/**
 * PostgreSQL sink: the plant store. Driven by the dispatcher like the HTTP and MQTT sinks (same
 * window, order per batch, backoff, quarantine); one delivered group = one transaction:
 *
 *   BEGIN
 *   INSERT INTO records … SELECT FROM unnest(…) ON CONFLICT (id) DO NOTHING RETURNING id
 *   for each record that was new, in order: its projection (master data, state, genealogy edges)
 *   COMMIT                                                   → 'delivered' for the whole group
 *
 * At least once + idempotent: a group sent again after a lost COMMIT reply, a crash or a kill -9
 * inserts nothing new, and projections run only for records the INSERT actually added — so a
 * consumption is never subtracted twice and an edge's quantity never doubled.
 *
 * Exactness: `event` keeps the CloudEvent verbatim (type json, which keeps text as sent — including
 * a \u0000 that garbage from a serial scanner may carry); `payload` is jsonb for queries, with such
 * NUL escapes made visible as the text "\\u0000" (jsonb cannot hold U+0000).
 *
 * A projection that fails on its data (SQLSTATE class 22/23, e.g. a quantity that is not a number)
 * is rolled back to its savepoint; the record is still stored, with `projection_error` saying why —
 * a record is never refused because the plant's derived state could not be computed from it.
 * Failures of the database itself (connection, restart, timeout, locks, permissions, a schema
 * newer than ours) are 'retry': the dispatcher backs off and the outbox keeps everything.
 * Only a record the INSERT itself refuses for its data is 'refused' (the dispatcher then splits
 * the group and quarantines exactly that record); the status reported is 422 and the SQLSTATE is
 * in the detail.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { PoolClient, PoolConfig } from 'pg';
import type { PostgresSinkConfig } from '../../config/upstream.js';
import type { Logger } from '../../util/log.js';
import type { JournalRecord } from '../../binding/types.js';
import { migrate, node, quoteSchema } from './postgres-schema.js';
import type { OutgoingRecord, SendResult, Sink, SinkLimits } from './sink.js';

/** What pg (and the network) may say, reduced to what decides retry vs refuse. */
interface PgError extends Error {
  code?: string;
}

export function isDataError(err: unknown): boolean {
  const code = (err as PgError | undefined)?.code;
  return typeof code === 'string' && code.length === 5 && (code.startsWith('22') || code.startsWith('23'));
}

function describe(err: unknown): string {
  const e = err as PgError;
  if (e?.code?.startsWith('LG_ERR_')) return `${e.code}: ${e.message}`;
  return `${e?.code ? `SQLSTATE ${e.code} ` : ''}${e?.message ?? String(err)}`.trim();
}

/** The pool options for a sink config (also used by `linegate plant …`). */
export function poolConfig(cfg: Pick<PostgresSinkConfig, 'url' | 'password' | 'tls' | 'timeoutMs'> & { max?: number }): PoolConfig {
  const tls = cfg.tls;
  return {
    connectionString: cfg.url,
    ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    ...(tls && tls.mode && tls.mode !== 'off'
      ? {
          ssl: {
            rejectUnauthorized: tls.mode === 'verify-full',
            ...(tls.ca ? { ca: readFileSync(tls.ca, 'utf8') } : {}),
            ...(tls.cert ? { cert: readFileSync(tls.cert, 'utf8') } : {}),
            ...(tls.key ? { key: readFileSync(tls.key, 'utf8') } : {}),
          },
        }
      : {}),
    max: cfg.max ?? 2,
    connectionTimeoutMillis: cfg.timeoutMs,
    statement_timeout: cfg.timeoutMs,
    query_timeout: cfg.timeoutMs + 1000,
    idleTimeoutMillis: 30_000,
    application_name: 'linegate',
  };
}

/** jsonb cannot hold U+0000: make the escape visible text. `event` (json) keeps the original. */
function jsonbSafe(json: string): string {
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\\\u0000') : json;
}

function isoOrNull(t: string | null | undefined): string | null {
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function gatewayOf(source: unknown): string {
  // urn:linegate:{site}:{line}:{gatewayId}
  if (typeof source !== 'string') return '';
  const parts = source.split(':');
  return decodeURIComponent(parts[parts.length - 1] ?? '');
}

interface Parsed {
  rec: JournalRecord;
  event: string;
  gateway: string;
}

export class PostgresSink implements Sink {
  readonly kind = 'postgres' as const;
  readonly id: string;
  readonly limits: SinkLimits;
  readonly backoff: { baseMs: number; maxMs: number };
  private readonly s: string;
  private pool: pg.Pool | undefined;
  private migrated = false;
  private closed = false;

  constructor(private readonly cfg: PostgresSinkConfig, private readonly logger?: Logger) {
    this.id = cfg.id;
    this.s = quoteSchema(cfg.schema ?? 'linegate');
    this.limits = { maxRecords: cfg.batch.maxRecords, maxBytes: cfg.batch.maxBytes, lingerMs: cfg.batch.lingerMs, maxInFlight: cfg.maxInFlight };
    this.backoff = cfg.backoff;
  }

  async start(): Promise<void> {
    if (this.pool && !this.closed) return;
    this.closed = false;
    const pool = new pg.Pool(poolConfig({ ...this.cfg, max: this.cfg.maxInFlight + 1 }));
    // An idle connection dropped by a server restart must not crash the daemon: the pool discards it.
    pool.on('error', (err) => this.logger?.warn({ err: describe(err) }, 'postgres sink: idle connection lost'));
    this.pool = pool;
  }

  async send(records: OutgoingRecord[], signal: AbortSignal): Promise<SendResult> {
    const pool = this.pool;
    if (!pool || this.closed) return { kind: 'all', outcome: 'retry', detail: 'sink not started or closed' };
    // On abort (dispatcher stop) answer at once; the transaction finishes or rolls back on its own
    // and its records stay pending in the outbox (re-sent next start, ignored by id if committed).
    const aborted = new Promise<SendResult>((resolve) => {
      if (signal.aborted) resolve({ kind: 'all', outcome: 'retry', detail: 'aborted' });
      signal.addEventListener('abort', () => resolve({ kind: 'all', outcome: 'retry', detail: 'aborted' }), { once: true });
    });
    return Promise.race([this.deliver(pool, records), aborted]);
  }

  private async deliver(pool: pg.Pool, records: OutgoingRecord[]): Promise<SendResult> {
    let parsed: Parsed[];
    try {
      parsed = records.map((r) => {
        const ev = JSON.parse(r.body) as { source?: unknown; data: JournalRecord };
        return { rec: ev.data, event: r.body, gateway: gatewayOf(ev.source) };
      });
    } catch (err) {
      return { kind: 'all', outcome: 'refused', status: 422, detail: `not a CloudEvent: ${(err as Error).message}` };
    }
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      return { kind: 'all', outcome: 'retry', detail: `connect: ${describe(err)}` };
    }
    let broken = false;
    // A connection dropped while checked out emits 'error' on the client (the pool only watches idle
    // ones); the pending query rejects too, so this only keeps the process alive and the client out.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      if (!this.migrated) {
        const applied = await migrate(client, this.cfg.schema ?? 'linegate');
        if (applied.length > 0) this.logger?.info({ schema: this.cfg.schema, applied }, 'plant schema migrated');
        this.migrated = true;
      }
      await client.query('BEGIN');
      let inserted: Set<string>;
      try {
        inserted = await this.insertRecords(client, parsed);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        if (isDataError(err)) return { kind: 'all', outcome: 'refused', status: 422, detail: describe(err) };
        throw err;
      }
      const fresh = parsed.filter((p) => inserted.has(p.rec.id)).map((p) => p.rec);
      try {
        await client.query('SAVEPOINT lg_group');
        await this.projectFast(client, fresh);
        await client.query('RELEASE SAVEPOINT lg_group');
      } catch (err) {
        if (!isDataError(err)) throw err;
        // Some record's data cannot be projected: redo this group record by record, so only that
        // record carries a projection_error and the others' state is still derived.
        await client.query('ROLLBACK TO SAVEPOINT lg_group');
        for (const rec of fresh) await this.projectSafely(client, rec);
      }
      await client.query('COMMIT');
      return { kind: 'all', outcome: 'delivered' };
    } catch (err) {
      broken = true;
      await client.query('ROLLBACK').catch(() => undefined);
      return { kind: 'all', outcome: 'retry', detail: describe(err) };
    } finally {
      // A connection that failed mid-transaction is discarded rather than reused.
      client.off('error', onError);
      client.release(broken ? true : undefined);
    }
  }

  private async insertRecords(client: PoolClient, parsed: Parsed[]): Promise<Set<string>> {
    const cols: unknown[][] = Array.from({ length: 20 }, () => []);
    for (const { rec, event, gateway } of parsed) {
      const vals = [
        rec.id, rec.site, rec.line ?? '', gateway, rec.seq, rec.type, rec.status, rec.errorCode, rec.message,
        rec.station, rec.batch, rec.lot, rec.operator, rec.device, jsonbSafe(JSON.stringify(rec.payload ?? {})), event,
        isoOrNull(rec.sourceTime), isoOrNull(rec.receivedAt) ?? new Date().toISOString(), rec.clockSynced === true, null,
      ];
      vals.forEach((v, i) => cols[i]!.push(v));
    }
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO ${this.s}.records (id, site, line, gateway, seq, type, status, error_code, message, station, batch, lot, operator, device, payload, event, source_time, received_at, clock_synced)
       SELECT u.id, u.site, u.line, u.gateway, u.seq, u.type, u.status, u.error_code, u.message, u.station, u.batch, u.lot, u.operator, u.device, u.payload::jsonb, u.event::json, u.source_time, u.received_at, u.clock_synced
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                   $15::text[], $16::text[], $17::timestamptz[], $18::timestamptz[], $19::boolean[])
            WITH ORDINALITY AS u(id, site, line, gateway, seq, type, status, error_code, message, station, batch, lot, operator, device, payload, event, source_time, received_at, clock_synced, ord)
       ORDER BY u.ord
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      cols.slice(0, 19),
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * The usual path: runs of consecutive consumptions (most projected records) are applied set-wise,
   * two statements per run whatever its length; other records one by one, in record order (a lot
   * master push between two consumptions still lands between them).
   */
  private async projectFast(client: PoolClient, recs: JournalRecord[]): Promise<void> {
    let run: JournalRecord[] = [];
    const flush = async (): Promise<void> => {
      if (run.length > 0) await consumeRun(client, this.s, run);
      run = [];
    };
    for (const rec of recs) {
      if (!needsProjection(rec)) continue;
      if (rec.type === 'material.consumed') {
        if (rec.lot && rec.batch) run.push(rec);
        continue;
      }
      await flush();
      await project(client, this.s, rec);
    }
    await flush();
  }

  /** Project one record inside a savepoint: a data error is recorded on the row, not fatal. */
  private async projectSafely(client: PoolClient, rec: JournalRecord): Promise<void> {
    if (!needsProjection(rec)) return;
    await client.query('SAVEPOINT lg_projection');
    try {
      await project(client, this.s, rec);
      await client.query('RELEASE SAVEPOINT lg_projection');
    } catch (err) {
      if (!isDataError(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT lg_projection');
      await client.query(`UPDATE ${this.s}.records SET projection_error = $2 WHERE id = $1`, [rec.id, describe(err)]);
      this.logger?.warn({ id: rec.id, type: rec.type, err: describe(err) }, 'postgres sink: record stored, its state projection failed');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    this.migrated = false;
    if (pool) await Promise.race([pool.end().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  }
}

const PROJECTED = new Set([
  'material.created', 'material.updated', 'lot.created', 'lot.updated', 'lot.status_changed', 'material.consumed',
  'batch.created', 'batch.updated', 'batch.status_changed', 'counter.updated', 'label.queued',
]);

function needsProjection(rec: JournalRecord): boolean {
  return rec.status === 'accepted' && PROJECTED.has(rec.type);
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * Master data and state as the records imply them. Latest-wins for plant-wide rows written by
 * several lines (materials, lots): a row is only overwritten by a record at least as recent.
 */
async function project(c: PoolClient, s: string, rec: JournalRecord): Promise<void> {
  const p = (rec.payload ?? {}) as Obj;
  const line = rec.line ?? '';
  const at = isoOrNull(rec.sourceTime) ?? isoOrNull(rec.receivedAt) ?? new Date().toISOString();
  switch (rec.type) {
    case 'material.created':
    case 'material.updated': {
      const m = (p.after ?? {}) as Obj;
      await c.query(
        `INSERT INTO ${s}.materials AS m (site, code, name, unit, tracking, shelf_life_days, gtins, line, record_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
         ON CONFLICT (site, code) DO UPDATE SET name = excluded.name, unit = excluded.unit, tracking = excluded.tracking,
           shelf_life_days = excluded.shelf_life_days, gtins = excluded.gtins, line = excluded.line, record_id = excluded.record_id, updated_at = excluded.updated_at
         WHERE m.updated_at <= excluded.updated_at`,
        [rec.site, str(m.code), str(m.name), str(m.unit), str(m.tracking), m.shelfLifeDays ?? null, JSON.stringify(m.gtins ?? []), line, rec.id, at],
      );
      return;
    }
    case 'lot.created':
    case 'lot.updated':
    case 'lot.status_changed': {
      const l = (rec.type === 'lot.created' ? p : (p.after ?? {})) as Obj;
      const producedBy = str(p.producedBy ?? l.producedBy);
      const id = str(l.id) ?? rec.lot;
      if (!id) return;
      // produced_by is kept once known: a lot master push on another line (which cannot name a
      // batch of this line) does not erase where the lot was made.
      await c.query(
        `INSERT INTO ${s}.lots AS l (site, id, material, supplier, supplier_lot, receipt_date, expiry, status, unit, produced_by_line, produced_by_batch, line, record_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (site, id) DO UPDATE SET material = excluded.material, supplier = excluded.supplier, supplier_lot = excluded.supplier_lot,
           receipt_date = excluded.receipt_date, expiry = excluded.expiry, status = excluded.status, unit = excluded.unit,
           produced_by_line = COALESCE(excluded.produced_by_line, l.produced_by_line), produced_by_batch = COALESCE(excluded.produced_by_batch, l.produced_by_batch),
           line = excluded.line, record_id = excluded.record_id, updated_at = excluded.updated_at
         WHERE l.updated_at <= excluded.updated_at`,
        [rec.site, id, str(l.material), str(l.supplier), str(l.supplierLot), str(l.receiptDate), str(l.expiry), str(l.status), str(l.unit),
          producedBy ? line : null, producedBy, line, rec.id, at],
      );
      if (producedBy) {
        // A late record never moves produced_by backwards (the WHERE above); the edge is kept regardless.
        await c.query(`UPDATE ${s}.lots SET produced_by_line = $3, produced_by_batch = $4 WHERE site = $1 AND id = $2 AND produced_by_batch IS NULL`, [rec.site, id, line, producedBy]);
        await edge(c, s, rec, 'produced', node.batch(line, producedBy), node.lot(id), null, null, at);
      }
      if (l.quantity !== undefined && l.quantity !== null) {
        // This line's lot master sets the balance absolutely (ERP push); consumptions lower it.
        await c.query(
          `INSERT INTO ${s}.lot_balances (site, line, lot, quantity, unit, updated_at) VALUES ($1, $2, $3, $4::numeric, $5, $6)
           ON CONFLICT (site, line, lot) DO UPDATE SET quantity = excluded.quantity, unit = excluded.unit, updated_at = excluded.updated_at`,
          [rec.site, line, id, String(l.quantity), str(l.unit), at],
        );
      }
      return;
    }
    case 'material.consumed': {
      if (!rec.lot || !rec.batch) return;
      const qty = String(p.lotQuantity ?? p.quantity);
      const unit = str(p.lotUnit ?? p.quantityUnit);
      // The balance may go below zero, exactly as on the line (the scale is the truth; SOP 5.4).
      await c.query(
        `INSERT INTO ${s}.lot_balances AS b (site, line, lot, quantity, unit, consumed, updated_at) VALUES ($1, $2, $3, -($4::numeric), $5, $4::numeric, $6)
         ON CONFLICT (site, line, lot) DO UPDATE SET quantity = b.quantity - excluded.consumed, consumed = b.consumed + excluded.consumed, updated_at = excluded.updated_at`,
        [rec.site, line, rec.lot, qty, unit, at],
      );
      await edge(c, s, rec, 'consumed', node.lot(rec.lot), node.batch(line, rec.batch), qty, unit, at);
      return;
    }
    case 'batch.created':
    case 'batch.updated': {
      const b = (rec.type === 'batch.created' ? p : (p.after ?? {})) as Obj;
      const number = str(b.number) ?? rec.batch;
      if (!number) return;
      await c.query(
        `INSERT INTO ${s}.batches AS b (site, line, number, product, product_name, gtin, planned_qty, unit, work_order, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8, $9, $10, $11, $11)
         ON CONFLICT (site, line, number) DO UPDATE SET product = excluded.product, product_name = excluded.product_name, gtin = excluded.gtin,
           planned_qty = excluded.planned_qty, unit = excluded.unit, work_order = excluded.work_order, status = COALESCE(excluded.status, b.status), updated_at = excluded.updated_at`,
        [rec.site, line, number, str(b.product), str(b.productName), str(b.gtin), str(b.plannedQty), str(b.unit), str(b.workOrder ?? p.workOrder), str(b.status), at],
      );
      return;
    }
    case 'batch.status_changed': {
      if (!rec.batch) return;
      await c.query(
        `INSERT INTO ${s}.batches (site, line, number, status, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (site, line, number) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
        [rec.site, line, rec.batch, str(p.to), at],
      );
      return;
    }
    case 'counter.updated': {
      if (!rec.batch) return;
      const delta = str(p.delta);
      if (!delta || delta === '0') return;
      const good = p.counter === 'good' ? delta : '0';
      const rejected = p.counter === 'rejected' ? delta : '0';
      await c.query(
        `INSERT INTO ${s}.batches AS b (site, line, number, produced_qty, rejected_qty, updated_at) VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6)
         ON CONFLICT (site, line, number) DO UPDATE SET produced_qty = b.produced_qty + excluded.produced_qty, rejected_qty = b.rejected_qty + excluded.rejected_qty, updated_at = excluded.updated_at`,
        [rec.site, line, rec.batch, good, rejected, at],
      );
      return;
    }
    case 'label.queued': {
      const kind = str(p.kind);
      if (kind !== 'case' && kind !== 'pallet') return;
      const id = str(p.sscc) ?? str(p.serial) ?? str(p.labelId);
      if (!id) return;
      await c.query(
        `INSERT INTO ${s}.handling_units (site, id, kind, line, batch, lot, sscc, serial, label_id, template, record_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (site, id) DO NOTHING`,
        [rec.site, id, kind, line, rec.batch, rec.lot, str(p.sscc), str(p.serial), str(p.labelId), str(p.template), rec.id, at],
      );
      if (rec.batch) await edge(c, s, rec, 'packed', node.batch(line, rec.batch), node.hu(id), null, null, at);
      return;
    }
  }
}

/** A run of material.consumed records: balances and consumed edges, summed exactly in SQL (numeric). */
async function consumeRun(c: PoolClient, s: string, run: JournalRecord[]): Promise<void> {
  const cols = { site: [] as string[], line: [] as string[], lot: [] as string[], batch: [] as string[], qty: [] as string[], unit: [] as Array<string | null>, at: [] as string[], id: [] as string[] };
  for (const rec of run) {
    const p = (rec.payload ?? {}) as Obj;
    cols.site.push(rec.site);
    cols.line.push(rec.line ?? '');
    cols.lot.push(rec.lot!);
    cols.batch.push(node.batch(rec.line ?? '', rec.batch!));
    cols.qty.push(String(p.lotQuantity ?? p.quantity));
    cols.unit.push(str(p.lotUnit ?? p.quantityUnit));
    cols.at.push(isoOrNull(rec.sourceTime) ?? isoOrNull(rec.receivedAt) ?? new Date().toISOString());
    cols.id.push(rec.id);
  }
  const args = [cols.site, cols.line, cols.lot, cols.batch, cols.qty, cols.unit, cols.at, cols.id];
  const src = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::timestamptz[], $8::uuid[]) WITH ORDINALITY AS u(site, line, lot, bnode, q, unit, at, id, ord)`;
  // The balance may go below zero, exactly as on the line (the scale is the truth; SOP 5.4).
  await c.query(
    `INSERT INTO ${s}.lot_balances AS b (site, line, lot, quantity, unit, consumed, updated_at)
     SELECT site, line, lot, -sum(q), max(unit), sum(q), max(at) FROM ${src} GROUP BY site, line, lot
     ON CONFLICT (site, line, lot) DO UPDATE SET quantity = b.quantity - excluded.consumed, consumed = b.consumed + excluded.consumed, updated_at = GREATEST(b.updated_at, excluded.updated_at)`,
    args,
  );
  await c.query(
    `INSERT INTO ${s}.edges AS e (site, kind, from_node, to_node, line, quantity, unit, additions, first_record, last_record, first_at, last_at)
     SELECT site, 'consumed', 'lot:' || lot, bnode, line, sum(q), max(unit), count(*),
            (array_agg(id ORDER BY ord))[1], (array_agg(id ORDER BY ord DESC))[1], min(at), max(at)
     FROM ${src} GROUP BY site, line, lot, bnode
     ON CONFLICT (site, from_node, to_node, kind) DO UPDATE SET
       quantity = COALESCE(e.quantity, 0) + excluded.quantity, additions = e.additions + excluded.additions, last_record = excluded.last_record,
       first_at = LEAST(e.first_at, excluded.first_at), last_at = GREATEST(e.last_at, excluded.last_at)`,
    args,
  );
}

async function edge(c: PoolClient, s: string, rec: JournalRecord, kind: string, from: string, to: string, qty: string | null, unit: string | null, at: string): Promise<void> {
  await c.query(
    `INSERT INTO ${s}.edges AS e (site, kind, from_node, to_node, line, quantity, unit, additions, first_record, last_record, first_at, last_at)
     VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, 1, $8, $8, $9, $9)
     ON CONFLICT (site, from_node, to_node, kind) DO UPDATE SET
       quantity = CASE WHEN e.quantity IS NULL AND excluded.quantity IS NULL THEN NULL ELSE COALESCE(e.quantity, 0) + COALESCE(excluded.quantity, 0) END,
       additions = e.additions + 1, last_record = excluded.last_record,
       first_at = LEAST(e.first_at, excluded.first_at), last_at = GREATEST(e.last_at, excluded.last_at)`,
    [rec.site, kind, from, to, rec.line ?? '', qty, unit, rec.id, at],
  );
}
