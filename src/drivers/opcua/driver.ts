/**
 * OPC UA machine driver: one session, ONE subscription with one monitored item per node-map
 * location, readings for every value change.
 *
 * Staying connected (the reason this file is not 50 lines): OPC UA clients in this field are known
 * for not coming back after a PLC restart — node-opcua's own auto-reconnect may not restore
 * subscriptions (node-opcua#1059) and can silently fall back to polling after
 * BadMessageNotAvailable (#1524). So we do NOT rely on it:
 * - `connectionStrategy.maxRetry = 0`: on `connection_lost` we drop the client entirely and run our
 *   own loop with backoff + jitter that builds a fresh client, session and subscription. Nothing is
 *   lost by not resuming the old session: counters are cumulative (the binder takes deltas from the
 *   last persisted value) and the state's current value arrives with the new subscription.
 * - A watchdog expects a data change or a keep-alive at least every `staleAfterMs` (the keep-alive
 *   count is chosen so three keep-alives fit in it). Silence → the subscription is terminated and
 *   recreated in the same session; if that fails → full reconnect.
 * - The gap is recorded: `link` readings `lost` (when the loss is detected) and `restored`
 *   (`meta.since` = loss time, `meta.gapMs`), which the binder turns into machine.link_lost /
 *   machine.link_restored records.
 *
 * A node id that does not exist (or a browse path that does not resolve) becomes an error reading
 * LG_ERR_OPCUA_NODE_INVALID and an entry of health().details.nodeErrors (state `degraded`); the
 * other items keep working.
 */
import { OpcuaValues } from './process-values.js';
import type { Recorded } from '../../domain/process-value.js';
import { join } from 'node:path';
import type * as OpcuaNs from 'node-opcua';
import { loadOpcua } from './load.js';
import { BaseDriver, type DriverContext } from '../driver.js';
import type { MachineReading } from '../../readings/reading.js';
import { formatMessage, type ErrorCode } from '../../errors.js';
import { Backoff, sleep } from '../../util/backoff.js';
import type { OpcuaMachineConfig } from '../../config/devices/opcua-machine.js';
import type { NodeLocation, ResolvedField, ResolvedNodeMap } from './nodemap.js';
import { convertValue, plain, selectPath } from './values.js';
import { mapStateValue, tr88Number } from '../../readings/packml.js';
import { newestRejected, opcuaPkiDir } from './pki.js';
import { withTimeout } from '../../util/async.js';

type Opcua = typeof OpcuaNs;

export interface OpcuaDriverContext extends DriverContext {
  stateDir: string;
}

export interface NodeErrorInfo {
  field: string;
  nodeId: string;
  code: ErrorCode;
  detail: string;
}

interface Item {
  field: ResolvedField;
  level: number;
  loc: NodeLocation;
  nodeId: string;
  dataType?: string;
  mi?: OpcuaNs.ClientMonitoredItemBase;
  /** The server's revised sampling interval of this item (ms). */
  samplingMs?: number;
  /** A value was delivered on the current subscription (the first one is `meta.firstSample`). */
  seen?: boolean;
}

interface Conn {
  client: OpcuaNs.OPCUAClient;
  session: OpcuaNs.ClientSession;
  subscription: OpcuaNs.ClientSubscription | null;
  cm: OpcuaNs.OPCUACertificateManager;
  items: Item[];
}

interface Composite {
  raw: unknown[];
  source: (Date | null)[];
  server: (Date | null)[];
  last: string | undefined;
  scheduled: boolean;
}

const CONNECT_TIMEOUT_MS = 15_000;
/** node-opcua's DataType enum values of the integer types (counter width comes from these). */
const INTEGER_TYPES: Record<number, string> = { 2: 'SByte', 3: 'Byte', 4: 'Int16', 5: 'UInt16', 6: 'Int32', 7: 'UInt32', 8: 'Int64', 9: 'UInt64' };
const CLOSE_STEP_MS = 2_000;


