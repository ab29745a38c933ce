import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeviceDriver, DriverHealth, DriverState } from '../drivers/driver.js';
import type { Journal } from '../store/journal.js';
import type { JournalRecord } from '../binding/types.js';
import type { Db } from '../store/db.js';
import type { SinkStats } from '../upstream/dispatcher.js';
import type { OpsConfig } from './config.js';
import type { Logger } from '../util/log.js';
import { LgError } from '../errors.js';
import { buildInfo } from './version.js';

/**
 * Prometheus metrics (prom-client 15.1, text format 0.0.4), served at /metrics on their own listen
 * address (`ops.metrics`), not on the API port: the API's tokens are people and the ERP, and a
 * scraper should need neither; a separate port can be firewalled or bound to localhost on its own.
 * Beyond loopback a bearer token (`ops.metrics.token`) is required.
 *
 * Values are read at scrape time from what the gateway already keeps (journal.stats,
 * dispatcher.stats(), driver health(), the print_jobs table); the only things counted as they
 * happen are committed records (one onCommitted listener, after the commit, never in it), driver
 * state changes (the drivers' own 'state' events), and answered API requests with 401/403 (the
 * HTTP server's 'request' event). Counters start at 0 with the process, as Prometheus expects.
 *
 * The names below are the contract of docs/grafana-linegate.json; METRIC_NAMES lists them.
 */

export const METRIC_NAMES = [
  'linegate_build_info',
  'linegate_journal_commit_seconds',
  'linegate_journal_group_size',
  'linegate_journal_commit_failures_total',
  'linegate_records_total',
  'linegate_outbox_depth',
  'linegate_outbox_oldest_undelivered_seconds',
  'linegate_deliveries_total',
  'linegate_delivery_retries_total',
  'linegate_quarantine_size',
  'linegate_driver_state',
  'linegate_driver_reconnects_total',
  'linegate_scan_verdicts_total',
  'linegate_scale_captures_total',
  'linegate_print_jobs',
  'linegate_opcua_link_gaps_total',
  'linegate_auth_failures_total',
  'linegate_event_loop_lag_seconds',
  'linegate_process_rss_bytes',
  'linegate_process_heap_used_bytes',
] as const;

const DRIVER_STATES: DriverState[] = ['stopped', 'connecting', 'online', 'degraded', 'offline', 'stopping'];
const PRINT_STATES = ['queued', 'sending', 'sent', 'confirmed', 'failed', 'needs_confirmation'];
/** Record types a scan can produce (src/binding/scan.ts, ops.ingestScan). */
const SCAN_TYPES = new Set(['batch.selected', 'handling_unit.scanned', 'operator.signed_in', 'station.command', 'lot.scanned', 'scan.rejected', 'scan.unrecognised', 'scan.duplicate']);
/** Record types a scale capture produces (src/binding/weight.ts). */
const SCALE_TYPES = new Set(['material.consumed', 'weight.captured']);

export interface MetricsSources {
  journal: Journal;
  db: Db;
  drivers: () => Iterable<DeviceDriver>;
  sinks: () => SinkStats[];
  /** HTTP servers whose 401/403 answers count as failed authentications. */
  apiServers: () => Iterable<import('node:events').EventEmitter>;
  logger: Logger;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly loop: IntervalHistogram;
  private readonly detach: Array<() => void> = [];
  private server: Server | null = null;
  url: string | null = null;
  private lastItems: number;
  private lastFailures: number;
  private readonly delivered = new Map<string, number>();
  private readonly retried = new Map<string, number>();
  private readonly seenOnline = new Set<string>();
  private readonly watched = new WeakSet<DeviceDriver>();
  private readonly c: ReturnType<Metrics['define']>;

  constructor(private readonly src: MetricsSources) {
    this.lastItems = src.journal.stats.items;
    this.lastFailures = src.journal.stats.failures;
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    this.c = this.define();
    this.c.auth.inc({ status: '401' }, 0);
    this.c.auth.inc({ status: '403' }, 0);
    // Committed records: counted after the commit, from the batch the journal hands its listeners.
    this.detach.push(src.journal.onCommitted((records) => this.onCommitted(records)));
    for (const s of src.apiServers()) this.watchApi(s);
  }

