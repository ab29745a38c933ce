/**
 * Printer transports: raw TCP (port 9100) and a device file (USB `/dev/usb/lp0`, a serial port
 * already configured by udev/stty, or a plain file for tests).
 *
 * A transport gives a connection with two operations: ask `~HS`, and write one job's bytes. The
 * print queue decides what the answers mean; the transport only reports facts — in particular
 * whether any byte of a job may have reached the printer, because that decides between "try again"
 * and "ask the operator" (a job is never resent once bytes may have gone out).
 */
import { Socket, connect as netConnect } from 'node:net';
import { open, type FileHandle } from 'node:fs/promises';
import { extractFrames, parseHostStatus, type HostStatus } from './host-status.js';
import { withTimeout } from '../util/async.js';

export type WriteResult =
  | { ok: true; bytes: number }
  /** `bytesOut` > 0 means the printer may have received part or all of the job. */
  | { ok: false; bytesOut: number; error: Error };

export interface PrinterConnection {
  /**
   * Send `~HS`, wait for its answer. Resolves null when the printer stays silent (or answers
   * garbage) within `timeoutMs`. Rejects with ConnectionLostError when the connection dies.
   * By default an answer that arrived before this query (late, to an earlier one) is discarded;
   * `acceptEarlier` keeps it — for asking again after a job, where an answer to ANY ~HS sent after
   * the job's bytes describes the printer after it took the job (issue 10.7).
   */
  queryStatus(timeoutMs: number, opts?: { acceptEarlier?: boolean }): Promise<HostStatus | null>;
  /** Write one job; see WriteResult. Never rejects. */
  write(data: Buffer, timeoutMs: number): Promise<WriteResult>;
  readonly closed: boolean;
  close(): void;
}

export interface PrinterTransport {
  /** Whether `~HS` can be asked over this transport (a device file here is one-way). */
  readonly supportsStatus: boolean;
  describe(): string;
  /** Rejects when the printer cannot be reached within `timeoutMs`. */
  connect(timeoutMs: number): Promise<PrinterConnection>;
}

export class ConnectionLostError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'ConnectionLostError';
  }
}

const HS = Buffer.from('~HS\r\n', 'latin1');

/** Raw TCP (port 9100). One persistent connection, reopened by the queue after any failure. */
export class TcpPrinterTransport implements PrinterTransport {
  readonly supportsStatus = true;
  constructor(
    readonly host: string,
    readonly port: number = 9100,
  ) {}

  describe(): string {
    return `tcp://${this.host}:${this.port}`;
  }

  connect(timeoutMs: number): Promise<PrinterConnection> {
    return new Promise((resolve, reject) => {
      const sock = netConnect({ host: this.host, port: this.port });
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${this.describe()} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('error', (err) => {
        clearTimeout(timer);
        sock.destroy();
        reject(err);
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new TcpConnection(sock));
      });
    });
  }
}

class TcpConnection implements PrinterConnection {
  private buf: Buffer = Buffer.alloc(0);
  private frames: string[] = [];
  private waiter: (() => void) | null = null;
  private lostReason: string | null = null;

  constructor(private readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      const { frames, rest } = extractFrames(Buffer.concat([this.buf, chunk]));
      this.buf = Buffer.from(rest);
      if (frames.length) {
        this.frames.push(...frames);
        this.waiter?.();
      }
    });
    const lost = (why: string): void => {
      if (this.lostReason === null) this.lostReason = why;
      this.waiter?.();
    };
    sock.on('error', (err) => lost(err.message));
    sock.on('close', () => lost('connection closed by the printer'));
    sock.on('end', () => {
      lost('connection ended by the printer');
      sock.destroy();
    });
  }

  get closed(): boolean {
    return this.lostReason !== null || this.sock.destroyed;
  }

  close(): void {
    if (this.lostReason === null) this.lostReason = 'closed';
    this.sock.destroy();
  }

  async queryStatus(timeoutMs: number, opts: { acceptEarlier?: boolean } = {}): Promise<HostStatus | null> {
    if (this.closed) throw new ConnectionLostError(this.lostReason ?? 'closed');
    if (!opts.acceptEarlier) {
      // A late answer to an earlier query must not be taken for this one.
      this.frames = [];
      this.buf = Buffer.alloc(0);
    }
    this.sock.write(HS);
    const deadline = performance.now() + timeoutMs;
    while (this.frames.length < 3) {
      if (this.lostReason !== null) throw new ConnectionLostError(this.lostReason);
      const left = deadline - performance.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
    const frames = this.frames.splice(0, 3);
    return parseHostStatus(frames);
  }

  write(data: Buffer, timeoutMs: number): Promise<WriteResult> {
    if (this.closed) {
      return Promise.resolve({ ok: false, bytesOut: 0, error: new ConnectionLostError(this.lostReason ?? 'closed') });
    }
    // From here on bytes may reach the printer: Node's bytesWritten counts bytes still queued in
    // user space too, so we cannot tell how many left. Any failure after this point reports the
    // whole job as possibly out — the conservative answer that can never cause a duplicate.
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: WriteResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.sock.off('close', onClose);
        resolve(r);
      };
      const onClose = (): void =>
        finish({ ok: false, bytesOut: data.length, error: new ConnectionLostError(this.lostReason ?? 'connection closed') });
      const timer = setTimeout(() => {
        finish({ ok: false, bytesOut: data.length, error: new Error(`write did not complete within ${timeoutMs} ms`) });
        this.close();
      }, timeoutMs);
      this.sock.once('close', onClose);
      this.sock.write(data, (err) => {
        if (err) finish({ ok: false, bytesOut: data.length, error: err });
        else finish({ ok: true, bytes: data.length });
      });
    });
  }
}

/**
 * A device file: USB printer class devices, serial ports set up outside (udev rule + stty), or a
 * regular file/FIFO in tests. One-way: `~HS` is not asked here, so jobs end in `sent`, never
 * `confirmed` (the queue records that honestly instead of pretending).
 */
export class DeviceFilePrinterTransport implements PrinterTransport {
  readonly supportsStatus = false;
  constructor(readonly path: string) {}

  describe(): string {
    return `file://${this.path}`;
  }

  async connect(timeoutMs: number): Promise<PrinterConnection> {
    const fh = await withTimeout(open(this.path, 'a'), timeoutMs, `open ${this.path}`);
    return new FileConnection(fh);
  }
}

class FileConnection implements PrinterConnection {
  private isClosed = false;
  constructor(private readonly fh: FileHandle) {}
  get closed(): boolean {
    return this.isClosed;
  }
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    void this.fh.close().catch(() => undefined);
  }
  async queryStatus(): Promise<HostStatus | null> {
    return null;
  }
  async write(data: Buffer, timeoutMs: number): Promise<WriteResult> {
    let written = 0;
    try {
      await withTimeout(
        (async () => {
          while (written < data.length) {
            const { bytesWritten } = await this.fh.write(data, written, data.length - written);
            written += bytesWritten;
          }
        })(),
        timeoutMs,
        'write',
      );
      return { ok: true, bytes: written };
    } catch (err) {
      this.close();
      // A write that timed out may still complete in the thread pool: count it as out.
      return { ok: false, bytesOut: Math.max(written, 1), error: err as Error };
    }
  }
}

