import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Low } from 'lowdb';
import { AuditAnchor } from './store/anchor.js';
import { buildApi } from './api/app.js';
import type { Config } from './config/schema.js';
import type { DeviceDriver } from './drivers/driver.js';
import type { Reading } from './readings/reading.js';
import { DRIVER_KINDS, NON_DRIVER_KINDS } from './drivers/registry.js';
import { LiveEvents, verdictOf } from './events.js';
import { Ops, type ScanParser } from './ops.js';
import { openDatabase, type Db } from './store/db.js';
import { Journal } from './store/journal.js';
import { Repo } from './store/repo.js';
import { openSettings, type SettingsDoc } from './store/settings.js';
import type { Clock } from './util/clock.js';
import { StepWatchingClock, systemClock } from './util/clock.js';
import { journalClockSteps } from './service/clock-steps.js';
import type { Logger } from './util/log.js';
import { createLogger } from './util/log.js';
import { parseForBinding } from './binding/parse.js';
import { bindWeight } from './binding/weight.js';
import { bindMachine } from './binding/machine.js';
import { bindValue, valueStateKey } from './binding/value.js';
import type { Recorded } from './domain/process-value.js';
import type { StationContext } from './binding/types.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
import { applyRetention, createDispatcher, type Dispatcher } from './upstream/index.js';
import { SparkplugNode } from './upstream/sparkplug.js';
import { upstreamRoutes } from './api/routes/upstream.js';
import { labelRoutes } from './api/routes/labels.js';
import { machineRoutes } from './api/routes/machines.js';
import { reportRoutes } from './api/routes/reports.js';
import { traceRoutes } from './api/routes/trace.js';
import { LabelService, loadPrinterModels, loadTemplates, printerSetupFromConfig } from './labels/index.js';
import { LabelTriggers } from './labels/triggers.js';
import { Dispatch } from './usecases/dispatch.js';
import { Exports } from './usecases/exports.js';
import { dispatchRoutes } from './api/routes/dispatch.js';
import { recallRoutes } from './api/routes/recalls.js';
import { Recalls } from './usecases/recalls.js';
import type { ZplPrinterConfig } from './config/devices/zpl-printer.js';
import { defaultDevicesDir } from './util/paths.js';
import { LgError } from './errors.js';
import { deviceSearchPath, findDeviceDir, loadMerged } from './config/device-files.js';
import { uiRoutes } from './ui/server/plugin.js';
import { officeRoutes } from './ui/server/office.js';
import { OfficeSessions } from './api/sessions.js';
import { startOps, type OpsServices } from './service/index.js';

/**
 * Composition root: config → store → ops → api → drivers. Start order is inside-out (the journal
 * must take writes before any device can produce a reading); stop order is the reverse, bounded
 * in time: stop inputs, stop the API, commit what is queued, close the database.
 */

export interface GatewayOptions {
  clock?: Clock;
  logger?: Logger;
  /** Parse function for scans (defaults to the GS1 parser). */
  parseScan?: ScanParser;
  /** Repo root's devices/ folder (profiles); default: ./devices next to the package. */
  devicesDir?: string;
  /** Stop waiting for slow parts after this long. */
  stopTimeoutMs?: number;
}

export type GatewayState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** device_state key of a scale's placement state. */
const PLACEMENT_STATE_KEY = 'placement';

export class Gateway {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly events = new LiveEvents();
  state: GatewayState = 'created';
  db!: Db;
  journal!: Journal;
  repo!: Repo;
  ops!: Ops;
  api!: FastifyInstance;
  settings!: Low<SettingsDoc>;
  readonly drivers = new Map<string, DeviceDriver>();
  private readonly abort = new AbortController();
  private readonly stopHooks: Array<{ name: string; fn: () => Promise<void> | void }> = [];
  private readonly healthParts = new Map<string, () => unknown>();
  private startedAt: Date | null = null;
  broker: EmbeddedBroker | null = null;
  /** Machines whose Execute/Complete move the batch (config, read once). */
  private readonly autoTransitions: ReadonlySet<string>;
  dispatcher: Dispatcher | null = null;
  labels: LabelService | null = null;
  labelTriggers: LabelTriggers | null = null;
  dispatch: Dispatch | null = null;
  exports: Exports | null = null;
  recalls: Recalls | null = null;
  /** Address the API listens on, once listening. */
  url: string | null = null;
  adminTokenFile: string | null = null;
  anchor: AuditAnchor | null = null;
  /** Metrics, watchdog, scheduled backups, state lock (src/service/). */
  service: OpsServices | null = null;