export class OpcuaMachineDriver extends BaseDriver<MachineReading> {
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private conn: Conn | null = null;
  private loseConn: ((reason: string) => void) | null = null;
  private lostAt: Date | null = null;
  private lastActivity = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private recreating = false;
  private nodeErrors: NodeErrorInfo[] = [];
  private composites = new Map<string, Composite>();
  private untrusted: string | null = null;
  /** The client of a connect attempt in progress, so stop() can cut it short. */
  private pending: OpcuaNs.OPCUAClient | null = null;
  private readonly backoff = new Backoff({ baseMs: 250, maxMs: 3_000, minMs: 100 });
  private readonly pkiDir: string;
  private readonly skewBound: number;
  readonly stats = { notifications: 0, connects: 0, reconnects: 0, subscriptionsRecreated: 0, keepAlives: 0 };

  constructor(
    readonly config: OpcuaMachineConfig,
    readonly map: ResolvedNodeMap,
    ctx: OpcuaDriverContext,
  ) {
    super(config.id, 'opcua-machine', ctx);
    this.pkiDir = opcuaPkiDir(ctx.stateDir);
    this.stateDir = ctx.stateDir;
    this.skewBound = config.maxClockSkewMs + config.publishingIntervalMs;
    this.values = new OpcuaValues(config.values ?? [], config.id, this.clock, (r) => this.emit('reading', r), (code, message) => this.setError(code, message));
  }
  private readonly stateDir: string;
  /** Declared process values (issue 18): src/drivers/opcua/process-values.ts. */
  private readonly values: OpcuaValues;

  get valueNames(): string[] {
    return this.values.names;
  }

  restoreRecorded(last: ReadonlyMap<string, Recorded>): void {
    this.values.restoreRecorded(last);
  }

