/**
 * A barcode scanner at the byte level, for tests, the demo (`npm start`) and people.
 *
 * Modes:
 * - `pty`:  runs `socat -d -d pty,raw,echo=0,link=<gatewayLink> pty,raw,echo=0,link=<scannerLink>`
 *           and writes on the scanner end; the gateway opens `gatewayPath`. Killing socat is an
 *           unplug (the gateway's port closes at once), spawning it again a replug (same link).
 * - `path`: writes to an existing serial device (a real null-modem loopback, or a pty someone
 *           else made). unplug/replug only close/reopen our side.
 * - `tcp`:  a serial device server in TCP server mode (Moxa/Lantronix "raw socket"): listens,
 *           the gateway connects as a client; unplug closes the connections and the listener.
 *
 * Bytes the gateway writes back (beeps) are recorded: `received()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, readlinkSync, rmSync, unlinkSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

export type ScannerSimulatorOptions =
  | { mode: 'pty'; /** Gateway-side link path; default <tmp>/scanner-gw */ link?: string; /** Scanner-side link; default <link>.sim */ scannerLink?: string; socatTimeoutMs?: number }
  | { mode: 'path'; path: string; baudRate?: number }
  | { mode: 'tcp'; port?: number; host?: string };

export type Suffix = 'CR' | 'LF' | 'CRLF' | 'none';

export interface ScanOptions {
  /** AIM symbology identifier to prefix, e.g. "]C1", "]d2", "]Q3". */
  aim?: string;
  /** Terminator to append (default CR), or explicit bytes. */
  suffix?: Suffix | Buffer;
  /** Split the write into chunks of this many bytes with `chunkDelayMs` between them. */
  chunkSize?: number;
  chunkDelayMs?: number;
}

const SUFFIX: Record<Suffix, Buffer> = {
  CR: Buffer.from([0x0d]),
  LF: Buffer.from([0x0a]),
  CRLF: Buffer.from([0x0d, 0x0a]),
  none: Buffer.alloc(0),
};

/**
 * Text → bytes: latin1 (one byte per char, so "\x1d" is GS and nothing gets UTF-8 expanded);
 * `{GS}`, `{FNC1}`, `{CR}`, `{LF}`, `{NUL}`, `{xHH}` are spelled-out escapes for scripts.
 */
