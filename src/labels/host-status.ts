/**
 * `~HS` (host status return) parsing, and the rule that turns it into "may I send a label now?".
 *
 * The printer answers `~HS` with three strings, each `<STX>…<ETX><CR><LF>` (ZPL II manual):
 *   1: aaa,b,c,dddd,eee,f,g,h,iii,j,k,l
 *      aaa comm settings, b paper out, c pause, dddd label length (dots), eee formats in the receive
 *      buffer, f buffer full, g comm diagnostics mode, h partial format in progress, iii unused,
 *      j corrupt RAM, k temperature under range, l temperature over range
 *   2: mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www
 *      mmm function settings, n unused, o head up (open), p ribbon out, q thermal transfer mode,
 *      r print mode, s print width mode, t label waiting (peel-off), uuuuuuuu labels remaining in
 *      batch, v format while printing, www graphics stored
 *   3: xxxx,y  password, static RAM installed
 *
 * Many printers stay SILENT while media or ribbon is out or the head is open (DEPENDENCIES.md):
 * no answer is therefore "not ready", never "probably fine".
 */
import type { ErrorCode } from '../errors.js';

export interface HostStatus {
  paperOut: boolean;
  paused: boolean;
  labelLengthDots: number;
  /** Formats received but not yet processed. */
  formatsInBuffer: number;
  bufferFull: boolean;
  diagnosticMode: boolean;
  partialFormat: boolean;
  corruptRam: boolean;
  underTemperature: boolean;
  overTemperature: boolean;
  headOpen: boolean;
  ribbonOut: boolean;
  thermalTransfer: boolean;
  printMode: number;
  labelWaiting: boolean;
  /** Labels still to print in the current batch (^PQ). */
  labelsRemaining: number;
  formatWhilePrinting: boolean;
  graphicsStored: number;
}

const STX = 0x02;
const ETX = 0x03;

/**
 * Pull complete STX…ETX frames out of `buf`. Returns the frames' text and the unconsumed rest
 * (a partial frame, kept for the next chunk). Bytes outside frames (CR, LF, noise) are dropped.
 */
export function extractFrames(buf: Buffer): { frames: string[]; rest: Buffer } {
  const frames: string[] = [];
  let i = 0;
  let consumed = 0;
  for (;;) {
    const s = buf.indexOf(STX, i);
    if (s < 0) {
      consumed = buf.length;
      break;
    }
    const e = buf.indexOf(ETX, s + 1);
    if (e < 0) {
      consumed = s;
      break;
    }
    frames.push(buf.subarray(s + 1, e).toString('latin1'));
    i = e + 1;
    consumed = i;
  }
  return { frames, rest: buf.subarray(consumed) };
}

