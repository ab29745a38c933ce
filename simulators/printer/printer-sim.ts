/**
 * A Zebra-class ZPL printer on raw TCP (port 9100), for tests, the demo and the bench.
 *
 * It parses the byte stream the way a printer does: tilde commands (`~HS`…) act at once, a format
 * runs from `^XA` to `^XZ`. Each complete format is a job; it is "printed" when the printer is
 * ready (immediately, or after `printDelayMs`), and held in the buffer while paper is out, the
 * head is open or the printer is paused — exactly what `~HS` then reports.
 *
 * Faults: a state (paper out, head open, paused, buffer full, ribbon out), staying silent to
 * `~HS`, refusing connections (reset at accept), stalling (never reading), resetting the
 * connection in the middle of the next job, or right after printing it (before the host could
 * confirm). It also records every command it saw outside field data, so a test can prove that no
 * command was injected through a label field.
 */
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatHostStatus, healthyStatus, type HostStatus } from '../../src/labels/host-status.js';

export type SimState = 'ok' | 'paper_out' | 'head_open' | 'paused' | 'buffer_full' | 'ribbon_out';

export interface PrinterSimOptions {
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  state?: SimState;
  /** Do not answer `~HS` at all (what real printers do with media out or head open). */
  silent?: boolean;
  /** Reset every incoming connection at once. */
  refuse?: boolean;
  /** Accept, then never read or answer. */
  stall?: boolean;
  /** Time a label spends in the buffer before it is printed. */
  printDelayMs?: number;
  /**
   * Time the printer needs to take in a format (a busy parser, a large graphic): once `^XA` opens
   * a format it stops reading that connection for this long. The rest of the format, and a `~HS`
   * sent after it, wait in the TCP buffers meanwhile — input is still handled strictly in order,
   * as a printer does. Other connections are served at once. Default 0.
   */
  formatLatencyMs?: number;
  /** Folder for job-NNNNNN.zpl (and .png when renderPng is 'eager'). */
  outDir?: string;
  /** 'eager': render a PNG for every job as it prints (slow: ~0.6–1 s each); 'lazy': on renderPng(n) only. */
  renderPng?: 'eager' | 'lazy' | false;
  /** Label size for PNG rendering. */
  widthMm?: number;
  heightMm?: number;
  dpmm?: number;
}

export interface SimJob {
  /** 1-based, in print order. */
  n: number;
  zpl: string;
  bytes: number;
  connection: number;
  receivedAt: number;
  printedAt: number;
}

/** A command seen in the stream outside `^FD…^FS` field data (what a printer would execute). */
export interface SimCommand {
  command: string;
  inFormat: boolean;
  connection: number;
}

interface Conn {
  id: number;
  sock: Socket;
  /** Command being read: the prefix (`^`/`~`) and up to two letters. */
  cmd: string;
  inFormat: boolean;
  /** Bytes of the open format from earlier chunks. */
  parts: Buffer[];
  /** Bytes of the open format so far (for reset-mid-job). */
  formatBytes: number;
  /** Input read but not yet processed while the printer is busy taking in a format (formatLatencyMs). */
  held: Buffer[] | null;
}

interface Pending {
  zpl: string;
  bytes: number;
  connection: number;
  receivedAt: number;
  readyAt: number;
}

export class PrinterSimulator extends EventEmitter {
  private server: Server | null = null;
  private conns = new Set<Conn>();
  private nextConn = 1;
  private pending: Pending[] = [];
  private printTimer: NodeJS.Timeout | null = null;
  private resetMidJobAfter: number | null = null;
  private resetAfterJobArmed = false;
  private holdTimers = new Set<NodeJS.Timeout>();

  state: SimState;
  silent: boolean;
  refuse: boolean;
  stall: boolean;
  printDelayMs: number;
  formatLatencyMs: number;

  readonly jobs: SimJob[] = [];
  readonly commands: SimCommand[] = [];
  /** Formats cut off by a connection loss (never printed). */
  partialFormats = 0;
  /** `~HS` queries answered / left unanswered. */
  statusAnswered = 0;
  statusIgnored = 0;
  connections = 0;