  constructor(
    readonly cfg: Readonly<Config>,
    private readonly opts: GatewayOptions = {},
  ) {
    this.logger = opts.logger ?? createLogger({ level: cfg.log.level });
    // The system clock is watched for steps (an injected test clock is taken as it is).
    this.clock = opts.clock ?? new StepWatchingClock(systemClock);
    this.autoTransitions = new Set(cfg.devices.filter((d) => (d as { autoBatchTransitions?: boolean }).autoBatchTransitions).map((d) => d.id));
  }

  get stateDir(): string {
    return this.cfg.storage.stateDir;
  }

  get devicesDir(): string {
    return this.opts.devicesDir ?? defaultDevicesDir();
  }

  /** Site devices folder first, then the packaged one (issue 10.13). */
  get devicesDirs(): string[] {
    return deviceSearchPath(this.cfg.profiles?.siteDir, this.devicesDir);
  }

  /** The folder holding this device's profile / node map (the site's wins), for its driver. */
  private devicesDirFor(d: Config['devices'][number]): string {
    const x = d as unknown as { profile?: string; nodeMap?: string };
    const ref =
      d.kind === 'serial-scanner' ? (['scanners', x.profile ?? 'generic-usb-cdc'] as const)
      : d.kind === 'mqtt-scale' && x.profile ? (['scales', x.profile] as const)
      : d.kind === 'opcua-machine' && x.nodeMap ? (['machines', x.nodeMap] as const)
      : d.kind === 'mqtt-values' ? (['values', x.profile ?? 'plain-number'] as const)
      : null;
    return (ref && findDeviceDir(this.devicesDirs, ref[0], ref[1])) ?? this.devicesDir;
  }

  /** Configured, enabled devices that could not be created (issue 10.12): health is never ready without them. */
  private readonly failedDevices = new Map<string, { id: string; kind: string; state: 'failed'; lastError: { code: string; message: string } }>();

  /** Register a part's health for /health/ready (labels, upstream, broker…). */
  addHealth(name: string, fn: () => unknown): void {
    this.healthParts.set(name, fn);
  }

  /** Register something to stop, in reverse order of registration. */
  onStop(name: string, fn: () => Promise<void> | void): void {
    this.stopHooks.push({ name, fn });
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`gateway already ${this.state}`);
    this.state = 'starting';
    const log = this.logger.child({ component: 'gateway' });
    // Journal, settings, PKI and tokens: owner only, whatever the umask (the unit says the same).
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(this.stateDir, 0o700);

    this.db = openDatabase(join(this.stateDir, 'journal.sqlite'), { synchronous: this.cfg.storage.synchronous });
    const sinks = (this.cfg.upstream?.sinks ?? []).map((s: { id: string }) => s.id);
    this.journal = new Journal(this.db, { site: this.cfg.site.id, line: this.cfg.line.id, sinks, clock: this.clock, logger: this.logger });
    if (this.clock instanceof StepWatchingClock) {
      const stopSteps = journalClockSteps(this.clock, this.journal, this.logger);
      this.onStop('clock step watch', stopSteps);
    }
    this.repo = new Repo(this.db);
    this.settings = await openSettings(this.stateDir, this.clock.now());
    this.ops = new Ops(this.cfg, this.journal, this.repo, this.clock, this.opts.parseScan ?? parseForBinding);
    await this.ensureAdmin(log);

    // The audit chain's head, signed at an interval and at stop (src/store/anchor.ts).
    this.anchor = new AuditAnchor(this.db, this.journal, this.stateDir, this.cfg.upstream.gatewayId ?? this.settings.data.gatewayId);
    const anchorNow = (reason: string): void => {
      this.anchor?.checkpoint(reason).catch((err: unknown) => log.warn({ err }, 'audit checkpoint failed'));
    };
    anchorNow('start');
    this.ops.signatures.onSigned = () => anchorNow('signature');
    // Automatic deviations: swept from the journal after commits that hold a trigger, and at start.
    this.ops.deviations.initSweep();
    const triggers = new Set(['lot.override', 'material.consumed', 'counter.discontinuity', 'machine.link_restored', 'label.reprint_requested']);
    this.journal.onCommitted((records) => {
      if (records.some((r) => triggers.has(r.type))) void this.ops.deviations.sweep();
    });
    void this.ops.deviations.sweep();
    const anchorTimer = setInterval(() => anchorNow('interval'), this.cfg.storage.auditCheckpointS * 1000);
    anchorTimer.unref();
    // Registered first, so it runs last among the stop hooks: the final checkpoint covers everything.
    this.onStop('audit checkpoint', async () => {
      clearInterval(anchorTimer);
      await this.anchor?.checkpoint('stop');
    });