function flag(v: string | undefined): boolean {
  return (v ?? '').trim() === '1';
}
function num(v: string | undefined): number {
  const n = Number.parseInt((v ?? '').trim(), 10);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Parse the first two `~HS` strings (the third carries nothing we use). Returns null when they do
 * not have the expected shape — which the caller must treat like no answer.
 */
export function parseHostStatus(frames: readonly string[]): HostStatus | null {
  const a = frames[0]?.split(',');
  const b = frames[1]?.split(',');
  if (!a || !b || a.length < 12 || b.length < 11) return null;
  if (![a[0], a[3], a[4], b[0], b[8]].every((v) => /^\s*\d+\s*$/.test(v ?? ''))) return null;
  return {
    paperOut: flag(a[1]),
    paused: flag(a[2]),
    labelLengthDots: num(a[3]),
    formatsInBuffer: num(a[4]),
    bufferFull: flag(a[5]),
    diagnosticMode: flag(a[6]),
    partialFormat: flag(a[7]),
    corruptRam: flag(a[9]),
    underTemperature: flag(a[10]),
    overTemperature: flag(a[11]),
    headOpen: flag(b[2]),
    ribbonOut: flag(b[3]),
    thermalTransfer: flag(b[4]),
    printMode: num(b[5]),
    labelWaiting: flag(b[7]),
    labelsRemaining: num(b[8]),
    formatWhilePrinting: flag(b[9]),
    graphicsStored: num(b[10]),
  };
}

/** Format a HostStatus as the three `~HS` strings (the simulator answers with this). */
export function formatHostStatus(s: HostStatus): Buffer {
  const b = (v: boolean): string => (v ? '1' : '0');
  const p = (n: number, w: number): string => String(Math.max(0, Math.trunc(n))).padStart(w, '0');
  const one = `030,${b(s.paperOut)},${b(s.paused)},${p(s.labelLengthDots, 4)},${p(s.formatsInBuffer, 3)},${b(s.bufferFull)},${b(s.diagnosticMode)},${b(s.partialFormat)},000,${b(s.corruptRam)},${b(s.underTemperature)},${b(s.overTemperature)}`;
  const two = `000,0,${b(s.headOpen)},${b(s.ribbonOut)},${b(s.thermalTransfer)},${p(s.printMode, 1)},0,${b(s.labelWaiting)},${p(s.labelsRemaining, 8)},${b(s.formatWhilePrinting)},${p(s.graphicsStored, 3)}`;
  const three = '1234,0';
  return Buffer.from(`\x02${one}\x03\r\n\x02${two}\x03\r\n\x02${three}\x03\r\n`, 'latin1');
}

export function healthyStatus(): HostStatus {
  return {
    paperOut: false, paused: false, labelLengthDots: 1218, formatsInBuffer: 0, bufferFull: false,
    diagnosticMode: false, partialFormat: false, corruptRam: false, underTemperature: false,
    overTemperature: false, headOpen: false, ribbonOut: false, thermalTransfer: false, printMode: 0,
    labelWaiting: false, labelsRemaining: 0, formatWhilePrinting: false, graphicsStored: 0,
  };
}

export type PrinterCondition =
  | 'ready'
  | 'paper_out'
  | 'ribbon_out'
  | 'head_open'
  | 'paused'
  | 'buffer_full'
  | 'no_answer'
  | 'offline'
  | 'unknown';

export interface Readiness {
  ready: boolean;
  condition: PrinterCondition;
  /** LG_ERR_PRINTER_… when not ready. */
  code: ErrorCode | null;
  /** Every fault seen (a printer can be paused AND out of paper). */
  faults: PrinterCondition[];
}

const CODE: Record<PrinterCondition, ErrorCode | null> = {
  ready: null,
  paper_out: 'LG_ERR_PRINTER_PAPER_OUT',
  ribbon_out: 'LG_ERR_PRINTER_RIBBON_OUT',
  head_open: 'LG_ERR_PRINTER_HEAD_OPEN',
  paused: 'LG_ERR_PRINTER_PAUSED',
  buffer_full: 'LG_ERR_PRINTER_BUFFER_FULL',
  no_answer: 'LG_ERR_PRINTER_OFFLINE',
  offline: 'LG_ERR_PRINTER_OFFLINE',
  unknown: 'LG_ERR_PRINTER_OFFLINE',
};

/**
 * May a new label be sent? `null` (no answer, or an answer we could not parse) is NOT ready.
 * Order of the primary condition = what the operator should fix first.
 */
export function readiness(s: HostStatus | null): Readiness {
  if (!s) return { ready: false, condition: 'no_answer', code: CODE.no_answer, faults: ['no_answer'] };
  const faults: PrinterCondition[] = [];
  if (s.headOpen) faults.push('head_open');
  if (s.paperOut) faults.push('paper_out');
  if (s.ribbonOut) faults.push('ribbon_out');
  if (s.paused) faults.push('paused');
  if (s.bufferFull) faults.push('buffer_full');
  const condition = faults[0] ?? 'ready';
  return { ready: faults.length === 0, condition, code: CODE[condition], faults };
}

/** Nothing left to print: the job we sent has been printed (or at least left the buffer). */
export function isIdle(s: HostStatus): boolean {
  return s.formatsInBuffer === 0 && s.labelsRemaining === 0 && !s.partialFormat;
}

export function conditionCode(c: PrinterCondition): ErrorCode | null {
  return CODE[c];
}
