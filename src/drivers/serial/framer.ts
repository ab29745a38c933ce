/**
 * Bytes → scan frames. Pure: no timers, no I/O, time comes in as a number (monotonic ms).
 * The driver calls `push` for each chunk, arms ONE timer at `deadline()` and calls `poll` when it
 * fires; tests drive it with made-up times.
 *
 * Why our own framer and not @serialport/parser-readline: readline splits on a delimiter and
 * nothing else. It has no maximum length (a scanner whose suffix was switched off makes it buffer
 * forever), no notion of a stale partial line (a half-sent scan is silently glued in front of the
 * next good one), and it is a Transform stream bound to one port object, while we create a NEW
 * port object after every disconnect and want the framing state under our control. The rules
 * below need ~150 lines; a second parser layered on top of readline would need the same.
 *
 * Rules (each is unit-tested):
 * - Bytes are kept as they came (Buffer, never decoded): GS (0x1D), NUL and other control
 *   characters pass through inside the frame; the binder rejects what it does not accept.
 * - A terminator (CR, LF or CRLF) ends a frame and is stripped. A CR at the end of a chunk in CRLF
 *   mode is held back until the next byte says whether it starts the terminator.
 * - Empty frames (a bare terminator, e.g. CRLF CRLF) carry nothing and are dropped (counted).
 * - `none`: a frame ends after `interCharTimeoutMs` of silence (scanners without a suffix).
 * - With a terminator, bytes that wait `staleFrameMs` for their terminator are flushed as ONE
 *   frame with error LG_ERR_SCAN_UNPARSEABLE (reason "incomplete"): a truncated scan could
 *   otherwise look valid (a lot number cut short) and must never be accepted; flushing it
 *   alone keeps the NEXT scan clean. `staleFrameMs: 0` disables this (partial is prefixed).
 * - A frame longer than `maxFrameBytes` becomes ONE error frame (LG_ERR_SCAN_TOO_LONG) carrying
 *   the first `keepBytes` bytes and the real length; the framer then discards up to the next
 *   terminator (or silence), so the following scan is framed correctly ("resynchronise").
 *   The error frame is emitted when the overlong frame ENDS, so its length is exact.
 * - `flush()` (port closed, driver stopping) delivers a pending partial as an incomplete frame.
 */
import { formatMessage, type ErrorCode } from '../../errors.js';
import type { ScannerTerminator } from '../../config/devices/serial-scanner.js';

export interface FrameError {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export interface Frame {
  /** The frame's bytes without the terminator (for an overlong frame: its first bytes). */
  raw: Buffer;
  error?: FrameError;
}

export interface FramerOptions {
  terminator: ScannerTerminator;
  /** Required with terminator `none`; ignored otherwise. */
  interCharTimeoutMs?: number | null;
  /** With a terminator: flush a partial after this much silence (0/undefined = never). */
  staleFrameMs?: number | null;
  maxFrameBytes: number;
  /** How many leading bytes of an overlong frame are kept for the record. Default min(max, 256). */
  keepBytes?: number;
}

export interface FramerStats {
  frames: number;
  errors: number;
  tooLong: number;
  incomplete: number;
  emptyDropped: number;
  bytes: number;
}

const TERMINATORS: Record<Exclude<ScannerTerminator, 'none'>, Buffer> = {
  CR: Buffer.from([0x0d]),
  LF: Buffer.from([0x0a]),
  CRLF: Buffer.from([0x0d, 0x0a]),
};

const EMPTY = Buffer.alloc(0);

export class Framer {
  private readonly term: Buffer | null;
  private readonly silenceMs: number | null;
  private readonly max: number;
  private readonly keep: number;
  /** Bytes of the current frame (not yet terminated). */
  private parts: Buffer[] = [];
  private partLen = 0;
  /** CRLF mode: a trailing CR that may be the first half of the terminator. */
  private carry: Buffer = EMPTY;
  /** Overlong frame in progress: its first bytes and its total length so far. */
  private overlong: { head: Buffer; length: number } | null = null;
  private lastByteAt = 0;
  readonly stats: FramerStats = { frames: 0, errors: 0, tooLong: 0, incomplete: 0, emptyDropped: 0, bytes: 0 };

  constructor(readonly opts: FramerOptions) {
    if (!Number.isInteger(opts.maxFrameBytes) || opts.maxFrameBytes < 1) throw new RangeError('maxFrameBytes must be a positive integer');
    this.term = opts.terminator === 'none' ? null : TERMINATORS[opts.terminator];
    if (this.term === null) {
      if (!opts.interCharTimeoutMs || opts.interCharTimeoutMs <= 0) throw new RangeError('terminator none needs interCharTimeoutMs > 0');
      this.silenceMs = opts.interCharTimeoutMs;
    } else {
      this.silenceMs = opts.staleFrameMs && opts.staleFrameMs > 0 ? opts.staleFrameMs : null;
    }
    this.max = opts.maxFrameBytes;
    this.keep = Math.min(opts.keepBytes ?? 256, opts.maxFrameBytes);
  }

