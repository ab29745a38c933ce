/**
 * HTTP(S) sink: POSTs CloudEvents to the ERP.
 *
 * Why node:http/https and not `fetch`: on Node 20 the global fetch cannot present a client
 * certificate without importing the `undici` package (not a dependency), while an https.Agent
 * does it natively, keeps connections alive and bounds sockets. Timeouts use AbortSignal.
 *
 * Receiver reply contract (documented for the ERP side, implemented by simulators/erp):
 * - 2xx without a `results` array: every record in the request is accepted.
 * - 2xx (typically 207) with `{"results":[{"id","status","error"?}]}`: one result per record id;
 *   status 2xx = accepted, 408/429/5xx = try again later, other 4xx = permanently refused.
 *   The receiver processes the array in order and stores accepted records before answering.
 * - 408, 429, 5xx (Retry-After honoured), 3xx, network errors, timeouts: try the whole request again.
 * - 401/403/404/405/407: the sink is misconfigured (token, URL): retried with backoff, never quarantined.
 * - other 4xx without `results`: the whole request is refused; the dispatcher splits it in halves
 *   and retries until the refused record is alone, then quarantines only that one.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { HttpSinkConfig } from '../../config/upstream.js';
import { CE_BATCH_CONTENT_TYPE, CE_CONTENT_TYPE } from '../cloudevents.js';
import { parseRetryAfter, type OutgoingRecord, type RecordOutcome, type SendResult, type Sink, type SinkLimits } from './sink.js';

const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export class HttpSink implements Sink {
  readonly kind = 'http' as const;
  readonly id: string;
  readonly limits: SinkLimits;
  readonly backoff: { baseMs: number; maxMs: number; probeMs?: number };
  private readonly url: URL;
  private agent: http.Agent;
  private readonly headers: Record<string, string>;
  private closed = false;

  constructor(private readonly cfg: HttpSinkConfig) {
    this.id = cfg.id;
    this.url = new URL(cfg.url);
    this.limits = {
      maxRecords: cfg.mode === 'single' ? 1 : cfg.batch.maxRecords,
      maxBytes: cfg.batch.maxBytes,
      lingerMs: cfg.batch.lingerMs,
      maxInFlight: cfg.maxInFlight,
    };
    this.backoff = cfg.backoff;
    this.agent = this.makeAgent();
    this.headers = { ...(cfg.headers ?? {}) };
    if (cfg.token) this.headers.authorization = `Bearer ${cfg.token}`;
  }

  private makeAgent(): http.Agent {
    const cfg = this.cfg;
    const agentOpts = { keepAlive: true, maxSockets: cfg.maxInFlight + 1, keepAliveMsecs: 10_000 };
    if (this.url.protocol !== 'https:') return new http.Agent(agentOpts);
    return new https.Agent({
      ...agentOpts,
      ...(cfg.clientCert
        ? {
            cert: readFileSync(cfg.clientCert.cert),
            key: readFileSync(cfg.clientCert.key),
            ...(cfg.clientCert.ca ? { ca: readFileSync(cfg.clientCert.ca) } : {}),
          }
        : {}),
    });
  }

  async start(): Promise<void> {
    // Nothing to connect: HTTP connects per request (kept alive by the agent). A closed sink can be
    // started again (the dispatcher's stop()/start()).
    if (this.closed) {
      this.agent = this.makeAgent();
      this.closed = false;
    }
  }

  send(records: OutgoingRecord[], signal: AbortSignal): Promise<SendResult> {
    if (this.closed) return Promise.resolve({ kind: 'all', outcome: 'retry', detail: 'sink closed' });
    const single = this.cfg.mode === 'single';
    const body = single && records.length === 1 ? records[0]!.body : `[${records.map((r) => r.body).join(',')}]`;
    const contentType = single && records.length === 1 ? CE_CONTENT_TYPE : CE_BATCH_CONTENT_TYPE;
    const payload = Buffer.from(body, 'utf8');
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const mod = this.url.protocol === 'https:' ? https : http;
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const done = (r: SendResult): void => {
        if (!settled) {
          settled = true;
          resolve(r);
        }
      };
      const req = mod.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          signal: combined,
          headers: { ...this.headers, 'content-type': contentType, 'content-length': payload.length, accept: 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_REPLY_BYTES) chunks.push(c);
          });
          res.on('error', (err) => done({ kind: 'all', outcome: 'retry', detail: `reply: ${err.message}` }));
          res.on('end', () => {
            done(interpret(res.statusCode ?? 0, res.headers['retry-after'], Buffer.concat(chunks).toString('utf8'), records));
          });
        },
      );
      req.on('error', (err: Error & { code?: string }) => {
        const why = timeout.aborted ? `timeout after ${this.cfg.timeoutMs} ms` : signal.aborted ? 'aborted' : `${err.code ?? ''} ${err.message}`.trim();
        done({ kind: 'all', outcome: 'retry', detail: why });
      });
      req.end(payload);
    });
  }

  /** Client certificate for probes, read once (the agent holds its own copy for deliveries). */
  private probeTlsCache: Record<string, Buffer> | undefined;
  private probeTls(): Record<string, Buffer> {
    if (this.url.protocol !== 'https:' || !this.cfg.clientCert) return {};
    const c = this.cfg.clientCert;
    this.probeTlsCache ??= { cert: readFileSync(c.cert), key: readFileSync(c.key), ...(c.ca ? { ca: readFileSync(c.ca) } : {}) };
    return this.probeTlsCache;
  }

  /**
   * HEAD on the receiver URL, on its own short-lived connection (not the keep-alive pool, whose sockets
   * may be half-dead after an outage). Any HTTP answer below 500 other than 408/429 means the receiver
   * is back: 404/405 to HEAD are normal for a POST-only endpoint.
   */
  probe(signal: AbortSignal): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const mod = this.url.protocol === 'https:' ? https : http;
    const combined = AbortSignal.any([signal, AbortSignal.timeout(Math.min(this.cfg.timeoutMs, 2000))]);
    return new Promise<boolean>((resolve) => {
      const req = mod.request(this.url, {
        method: 'HEAD',
        agent: false,
        signal: combined,
        headers: { ...this.headers },
        ...this.probeTls(),
      }, (res) => {
        res.resume();
        const st = res.statusCode ?? 0;
        resolve(st >= 100 && st < 500 && st !== 408 && st !== 429);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
  }
}

/** Map an HTTP answer to outcomes (exported for unit tests). */
export function interpret(status: number, retryAfter: string | string[] | undefined, text: string, records: OutgoingRecord[]): SendResult {
  const retryAfterMs = parseRetryAfter(retryAfter);
  const brief = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  // 401/403/404/405/407 say the sink is misconfigured (token, URL), not that a record is bad:
  // quarantining every record for them would empty the outbox into quarantine. Retry with backoff;
  // lastError in stats()/health shows the operator what to fix.
  const misconfigured = status === 401 || status === 403 || status === 404 || status === 405 || status === 407;
  const transient = misconfigured || status === 408 || status === 429 || status >= 500 || (status >= 300 && status < 400) || status < 100;
  if (transient) {
    return { kind: 'all', outcome: 'retry', status, detail: `HTTP ${status} ${brief}`.trim(), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  const perRecord = parseResults(text, records);
  if (perRecord) return { kind: 'each', results: perRecord, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status >= 200 && status < 300) return { kind: 'all', outcome: 'delivered' };
  return { kind: 'all', outcome: 'refused', status, detail: `HTTP ${status} ${brief}`.trim() };
}

function parseResults(text: string, records: OutgoingRecord[]): RecordOutcome[] | undefined {
  if (!text || text[0] !== '{') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const results = (parsed as { results?: unknown }).results;
  if (!Array.isArray(results)) return undefined;
  const byId = new Map<string, { status: number; error?: unknown }>();
  for (const r of results) {
    if (r && typeof r === 'object' && typeof (r as { id?: unknown }).id === 'string') {
      const st = Number((r as { status?: unknown }).status);
      byId.set((r as { id: string }).id, { status: Number.isFinite(st) ? st : 0, error: (r as { error?: unknown }).error });
    }
  }
  return records.map((rec): RecordOutcome => {
    const r = byId.get(rec.id);
    // A record the receiver did not answer for is not known to be stored: send it again.
    if (!r) return { outcome: 'retry', detail: 'no result for this record in the reply' };
    const detail = typeof r.error === 'string' ? r.error : r.error === undefined ? `status ${r.status}` : JSON.stringify(r.error);
    if (r.status >= 200 && r.status < 300) return { outcome: 'delivered' };
    if (r.status === 408 || r.status === 429 || r.status >= 500 || r.status < 200 || (r.status >= 300 && r.status < 400)) {
      return { outcome: 'retry', status: r.status, detail };
    }
    return { outcome: 'refused', status: r.status, detail };
  });
}
