/**
 * ERP simulator: an HTTP receiver of linegate's CloudEvents with its own SQLite store.
 *
 * - Accepts single (application/cloudevents+json) and batched (application/cloudevents-batch+json)
 *   events at POST /events (any path that is not a control path works too).
 * - Stores accepted events by id, deduplicating and COUNTING duplicates; checks that the events of each
 *   batch (subject) first arrive in gateway order (lgseq) and counts violations.
 * - Injects faults on command (constructor options or POST /_control): latency, 500, 429 with
 *   Retry-After, lost replies (commit, then destroy the socket), 422 for chosen ids or types.
 * - GET /_report: counts; GET /_events: what it holds.
 * - Reply contract: 200 `{accepted, duplicates}` when everything in the request was stored; 207
 *   `{results:[{id,status,error?}]}` when some records were refused (those are not stored); a single
 *   event refused → 422 `{error}`. Records are processed in array order in one transaction.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import Database from 'better-sqlite3';
import { mulberry32 } from '../../src/util/random.js';

export interface ErpFaults {
  /** Probability a request is answered 500 (nothing stored). */
  failRate?: number;
  /** Probability a request is answered 429 with Retry-After (nothing stored). */
  throttleRate?: number;
  /** Retry-After value in seconds for 429 (default 1); 'date' sends an HTTP date instead. */
  retryAfterS?: number;
  retryAfterAsDate?: boolean;
  /** Probability the request is stored and then the connection is closed without a reply. */
  dropRate?: number;
  /** Probability the request waits `latencyMs` before it is handled (it is still stored afterwards). */
  latencyRate?: number;
  latencyMs?: number;
  /** Record ids answered 422 (not stored). */
  refuseIds?: string[];
  /** CloudEvent types (or record types) answered 422 (not stored). */
  refuseTypes?: string[];
  /**
   * Refuse the WHOLE request with 422 (nothing stored, no per-record results) when it contains a
   * refused record — a receiver without per-record results; the gateway must split to isolate it.
   */
  refuseWhole?: boolean;
}

export interface ErpOptions {
  port?: number;
  host?: string;
  /** SQLite path; ':memory:' (default) keeps it in memory. */
  db?: string;
  faults?: ErpFaults;
  /** Seed of the fault dice (deterministic runs). */
  seed?: number;
  /** Require `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted body in bytes (default 16 MiB); larger → 413. */
  maxBodyBytes?: number;
  /**
   * Serve HTTPS (PEM contents). With `ca` and `requireClientCert`, only clients presenting a certificate
   * signed by that CA get through (mutual TLS), as a plant ERP gateway may demand.
   */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requireClientCert?: boolean };
}

export interface ErpReport {
  unique: number;
  duplicates: number;
  /** Ids received more than once. */
  duplicateIds: number;
  /** Duplicate ids that were never part of a request whose reply was lost (should be 0). */
  duplicatesWithoutLostReply: number;
  orderViolations: number;
  requests: number;
  lostReplies: number;
  faults: { fail: number; throttle: number; drop: number; latency: number; refused: number; clientGone: number };
  batches: number;
}


interface IncomingEvent {
  id?: unknown;
  specversion?: unknown;
  source?: unknown;
  type?: unknown;
  subject?: unknown;
  lgseq?: unknown;
  data?: { type?: unknown } | undefined;
}

export class ErpSimulator {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private db: Database.Database;
  private faults: ErpFaults;
  private random: () => number;
  private readonly counters = { requests: 0, fail: 0, throttle: 0, drop: 0, latency: 0, refused: 0, clientGone: 0, lostReplies: 0 };
  private readonly stmt: Record<string, Database.Statement<unknown[]>>;
  private portNumber = 0;