  private define() {
    const r = [this.registry];
    const b = buildInfo();
    const info = new Gauge({ name: 'linegate_build_info', help: 'Version and build of this linegate (always 1).', labelNames: ['version', 'commit'], registers: r });
    info.set({ version: b.version, commit: b.commit ?? 'unknown' }, 1);
    const sinks = () => this.src.sinks();
    return {
      commit: new Histogram({
        name: 'linegate_journal_commit_seconds',
        help: 'Time of one journal group commit (BEGIN IMMEDIATE … COMMIT, fsync included).',
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: r,
      }),
      group: new Histogram({ name: 'linegate_journal_group_size', help: 'Work items committed together in one journal group.', buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000], registers: r }),
      failures: new Counter({ name: 'linegate_journal_commit_failures_total', help: 'Journal group commits that failed (nothing in them was acknowledged).', registers: r }),
      records: new Counter({ name: 'linegate_records_total', help: 'Committed records by type and status.', labelNames: ['type', 'status'], registers: r }),
      depth: new Gauge({
        name: 'linegate_outbox_depth',
        help: 'Records not yet delivered to a sink (outbox pending).',
        labelNames: ['sink'],
        registers: r,
        collect() {
          for (const s of sinks()) this.set({ sink: s.sink }, s.backlog);
        },
      }),
      oldest: new Gauge({
        name: 'linegate_outbox_oldest_undelivered_seconds',
        help: 'Age of the oldest record not yet delivered to a sink (0 when none).',
        labelNames: ['sink'],
        registers: r,
        collect() {
          for (const s of sinks()) this.set({ sink: s.sink }, (s.oldestAgeMs ?? 0) / 1000);
        },
      }),
      deliveries: new Counter({ name: 'linegate_deliveries_total', help: 'Records delivered to a sink (acknowledged by it).', labelNames: ['sink'], registers: r }),
      retries: new Counter({ name: 'linegate_delivery_retries_total', help: 'Delivery attempts that failed and are retried with backoff.', labelNames: ['sink'], registers: r }),
      quarantine: new Gauge({
        name: 'linegate_quarantine_size',
        help: 'Records a sink refused, kept in quarantine until replayed.',
        labelNames: ['sink'],
        registers: r,
        collect() {
          for (const s of sinks()) this.set({ sink: s.sink }, s.quarantined);
        },
      }),
      driverState: new Gauge({ name: 'linegate_driver_state', help: 'Driver state per device: 1 for the current state, 0 for the others.', labelNames: ['device', 'kind', 'state'], registers: r }),
      reconnects: new Counter({ name: 'linegate_driver_reconnects_total', help: 'Times a device came back online after having been online.', labelNames: ['device', 'kind'], registers: r }),
      scans: new Counter({ name: 'linegate_scan_verdicts_total', help: 'Scan verdicts by station and code (accepted, or the LG_ERR_ code of the rejection).', labelNames: ['station', 'code'], registers: r }),
      scale: new Counter({ name: 'linegate_scale_captures_total', help: 'Scale captures (stable weights) by station and status.', labelNames: ['station', 'status'], registers: r }),
      print: new Gauge({ name: 'linegate_print_jobs', help: 'Print jobs in the durable queue by state.', labelNames: ['state'], registers: r }),
      gaps: new Counter({ name: 'linegate_opcua_link_gaps_total', help: 'OPC UA link losses (machine.link_lost records) per device.', labelNames: ['device'], registers: r }),
      auth: new Counter({ name: 'linegate_auth_failures_total', help: 'API requests refused for authentication (401) or role (403).', labelNames: ['status'], registers: r }),
      lag: new Gauge({ name: 'linegate_event_loop_lag_seconds', help: 'Event loop delay since the previous scrape.', labelNames: ['quantile'], registers: r }),
      rss: new Gauge({ name: 'linegate_process_rss_bytes', help: 'Resident set size of the linegate process.', registers: r }),
      heap: new Gauge({ name: 'linegate_process_heap_used_bytes', help: 'V8 heap in use (JavaScript objects) of the linegate process: a leak grows this, while RSS also holds caches and allocator slack.', registers: r }),
    };
  }

  private onCommitted(records: JournalRecord[]): void {
    const st = this.src.journal.stats;
    this.c.commit.observe(st.lastCommitMs / 1000);
    this.c.group.observe(Math.max(1, st.items - this.lastItems));
    this.lastItems = st.items;
    for (const rec of records) {
      this.c.records.inc({ type: rec.type, status: rec.status });
      if (SCAN_TYPES.has(rec.type)) this.c.scans.inc({ station: rec.station ?? '', code: rec.status === 'accepted' ? 'accepted' : (rec.errorCode ?? 'rejected') });
      else if (SCALE_TYPES.has(rec.type)) this.c.scale.inc({ station: rec.station ?? '', status: rec.status });
      else if (rec.type === 'machine.link_lost') this.c.gaps.inc({ device: rec.device ?? '' });
    }
  }

  private watchApi(server: import('node:events').EventEmitter): void {
    const onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
      res.once('finish', () => {
        if (res.statusCode === 401 || res.statusCode === 403) this.c.auth.inc({ status: String(res.statusCode) });
      });
    };
    server.on('request', onRequest);
    this.detach.push(() => server.off('request', onRequest));
  }

  /** Follow a driver's state; a device coming back online after having been online is a reconnect. */
  watchDriver(d: DeviceDriver): void {
    if (this.watched.has(d)) return;
    this.watched.add(d);
    const onState = (h: DriverHealth): void => {
      if (h.state === 'online') {
        if (this.seenOnline.has(h.id)) this.c.reconnects.inc({ device: h.id, kind: h.kind });
        this.seenOnline.add(h.id);
      }
    };
    const now = d.health();
    this.c.reconnects.inc({ device: now.id, kind: now.kind }, 0);
    if (now.kind.startsWith('opcua')) this.c.gaps.inc({ device: now.id }, 0);
    if (now.state === 'online') this.seenOnline.add(now.id);
    d.on('state', onState);
    this.detach.push(() => d.off('state', onState));
  }

  /** Bring the scrape-time values up to date. */
  private refresh(): void {
    const st = this.src.journal.stats;
    if (st.failures > this.lastFailures) this.c.failures.inc(st.failures - this.lastFailures);
    this.lastFailures = st.failures;
    for (const s of this.src.sinks()) {
      const d = s.deliveredTotal - (this.delivered.get(s.sink) ?? 0);
      this.c.deliveries.inc({ sink: s.sink }, Math.max(0, d));
      this.delivered.set(s.sink, s.deliveredTotal);
      const rt = s.retriesTotal - (this.retried.get(s.sink) ?? 0);
      this.c.retries.inc({ sink: s.sink }, Math.max(0, rt));
      this.retried.set(s.sink, s.retriesTotal);
    }
    for (const d of this.src.drivers()) {
      this.watchDriver(d);
      const h = d.health();
      for (const state of DRIVER_STATES) this.c.driverState.set({ device: h.id, kind: h.kind, state }, h.state === state ? 1 : 0);
    }
    const counts = new Map(PRINT_STATES.map((s) => [s, 0]));
    try {
      for (const row of this.src.db.prepare('SELECT state, count(*) AS n FROM print_jobs GROUP BY state').all() as Array<{ state: string; n: number }>) counts.set(row.state, row.n);
    } catch {
      /* no label tables (cannot happen after migrations): report zeros */
    }
    for (const [state, n] of counts) this.c.print.set({ state }, n);
    const ns = (v: number): number => (Number.isFinite(v) ? v / 1e9 : 0);
    this.c.lag.set({ quantile: '0.5' }, ns(this.loop.percentile(50)));
    this.c.lag.set({ quantile: '0.99' }, ns(this.loop.percentile(99)));
    this.c.lag.set({ quantile: '1' }, ns(this.loop.max));
    this.loop.reset();
    this.c.rss.set(process.memoryUsage.rss());
    this.c.heap.set(process.memoryUsage().heapUsed);
  }

  async text(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  /** Listen on `ops.metrics` (host, port, token). */
  async listen(cfg: OpsConfig['metrics']): Promise<string> {
    const loopback = ['127.0.0.1', '::1', 'localhost'].includes(cfg.host);
    if (!loopback && !cfg.token) {
      throw new LgError('LG_ERR_CONFIG_INVALID', { file: 'ops.metrics', detail: `  ops.metrics.token: required when /metrics listens on ${cfg.host} (beyond localhost)` });
    }
    const expected = cfg.token ? Buffer.from(`Bearer ${cfg.token}`) : null;
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(new LgError('LG_ERR_NOT_FOUND', { method: req.method, url: path }).toJSON()));
        return;
      }
      if (expected) {
        const got = Buffer.from(req.headers.authorization ?? '');
        if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
          this.c.auth.inc({ status: '401' });
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify(new LgError('LG_ERR_AUTH_INVALID').toJSON()));
          return;
        }
      }
      this.text().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: unknown) => {
          this.src.logger.error({ err }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(new LgError('LG_ERR_INTERNAL', { detail: (err as Error).message }).toJSON()));
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new LgError('LG_ERR_METRICS_PORT_IN_USE', { host: cfg.host, port: cfg.port }, { cause: err }) : err),
      );
      this.server!.listen(cfg.port, cfg.host, () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    this.url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}/metrics`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const d of this.detach.splice(0)) d();
    this.loop.disable();
    const srv = this.server;
    this.server = null;
    if (srv) await new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); });
  }
}