  protected override details(): Record<string, unknown> {
    return {
      endpoint: this.config.endpoint,
      securityMode: this.config.securityMode,
      securityPolicy: this.config.securityPolicy,
      nodeMap: this.map.name,
      pkiDir: this.pkiDir,
      clientCertificate: join(this.pkiDir, 'own', 'certs', 'client_certificate.pem'),
      nodeErrors: this.nodeErrors,
      ...(this.values.size > 0 ? { values: this.values.details(), valueSourceErrors: this.values.sourceErrors } : {}),
      untrustedServerCertificate: this.untrusted,
      linkLostSince: this.lostAt?.toISOString() ?? null,
      ...this.stats,
    };
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.loop) return;
    this.abort = new AbortController();
    const ac = this.abort;
    signal?.addEventListener('abort', () => ac.abort(), { once: true });
    if (this.config.devAutoAcceptCertificates) {
      this.logger.error({ endpoint: this.config.endpoint }, 'devAutoAcceptCertificates is ON: ANY server certificate is trusted without a check. Development only — never in a plant.');
    }
    this.setState('connecting');
    this.loop = this.run(ac.signal).catch((err: unknown) => {
      // The loop itself never throws by design; this is the last line of defence.
      this.logger.error({ err }, 'OPC UA driver loop failed');
    });
  }

  async stop(): Promise<void> {
    if (!this.loop) {
      this.setState('stopped');
      return;
    }
    this.setState('stopping');
    this.values.stop();
    this.abort?.abort();
    this.loseConn?.('stopping');
    void this.pending?.disconnect().catch(() => undefined);
    // Bounded: the loop's teardown steps each time out after CLOSE_STEP_MS.
    await withTimeout(this.loop, 4 * CLOSE_STEP_MS + 1_000, 'stop').catch(() => undefined);
    this.loop = null;
    this.setState('stopped');
  }

  // ── connect loop ────────────────────────────────────────────────────────────

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let conn: Conn | null = null;
      try {
        this.setState('connecting');
        conn = await this.connectOnce(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.connectFailed(err as Error);
        await sleep(this.backoff.next(), signal);
        continue;
      }
      if (signal.aborted) {
        await this.teardown(conn);
        break;
      }
      this.conn = conn;
      this.backoff.reset();
      this.untrusted = null;
      this.stats.connects++;
      const lost = new Promise<string>((resolve) => {
        this.loseConn = resolve;
      });
      if (this.lostAt) {
        const now = this.clock.now();
        this.stats.reconnects++;
        this.emitLink('restored', { since: this.lostAt.toISOString(), gapMs: now.getTime() - this.lostAt.getTime() }, now);
        this.lostAt = null;
      }
      this.setState(this.nodeErrors.length ? 'degraded' : 'online');
      this.startWatchdog();
      const reason = await lost;
      this.stopWatchdog();
      this.loseConn = null;
      this.conn = null;
      await this.teardown(conn);
      if (signal.aborted) break;
      const now = this.clock.now();
      this.lostAt = now;
      this.setError('LG_ERR_OPCUA_LINK_LOST', formatMessage('LG_ERR_OPCUA_LINK_LOST', { endpoint: this.config.endpoint, detail: reason }));
      this.emitLink('lost', { since: now.toISOString(), reason }, now);
      this.setState('offline');
      await sleep(this.backoff.next(), signal);
    }
  }

  private connectFailed(err: Error): void {
    const msg = err.message ?? String(err);
    if (/BadCertificateUntrusted|Certificate verification failed|BadCertificate/i.test(msg) && this.config.securityMode !== 'None') {
      const cert = newestRejected(this.stateDir);
      this.untrusted = cert?.thumbprint ?? 'unknown';
      this.setError(
        'LG_ERR_OPCUA_CERT_UNTRUSTED',
        formatMessage('LG_ERR_OPCUA_CERT_UNTRUSTED', { endpoint: this.config.endpoint, thumbprint: this.untrusted }),
      );
      this.logger.error({ endpoint: this.config.endpoint, thumbprint: this.untrusted, subject: cert?.subject }, 'OPC UA server certificate is not trusted; refusing to connect');
    } else {
      const hint = /BadSecurityChecksFailed|BadCertificate/i.test(msg) ? ' — the server may not trust the gateway certificate yet (see details.clientCertificate)' : '';
      this.setError('LG_ERR_OPCUA_CONNECT_FAILED', formatMessage('LG_ERR_OPCUA_CONNECT_FAILED', { endpoint: this.config.endpoint, detail: msg + hint }));
      this.logger.warn({ endpoint: this.config.endpoint, err: msg }, 'OPC UA connect failed; retrying');
    }
    this.setState('offline');
  }

  private async connectOnce(signal: AbortSignal): Promise<Conn> {
    const ua = await loadOpcua(this.logger);
    const cfg = this.config;
    // A fresh certificate manager per attempt: a certificate trusted by a person meanwhile
    // (`linegate opcua trust`) is read from disk, no in-memory trust list to invalidate.
    const cm = new ua.OPCUACertificateManager({
      rootFolder: this.pkiDir,
      automaticallyAcceptUnknownCertificate: cfg.devAutoAcceptCertificates === true,
    });
    await cm.initialize();
    if (cfg.devAutoAcceptCertificates) this.logger.error('connecting with devAutoAcceptCertificates: the server certificate is NOT checked');
    const client = ua.OPCUAClient.create({
      applicationName: 'linegate',
      endpointMustExist: false,
      securityMode: ua.MessageSecurityMode[cfg.securityMode],
      securityPolicy: ua.SecurityPolicy[cfg.securityPolicy],
      clientCertificateManager: cm,
      keepSessionAlive: false,
      requestedSessionTimeout: 60_000,
      // One attempt per call: reconnection is ours (see the file comment).
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 500 },
    });
    let session: OpcuaNs.ClientSession | null = null;
    // node-opcua objects are EventEmitters: an 'error' event without a listener would throw out of
    // the data path and crash the daemon. Log instead; the loop handles the consequences.
    const onError = (err: unknown): void => this.logger.warn({ err: String(err) }, 'OPC UA client error');
    (client as unknown as NodeJS.EventEmitter).on('error', onError);
    this.pending = client;
    try {
      await withTimeout(client.connect(cfg.endpoint), CONNECT_TIMEOUT_MS, 'connect');
      if (signal.aborted) throw new Error('stopping');
      const identity: OpcuaNs.UserIdentityInfo =
        cfg.auth.type === 'username'
          ? { type: ua.UserTokenType.UserName, userName: cfg.auth.username, password: cfg.auth.password }
          : { type: ua.UserTokenType.Anonymous };
      session = await withTimeout(client.createSession(identity), CONNECT_TIMEOUT_MS, 'createSession');
      (session as unknown as NodeJS.EventEmitter).on('error', onError);
      client.on('connection_lost', () => this.loseConn?.('connection lost'));
      client.on('close', () => this.loseConn?.('connection closed'));
      session.on('session_closed', () => this.loseConn?.('session closed'));
      const items = await this.resolveItems(ua, session);
      const conn: Conn = { client, session, subscription: null, cm, items };
      await this.subscribe(ua, conn);
      this.pending = null;
      return conn;
    } catch (err) {
      this.pending = null;
      await this.teardown({ client, session: session as OpcuaNs.ClientSession, subscription: null, cm, items: [] });
      throw err;
    }
  }

  /** Node ids (namespace URIs resolved) and browse paths → NodeIds; failures become node errors. */
  private async resolveItems(ua: Opcua, session: OpcuaNs.ClientSession): Promise<Item[]> {
    this.nodeErrors = [];
    const nsArray = await session.readNamespaceArray();
    const nsIndex = (uri: string): number => nsArray.indexOf(uri);
    const items: Item[] = [];
    const browse: { item: Item; path: string }[] = [];
    for (const field of this.map.fields) {
      field.locations.forEach((loc, level) => {
        const item: Item = { field, level, loc, nodeId: loc.nodeId ?? loc.browsePath ?? '' };
        if (loc.nodeId) {
          const m = /^nsu=([^;]+);(.+)$/.exec(loc.nodeId);
          if (m) {
            const idx = nsIndex(m[1]!);
            if (idx < 0) {
              this.nodeError(field.field, loc.nodeId, `namespace ${m[1]} is not on this server`);
              return;
            }
            item.nodeId = `ns=${idx};${m[2]}`;
          }
          try {
            ua.resolveNodeId(item.nodeId);
          } catch (err) {
            this.nodeError(field.field, loc.nodeId, `not a valid node id: ${(err as Error).message}`);
            return;
          }
          items.push(item);
        } else if (loc.browsePath) {
          let bad: string | null = null;
          const path = loc.browsePath
            .split('/')
            .filter((s) => s.length > 0)
            .map((el) => {
              const m = /^([A-Za-z][A-Za-z0-9_]*):(.+)$/.exec(el);
              if (!m) return `/${el}`;
              const uri = this.map.namespaces[m[1]!];
              const idx = uri ? nsIndex(uri) : -1;
              if (idx < 0) bad = uri ? `namespace ${uri} (${m[1]}) is not on this server` : `unknown namespace prefix ${m[1]}`;
              return `/${idx}:${m[2]}`;
            })
            .join('');
          if (bad) {
            this.nodeError(field.field, loc.browsePath, bad);
            return;
          }
          browse.push({ item, path });
        }
      });
    }
    if (browse.length) {
      const objects = ua.resolveNodeId('ObjectsFolder');
      const results = await session.translateBrowsePath(browse.map((b) => ua.makeBrowsePath(objects, b.path)));
      results.forEach((r, i) => {
        const b = browse[i]!;
        const target = r.statusCode.isGood() ? r.targets?.[0]?.targetId : undefined;
        if (!target) {
          this.nodeError(b.item.field.field, b.item.nodeId, `browse path does not resolve (${r.statusCode.name})`);
          return;
        }
        b.item.nodeId = target.toString();
        items.push(b.item);
      });
    }
    return items;
  }

  private nodeError(field: string, nodeId: string, detail: string): void {
    const code: ErrorCode = 'LG_ERR_OPCUA_NODE_INVALID';
    if (!this.nodeErrors.some((e) => e.field === field && e.nodeId === nodeId)) this.nodeErrors.push({ field, nodeId, code, detail });
    const message = formatMessage(code, { nodeId, field, detail });
    this.setError(code, message);
    this.logger.error({ field, nodeId, detail }, message);
    this.emitReading({
      kind: 'machine',
      deviceId: this.id,
      receivedAt: this.clock.now(),
      field,
      value: null,
      error: { code, message, details: { nodeId, field, detail } },
      meta: { nodeId },
    });
  }

  private async subscribe(ua: Opcua, conn: Conn): Promise<void> {
    const cfg = this.config;
    const keepAlive = Math.max(1, Math.floor(cfg.staleAfterMs / 3 / cfg.publishingIntervalMs));
    const sub = await withTimeout(
      conn.session.createSubscription2({
        requestedPublishingInterval: cfg.publishingIntervalMs,
        requestedMaxKeepAliveCount: keepAlive,
        requestedLifetimeCount: keepAlive * 10,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10,
      }),
      CONNECT_TIMEOUT_MS,
      'createSubscription',
    );
    conn.subscription = sub;
    this.lastActivity = Date.now();
    (sub as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => this.logger.warn({ err: String(err) }, 'OPC UA subscription error'));
    sub.on('keepalive', () => {
      this.stats.keepAlives++;
      this.lastActivity = Date.now();
    });
    sub.on('terminated', () => {
      if (conn.subscription === sub && !this.recreating) this.lastActivity = 0; // let the watchdog act now
    });
    // Re-validate: a field may have recovered (node added on the PLC) since the last connect.
    const failed = new Set<Item>();
    await Promise.all(
      conn.items.map(async (item) => {
        const db = cfg.deadbands?.[item.field.field];
        const filter =
          db && item.field.kind === 'analog'
            ? new ua.DataChangeFilter({
                trigger: ua.DataChangeTrigger.StatusValue,
                deadbandType: db.type === 'percent' ? ua.DeadbandType.Percent : ua.DeadbandType.Absolute,
                deadbandValue: db.value,
              })
            : null;
        const mi = await sub.monitor(
          { nodeId: item.nodeId, attributeId: ua.AttributeIds.Value },
          { samplingInterval: cfg.samplingIntervalMs, queueSize: 100, discardOldest: false, filter },
          ua.TimestampsToReturn.Both,
        );
        const sc = (mi as unknown as { statusCode?: OpcuaNs.StatusCode }).statusCode;
        if (sc && sc.isNotGood()) {
          failed.add(item);
          this.nodeError(item.field.field, item.loc.nodeId ?? item.loc.browsePath ?? item.nodeId, `${sc.name} (${item.nodeId})`);
          await mi.terminate().catch(() => undefined);
          return;
        }
        item.mi = mi;
        item.seen = false;
        const revised = (mi as unknown as { monitoringParameters?: { samplingInterval?: number } }).monitoringParameters?.samplingInterval;
        item.samplingMs = typeof revised === 'number' && revised > 0 ? revised : undefined;
        mi.on('changed', (dv: OpcuaNs.DataValue) => this.onValue(item, dv));
      }),
    );
    if (failed.size) conn.items = conn.items.filter((i) => !failed.has(i));
    await this.values.monitor(ua, conn.session, sub, cfg.samplingIntervalMs);
  }

  // ── watchdog ────────────────────────────────────────────────────────────────

  private startWatchdog(): void {
    this.stopWatchdog();
    const every = Math.max(100, Math.min(1_000, Math.floor(this.config.staleAfterMs / 4)));
    this.watchdog = setInterval(() => void this.checkStale(), every);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private async checkStale(): Promise<void> {
    const conn = this.conn;
    if (!conn || this.recreating) return;
    if (Date.now() - this.lastActivity <= this.config.staleAfterMs) return;
    // No data and no keep-alive within the expected time: the subscription is dead or the server
    // fell silent (#1524). Recreate it in this session; if even that fails, reconnect.
    this.recreating = true;
    this.logger.warn({ silentMs: Date.now() - this.lastActivity }, 'no data and no keep-alive: recreating the subscription');
    try {
      const ua = await loadOpcua();
      const old = conn.subscription;
      conn.subscription = null;
      if (old) await withTimeout(old.terminate(), CLOSE_STEP_MS, 'terminate subscription').catch(() => undefined);
      for (const i of conn.items) i.mi = undefined;
      await this.subscribe(ua, conn);
      this.stats.subscriptionsRecreated++;
    } catch (err) {
      this.loseConn?.(`subscription could not be recreated: ${(err as Error).message}`);
    } finally {
      this.recreating = false;
    }
  }

  private async teardown(conn: Conn): Promise<void> {
    const step = async (p: (() => Promise<unknown>) | undefined, what: string): Promise<void> => {
      if (!p) return;
      try {
        await withTimeout(p(), CLOSE_STEP_MS, what);
      } catch {
        // Best effort: the peer may be gone; the socket is closed by disconnect below.
      }
    };
    const sub = conn.subscription;
    conn.subscription = null;
    await step(sub ? () => sub.terminate() : undefined, 'terminate');
    await step(conn.session ? () => conn.session.close(true) : undefined, 'close session');
    await step(() => conn.client.disconnect(), 'disconnect');
    conn.client.removeAllListeners();
    await step(() => conn.cm.dispose(), 'dispose pki');
  }

  // ── data path (must never throw) ────────────────────────────────────────────

  private onValue(item: Item, dv: OpcuaNs.DataValue): void {
    this.stats.notifications++;
    this.lastActivity = Date.now();
    try {
      const f = item.field;
      const receivedAt = this.clock.now();
      const sourceTime = dv.sourceTimestamp ?? null;
      const serverTime = dv.serverTimestamp ?? null;
      const sc = dv.statusCode;
      if (sc && sc.isNotGood() && (sc.value & 0x80000000) !== 0) {
        const nodeGone = /BadNodeId/.test(sc.name);
        const code: ErrorCode = nodeGone ? 'LG_ERR_OPCUA_NODE_INVALID' : 'LG_ERR_READING_INVALID';
        const detail = `${sc.name} from ${item.nodeId}`;
        const message = nodeGone ? formatMessage(code, { nodeId: item.nodeId, field: f.field, detail }) : formatMessage(code, { device: this.id, detail });
        if (nodeGone) this.nodeError(f.field, item.nodeId, detail);
        else this.emitReading({ kind: 'machine', deviceId: this.id, receivedAt, sourceTime, serverTime, field: f.field, value: null, error: { code, message, details: { nodeId: item.nodeId, status: sc.name } }, meta: { nodeId: item.nodeId, status: sc.name } });
        return;
      }
      const raw = selectPath(dv.value?.value, item.loc.select);
      if (f.locations.length > 1) {
        this.onLevel(item, raw, sourceTime, serverTime);
        return;
      }
      const dataType = dv.value ? (this.dataTypeName(dv.value.dataType) ?? undefined) : undefined;
      const c = convertValue(f, raw, dataType);
      const meta = this.timeMeta(item.nodeId, receivedAt, sourceTime, serverTime);
      if (sc && !sc.isGood()) meta.status = sc.name;
      if (!c.ok) {
        const message = c.code === 'LG_ERR_MACHINE_STATE_UNKNOWN' ? formatMessage(c.code, { device: this.id, value: c.value }) : formatMessage(c.code, { device: this.id, detail: c.detail });
        this.emitReading({ kind: 'machine', deviceId: this.id, receivedAt, sourceTime, serverTime, field: f.field, value: c.value, error: { code: c.code, message, details: { nodeId: item.nodeId, detail: c.detail } }, meta });
        return;
      }
      if (c.meta) Object.assign(meta, c.meta);
      if (f.kind === 'counter') Object.assign(meta, this.counterLimits(item));
      if (f.kind === 'state' && typeof c.value === 'string') {
        const n = tr88Number(c.value);
        if (n !== undefined) meta.stateNumber = n;
      }
      this.emitReading({ kind: 'machine', deviceId: this.id, receivedAt, sourceTime, serverTime, field: f.field, value: c.value, meta });
    } catch (err) {
      this.logger.error({ err, field: item.field.field }, 'OPC UA value could not be handled');
    }
  }

  /**
   * What the binder needs to tell a counter step from a discontinuity (issue 10.3, see
   * src/binding/machine.ts): the machine's maximum rate, the sampling window one step covers, and
   * whether this is the first value of the subscription (which may span a gap).
   */
  private counterLimits(item: Item): Record<string, unknown> {
    const first = item.seen !== true;
    item.seen = true;
    const rate = this.config.counterMaxRatePerSecond ?? item.field.maxRatePerSecond;
    const window = Math.max(item.samplingMs ?? 0, this.config.samplingIntervalMs > 0 ? this.config.samplingIntervalMs : this.config.publishingIntervalMs);
    return { ...(rate !== undefined ? { maxRatePerSecond: rate } : {}), sampleWindowMs: window, ...(first ? { firstSample: true } : {}) };
  }

  private dataTypeName(dt: number): string | undefined {
    return INTEGER_TYPES[dt];
  }

  private timeMeta(nodeId: string, receivedAt: Date, sourceTime: Date | null, serverTime: Date | null): Record<string, unknown> {
    const meta: Record<string, unknown> = { nodeId };
    const ref = serverTime ?? sourceTime;
    if (ref) {
      const skew = receivedAt.getTime() - ref.getTime();
      meta.skewMs = skew;
      if (Math.abs(skew) > this.skewBound) meta.clockSkew = true;
    }
    return meta;
  }

  /**
   * One level of a composed state (OPC 30050 nested state machines). The levels of one publish
   * response arrive as separate notifications in the same tick; evaluating on setImmediate sees
   * them all, so no transient mix of old and new levels is reported as a state. The price: two
   * state changes within ONE publishing interval collapse into the last one for a composed state
   * (a plain state variable keeps every change, queueSize 100). Keep publishingIntervalMs below the
   * shortest PackML state a machine dwells in.
   */
  private onLevel(item: Item, raw: unknown, source: Date | null, server: Date | null): void {
    const f = item.field;
    let c = this.composites.get(f.field);
    if (!c) {
      const n = f.locations.length;
      c = { raw: new Array<unknown>(n).fill(undefined), source: new Array<Date | null>(n).fill(null), server: new Array<Date | null>(n).fill(null), last: undefined, scheduled: false };
      this.composites.set(f.field, c);
    }
    c.raw[item.level] = raw;
    c.source[item.level] = source;
    c.server[item.level] = server;
    if (c.scheduled) return;
    c.scheduled = true;
    const comp = c;
    setImmediate(() => {
      comp.scheduled = false;
      try {
        this.evalComposite(item, comp);
      } catch (err) {
        this.logger.error({ err }, 'composed state could not be evaluated');
      }
    });
  }

  private evalComposite(item: Item, c: Composite): void {
    const f = item.field;
    const supers = f.superstates ?? new Set<string>();
    const receivedAt = this.clock.now();
    const maxTime = (ds: (Date | null)[]): Date | null => ds.reduce<Date | null>((a, d) => (d && (!a || d > a) ? d : a), null);
    const sourceTime = maxTime(c.source);
    const serverTime = maxTime(c.server);
    for (let i = 0; i < c.raw.length; i++) {
      if (c.raw[i] === undefined) return; // a level not received yet
      const name = mapStateValue(c.raw[i], f.stateTable);
      if (name === undefined) {
        const value = plain(c.raw[i]);
        const message = formatMessage('LG_ERR_MACHINE_STATE_UNKNOWN', { device: this.id, value });
        this.emitReading({ kind: 'machine', deviceId: this.id, receivedAt, sourceTime, serverTime, field: f.field, value, error: { code: 'LG_ERR_MACHINE_STATE_UNKNOWN', message, details: { level: i } }, meta: { level: i } });
        return;
      }
      if (supers.has(name)) continue;
      if (name === c.last) return;
      c.last = name;
      const meta = this.timeMeta(item.nodeId, receivedAt, sourceTime, serverTime);
      meta.raw = c.raw.map((r) => plain(r));
      const n = tr88Number(name);
      if (n !== undefined) meta.stateNumber = n;
      this.emitReading({ kind: 'machine', deviceId: this.id, receivedAt, sourceTime, serverTime, field: f.field, value: name, meta });
      return;
    }
  }

  private emitLink(value: 'lost' | 'restored', meta: Record<string, unknown>, at: Date): void {
    // A fresh connection re-reports every composed state: forget the last one so it is emitted.
    if (value === 'lost') for (const c of this.composites.values()) c.last = undefined;
    this.emitReading({ kind: 'machine', deviceId: this.id, receivedAt: at, field: 'link', value, meta: { ...meta, endpoint: this.config.endpoint } });
  }
}
