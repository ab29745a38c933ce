/**
 * Serial barcode scanner driver: bytes from a local serial port or a serial device server (raw
 * TCP) → Framer → `reading` events carrying the frame's exact bytes. It never interprets a scan
 * (GS1 parsing and classification are the binder's), it never drops one (a broken frame is a
 * reading with `error`), and it never blocks start-up on a missing scanner.
 *
 * Connect loop: open → online → (closed) → offline → backoff with jitter → open a NEW link…
 * The state goes offline the moment the port reports close (killing socat or pulling a USB-CDC
 * cable closes the port at once), well inside the 2 s the station page promises.
 */
import { performance } from 'node:perf_hooks';
import type { SerialScannerConfig } from '../../config/devices/serial-scanner.js';
import { formatMessage } from '../../errors.js';
import { Backoff, sleep, type BackoffOptions } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { BaseDriver } from '../driver.js';
import type { ScanReading } from '../../readings/reading.js';
import { Framer, type Frame, type FramerStats } from './framer.js';
import {
  defaultSerialPortFactory,
  LinkOpenError,
  SerialLink,
  TcpLink,
  type Link,
  type SerialLineOptions,
  type SerialPortFactory,
} from './links.js';
import { defaultDevicesDir, loadScannerProfile, type ResolvedScannerProfile } from './profile.js';

export interface SerialScannerContext {
  logger: Logger;
  clock?: Clock;
  /** Not used by this driver (it keeps no state on disk); accepted for the common seam. */
  stateDir?: string;
  /** Folder holding scanners/*.yaml; default the repository's devices/. */
  devicesDir?: string;
}

/** Knobs for tests and tools; the product uses the defaults. */
export interface SerialScannerOptions {
  /** Reconnect backoff (full jitter). Default base 200 ms, cap 5 s, floor 100 ms. */
  reconnect?: BackoffOptions;
  /** Give up one open attempt after this long. Default 5000 ms. */
  openTimeoutMs?: number;
  /** Build the SerialPort object (tests pass SerialPortMock). */
  serialPortFactory?: SerialPortFactory;
  /** Skip the realpath/stat pre-check of the device path (needed for mock ports). */
  checkPath?: boolean;
  /** Use this profile instead of loading config.profile from devicesDir. */
  profile?: ResolvedScannerProfile;
  /** Monotonic ms for framing timeouts. Default performance.now. */
  monotonic?: () => number;
}

export interface SerialScannerCounts extends FramerStats {
  feedbackWritten: number;
  feedbackDropped: number;
  connects: number;
  disconnects: number;
  openFailures: number;
  /** Bytes read from the port's queue before serialport's open flushed it (issue 10.9). */
  bytesReadBeforeOpen: number;
}

export class SerialScannerDriver extends BaseDriver<ScanReading> {
  readonly profile: ResolvedScannerProfile;
  readonly station: string;
  private readonly framer: Framer;
  private readonly line: SerialLineOptions | null;
  private readonly tcp: { host: string; port: number } | null;
  private readonly backoff: Backoff;
  private readonly openTimeoutMs: number;
  private readonly factory: SerialPortFactory;
  private readonly checkPath: boolean;
  private readonly mono: () => number;
  private link: Link | null = null;
  private lastLinkInfo: Record<string, unknown> = {};
  private ac: AbortController | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastOpenDetail: string | null = null;
  /** No successful open since start(): bytes queued on the port may be from before linegate ran. */
  private neverOpened = true;
  private readonly counts = { feedbackWritten: 0, feedbackDropped: 0, connects: 0, disconnects: 0, openFailures: 0, bytesReadBeforeOpen: 0 };

  constructor(readonly config: SerialScannerConfig, ctx: SerialScannerContext, opts: SerialScannerOptions = {}) {
    super(config.id, 'serial-scanner', { logger: ctx.logger, ...(ctx.clock ? { clock: ctx.clock } : {}) });
    this.station = config.station;
    // Throws LgError(LG_ERR_DEVICE_PROFILE) at construction: a bad profile is a config error.
    this.profile =
      opts.profile ??
      loadScannerProfile(ctx.devicesDir ?? defaultDevicesDir(), config.profile ?? 'generic-usb-cdc', {
        device: config.id,
        ...(config.overrides !== undefined ? { overrides: config.overrides } : {}),
      });
    const p = this.profile;
    this.framer = new Framer({
      terminator: p.terminator,
      interCharTimeoutMs: p.interCharTimeoutMs,
      staleFrameMs: p.staleFrameMs,
      maxFrameBytes: p.maxFrameBytes,
    });
    const t = config.transport;
    if (t.type === 'serial') {
      this.line = {
        path: t.path,
        baudRate: t.baudRate ?? p.baudRate,
        dataBits: t.dataBits ?? p.dataBits,
        parity: t.parity ?? p.parity,
        stopBits: t.stopBits ?? p.stopBits,
      };
      this.tcp = null;
    } else {
      this.line = null;
      this.tcp = { host: t.host, port: t.port };
    }
    this.backoff = new Backoff(opts.reconnect ?? { baseMs: 200, maxMs: 5000, minMs: 100 });
    this.openTimeoutMs = opts.openTimeoutMs ?? 5000;
    this.factory = opts.serialPortFactory ?? defaultSerialPortFactory;
    this.checkPath = opts.checkPath ?? true;
    this.mono = opts.monotonic ?? (() => performance.now());
  }

