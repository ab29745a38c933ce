/**
 * A minimal EPCIS 2.0 capture interface for tests (REST binding): `POST /epcis/capture` validates the
 * EPCISDocument with Ajv against the official GS1 EPCIS 2.0 JSON Schema (vendored), stores its events
 * deduplicated by eventID, and answers 202 with the Location of a capture job; `GET /epcis/capture/{id}`
 * answers the job (running at the first read, then finished). A real HTTP server on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

export class CaptureServer {
  private server: http.Server | null = null;
  port = 0;
  readonly events = new Map<string, any>();
  readonly documents: any[] = [];
  readonly invalid: unknown[] = [];
  readonly headers: http.IncomingHttpHeaders[] = [];
  private readonly jobs = new Map<string, { reads: number; success: boolean; errors: unknown[] }>();
  /** While set, every capture job fails (success: false) and stores nothing. */
  failing = false;
  private readonly validate: ReturnType<Ajv['compile']>;

  constructor() {
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../vendor/gs1-epcis/EPCIS-JSON-Schema.json'), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    (((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv)(ajv);
    this.validate = ajv.compile(schema);
  }

  /** The sink's `url` (base of the capture interface). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/epcis`;
  }

  async start(port = 0): Promise<number> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'HEAD') return void res.writeHead(200).end();
      if (req.method === 'POST' && url.pathname === '/epcis/capture') {
        this.headers.push(req.headers);
        let doc: any;
        try {
          doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return void res.writeHead(400, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'epcisException:ValidationException', title: 'not JSON' }));
        }
        if (!this.validate(doc)) {
          this.invalid.push(this.validate.errors);
          return void res.writeHead(400, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'epcisException:ValidationException', detail: this.validate.errors?.slice(0, 3) }));
        }
        const id = `job-${this.jobs.size + 1}`;
        const fail = this.failing;
        if (!fail) {
          this.documents.push(doc);
          for (const e of doc.epcisBody.eventList) this.events.set(e.eventID, e); // an eventID held already counts as captured
        }
        this.jobs.set(id, { reads: 0, success: !fail, errors: fail ? [{ type: 'epcisException:CaptureLimitExceededException', detail: 'refused by the test' }] : [] });
        return void res.writeHead(202, { location: `/epcis/capture/${id}` }).end();
      }
      const job = req.method === 'GET' && /^\/epcis\/capture\/(job-\d+)$/.exec(url.pathname);
      if (job) {
        const j = this.jobs.get(job[1]!);
        if (!j) return void res.writeHead(404).end();
        j.reads++;
        const running = j.reads < 2; // the first read finds it running: the sink must follow the job
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ captureID: job[1], createdAt: new Date().toISOString(), running, success: running ? false : j.success, captureErrorBehaviour: 'rollback', errors: running ? [] : j.errors }));
      }
      res.writeHead(404).end();
    });
  }

  ofType(type: string, bizStep?: string): any[] {
    return [...this.events.values()].filter((e) => e.type === type && (!bizStep || e.bizStep === bizStep));
  }
}