  constructor(private readonly opts: ErpOptions = {}) {
    this.faults = { ...(opts.faults ?? {}) };
    this.random = mulberry32(opts.seed ?? 0x5eed);
    this.db = new Database(opts.db ?? ':memory:');
    this.db.pragma('journal_mode = WAL');
    // The simulator's durability is not under test; NORMAL keeps it fast (set explicitly, see DEPENDENCIES.md).
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        arrival   INTEGER PRIMARY KEY AUTOINCREMENT,
        id        TEXT NOT NULL UNIQUE,
        lgseq     INTEGER,
        batch     TEXT,
        type      TEXT,
        source    TEXT,
        received_at TEXT NOT NULL,
        body      TEXT NOT NULL,
        dup_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS batch_order (batch TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, violations INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS lost_reply_ids (id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    this.stmt = {
      insert: this.db.prepare(`INSERT INTO events (id, lgseq, batch, type, source, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET dup_count = dup_count + 1 RETURNING dup_count`),
      batchGet: this.db.prepare(`SELECT last_seq FROM batch_order WHERE batch = ?`),
      batchSet: this.db.prepare(`INSERT INTO batch_order (batch, last_seq) VALUES (?, ?) ON CONFLICT(batch) DO UPDATE SET last_seq = excluded.last_seq`),
      violation: this.db.prepare(`UPDATE batch_order SET violations = violations + 1 WHERE batch = ?`),
      lost: this.db.prepare(`INSERT OR IGNORE INTO lost_reply_ids (id) VALUES (?)`),
      counterAdd: this.db.prepare(`INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value`),
    };
  }

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://${this.opts.host ?? '127.0.0.1'}:${this.portNumber}/events`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.onRequest(req, res);
    const tls = this.opts.tls;
    const server: http.Server = tls
      ? https.createServer(
          { cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: !!tls.requireClientCert, rejectUnauthorized: !!tls.requireClientCert },
          handler,
        )
      : http.createServer(handler);
    server.keepAliveTimeout = 30_000;
    server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber || this.opts.port || 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stop listening and cut every connection (the port is kept for a restart with start()). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }

  /** Stop and close the database. */
  async close(): Promise<void> {
    await this.stop();
    if (this.db.open) this.db.close();
  }

  setFaults(f: ErpFaults): void {
    this.faults = { ...f };
  }

  getFaults(): ErpFaults {
    return { ...this.faults };
  }

  report(): ErpReport {
    const one = (sql: string): number => (this.db.prepare(sql).get() as { n: number | null } | undefined)?.n ?? 0;
    return {
      unique: one(`SELECT COUNT(*) AS n FROM events`),
      duplicates: one(`SELECT SUM(dup_count) AS n FROM events`),
      duplicateIds: one(`SELECT COUNT(*) AS n FROM events WHERE dup_count > 0`),
      duplicatesWithoutLostReply: one(`SELECT COUNT(*) AS n FROM events e WHERE dup_count > 0 AND NOT EXISTS (SELECT 1 FROM lost_reply_ids l WHERE l.id = e.id)`),
      orderViolations: one(`SELECT SUM(violations) AS n FROM batch_order`),
      requests: this.counters.requests,
      lostReplies: one(`SELECT value AS n FROM counters WHERE name = 'lostReplies'`),
      faults: {
        fail: this.counters.fail,
        throttle: this.counters.throttle,
        drop: this.counters.drop,
        latency: this.counters.latency,
        refused: this.counters.refused,
        clientGone: this.counters.clientGone,
      },
      batches: one(`SELECT COUNT(*) AS n FROM batch_order`),
    };
  }

  /** Stored events in first-arrival order. */
  events(opts: { after?: number; limit?: number } = {}): Array<{ arrival: number; id: string; lgseq: number | null; batch: string | null; type: string | null; dupCount: number }> {
    return (
      this.db
        .prepare(`SELECT arrival, id, lgseq, batch, type, dup_count AS dupCount FROM events WHERE arrival > ? ORDER BY arrival LIMIT ?`)
        .all(opts.after ?? 0, opts.limit ?? 1000) as Array<{ arrival: number; id: string; lgseq: number | null; batch: string | null; type: string | null; dupCount: number }>
    );
  }

  /** The stored CloudEvent (as first received), or undefined. */
  event(id: string): Record<string, unknown> | undefined {
    const row = this.db.prepare(`SELECT body FROM events WHERE id = ?`).get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Record<string, unknown>) : undefined;
  }