  /** What the GS1 parser needs to know about this scanner's data. */
  get scanDecoding(): { fnc1Substitute: string | null; aimIds: boolean } {
    return { fnc1Substitute: this.profile.fnc1Substitute, aimIds: this.profile.aimIds };
  }

  /** Where the scanner is, as shown in messages: the device path or tcp://host:port. */
  get where(): string {
    return this.line ? this.line.path : `tcp://${this.tcp!.host}:${this.tcp!.port}`;
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.ac && !this.ac.signal.aborted) return; // already running
    if (this.stopping) await this.stopping;
    this.stopping = null;
    const ac = new AbortController();
    this.ac = ac;
    if (signal) {
      if (signal.aborted) return;
      signal.addEventListener('abort', () => void this.stop(), { once: true });
    }
    this.setState('connecting');
    this.neverOpened = true;
    this.loopDone = this.loop(ac.signal).catch((err: unknown) => {
      // The loop catches everything it expects; this is a bug, but must not crash the daemon.
      this.logger.error({ err }, `scanner ${this.id}: connect loop failed`);
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.ac) return;
    this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.setState('stopping');
    this.ac?.abort();
    this.clearTimer();
    const link = this.link;
    // Bounded: a port that does not close in 1.5 s is abandoned (the object is dropped anyway).
    if (link) await withTimeout(link.close(), 1500);
    await withTimeout(this.loopDone, 400);
    this.deliver(this.framer.flush('the driver stopped'));
    this.link = null;
    this.setState('stopped');
  }

  /**
   * Good/bad beep after the verdict. Written only while the port is open; while offline the bytes
   * are dropped, never queued, so nothing is replayed after a reconnect. Never throws.
   */
  feedback(verdict: { accepted: boolean; code?: string | null }): void {
    try {
      const bytes = verdict.accepted ? this.profile.feedback.good : this.profile.feedback.bad;
      if (!bytes) return;
      const link = this.link;
      if (!link || this.state !== 'online' || !link.isOpen || !link.write(bytes)) {
        this.counts.feedbackDropped++;
        this.logger.debug({ accepted: verdict.accepted }, `scanner ${this.id}: feedback dropped (not connected)`);
        return;
      }
      this.counts.feedbackWritten++;
    } catch (err) {
      this.counts.feedbackDropped++;
      this.logger.warn({ err }, `scanner ${this.id}: feedback failed`);
    }
  }

  get stats(): SerialScannerCounts {
    return { ...this.framer.stats, ...this.counts };
  }

  protected override details(): Record<string, unknown> {
    const p = this.profile;
    return {
      transport: this.line ? 'serial' : 'tcp',
      ...(this.line
        ? { path: this.line.path, baudRate: this.line.baudRate, dataBits: this.line.dataBits, parity: this.line.parity, stopBits: this.line.stopBits }
        : { host: this.tcp!.host, port: this.tcp!.port }),
      ...this.lastLinkInfo,
      station: this.station,
      profile: p.name,
      framing: {
        terminator: p.terminator,
        interCharTimeoutMs: p.interCharTimeoutMs,
        staleFrameMs: p.staleFrameMs,
        maxFrameBytes: p.maxFrameBytes,
      },
      feedback: { good: p.feedback.good !== null, bad: p.feedback.bad !== null },
      counts: this.stats,
    };
  }

  // ── connect loop ──────────────────────────────────────────────────────────

