/**
 * EPCIS 2.0 capture sink (issue 15): the EPCIS events the journal's records stand for, POSTed as
 * one EPCISDocument per request to `<url>/capture` (GS1 EPCIS 2.0 REST binding).
 *
 * - Which records: `events(record)` (src/usecases/exports.ts `epcisEventsForRecord`) maps a record to
 *   its events: case/pallet label issued → commissioning ObjectEvent, pallet closed / case
 *   unpacked → AggregationEvent, batch completed → TransformationEvent, delivery shipped →
 *   shipping ObjectEvent. A request whose records stand for no event is delivered without a call.
 * - The answer: 202 Accepted with `Location` of the capture job. With `captureJob.follow` (default)
 *   the job is read until it is no longer running: `success: true` → delivered; `success: false` →
 *   refused (the dispatcher splits the request until the refused record is alone and quarantines
 *   only it, with the job's errors); still running at `captureJob.timeoutMs` → tried again later.
 *   A 2xx without Location is delivered. Other answers as the HTTP sink maps them (408/429/5xx
 *   and network errors: retry with backoff, honouring Retry-After; 401/403/404/405/407: a
 *   misconfigured sink, retried, never quarantined; other 4xx such as 400 or 413: refused).
 * - Idempotency: event ids are derived from the fact (same record → same eventID), so a capture
 *   sent again after a lost answer carries the same events; the repository is expected to treat an
 *   eventID it already holds as captured (EPCIS 2.0 §8.2.2 leaves duplicates to the repository).
 * - Documents are sent with `GS1-EPCIS-Capture-Error-Behaviour: rollback` (all or nothing), so a
 *   refused capture stored nothing and the split-and-retry is exact.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { EpcisSinkConfig } from '../../config/upstream.js';
import { interpret } from './http.js';
import type { OutgoingRecord, SendResult, Sink, SinkLimits } from './sink.js';

const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export type EpcisEventSource = {
  /** The EPCIS events one record stands for (empty for most records). */
  events(record: OutgoingRecord): Array<Record<string, unknown>>;
  /** The EPCISDocument envelope around events. */
  document(events: Array<Record<string, unknown>>): Record<string, unknown>;
};

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export class EpcisSink implements Sink {
  readonly kind = 'epcis' as const;
  readonly id: string;
  readonly limits: SinkLimits;
  readonly backoff: { baseMs: number; maxMs: number; probeMs?: number };
  private readonly base: URL;
  private readonly capture: URL;
  private agent: http.Agent;
  private readonly headers: Record<string, string>;
  private closed = false;
  /** Captures answered (delivered or refused), for stats and tests. */
  capturesTotal = 0;

  constructor(
    private readonly cfg: EpcisSinkConfig,
    private readonly source: EpcisEventSource,
  ) {
    this.id = cfg.id;
    this.base = new URL(cfg.url.endsWith('/') ? cfg.url : `${cfg.url}/`);
    this.capture = new URL('capture', this.base);
    this.limits = { maxRecords: cfg.batch.maxRecords, maxBytes: cfg.batch.maxBytes, lingerMs: cfg.batch.lingerMs, maxInFlight: cfg.maxInFlight };
    this.backoff = cfg.backoff;
    this.agent = this.makeAgent();
    this.headers = { ...(cfg.headers ?? {}), 'GS1-EPCIS-Version': '2.0.0', 'GS1-CBV-Version': '2.0.0' };
    if (cfg.token) this.headers.authorization = `Bearer ${cfg.token}`;
  }

  /** Client certificate, read once per start (the agent and the probe's own connections share it). */
  private tlsCache: Record<string, Buffer> | undefined;
  private tls(): Record<string, Buffer> {
    const c = this.cfg.clientCert;
    if (this.base.protocol !== 'https:' || !c) return {};
    this.tlsCache ??= { cert: readFileSync(c.cert), key: readFileSync(c.key), ...(c.ca ? { ca: readFileSync(c.ca) } : {}) };
    return this.tlsCache;
  }

  private makeAgent(): http.Agent {
    const opts = { keepAlive: true, maxSockets: this.cfg.maxInFlight + 1, keepAliveMsecs: 10_000 };
    return this.base.protocol === 'https:' ? new https.Agent({ ...opts, ...this.tls() }) : new http.Agent(opts);
  }

  async start(): Promise<void> {
    if (this.closed) {
      this.tlsCache = undefined; // a renewed certificate is picked up at the next start
      this.agent = this.makeAgent();
      this.closed = false;
    }
  }

  private request(method: 'POST' | 'GET' | 'HEAD', url: URL, body: Buffer | null, signal: AbortSignal, extra: Record<string, string> = {}, agent: http.Agent | false = this.agent): Promise<Reply> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<Reply>((resolve, reject) => {
      const req = mod.request(url, { method, agent, signal, headers: { ...this.headers, accept: 'application/json', ...extra, ...(body ? { 'content-length': body.length } : {}) }, ...(agent === false ? this.tls() : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_REPLY_BYTES) chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body ?? undefined);
    });
  }

  async send(records: OutgoingRecord[], signal: AbortSignal): Promise<SendResult> {
    if (this.closed) return { kind: 'all', outcome: 'retry', detail: 'sink closed' };
    let events: Array<Record<string, unknown>>;
    try {
      events = records.flatMap((r) => this.source.events(r));
    } catch (err) {
      return { kind: 'all', outcome: 'retry', detail: `EPCIS events could not be built: ${(err as Error).message}` };
    }
    if (events.length === 0) return { kind: 'all', outcome: 'delivered' };
    const body = Buffer.from(JSON.stringify(this.source.document(events)), 'utf8');
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    let reply: Reply;
    try {
      reply = await this.request('POST', this.capture, body, combined, { 'content-type': 'application/ld+json', 'GS1-EPCIS-Capture-Error-Behaviour': 'rollback' });
    } catch (err) {
      const e = err as Error & { code?: string };
      return { kind: 'all', outcome: 'retry', detail: timeout.aborted ? `timeout after ${this.cfg.timeoutMs} ms` : signal.aborted ? 'aborted' : `${e.code ?? ''} ${e.message}`.trim() };
    }
    if (reply.status < 200 || reply.status >= 300) {
      const r = interpret(reply.status, reply.headers['retry-after'], reply.text, records);
      // A capture interface answers for the document, never per CloudEvent id.
      if (r.kind === 'each') return { kind: 'all', outcome: 'refused', status: reply.status, detail: `HTTP ${reply.status} ${brief(reply.text)}` };
      if (r.outcome !== 'retry') this.capturesTotal++;
      return r;
    }
    const location = reply.headers.location;
    if (!this.cfg.captureJob.follow || !location) {
      this.capturesTotal++;
      return { kind: 'all', outcome: 'delivered' };
    }
    return this.followJob(new URL(location, this.base), signal);
  }

  /** Read the capture job until it finished (EPCIS 2.0 REST: GET /capture/{captureID}). */
  private async followJob(url: URL, signal: AbortSignal): Promise<SendResult> {
    const until = Date.now() + this.cfg.captureJob.timeoutMs;
    for (;;) {
      let reply: Reply;
      try {
        reply = await this.request('GET', url, null, AbortSignal.any([signal, AbortSignal.timeout(this.cfg.timeoutMs)]));
      } catch (err) {
        return { kind: 'all', outcome: 'retry', detail: `capture job ${url.pathname}: ${(err as Error).message}` };
      }
      if (reply.status < 200 || reply.status >= 300) return { kind: 'all', outcome: 'retry', status: reply.status, detail: `capture job ${url.pathname}: HTTP ${reply.status} ${brief(reply.text)}` };
      let job: { running?: unknown; success?: unknown; errors?: unknown };
      try {
        job = JSON.parse(reply.text) as typeof job;
      } catch {
        return { kind: 'all', outcome: 'retry', detail: `capture job ${url.pathname}: the answer is not JSON` };
      }
      if (job.running === false) {
        this.capturesTotal++;
        if (job.success === true) return { kind: 'all', outcome: 'delivered' };
        return { kind: 'all', outcome: 'refused', status: 422, detail: `capture job ${url.pathname} failed: ${brief(JSON.stringify(job.errors ?? job))}` };
      }
      if (Date.now() >= until) return { kind: 'all', outcome: 'retry', detail: `capture job ${url.pathname} still running after ${this.cfg.captureJob.timeoutMs} ms` };
      if (signal.aborted) return { kind: 'all', outcome: 'retry', detail: 'aborted' };
      await new Promise((r) => setTimeout(r, this.cfg.captureJob.pollMs));
    }
  }

  /** HEAD on the base URL on its own connection: any answer below 500 but 408/429 means it is back. */
  async probe(signal: AbortSignal): Promise<boolean> {
    if (this.closed) return false;
    try {
      const r = await this.request('HEAD', this.base, null, AbortSignal.any([signal, AbortSignal.timeout(Math.min(this.cfg.timeoutMs, 2000))]), {}, false);
      return r.status >= 100 && r.status < 500 && r.status !== 408 && r.status !== 429;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
  }
}

function brief(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