    // Upstream: the dispatcher reads the outbox the journal fills; woken on every commit.
    this.dispatcher = createDispatcher(this.db, this.cfg.upstream, {
      gatewayId: this.cfg.upstream.gatewayId ?? this.settings.data.gatewayId,
      logger: this.logger,
      clock: this.clock,
      // EPCIS capture sinks send the EPCIS events of records, built by the EPCIS export (issue 15).
      epcis: { events: (rec) => this.exports!.epcisEventsForRecord(rec.seq), document: (events) => this.exports!.epcisDocument(events) },
    });
    this.journal.onCommitted(() => this.dispatcher?.notify());
    this.addHealth('upstream', () => {
      const sinks = this.dispatcher?.stats() ?? [];
      const bad = sinks.some((s) => s.state === 'backoff' || s.quarantined > 0);
      return { state: bad ? 'degraded' : 'online', sinks };
    });
    this.addApiRoutes(upstreamRoutes(() => this.dispatcher!));

    // Labels: printers take jobs from the durable queue; triggers turn records into labels.
    const printerCfgs = this.cfg.devices.filter((d) => d.kind === 'zpl-printer') as unknown as ZplPrinterConfig[];
    this.labels = new LabelService({
      journal: this.journal,
      db: this.db,
      printers: printerSetupFromConfig(printerCfgs, { devicesDir: this.devicesDir, models: loadMerged(this.devicesDirs, 'printers', loadPrinterModels) }),
      templates: loadMerged(this.devicesDirs, 'labels', loadTemplates),
      logger: this.logger,
      clock: this.clock,
      companyPrefix: this.cfg.site.gs1CompanyPrefix ?? null,
      ssccExtension: this.cfg.labels.ssccExtension,
      reprintMark: this.cfg.labels.reprintMark,
      serialPrefix: this.cfg.labels.serialPrefix ?? `${this.cfg.line.id}-`,
    });
    this.labelTriggers = new LabelTriggers({ cfg: this.cfg, ops: this.ops, repo: this.repo, journal: this.journal, labels: this.labels, clock: this.clock, logger: this.logger.child({ component: 'labels' }) });
    this.journal.onCommitted((records) => this.labelTriggers?.onCommitted(records));
    // Issue 15: pallets and dispatch (src/usecases/dispatch.ts), trace/EPCIS/B2MML (src/usecases/exports.ts).
    this.dispatch = new Dispatch(this.db, this.journal, this.cfg, this.clock, this.logger.child({ component: 'dispatch' }));
    this.dispatch.labels = this.labels;
    this.dispatch.printerFor = (s) => this.labelTriggers?.printerFor(s) ?? null;
    this.ops.stationScanBinders.palletising = this.ops.stationScanBinders.dispatch = this.dispatch.bindScan;
    this.journal.onCommitted((records) => this.dispatch?.onCommitted(records));
    this.exports = new Exports(this.repo, this.cfg, () => this.clock.now());
    this.addApiRoutes(dispatchRoutes({ dispatch: () => this.dispatch!, exports: () => this.exports! }));
    // Recall as an action (src/usecases/recalls.ts): holds, the list of what shipped, exports.
    this.recalls = new Recalls(this.cfg, this.journal, this.repo, this.ops.batches, this.ops.signatures, () => this.exports!);
    this.addApiRoutes(recallRoutes(() => this.recalls!));
    this.labels.on('printer-status', (st: { station: string | null }) => this.events.publish(st.station, { event: 'printer', data: st as unknown as Record<string, unknown> }));
    // Issue 11.11: every job change goes to its printer's station stream (a job needing confirmation
    // from a printer without a station goes to every station); /health/ready names waiting jobs.
    this.labels.on('job', (v: { printer: string; state: string }) => {
      const station = this.labels?.printerStatus(v.printer).station ?? null;
      if (station || v.state === 'needs_confirmation') this.events.publish(station, { event: 'print-job', data: v as unknown as Record<string, unknown> });
    });
    this.addHealth('printers', () => this.labels?.health() ?? { state: 'online', printers: [] });
    this.addApiRoutes(machineRoutes({ stateDir: this.stateDir, repo: this.repo, journal: this.journal, logger: this.logger }));
    this.addApiRoutes(labelRoutes({ labels: () => this.labels!, triggers: () => this.labelTriggers!, ops: this.ops }));
    // Station pages (src/ui): served by the API, fed by the same live events.
    const stationOf = new Map(this.cfg.devices.map((d) => [d.id, d.station]));
    this.addApiRoutes(
      uiRoutes({
        ops: this.ops,
        repo: this.repo,
        journal: this.journal,
        events: this.events,
        clock: this.clock,
        logger: this.logger.child({ component: 'ui' }),
        devices: (st) => [...this.drivers.values()].filter((d) => stationOf.get(d.id) === st).map((d) => d.health()),
        printers: (st) => (this.labels?.printerStatuses() ?? []).filter((p) => p.station === st),
        labels: () => this.labels,
      }),
    );
    // Supervisor/QA pages (issue 14): sign-in with user id + signing secret → a page session.
    const sessions = new OfficeSessions(this.repo);
    this.addApiRoutes(officeRoutes({ ops: this.ops, journal: this.journal, logger: this.logger.child({ component: 'office' }), sessions, tls: !!this.cfg.security.tls }));
    this.addApiRoutes(reportRoutes({ db: this.db, cfg: this.cfg, stateDir: this.stateDir, clock: this.clock, journal: this.journal, signatures: this.ops.signatures }));
    this.addApiRoutes(traceRoutes({ repo: this.repo, cfg: this.cfg, clock: this.clock }));