  has(id: string): boolean {
    return this.db.prepare(`SELECT 1 FROM events WHERE id = ?`).get(id) !== undefined;
  }

  /**
   * Push master data to the gateway (work orders, materials, lots). STUB: the gateway's inbound API is
   * being written by the lead; this POSTs `{items}` to `${gatewayUrl}/api/v1/master/${kind}` and returns
   * the status and body so tests can drive it once the endpoint exists.
   */
  /**
   * Push master data to a gateway as an ERP does: one idempotent PUT per item
   * (`/work-orders/:id`, `/materials/:code`, `/lots/:id`). Items carry their key (`id`, or `code`
   * for materials); the rest is the body. Answers the status and body of each PUT.
   */
  async pushMasterData(
    gatewayUrl: string,
    kind: 'work-orders' | 'materials' | 'lots',
    items: Array<Record<string, unknown>>,
    token?: string,
  ): Promise<Array<{ status: number; body: unknown }>> {
    const out: Array<{ status: number; body: unknown }> = [];
    for (const item of items) {
      const { id, code, ...body } = item as { id?: string; code?: string } & Record<string, unknown>;
      const key = kind === 'materials' ? code : id;
      const res = await fetch(`${gatewayUrl.replace(/\/$/, '')}/${kind}/${encodeURIComponent(String(key))}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* keep text */
      }
      out.push({ status: res.status, body: parsed });
    }
    return out;
  }

  // ── request handling ────────────────────────────────────────────────────────

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const max = this.opts.maxBodyBytes ?? 16 * 1024 * 1024;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (url.pathname === '/_report' && req.method === 'GET') return json(res, 200, this.report());
      if (url.pathname === '/_health') return json(res, 200, { ok: true });
      if (url.pathname === '/_events' && req.method === 'GET') {
        return json(res, 200, this.events({ after: Number(url.searchParams.get('after') ?? 0), limit: Number(url.searchParams.get('limit') ?? 1000) }));
      }
      if (url.pathname === '/_control' && req.method === 'POST') {
        try {
          this.setFaults(JSON.parse(body || '{}') as ErpFaults);
          return json(res, 200, { faults: this.faults });
        } catch (err) {
          return json(res, 400, { error: (err as Error).message });
        }
      }
      if (req.method !== 'POST') return json(res, 405, { error: 'POST events' });
      if (tooLarge) return json(res, 413, { error: `body over ${max} bytes` });
      this.onEvents(req, res, body).catch((err: unknown) => {
        // Closed while a delayed request was waiting, or a store error: answer 500 (nothing committed).
        if (!res.destroyed) json(res, 500, { error: (err as Error).message });
      });
    });
    req.on('error', () => res.destroy());
  }

  private async onEvents(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    this.counters.requests++;
    const f = this.faults;
    if (this.opts.token && req.headers.authorization !== `Bearer ${this.opts.token}`) return json(res, 401, { error: 'bad token' });
    if (f.latencyRate && this.random() < f.latencyRate) {
      this.counters.latency++;
      await new Promise((r) => setTimeout(r, f.latencyMs ?? 1000));
    }
    if (f.failRate && this.random() < f.failRate) {
      this.counters.fail++;
      return json(res, 500, { error: 'injected failure' });
    }
    if (f.throttleRate && this.random() < f.throttleRate) {
      this.counters.throttle++;
      const ra = f.retryAfterAsDate ? new Date(Date.now() + (f.retryAfterS ?? 1) * 1000).toUTCString() : String(f.retryAfterS ?? 1);
      res.setHeader('retry-after', ra);
      return json(res, 429, { error: 'injected throttle' });
    }
    const drop = !!f.dropRate && this.random() < f.dropRate;
    if (!this.db.open || !this.server) return void res.destroy();

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      return json(res, 400, { error: `invalid JSON: ${(err as Error).message}` });
    }
    const ctype = String(req.headers['content-type'] ?? '');
    const batched = Array.isArray(parsed);
    if (ctype.startsWith('application/cloudevents-batch+json') && !batched) return json(res, 400, { error: 'a batch must be a JSON array' });
    const events = (batched ? parsed : [parsed]) as IncomingEvent[];
    const refuseIds = new Set(f.refuseIds ?? []);
    const refuseTypes = new Set(f.refuseTypes ?? []);
    const now = new Date().toISOString();
    const results: Array<{ id: string; status: number; error?: string }> = [];
    const accepted: string[] = [];
    let duplicates = 0;
    if (f.refuseWhole && (refuseIds.size > 0 || refuseTypes.size > 0)) {
      const bad = events.find(
        (ev) => refuseIds.has(String(ev?.id)) || refuseTypes.has(String(ev?.type)) || refuseTypes.has(String(ev?.data?.type)),
      );
      if (bad) {
        this.counters.refused++;
        return json(res, 422, { error: `request contains refused record ${String(bad.id)}` });
      }
    }
    this.db.transaction(() => {
      for (const ev of events) {
        const id = typeof ev?.id === 'string' ? ev.id : '';
        const problem =
          ev?.specversion !== '1.0' || !id || typeof ev.source !== 'string' || typeof ev.type !== 'string' ? 'not a CloudEvent 1.0 (specversion, id, source, type)' : undefined;
        if (problem) {
          results.push({ id, status: 400, error: problem });
          continue;
        }
        const recType = typeof ev.data?.type === 'string' ? ev.data.type : undefined;
        if (refuseIds.has(id) || refuseTypes.has(ev.type as string) || (recType !== undefined && refuseTypes.has(recType))) {
          this.counters.refused++;
          results.push({ id, status: 422, error: 'refused by the ERP (injected)' });
          continue;
        }
        const seq = typeof ev.lgseq === 'number' ? ev.lgseq : null;
        const batch = typeof ev.subject === 'string' ? ev.subject : null;
        const row = this.stmt.insert!.get(id, seq, batch, ev.type, ev.source, now, JSON.stringify(ev)) as { dup_count: number };
        if (row.dup_count > 0) duplicates++;
        else if (batch !== null && seq !== null) {
          const last = this.stmt.batchGet!.get(batch) as { last_seq: number } | undefined;
          if (last && seq < last.last_seq) this.stmt.violation!.run(batch);
          else this.stmt.batchSet!.run(batch, seq);
        }
        accepted.push(id);
        results.push({ id, status: 200 });
      }
    })();

    // A reply that does not reach the client (dropped by us, or the client gave up during latency) is a
    // lost reply: the gateway will send these ids again, so duplicates of them are expected.
    const markLost = (): void => {
      if (accepted.length === 0) return;
      try {
        this.db.transaction(() => {
          for (const id of accepted) this.stmt.lost!.run(id);
          this.stmt.counterAdd!.run('lostReplies', 1);
        })();
      } catch {
        /* closed */
      }
    };
    if (drop) {
      this.counters.drop++;
      markLost();
      res.socket?.destroy();
      return;
    }
    if (res.socket === null || res.socket.destroyed || req.socket.destroyed) {
      this.counters.clientGone++;
      markLost();
      return;
    }
    res.on('close', () => {
      if (!res.writableFinished) {
        this.counters.clientGone++;
        markLost();
      }
    });
    const refusedAny = results.some((r) => r.status !== 200);
    if (!batched) {
      const r = results[0]!;
      if (r.status === 200) return json(res, 200, { accepted: 1, duplicates });
      return json(res, r.status, { error: r.error });
    }
    if (refusedAny) return json(res, 207, { results });
    return json(res, 200, { accepted: accepted.length, duplicates });
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