export function encodeScanText(text: string): Buffer {
  const expanded = text.replace(/\{(GS|FNC1|CR|LF|NUL|RS|EOT|x[0-9A-Fa-f]{2})\}/g, (_m, name: string) => {
    switch (name) {
      case 'GS':
      case 'FNC1':
        return '\x1d';
      case 'CR':
        return '\r';
      case 'LF':
        return '\n';
      case 'NUL':
        return '\x00';
      case 'RS':
        return '\x1e';
      case 'EOT':
        return '\x04';
      default:
        return String.fromCharCode(parseInt(name.slice(1), 16));
    }
  });
  return Buffer.from(expanded, 'latin1');
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ScannerSimulator {
  private socat: ChildProcess | null = null;
  private port: SerialPort | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly rx: Buffer[] = [];
  private tmp: string | null = null;
  private gwLink = '';
  private simLink = '';
  private tcpPort = 0;
  private plugged = false;
  private socatLog = '';

  constructor(readonly opts: ScannerSimulatorOptions) {}

  /** Path the gateway opens (pty and path modes). */
  get gatewayPath(): string {
    if (this.opts.mode === 'path') return this.opts.path;
    if (this.opts.mode === 'pty') return this.gwLink;
    throw new Error('tcp mode has no path; use tcpPort');
  }

  /** Port the gateway connects to (tcp mode). */
  get tcpPortNumber(): number {
    return this.tcpPort;
  }

  get isPlugged(): boolean {
    return this.plugged;
  }

  async start(): Promise<void> {
    if (this.opts.mode === 'pty') {
      if (!this.opts.link) this.tmp = mkdtempSync(join(tmpdir(), 'linegate-scanner-'));
      this.gwLink = this.opts.link ?? join(this.tmp!, 'scanner-gw');
      this.simLink = this.opts.scannerLink ?? `${this.gwLink}.sim`;
    }
    await this.replug();
  }

  /** Plug in (again): new socat pair / reopen the path / listen again. */
  async replug(): Promise<void> {
    if (this.plugged) return;
    if (this.opts.mode === 'pty') await this.startSocat(this.opts.socatTimeoutMs ?? 5000);
    else if (this.opts.mode === 'path') await this.openPort(this.opts.path, this.opts.baudRate ?? 115200);
    else await this.listen();
    this.plugged = true;
  }

  /** Pull the cable: kill socat / close our port / close the TCP connections and listener. */
  async unplug(): Promise<void> {
    if (!this.plugged) return;
    this.plugged = false;
    await this.closePort();
    if (this.opts.mode === 'pty') await this.killSocat();
    if (this.opts.mode === 'tcp') await this.closeServer();
  }

  async stop(): Promise<void> {
    await this.unplug();
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = null;
  }

  /** One scan: optional AIM id + data + suffix (default CR). GS is 0x1D ("\x1d" or "{GS}"). */
  async scan(data: string | Buffer, opts: ScanOptions = {}): Promise<void> {
    const body = typeof data === 'string' ? encodeScanText(data) : data;
    const suffix = Buffer.isBuffer(opts.suffix) ? opts.suffix : SUFFIX[opts.suffix ?? 'CR'];
    const bytes = Buffer.concat([opts.aim ? Buffer.from(opts.aim, 'latin1') : Buffer.alloc(0), body, suffix]);
    if (opts.chunkSize && opts.chunkSize > 0) {
      for (let i = 0; i < bytes.length; i += opts.chunkSize) {
        await this.sendRaw(bytes.subarray(i, i + opts.chunkSize));
        if (opts.chunkDelayMs) await delay(opts.chunkDelayMs);
      }
      return;
    }
    await this.sendRaw(bytes);
  }

  /** Exact bytes, nothing added. Resolves once handed to the OS (drained). */
  async sendRaw(bytes: Buffer | string): Promise<void> {
    const buf = typeof bytes === 'string' ? encodeScanText(bytes) : bytes;
    if (!this.plugged) throw new Error('scanner simulator is unplugged');
    if (this.opts.mode === 'tcp') {
      await Promise.all(
        [...this.sockets].map(
          (s) => new Promise<void>((resolve) => (s.write(buf, () => resolve()) ? undefined : undefined)),
        ),
      );
      return;
    }
    const port = this.port;
    if (!port) throw new Error('scanner simulator port is not open');
    await new Promise<void>((resolve, reject) => {
      port.write(buf, (err) => (err ? reject(err) : undefined));
      port.drain((err) => (err ? reject(err) : resolve()));
    });
  }

  /** Everything the gateway wrote to the scanner so far. */
  received(): Buffer {
    return Buffer.concat(this.rx);
  }

  clearReceived(): void {
    this.rx.length = 0;
  }

  /** Number of TCP clients connected (tcp mode). */
  get clients(): number {
    return this.sockets.size;
  }

  // ── pty (socat) ───────────────────────────────────────────────────────────

  private async startSocat(timeoutMs: number): Promise<void> {
    // Stale links (a socat killed with SIGKILL leaves them) would make the wait below succeed on
    // a dead pty: remove them first, then wait for BOTH links to point at live /dev/pts nodes.
    for (const l of [this.gwLink, this.simLink]) {
      try {
        unlinkSync(l);
      } catch {
        /* not there */
      }
    }
    this.socatLog = '';
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.gwLink}`, `pty,raw,echo=0,link=${this.simLink}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.socat = child;
    child.stderr?.on('data', (d: Buffer) => {
      if (this.socatLog.length < 4000) this.socatLog += d.toString();
    });
    let exited: string | null = null;
    child.once('exit', (code, sig) => (exited = `socat exited (${code ?? sig})`));
    child.once('error', (err) => (exited = `socat could not start: ${err.message} — install socat (apt install socat)`));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`${exited}: ${this.socatLog.trim()}`);
      if (linkReady(this.gwLink) && linkReady(this.simLink)) break;
      if (Date.now() > deadline) {
        await this.killSocat();
        throw new Error(`socat links did not appear within ${timeoutMs} ms: ${this.socatLog.trim()}`);
      }
      await delay(10);
    }
    await this.openPort(this.simLink, 115200);
  }

  private async killSocat(): Promise<void> {
    const child = this.socat;
    this.socat = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
      }, 1000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  // ── our end of the line (pty and path modes) ─────────────────────────────

  private async openPort(path: string, baudRate: number): Promise<void> {
    // A new SerialPort object per plug, for the same reason as in the driver.
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.on('data', (chunk: Buffer) => this.rx.push(Buffer.from(chunk)));
    port.on('error', () => undefined);
    port.on('close', () => {
      if (this.port === port) this.port = null;
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (!port || !port.isOpen) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      port.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  // ── tcp ───────────────────────────────────────────────────────────────────

  private async listen(): Promise<void> {
    const o = this.opts as { mode: 'tcp'; port?: number; host?: string };
    const server = createServer((s) => {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('data', (chunk: Buffer) => this.rx.push(Buffer.from(chunk)));
      s.on('error', () => undefined);
      s.on('close', () => this.sockets.delete(s));
    });
    // Reuse the first port on replug so the gateway reconnects to the same address.
    const port = this.tcpPort || o.port || 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, o.host ?? '127.0.0.1', () => resolve());
    });
    this.tcpPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function linkReady(path: string): boolean {
  try {
    if (!lstatSync(path).isSymbolicLink()) return false;
    return existsSync(readlinkSync(path));
  } catch {
    return false;
  }
}