    // Every committed record → its station's live stream (verdicts within the commit's latency).
    this.journal.onCommitted((records) => {
      // Process values are not operator verdicts (and come at up to 1,000/s): not on the station stream.
      for (const r of records) if (r.station && r.type !== 'process.value') this.events.publish(r.station, verdictOf(r));
    });

    this.api = await buildApi(
      {
        ops: this.ops,
        repo: this.repo,
        journal: this.journal,
        logger: this.logger,
        events: this.events,
        bodyLimit: this.cfg.api.bodyLimitBytes,
        failedAuthLimit: this.cfg.security.failedAuthLimit,
        sessions,
        health: () => this.health(),
        anchor: this.anchor ?? undefined,
        extensions: this.apiExtensions,
      },
      this.cfg.security.tls ? { https: { cert: readFileSync(this.cfg.security.tls.cert), key: readFileSync(this.cfg.security.tls.key) } } : {},
    );
    try {
      await this.api.listen({ host: this.cfg.api.host, port: this.cfg.api.port });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new LgError('LG_ERR_API_PORT_IN_USE', { host: this.cfg.api.host, port: this.cfg.api.port }, { cause: err });
      throw err;
    }
    const addr = this.api.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.cfg.api.port;
    this.url = `${this.cfg.security.tls ? 'https' : 'http'}://${this.cfg.api.host.includes(':') ? `[${this.cfg.api.host}]` : this.cfg.api.host}:${port}`;
    if (!['127.0.0.1', 'localhost', '::1'].includes(this.cfg.api.host) && !this.cfg.security.tls) {
      log.warn({ host: this.cfg.api.host }, 'the API listens beyond localhost without TLS: bearer tokens cross the network in clear text');
    }