  private makeLink(): Link {
    return this.line ? new SerialLink(this.line, this.factory, this.checkPath) : new TcpLink(this.tcp!.host, this.tcp!.port);
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const link = this.makeLink();
      link.onData((chunk) => this.onData(chunk));
      // Issue 10.9: the link reads what is queued before serialport's open flushes it. On a
      // reconnect those bytes are at most one backoff old (a serial port receives nothing while
      // closed; the queue fills from the moment the device reappears) and are scans like any other.
      // Before the first open since start() they may have waited for hours (a pty peer while
      // linegate was stopped): they become ONE rejected record, never a scan bound to today's batch.
      const stale: Buffer[] = [];
      if (this.neverOpened) link.onPreOpenData?.((chunk) => stale.push(chunk));
      try {
        await link.open(signal, this.openTimeoutMs);
      } catch (err) {
        this.deliverStale(stale);
        this.countPreOpen(link);
        // Bytes read from the queue before the failed open are never held for the next link.
        this.deliver(this.framer.flush('the port could not be opened'));
        if (signal.aborted) break;
        this.openFailed(err);
        if (!(await sleep(this.backoff.next(), signal))) break;
        continue;
      }
      if (signal.aborted) {
        await link.close();
        break;
      }
      this.deliverStale(stale);
      this.neverOpened = false;
      this.countPreOpen(link);
      this.link = link;
      this.lastLinkInfo = link.info();
      this.lastOpenDetail = null;
      this.backoff.reset();
      this.counts.connects++;
      this.setState('online');

      const closed = await link.closed;
      this.link = null;
      this.clearTimer();
      // A scan cut by the disconnect is delivered as incomplete, never glued to the next one.
      this.deliver(this.framer.flush('the connection closed mid-scan'));
      if (signal.aborted) break;
      this.counts.disconnects++;
      const detail = `${link.where}: ${closed.detail}`;
      const message = formatMessage('LG_ERR_DEVICE_DISCONNECTED', { kind: 'scanner', device: this.id, detail });
      this.setError('LG_ERR_DEVICE_DISCONNECTED', message);
      this.logger.warn({ code: 'LG_ERR_DEVICE_DISCONNECTED', path: link.where, byDevice: closed.disconnected }, message);
      this.setState('offline');
      if (!(await sleep(this.backoff.next(), signal))) break;
    }
  }

  private deliverStale(chunks: Buffer[]): void {
    if (chunks.length === 0) return;
    const all = Buffer.concat(chunks);
    chunks.length = 0;
    const keep = all.subarray(0, this.profile.maxFrameBytes);
    const details = { device: this.id, length: all.length, kept: keep.length };
    const reading: ScanReading = {
      kind: 'scan',
      deviceId: this.id,
      receivedAt: this.clock.now(),
      raw: Buffer.from(keep),
      error: { code: 'LG_ERR_SCAN_QUEUED_BEFORE_START', message: formatMessage('LG_ERR_SCAN_QUEUED_BEFORE_START', details), details },
    };
    this.logger.warn({ code: 'LG_ERR_SCAN_QUEUED_BEFORE_START', bytes: all.length, hex: keep.toString('hex') }, reading.error!.message);
    try {
      this.emitReading(reading);
    } catch (err) {
      this.logger.error({ err }, `scanner ${this.id}: a reading listener threw`);
    }
  }

  private countPreOpen(link: Link): void {
    const n = link.info().bytesReadBeforeOpen;
    if (typeof n === 'number') this.counts.bytesReadBeforeOpen += n;
  }

  private openFailed(err: unknown): void {
    this.counts.openFailures++;
    const detail = err instanceof LinkOpenError ? err.detail : String(err);
    const message = formatMessage('LG_ERR_DEVICE_OPEN_FAILED', { kind: 'scanner', device: this.id, path: this.where, detail });
    this.setError('LG_ERR_DEVICE_OPEN_FAILED', message);
    // Warn once per distinct problem, not every backoff round (a scanner can stay unplugged all shift).
    if (detail !== this.lastOpenDetail) this.logger.warn({ code: 'LG_ERR_DEVICE_OPEN_FAILED', path: this.where }, message);
    else this.logger.debug({ code: 'LG_ERR_DEVICE_OPEN_FAILED', path: this.where }, message);
    this.lastOpenDetail = detail;
    this.setState('offline');
  }

  // ── data path: never throws ───────────────────────────────────────────────

  private onData(chunk: Buffer): void {
    try {
      this.deliver(this.framer.push(chunk, this.mono()));
      this.armTimer();
    } catch (err) {
      this.logger.error({ err }, `scanner ${this.id}: framing failed (bug); bytes kept in the log`);
    }
  }

  private armTimer(): void {
    this.clearTimer();
    const d = this.framer.deadline();
    if (d === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.deliver(this.framer.poll(this.mono()));
        this.armTimer();
      } catch (err) {
        this.logger.error({ err }, `scanner ${this.id}: framing timer failed (bug)`);
      }
    }, Math.max(0, Math.ceil(d - this.mono())));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private deliver(frames: Frame[]): void {
    for (const f of frames) {
      const reading: ScanReading = { kind: 'scan', deviceId: this.id, receivedAt: this.clock.now(), raw: f.raw };
      if (f.error) reading.error = f.error;
      if (f.error) this.logger.info({ code: f.error.code, bytes: f.raw.length }, `scanner ${this.id}: ${f.error.message}`);
      else this.logger.debug({ hex: f.raw.toString('hex') }, `scanner ${this.id}: scan`);
      try {
        this.emitReading(reading);
      } catch (err) {
        // A listener's bug must not stop the scanner.
        this.logger.error({ err }, `scanner ${this.id}: a reading listener threw`);
      }
    }
  }
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  if (t) clearTimeout(t);
}