  /** Whether bytes of an unfinished frame are waiting. */
  get pending(): boolean {
    return this.partLen > 0 || this.carry.length > 0 || this.overlong !== null;
  }

  /** Feed one chunk received at `now` (monotonic ms); returns the frames it completed. */
  push(chunk: Buffer, now: number): Frame[] {
    const out: Frame[] = [];
    if (chunk.length === 0) return out;
    this.stats.bytes += chunk.length;
    // Silence longer than the limit BEFORE this chunk: the old partial is its own frame.
    if (this.pending && this.silenceMs !== null && now - this.lastByteAt >= this.silenceMs) this.endBySilence(out);
    this.lastByteAt = now;

    if (this.term === null) {
      this.append(chunk);
      return out;
    }
    let data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = EMPTY;
    for (;;) {
      const idx = data.indexOf(this.term);
      if (idx === -1) {
        // Hold back a trailing CR in CRLF mode: it may be half of the terminator.
        if (this.term.length === 2 && data.length > 0 && data[data.length - 1] === this.term[0]) {
          this.carry = data.subarray(data.length - 1);
          data = data.subarray(0, data.length - 1);
        }
        this.append(data);
        break;
      }
      this.append(data.subarray(0, idx));
      this.endFrame(out);
      data = data.subarray(idx + this.term.length);
    }
    return out;
  }

  /** When the caller should call `poll` next (monotonic ms), or null when nothing is pending. */
  deadline(): number | null {
    if (!this.pending || this.silenceMs === null) return null;
    return this.lastByteAt + this.silenceMs;
  }

  /** Call at (or after) `deadline()`: ends a frame by silence if it is due. */
  poll(now: number): Frame[] {
    const out: Frame[] = [];
    const d = this.deadline();
    if (d !== null && now >= d) this.endBySilence(out);
    return out;
  }

  /** The line closed or the driver stops: a pending partial becomes an incomplete frame. */
  flush(reason = 'the connection closed'): Frame[] {
    const out: Frame[] = [];
    if (!this.pending) return out;
    if (this.overlong) {
      this.emitTooLong(out);
    } else {
      this.emitIncomplete(out, reason);
    }
    return out;
  }

  // ── internals ─────────────────────────────────────────────────────────────

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.overlong) {
      this.overlong.length += bytes.length;
      return;
    }
    // Copy: the chunk's memory belongs to the stream and a frame may outlive it.
    this.parts.push(Buffer.from(bytes));
    this.partLen += bytes.length;
    if (this.partLen > this.max) {
      const all = Buffer.concat(this.parts, this.partLen);
      this.overlong = { head: Buffer.from(all.subarray(0, this.keep)), length: this.partLen };
      this.parts = [];
      this.partLen = 0;
    }
  }

  private endFrame(out: Frame[]): void {
    if (this.overlong) {
      this.emitTooLong(out);
      return;
    }
    if (this.partLen === 0) {
      this.stats.emptyDropped++;
      return;
    }
    const raw = Buffer.concat(this.parts, this.partLen);
    this.parts = [];
    this.partLen = 0;
    this.stats.frames++;
    out.push({ raw });
  }

  private endBySilence(out: Frame[]): void {
    if (this.overlong) {
      // The carry (a lone CR) belongs to the discarded frame.
      this.carry = EMPTY;
      this.emitTooLong(out);
    } else if (this.term === null) {
      this.endFrame(out);
    } else {
      this.emitIncomplete(out, `no ${this.opts.terminator} terminator within ${this.silenceMs} ms`);
    }
  }

  private emitTooLong(out: Frame[]): void {
    const o = this.overlong!;
    this.overlong = null;
    this.carry = EMPTY;
    const details = { length: o.length, max: this.max, keptBytes: o.head.length };
    this.stats.frames++;
    this.stats.errors++;
    this.stats.tooLong++;
    out.push({
      raw: o.head,
      error: { code: 'LG_ERR_SCAN_TOO_LONG', message: formatMessage('LG_ERR_SCAN_TOO_LONG', details), details },
    });
  }

  private emitIncomplete(out: Frame[], why: string): void {
    const raw = Buffer.concat([...this.parts, this.carry]);
    this.parts = [];
    this.partLen = 0;
    this.carry = EMPTY;
    if (raw.length === 0) return;
    const details = {
      reason: 'incomplete',
      detail: `incomplete scan of ${raw.length} bytes (${why}) — scan again; if it repeats, check the scanner suffix setting`,
      length: raw.length,
    };
    this.stats.frames++;
    this.stats.errors++;
    this.stats.incomplete++;
    out.push({
      raw,
      error: { code: 'LG_ERR_SCAN_UNPARSEABLE', message: formatMessage('LG_ERR_SCAN_UNPARSEABLE', details), details },
    });
  }
}