    if (this.cfg.broker.embedded.enabled) {
      // Before the drivers: scales on this line connect to it.
      this.broker = await startEmbeddedBroker({ host: this.cfg.broker.embedded.host, port: this.cfg.broker.embedded.port });
      this.onStop('embedded broker', () => this.broker?.close());
      this.addHealth('broker', () => ({ state: 'online', url: this.broker?.url }));
      log.info({ url: this.broker.url }, 'embedded MQTT broker (MQTT 3.1.1) listening');
    }
    await this.dispatcher.start();
    await this.labels!.start();
    this.onStop('label service', () => this.labels?.stop());
    await this.labelTriggers!.recover();
    await this.dispatch!.recover();
    // Stopped after the inputs (stop hooks run in reverse) and before the database closes.
    this.onStop('upstream dispatcher', () => this.dispatcher?.stop({ timeoutMs: 5000 }));
    if (this.cfg.upstream.sparkplug) {
      // Sparkplug B: live state on the plant broker (records themselves go through the sinks).
      const sp = new SparkplugNode(this.cfg.upstream.sparkplug, {
        devices: this.cfg.devices.filter((d) => d.enabled !== false).map((d) => ({ id: d.id, kind: d.kind })),
        stations: this.cfg.stations.map((st) => st.id),
        line: this.cfg.line.id,
        bdSeqFile: join(this.stateDir, 'sparkplug-bdseq'),
        logger: this.logger.child({ component: 'sparkplug' }),
      });
      this.journal.onCommitted((records) => sp.onRecords(records));
      this.addHealth('sparkplug', () => ({ state: sp.state().born ? 'online' : 'degraded', ...sp.state() }));
      await sp.start();
      this.onStop('sparkplug edge node', () => sp.close());
    }
    if (this.cfg.upstream.retention) {
      const purge = (): void => {
        try {
          const n = applyRetention(this.db, this.cfg.upstream.retention, this.clock.now());
          if (n > 0) log.info({ purged: n }, 'retention: delivered records purged');
        } catch (err) {
          log.warn({ err }, 'retention purge failed');
        }
      };
      const timer = setInterval(purge, 3_600_000);
      timer.unref();
      this.onStop('retention', () => clearInterval(timer));
    }
    for (const d of this.cfg.devices) {
      if (d.enabled === false) continue;
      this.startDriver(d, log);
    }
    this.service = await startOps(this, log);
    this.onStop('ops services', () => this.service?.stop());
    this.startedAt = this.clock.now();
    this.state = 'running';
    log.info({ url: this.url, stateDir: this.stateDir, gatewayId: this.settings.data.gatewayId, devices: this.drivers.size }, 'linegate is running');
  }

  /** Route extensions registered before start (labels, upstream…). */
  private readonly apiExtensions: Array<(app: FastifyInstance) => Promise<void> | void> = [];
  addApiRoutes(fn: (app: FastifyInstance) => Promise<void> | void): void {
    this.apiExtensions.push(fn);
  }

  private startDriver(d: Config['devices'][number], log: Logger): void {
    if (NON_DRIVER_KINDS.has(d.kind)) return;
    const kind = DRIVER_KINDS[d.kind];
    if (!kind) {
      log.error({ device: d.id, kind: d.kind }, `device ${d.id}: kind ${d.kind} is not supported by this build (LG_ERR_DEVICE_UNKNOWN_KIND)`);
      this.failedDevices.set(d.id, { id: d.id, kind: d.kind, state: 'failed', lastError: { code: 'LG_ERR_DEVICE_UNKNOWN_KIND', message: `device ${d.id}: unknown kind ${d.kind}` } });
      return;
    }
    let driver: DeviceDriver;
    try {
      driver = kind.create(d as never, { logger: this.logger, clock: this.clock, stateDir: this.stateDir, devicesDir: this.devicesDirFor(d) });
    } catch (err) {
      // A bad profile degrades this device only; the gateway and the other devices go on — but
      // the device is listed as failed and the gateway reports degraded, never plain ready.
      // (The config loader refuses such a file first; this is for a file changed after the check.)
      log.error({ err, device: d.id }, `device ${d.id} could not be created: ${(err as Error).message}`);
      const code = (err as { code?: string }).code ?? 'LG_ERR_DEVICE_PROFILE';
      this.failedDevices.set(d.id, { id: d.id, kind: d.kind, state: 'failed', lastError: { code, message: (err as Error).message } });
      return;
    }
    this.drivers.set(d.id, driver);
    // Process values resume their deadband and duplicate check from the journal (src/binding/value.ts).
    const valued = driver as DeviceDriver & { valueNames?: string[]; restoreRecorded?: (m: ReadonlyMap<string, Recorded>) => void };
    if (valued.restoreRecorded && valued.valueNames) {
      const last = new Map<string, Recorded>();
      for (const name of valued.valueNames) {
        const s = this.repo.deviceState(d.id, valueStateKey(name)) as Recorded | null | undefined;
        if (s && typeof s.value === 'number' && typeof s.at === 'number') last.set(name, s);
      }
      valued.restoreRecorded(last);
    }
    const gated = driver as DeviceDriver & { setCommitGate?: (gate: ((r: Reading) => Promise<unknown>) | null) => void };
    if (gated.setCommitGate) {
      // The device's acknowledgement (MQTT PUBACK) waits for the journal commit: a crash before
      // the commit means the broker redelivers the weight, never that it is lost.
      gated.setCommitGate((r) => this.handleReading(d.station, driver, r));
      // A scale's placement state (empty / settling / captured, last capture) is journaled in the
      // commit its message's PUBACK waits for, and resumed from the journal (src/drivers/mqtt-scale).
      const placed = driver as DeviceDriver & { setStateGate?: (g: ((s: never) => Promise<unknown>) | null) => void; restorePlacement?: (s: never) => void };
      if (placed.setStateGate && placed.restorePlacement) {
        placed.restorePlacement(this.repo.deviceState(d.id, PLACEMENT_STATE_KEY) as never);
        placed.setStateGate((s) => this.journal.submitLatest(`device_state:${d.id}:${PLACEMENT_STATE_KEY}`, (tx) => this.repo.setDeviceState(tx, d.id, PLACEMENT_STATE_KEY, s)));
      }
    } else {
      driver.on('reading', (r: Reading) => void this.onReading(d.station, driver, r));
    }
    driver.on('state', (h) => this.events.publish(d.station, { event: 'device', data: h as unknown as Record<string, unknown> }));
    (driver as unknown as NodeJS.EventEmitter).on('sample', (w: Record<string, unknown>) => this.events.publish(d.station, { event: 'weight', data: w }));
    driver.start(this.abort.signal).catch((err: unknown) => log.error({ err, device: d.id }, 'driver start failed'));
  }

  /** Reading handlers by kind; the scales/machines wiring adds its own. */
  readonly readingHandlers: Partial<Record<Reading['kind'], (station: string, driver: DeviceDriver, r: Reading) => Promise<unknown>>> = {
    scan: async (station, driver, r) => {
      if (r.kind !== 'scan') return;
      const fnc1Substitute = (driver as { scanDecoding?: { fnc1Substitute?: string } }).scanDecoding?.fnc1Substitute;
      const rec = await this.ops.ingestScan(station, { raw: r.raw, device: driver.id, receivedAt: r.receivedAt, sourceTime: r.sourceTime ?? null, error: r.error ?? null, fnc1Substitute });
      driver.feedback?.({ accepted: rec.status === 'accepted', code: rec.errorCode });
      return rec;
    },
    weight: async (station, driver, r) => {
      if (r.kind !== 'weight') return;
      const { tolerance, requireOperator } = this.ops.station(station).policies;
      const policy = { tolerance, requireOperator };
      return this.ops.ingestBound((_tx, env) => bindWeight(r, this.ops.stationContext(station), env, policy), `device:${driver.id}`);
    },
    value: async (station, driver, r) => {
      if (r.kind !== 'value') return;
      return this.ops.ingestBound(() => bindValue(r, this.ops.stationContext(station)), `device:${driver.id}`);
    },
    machine: async (station, driver, r) => {
      if (r.kind !== 'machine') return;
      const opts = { autoBatchTransitions: this.autoTransitions.has(driver.id) };
      return this.ops.ingestBound((_tx, env) => bindMachine(r, this.machineContext(station), env, opts), `device:${driver.id}`);
    },
  };

  /**
   * A machine's readings bind to the batch selected at ITS station, or to none (issue 10.4): there
   * is no fallback to the line's batch in process, because clearing the station's batch
   * (`PUT /stations/FILL-1/context {"batch":null}`) is how cleaning and maintenance are declared,
   * and counts made then belong to no batch. Without a batch, state changes are line-level records
   * (batch null) and counters are kept as rejected LG_ERR_NO_ACTIVE_BATCH records whose baseline
   * still moves, so the next batch gets only its own units. Auto batch moves (Execute/Complete)
   * also act only on the station's selected batch.
   */
  private machineContext(station: string): StationContext {
    return this.ops.stationContext(station);
  }

  /** Journal a reading; rejects when it could not be committed (the caller decides what that means). */
  private async handleReading(station: string, driver: DeviceDriver, r: Reading): Promise<unknown> {
    const handler = this.readingHandlers[r.kind];
    if (!handler) throw new Error(`no handler for ${r.kind} readings`);
    return handler(station, driver, r);
  }

  private async onReading(station: string, driver: DeviceDriver, r: Reading): Promise<void> {
    try {
      await this.handleReading(station, driver, r);
    } catch (err) {
      // The journal could not commit (disk full, closing): the reading is NOT recorded. Say so loudly,
      // with the reading, so it can be recovered from the log; the device gets a bad beep.
      this.logger.error({ err, device: driver.id, reading: serialiseReading(r) }, 'reading could NOT be journaled');
      driver.feedback?.({ accepted: false, code: 'LG_ERR_STORE_WRITE_FAILED' });
    }
  }

  health(): { ready: boolean; status: 'ready' | 'degraded' | 'starting' | 'stopping'; subsystems: Record<string, unknown> } {
    if (this.state !== 'running') {
      return { ready: false, status: this.state === 'stopping' || this.state === 'stopped' ? 'stopping' : 'starting', subsystems: {} };
    }
    const drivers = [...this.drivers.values()].map((d) => d.health() as unknown as { state: string }).concat([...this.failedDevices.values()]);
    const extra = Object.fromEntries([...this.healthParts].map(([k, fn]) => [k, safe(fn)]));
    const degraded = drivers.some((d) => d.state !== 'online') || Object.values(extra).some((v) => (v as { state?: string })?.state === 'degraded' || (v as { state?: string })?.state === 'offline');
    return {
      ready: !this.journal.isClosed,
      status: degraded ? 'degraded' : 'ready',
      subsystems: {
        gateway: { id: this.settings.data.gatewayId, site: this.cfg.site.id, line: this.cfg.line.id, since: this.startedAt?.toISOString() ?? null },
        journal: { state: this.journal.isClosed ? 'closed' : 'online', ...this.journal.stats, clockSynced: this.clock.synced() },
        drivers,
        ...extra,
      },
    };
  }

  /** Bounded, idempotent shutdown: inputs first, then the API, then the journal. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const wasRunning = this.state !== 'created';
    this.state = 'stopping';
    this.service?.stopping();
    const log = this.logger.child({ component: 'gateway' });
    const timeout = this.opts.stopTimeoutMs ?? 10_000;
    const bounded = async (name: string, p: Promise<unknown> | unknown, ms = timeout): Promise<void> => {
      let t: NodeJS.Timeout | undefined;
      try {
        await Promise.race([Promise.resolve(p), new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${name} did not stop within ${ms} ms`)), ms)))]);
      } catch (err) {
        log.warn({ err, part: name }, `stopping ${name}: ${(err as Error).message}`);
      } finally {
        clearTimeout(t);
      }
    };
    this.abort.abort();
    await Promise.all([...this.drivers.values()].map((d) => bounded(`driver ${d.id}`, d.stop(), 3000)));
    for (const h of [...this.stopHooks].reverse()) await bounded(h.name, h.fn());
    if (wasRunning && this.api) await bounded('api', this.api.close(), 3000);
    if (this.journal) await bounded('journal', this.journal.close());
    if (this.db?.open) {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        /* best effort: the WAL is replayed on next open anyway */
      }
      this.db.close();
    }
    this.service?.releaseLock();
    this.state = 'stopped';
    log.info('linegate stopped');
  }

  /** No default credentials: on first start an admin token is generated into the state folder. */
  private async ensureAdmin(log: Logger): Promise<void> {
    if (this.repo.userCount() > 0) return;
    const { token } = await this.ops.createUser({ id: 'admin', name: 'Administrator', role: 'admin' }, { id: 'system', role: 'system' });
    const file = this.cfg.security.adminTokenFile ?? join(this.stateDir, 'admin.token');
    writeFileSync(file, token + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    this.adminTokenFile = file;
    log.warn({ file }, `first start: an admin token was written to ${file} (mode 0600). Use it to create users, then keep it safe.`);
  }
}

function safe(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    return { state: 'degraded', error: (err as Error).message };
  }
}

function serialiseReading(r: Reading): Record<string, unknown> {
  const o: Record<string, unknown> = { ...r };
  if (r.kind === 'scan') o.raw = r.raw.toString('hex');
  return o;
}