  constructor(private readonly opts: PrinterSimOptions = {}) {
    super();
    this.state = opts.state ?? 'ok';
    this.silent = opts.silent ?? false;
    this.refuse = opts.refuse ?? false;
    this.stall = opts.stall ?? false;
    this.printDelayMs = opts.printDelayMs ?? 0;
    this.formatLatencyMs = opts.formatLatencyMs ?? 0;
    if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<number> {
    const server = createServer((sock) => this.onConnection(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  async stop(): Promise<void> {
    if (this.printTimer) clearTimeout(this.printTimer);
    this.printTimer = null;
    for (const t of this.holdTimers) clearTimeout(t);
    this.holdTimers.clear();
    for (const c of this.conns) c.sock.destroy();
    this.conns.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Change the printer's condition; clearing a fault prints what waits in the buffer. */
  setState(state: SimState): void {
    this.state = state;
    this.printReady();
  }

  /** One-shot: reset the connection once the next format has `afterBytes` bytes in (the job is lost). */
  resetMidNextJob(afterBytes = 16): void {
    this.resetMidJobAfter = afterBytes;
  }

  /** One-shot: print the next job, then reset the connection before the host can confirm it. */
  resetAfterNextJob(): void {
    this.resetAfterJobArmed = true;
  }

  /** Back to a healthy printer: no fault state, answers ~HS, accepts connections, one-shot faults disarmed. */
  clearFaults(): void {
    this.resetMidJobAfter = null;
    this.resetAfterJobArmed = false;
    this.silent = false;
    this.refuse = false;
    this.stall = false;
    this.setState('ok');
  }

  /** Drop every open connection (a printer power-cycle or a cable pull). */
  dropConnections(): void {
    for (const c of this.conns) c.sock.resetAndDestroy();
  }

  /** The current `~HS` view. */
  hostStatus(): HostStatus {
    const s = healthyStatus();
    s.paperOut = this.state === 'paper_out';
    s.headOpen = this.state === 'head_open';
    s.paused = this.state === 'paused';
    s.bufferFull = this.state === 'buffer_full';
    s.ribbonOut = this.state === 'ribbon_out';
    s.formatsInBuffer = this.pending.length;
    s.labelsRemaining = this.pending.length;
    return s;
  }

  /** Render job n (1-based) to PNG with zpl-renderer-js; written to outDir too when set. */
  async renderPng(n: number): Promise<Buffer> {
    const job = this.jobs[n - 1];
    if (!job) throw new Error(`no job ${n}`);
    const png = await renderZplToPng(job.zpl, this.opts.widthMm ?? 101.6, this.opts.heightMm ?? 152.4, this.opts.dpmm ?? 8);
    if (this.opts.outDir) writeFileSync(join(this.opts.outDir, `job-${String(n).padStart(6, '0')}.png`), png);
    return png;
  }

  private onConnection(sock: Socket): void {
    this.connections++;
    if (this.refuse) {
      sock.resetAndDestroy();
      return;
    }
    const conn: Conn = { id: this.nextConn++, sock, cmd: '', inFormat: false, parts: [], formatBytes: 0, held: null };
    this.conns.add(conn);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (conn.inFormat) this.partialFormats++;
      this.conns.delete(conn);
    });
    if (this.stall) {
      sock.pause();
      return;
    }
    sock.on('data', (chunk: Buffer) => {
      if (this.stall) return;
      if (conn.held) conn.held.push(chunk);
      else this.onData(conn, chunk);
    });
  }

  /** Stop reading `conn` for formatLatencyMs, then go on with `rest` and whatever arrived meanwhile, in order. */
  private holdInput(conn: Conn, rest: Buffer): void {
    conn.held = rest.length ? [Buffer.from(rest)] : [];
    conn.sock.pause();
    const t = setTimeout(() => {
      this.holdTimers.delete(t);
      const queue = conn.held ?? [];
      conn.held = null;
      while (queue.length && !conn.sock.destroyed) {
        this.onData(conn, queue.shift()!);
        if (conn.held) {
          // Another format began: keep what is left behind it, in order.
          (conn.held as Buffer[]).push(...queue);
          return;
        }
      }
      if (!conn.sock.destroyed) conn.sock.resume();
    }, this.formatLatencyMs);
    this.holdTimers.add(t);
  }

  /**
   * Byte-level scanner, state kept across chunks. Every `^XX` and `~XX` in the stream is a command
   * to a printer — field data cannot hide one, which is exactly why labels escape `^` and `~` with
   * `^FH` — so each is recorded. `~HS` is answered at once (inside a format too, as a printer
   * does); `^XA` opens a format, `^XZ` closes it; a raw ETX (0x03) is recorded as a command too.
   */
  private onData(conn: Conn, chunk: Buffer): void {
    let fmtStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (conn.inFormat && this.resetMidJobAfter !== null && conn.formatBytes + (i + 1 - fmtStart) >= this.resetMidJobAfter) {
        // The printer "loses" the connection part-way through the job: the format is incomplete
        // and is never printed (the close handler counts it as partial).
        this.resetMidJobAfter = null;
        conn.sock.resetAndDestroy();
        return;
      }
      if (conn.cmd.length > 0) {
        conn.cmd += String.fromCharCode(c);
        if (conn.cmd.length < 3) continue;
        const cmd = conn.cmd.toUpperCase();
        conn.cmd = '';
        this.commands.push({ command: cmd, inFormat: conn.inFormat, connection: conn.id });
        if (cmd === '~HS') this.answerStatus(conn);
        else if (cmd === '^XA' && !conn.inFormat) {
          conn.inFormat = true;
          conn.parts = [Buffer.from('^XA')];
          conn.formatBytes = 3;
          fmtStart = i + 1;
          if (this.formatLatencyMs > 0) {
            this.holdInput(conn, chunk.subarray(i + 1));
            return;
          }
        } else if (cmd === '^XZ' && conn.inFormat) {
          const zpl = Buffer.concat([...conn.parts, chunk.subarray(fmtStart, i + 1)]);
          conn.inFormat = false;
          conn.parts = [];
          conn.formatBytes = 0;
          this.onFormat(conn, zpl);
          if (conn.sock.destroyed) return;
        }
        continue;
      }
      if (c === 0x5e || c === 0x7e) conn.cmd = String.fromCharCode(c);
      else if (c === 0x03) this.commands.push({ command: 'ETX', inFormat: conn.inFormat, connection: conn.id });
    }
    if (conn.inFormat) {
      const tail = chunk.subarray(fmtStart);
      conn.parts.push(Buffer.from(tail));
      conn.formatBytes += tail.length;
    }
  }

  private answerStatus(conn: Conn): void {
    if (this.silent) {
      this.statusIgnored++;
      return;
    }
    this.statusAnswered++;
    conn.sock.write(formatHostStatus(this.hostStatus()));
  }

  private onFormat(conn: Conn, zplBuf: Buffer): void {
    const now = Date.now();
    const p: Pending = {
      zpl: zplBuf.toString('utf8'),
      bytes: zplBuf.length,
      connection: conn.id,
      receivedAt: now,
      readyAt: now + this.printDelayMs,
    };
    this.pending.push(p);
    /** 'received' (zpl, bytes): a complete format arrived (before it is printed). */
    this.emit('received', p.zpl, p.bytes);
    this.printReady();
    if (this.resetAfterJobArmed) {
      this.resetAfterJobArmed = false;
      conn.sock.resetAndDestroy();
    }
  }

  private canPrint(): boolean {
    return this.state === 'ok' || this.state === 'buffer_full';
  }

  private printReady(): void {
    const now = Date.now();
    while (this.canPrint() && this.pending.length && this.pending[0]!.readyAt <= now) {
      const p = this.pending.shift()!;
      const job: SimJob = { n: this.jobs.length + 1, zpl: p.zpl, bytes: p.bytes, connection: p.connection, receivedAt: p.receivedAt, printedAt: now };
      this.jobs.push(job);
      if (this.opts.outDir) writeFileSync(join(this.opts.outDir, `job-${String(job.n).padStart(6, '0')}.zpl`), job.zpl);
      if (this.opts.renderPng === 'eager') void this.renderPng(job.n).catch((err) => this.emit('error', err));
      this.emit('printed', job);
    }
    this.schedulePrint();
  }

  private schedulePrint(): void {
    if (this.printTimer) clearTimeout(this.printTimer);
    this.printTimer = null;
    if (!this.pending.length || !this.canPrint()) return;
    const wait = Math.max(0, this.pending[0]!.readyAt - Date.now());
    this.printTimer = setTimeout(() => {
      this.printTimer = null;
      this.printReady();
    }, wait);
  }
}

let rendererApi: Promise<{ zplToBase64Async(zpl: string, w?: number, h?: number, d?: number): Promise<string> }> | null = null;

/** Render ZPL to PNG with zpl-renderer-js (loaded on first use: the wasm takes a moment). */
export async function renderZplToPng(zpl: string, widthMm = 101.6, heightMm = 152.4, dpmm = 8): Promise<Buffer> {
  if (!rendererApi) rendererApi = import('zpl-renderer-js').then(async (m) => (await m.ready).api);
  const api = await rendererApi;
  return Buffer.from(await api.zplToBase64Async(zpl, widthMm, heightMm, dpmm), 'base64');
}

/** Field data of a ZPL format: the `^FD…^FS` contents, `^FH` hex escapes decoded. */
export function zplFieldData(zpl: string): string[] {
  const out: string[] = [];
  const re = /(\^FH)?\^FD([\s\S]*?)\^FS/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(zpl))) {
    const data = m[2] ?? '';
    out.push(m[1] ? decodeHex(data) : data);
  }
  return out;
}

function decodeHex(data: string): string {
  const raw = Buffer.from(data, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    const h = raw.subarray(i + 1, i + 3).toString('latin1');
    if (b === 0x5f && /^[0-9A-Fa-f]{2}$/.test(h)) {
      bytes.push(parseInt(h, 16));
      i += 2;
    } else bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}
