/**
 * The two byte transports of a serial scanner, behind one small interface, so the driver's
 * connect loop and framing are the same for a local port and a serial device server.
 *
 * A Link is single-use: opened once, closed once, then thrown away. That is the point: serialport
 * queues writes made on a disconnected port object and flushes them after the same object is
 * reopened (DEPENDENCIES.md), so a beep written while the cable was out would be played later on
 * someone else's scan. A new Link (and a new SerialPort object) per connection makes that
 * impossible by construction.
 */
import { closeSync, constants as fsc, openSync, readSync, realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { SerialPort } from 'serialport';

export interface LinkClosed {
  /** True when the device went away (cable, socat killed, peer closed); false on our own close. */
  disconnected: boolean;
  detail: string;
}

export interface Link {
  /** "/dev/serial/by-id/…" or "tcp://host:port", for messages. */
  readonly where: string;
  /** Resolves once open; rejects with an Error whose `detail` is operator-readable. */
  open(signal: AbortSignal, timeoutMs: number): Promise<void>;
  /** Writes only while open; returns false (and writes nothing) otherwise. Never throws. */
  write(bytes: Buffer): boolean;
  readonly isOpen: boolean;
  /** Resolves when the link is closed, by either side. */
  readonly closed: Promise<LinkClosed>;
  close(): Promise<void>;
  onData(cb: (chunk: Buffer) => void): void;
  /** Where bytes read before the port was open go (default: onData's callback). Serial only. */
  onPreOpenData?(cb: (chunk: Buffer) => void): void;
  /** Facts for health(): resolved device path etc. */
  info(): Record<string, unknown>;
}

/** Error with an operator-readable `detail` ("not found", "permission denied…"). */
export class LinkOpenError extends Error {
  constructor(readonly detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'LinkOpenError';
  }
}

// ── serial port ──────────────────────────────────────────────────────────────

/** The part of serialport's SerialPort we use (SerialPortMock has the same shape). */
export interface SerialPortLike {
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  write(data: Buffer, cb?: (err: Error | null | undefined) => void): boolean;
  readonly isOpen: boolean;
  on(ev: 'data', cb: (chunk: Buffer) => void): unknown;
  on(ev: 'close', cb: (err?: Error & { disconnected?: boolean }) => void): unknown;
  on(ev: 'error', cb: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export interface SerialLineOptions {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
}

export type SerialPortFactory = (opts: SerialLineOptions & { autoOpen: false }) => SerialPortLike;

export const defaultSerialPortFactory: SerialPortFactory = (opts) => new SerialPort(opts) as unknown as SerialPortLike;

/** Map serialport / errno failures to what the operator should check. */
export function describeOpenError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = `${e?.code ?? ''} ${e?.message ?? String(err)}`;
  if (/ENOENT|No such file/i.test(text)) return 'not found';
  if (/EACCES|Permission denied/i.test(text)) return 'permission denied — add the linegate user to the dialout group or fix the udev rule MODE/GROUP';
  if (/EBUSY|lock|Resource temporarily unavailable/i.test(text)) return 'in use by another program (the port is locked)';
  if (/ENOTTY|Inappropriate ioctl/i.test(text)) return 'not a serial device';
  if (/ECONNREFUSED/i.test(text)) return 'connection refused — is the device server on and its port in TCP server (raw) mode?';
  if (/EHOSTUNREACH|ENETUNREACH/i.test(text)) return 'host unreachable — check the network cable and the address';
  if (/ENOTFOUND|EAI_AGAIN/i.test(text)) return 'host name not found — check the address';
  if (/timed out|ETIMEDOUT/i.test(text)) return 'no answer (timed out)';
  return (e?.message ?? String(err)).replace(/^Error:\s*/, '');
}

export class SerialLink implements Link {
  readonly where: string;
  private port: SerialPortLike | null = null;
  private resolvedPath: string | null = null;
  private dataCb: ((chunk: Buffer) => void) | null = null;
  private resolveClosed!: (c: LinkClosed) => void;
  readonly closed: Promise<LinkClosed>;
  private closing = false;
  private done = false;

  constructor(
    private readonly line: SerialLineOptions,
    private readonly factory: SerialPortFactory = defaultSerialPortFactory,
    private readonly checkPath = true,
  ) {
    this.where = line.path;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  get isOpen(): boolean {
    return !this.done && this.port !== null && this.port.isOpen;
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCb = cb;
  }

  private preOpenCb: ((chunk: Buffer) => void) | null = null;
  onPreOpenData(cb: (chunk: Buffer) => void): void {
    this.preOpenCb = cb;
  }

  info(): Record<string, unknown> {
    return { resolvedPath: this.resolvedPath, bytesReadBeforeOpen: this.preOpenBytes };
  }

  /** Bytes taken from the port's input queue before serialport's open flushed it (issue 10.9). */
  private preOpenBytes = 0;

  async open(signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (this.checkPath) {
      // A clean "not found" (and the udev symlink's target for health) before serialport's
      // less specific errors. realpath follows /dev/serial/by-id/… and udev symlinks.
      try {
        this.resolvedPath = await realpath(this.line.path);
        await stat(this.resolvedPath);
      } catch (err) {
        throw new LinkOpenError(describeOpenError(err), { cause: err });
      }
    }
    // serialport's open flushes the input queue (tcflush TCIOFLUSH in bindings-cpp), so a scan the
    // scanner sent between the replug and this open would vanish without a trace. Read it first.
    const pre = this.checkPath ? this.startPreRead(this.resolvedPath ?? this.line.path) : null;
    const port = this.factory({ ...this.line, autoOpen: false });
    this.port = port;
    port.on('data', (chunk: Buffer) => this.dataCb?.(chunk));
    port.on('error', () => {
      /* errors surface through open/close; an 'error' with no listener would crash the process */
    });
    port.on('close', (err) => this.finish({ disconnected: !this.closing || Boolean(err?.disconnected), detail: err?.message ?? 'port closed' }));
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const t = setTimeout(() => settle(new LinkOpenError('no answer (timed out opening the port)')), timeoutMs);
      const onAbort = (): void => settle(new LinkOpenError('stopped'));
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        // Stop reading the queue ourselves in the same tick as serialport starts reading it (its
        // 'open' event, emitted just before this callback), so no byte is read out of order.
        pre?.stop();
        if (err) {
          this.done = true;
          this.safeClose(port);
          reject(err instanceof LinkOpenError ? err : new LinkOpenError(describeOpenError(err), { cause: err }));
        } else {
          if (this.checkPath) this.watchPath();
          resolve();
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      port.open((err) => settle(err));
    });
  }

  /**
   * Issue 10.9. Opens the device a second time (read-only, non-blocking, not as controlling tty)
   * and drains whatever is queued — at once, then every millisecond while serialport opens — into
   * the data callback, so those bytes reach the framer ahead of anything serialport reads. The
   * descriptor is closed once serialport's open has finished (our open keeps the tty from being
   * released in between).
   *
   * What is still possible, and why it is accepted: bytes arriving in the last moment between our
   * final read and the native tcflush (well under a millisecond; the flush runs right after the
   * native open) are discarded by the kernel, and nothing in user space can count them. A scan cut
   * that way arrives incomplete and is rejected, not silently accepted. On a fresh real port the tty
   * may still be in cooked mode for that moment (canonical lines, echo) until serialport sets raw
   * mode; USB serial drivers only start receiving once the port is opened, so their queue is empty
   * then and nothing is read early. If the pre-read open fails (permissions, locked by udev), the
   * port is opened as before and serialport reports the real problem.
   */
  private startPreRead(path: string): { stop(): void } | null {
    let fd: number;
    try {
      fd = openSync(path, fsc.O_RDONLY | fsc.O_NOCTTY | fsc.O_NONBLOCK);
    } catch {
      return null;
    }
    const buf = Buffer.alloc(4096);
    let timer: NodeJS.Timeout | null = null;
    let open = true;
    const drain = (): void => {
      for (let i = 0; open && i < 256; i++) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch {
          return; // EAGAIN: nothing queued (or EIO: gone — serialport's open will say so)
        }
        if (n <= 0) return;
        this.preOpenBytes += n;
        (this.preOpenCb ?? this.dataCb)?.(Buffer.from(buf.subarray(0, n)));
      }
    };
    const tick = (): void => {
      timer = null;
      drain();
      if (open) timer = setTimeout(tick, 1);
    };
    drain();
    timer = setTimeout(tick, 1);
    return {
      stop: () => {
        if (!open) return;
        open = false;
        if (timer) clearTimeout(timer);
        try {
          closeSync(fd);
        } catch {
          /* already gone */
        }
      },
    };
  }

  write(bytes: Buffer): boolean {
    const port = this.port;
    if (!port || this.done || this.closing || !port.isOpen) return false;
    try {
      port.write(bytes, () => {
        /* a write error shows up as a close; nothing to do per write */
      });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.closing = true;
    const port = this.port;
    if (!port) {
      this.finish({ disconnected: false, detail: 'closed before open' });
      return;
    }
    await new Promise<void>((resolve) => {
      if (!port.isOpen) return resolve();
      port.close(() => resolve());
    });
    this.finish({ disconnected: false, detail: 'closed by linegate' });
  }

  private pathWatch: NodeJS.Timeout | null = null;

  /**
   * A tty hung up in the moment it was opened (cable pulled, socat killed right then) answers every
   * read with 0 bytes, which serialport retries forever: no close event, the scanner shown online
   * and deaf. Found with issue 10.9's replug test. Once a second, check the device node is still
   * the one opened; if it is gone, the link is closed as disconnected and the driver reconnects.
   */
  private watchPath(): void {
    this.pathWatch = setInterval(() => {
      let now: string | null;
      try {
        now = realpathSync(this.line.path);
      } catch {
        now = null;
      }
      if (now !== null && now === this.resolvedPath) return;
      const port = this.port;
      this.finish({ disconnected: true, detail: 'the device disappeared' });
      if (port) this.safeClose(port);
    }, 1000);
    this.pathWatch.unref();
  }

  private safeClose(port: SerialPortLike): void {
    try {
      if (port.isOpen) port.close(() => undefined);
    } catch {
      /* already closed */
    }
  }

  private finish(c: LinkClosed): void {
    if (this.pathWatch) clearInterval(this.pathWatch);
    this.pathWatch = null;
    if (this.done && this.port === null) return;
    this.done = true;
    const port = this.port;
    this.port = null;
    // Drop the object for good: nothing written to it may ever be flushed later.
    port?.removeAllListeners();
    port?.on('error', () => undefined);
    this.resolveClosed(c);
  }
}

// ── raw TCP to a serial device server ────────────────────────────────────────

export class TcpLink implements Link {
  readonly where: string;
  private socket: Socket | null = null;
  private dataCb: ((chunk: Buffer) => void) | null = null;
  private resolveClosed!: (c: LinkClosed) => void;
  readonly closed: Promise<LinkClosed>;
  private closing = false;
  private done = false;
  private lastError: Error | null = null;

  constructor(private readonly host: string, private readonly port: number) {
    this.where = `tcp://${host}:${port}`;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  get isOpen(): boolean {
    return !this.done && this.socket !== null && !this.socket.destroyed && this.socket.readyState === 'open';
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCb = cb;
  }

  info(): Record<string, unknown> {
    return { localPort: this.socket?.localPort ?? null };
  }

  open(signal: AbortSignal, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const s = netConnect({ host: this.host, port: this.port });
      this.socket = s;
      let settled = false;
      const t = setTimeout(() => settle(new LinkOpenError('no answer (timed out)')), timeoutMs);
      const onAbort = (): void => settle(new LinkOpenError('stopped'));
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        if (err) {
          this.done = true;
          s.destroy();
          reject(err instanceof LinkOpenError ? err : new LinkOpenError(describeOpenError(err), { cause: err }));
        } else resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      s.on('data', (chunk: Buffer) => this.dataCb?.(chunk));
      s.on('error', (err) => {
        this.lastError = err;
        settle(err);
      });
      s.once('connect', () => {
        // Scans are tiny and latency matters more than packet count.
        s.setNoDelay(true);
        // A device server that loses power sends no FIN: keepalive finds the dead peer. Node 20
        // sets only the idle time; probe interval and count are the kernel's
        // (net.ipv4.tcp_keepalive_intvl/probes, 75 s × 9 by default), so a silent power loss is
        // seen after minutes, not seconds — or at the next feedback write. A clean close or a
        // refused reconnect is seen at once.
        s.setKeepAlive(true, 5000);
        settle(null);
      });
      s.on('close', () => {
        if (!settled) return; // open failure: reported by open()
        this.finish({
          disconnected: !this.closing,
          detail: this.lastError ? describeOpenError(this.lastError) : 'the device server closed the connection',
        });
      });
    });
  }

  write(bytes: Buffer): boolean {
    const s = this.socket;
    if (!s || this.done || this.closing || !this.isOpen) return false;
    try {
      s.write(bytes);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.closing = true;
    const s = this.socket;
    if (!s) {
      this.finish({ disconnected: false, detail: 'closed before open' });
      return;
    }
    await new Promise<void>((resolve) => {
      if (s.destroyed) return resolve();
      s.once('close', () => resolve());
      s.destroy();
    });
    this.finish({ disconnected: false, detail: 'closed by linegate' });
  }

  private finish(c: LinkClosed): void {
    if (this.done) return;
    this.done = true;
    const s = this.socket;
    this.socket = null;
    s?.removeAllListeners('data');
    this.resolveClosed(c);
  }
}
