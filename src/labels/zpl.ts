/**
 * ZPL II building blocks with safe field data.
 *
 * The one rule: nothing a person typed or a scanner read is ever written to the stream as ZPL.
 * Every field goes out as `^FH^FD<data>^FS` where `^`, `~`, `_` and every control character
 * (0x00–0x1F, 0x7F and the C1 range) are hex-escaped (`_5E`, `_7E`, `_5F`, `_03`…). A printer
 * parses commands before it applies `^FH`, so `^XZ^XA`, `~JA` or a raw ETX (0x03, which ends a
 * format like `^XZ`) inside a lot number can never become a command. UTF-8 is declared once with
 * `^CI28`; other non-ASCII text passes through as UTF-8 bytes.
 *
 * Field data is limited to 3072 bytes by the printer (DEPENDENCIES.md "ZPL facts"); longer data is
 * silently truncated there, so we refuse it here with LG_ERR_LABEL_FIELD_TOO_LONG.
 */
import { LgError } from '../errors.js';

/** The printer's field data limit (bytes). */
export const MAX_FIELD_BYTES = 3072;

/** Escape character used for DataMatrix FNC1 (`^BX…,g`). Not in GS1 CSET 82/39, so never data. */
export const DM_ESCAPE = '#';

const HEX = '0123456789ABCDEF';

function hexByte(b: number): string {
  return `_${HEX[b >> 4]}${HEX[b & 15]}`;
}

/**
 * Escape a value for `^FH^FD…^FS` (hex indicator `_`). Returns only printable ASCII other than
 * `^ ~ _`, plus raw UTF-8 bytes of non-ASCII characters that are not control characters.
 */
export function escapeFieldData(value: string): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x5e || cp === 0x7e || cp === 0x5f || cp < 0x20 || cp === 0x7f) {
      out += hexByte(cp);
    } else if (cp >= 0x80 && cp <= 0x9f) {
      // C1 controls: escape their UTF-8 bytes so nothing invisible reaches the printer raw.
      for (const b of Buffer.from(ch, 'utf8')) out += hexByte(b);
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot be UTF-8 encoded; print the replacement character, visibly.
      out += '\uFFFD';
    } else {
      out += ch;
    }
  }
  return out;
}

/** Inverse of escapeFieldData (and of any `^FH` data with indicator `_`): for tests and the simulator. */
export function unescapeFieldData(data: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(data, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x5f && i + 2 < raw.length && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      bytes.push(parseInt(String.fromCharCode(raw[i + 1]!, raw[i + 2]!), 16));
      i += 2;
    } else {
      bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

/** UTF-8 byte length of a value (what the printer counts). */
export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Throw LG_ERR_LABEL_FIELD_TOO_LONG when `value` is over `max` bytes (never over MAX_FIELD_BYTES). */
export function checkFieldLength(field: string, value: string, max: number = MAX_FIELD_BYTES): void {
  const limit = Math.min(max, MAX_FIELD_BYTES);
  const length = byteLength(value);
  if (length > limit) throw new LgError('LG_ERR_LABEL_FIELD_TOO_LONG', { field, length, max: limit });
}

/** `^FH^FD<escaped>^FS` after the length check. */
export function fieldData(field: string, value: string, max: number = MAX_FIELD_BYTES): string {
  checkFieldLength(field, value, max);
  return `^FH^FD${escapeFieldData(value)}^FS`;
}

// ── Code 128 width estimate ──────────────────────────────────────────────────────────────────

/**
 * Number of Code 128 symbol characters (start + data + check, without stop) the printer needs for
 * ZPL mode-D (GS1) field data: `(AI)` parentheses are dropped, `>8` is FNC1, and mode D starts with
 * FNC1 itself. Minimum over subsets B and C by dynamic programming — the printer's automatic
 * subset choice is at least this good in practice (it is what the GS1 spec's rules give).
 */
export function code128SymbolChars(modeDData: string): number {
  type Tok = { kind: 'fnc1' } | { kind: 'char'; digit: boolean };
  const toks: Tok[] = [{ kind: 'fnc1' }];
  for (let i = 0; i < modeDData.length; i++) {
    const c = modeDData[i]!;
    if (c === '(' || c === ')') continue;
    if (c === '>' && modeDData[i + 1] === '8') {
      toks.push({ kind: 'fnc1' });
      i++;
      continue;
    }
    if (c === '>' && modeDData[i + 1] === '<') {
      // `><` is a literal `>` in ^BC field data
      toks.push({ kind: 'char', digit: false });
      i++;
      continue;
    }
    toks.push({ kind: 'char', digit: c >= '0' && c <= '9' });
  }
  const INF = Number.MAX_SAFE_INTEGER;
  const n = toks.length;
  // dp[i][s]: chars used to encode toks[0..i) ending in set s (0 = B, 1 = C), start char included.
  const dp: [number, number][] = Array.from({ length: n + 1 }, () => [INF, INF] as [number, number]);
  dp[0] = [1, 1];
  for (let i = 0; i <= n; i++) {
    const cur = dp[i]!;
    // switching set costs one character
    cur[0] = Math.min(cur[0], cur[1] + 1);
    cur[1] = Math.min(cur[1], cur[0] + 1);
    if (i === n) break;
    const t = toks[i]!;
    const next = dp[i + 1]!;
    next[0] = Math.min(next[0], cur[0] + 1);
    if (t.kind === 'fnc1') next[1] = Math.min(next[1], cur[1] + 1);
    else if (t.digit) {
      const t2 = toks[i + 1];
      if (t2 && t2.kind === 'char' && t2.digit) {
        const n2 = dp[i + 2]!;
        n2[1] = Math.min(n2[1], cur[1] + 1);
      }
    }
  }
  const last = dp[n]!;
  return Math.min(last[0], last[1]) + 1; // + check character
}

/** Width of the printed Code 128 symbol in dots (11 modules per character, 13 for stop). */
export function code128WidthDots(modeDData: string, moduleDots: number): number {
  return (code128SymbolChars(modeDData) * 11 + 13) * moduleDots;
}

/** GS1 asks for 10 modules of quiet zone on each side of a GS1-128 symbol. */
export const CODE128_QUIET_MODULES = 10;

/**
 * Throw LG_ERR_LABEL_BARCODE_TOO_WIDE when the symbol plus its quiet zones does not fit between
 * the field origin and the print width: a clipped barcode does not scan.
 */
export function checkBarcodeFits(width: number, x: number, quietDots: number, printWidth: number, what: string): void {
  if (x < quietDots || x + width + quietDots > printWidth) {
    throw new LgError('LG_ERR_LABEL_BARCODE_TOO_WIDE', {
      width: width + 2 * quietDots,
      max: printWidth,
      barcode: what,
      x,
    });
  }
}

// ── DataMatrix size estimate ─────────────────────────────────────────────────────────────────

/** ECC 200 square symbols: [modules per side, data codewords]. */
const DM_SQUARE: ReadonlyArray<readonly [number, number]> = [
  [10, 3], [12, 5], [14, 8], [16, 12], [18, 18], [20, 22], [22, 30], [24, 36], [26, 44], [32, 62],
  [36, 86], [40, 114], [44, 144], [48, 174], [52, 204], [64, 280], [72, 368], [80, 456], [88, 576],
  [96, 696], [104, 816], [120, 1050], [132, 1304], [144, 1558],
];

/** Modules per side of the smallest square ECC 200 symbol for GS1 data (ASCII encodation). */
export function dataMatrixModules(gsSeparated: string): number {
  let cw = 1; // leading FNC1
  for (let i = 0; i < gsSeparated.length; i++) {
    const c = gsSeparated.charCodeAt(i);
    const d = c >= 0x30 && c <= 0x39;
    const c2 = gsSeparated.charCodeAt(i + 1);
    if (d && c2 >= 0x30 && c2 <= 0x39) i++;
    cw += c > 127 ? 2 : 1;
  }
  for (const [size, cap] of DM_SQUARE) if (cap >= cw) return size;
  throw new LgError('LG_ERR_LABEL_FIELD_TOO_LONG', { field: 'datamatrix', length: cw, max: 1558 });
}

// ── Elements ─────────────────────────────────────────────────────────────────────────────────

export interface TextOpts {
  /** Field name for error messages. */
  field: string;
  x: number;
  y: number;
  /** Font height and width in dots (^A0, the scalable font). */
  height: number;
  width?: number;
  /** Byte limit for this field (template-declared), at most MAX_FIELD_BYTES. */
  maxBytes?: number;
  /** ^FB block: wrap into `lines` lines of `blockWidth` dots. */
  blockWidth?: number;
  lines?: number;
  orientation?: 'N' | 'R' | 'I' | 'B';
}

export function zplText(value: string, o: TextOpts): string {
  const fb = o.blockWidth ? `^FB${o.blockWidth},${o.lines ?? 1},0,L,0` : '';
  return `^FO${o.x},${o.y}^A0${o.orientation ?? 'N'},${o.height},${o.width ?? o.height}${fb}${fieldData(o.field, value, o.maxBytes)}`;
}

export interface Gs1_128Opts {
  x: number;
  y: number;
  /** Bar height in dots. */
  height: number;
  /** Narrow bar width in dots (^BY). */
  moduleDots: number;
  /** Print the interpretation line under the bars (mode D prints AIs in parentheses). */
  hri?: boolean;
  /** ^PW of the label, for the width check. */
  printWidth: number;
  name?: string;
}

/**
 * GS1-128 via `^BCN,h,Y,N,N,D` (mode D: leading FNC1, `(AI)` shown in the interpretation line,
 * `>8` = FNC1 after variable-length AIs that are not last — from src/gs1's `zpl128`).
 * The data is still `^FH`-escaped: a `_` in a GS1 value is legal (CSET 82) and must not start a hex escape.
 */
export function zplGs1_128(zpl128: string, o: Gs1_128Opts): string {
  const width = code128WidthDots(zpl128, o.moduleDots);
  checkBarcodeFits(width, o.x, CODE128_QUIET_MODULES * o.moduleDots, o.printWidth, o.name ?? 'gs1-128');
  return `^FO${o.x},${o.y}^BY${o.moduleDots}^BCN,${o.height},${o.hri === false ? 'N' : 'Y'},N,N,D${fieldData(o.name ?? 'gs1-128', zpl128)}`;
}

export interface DataMatrixOpts {
  x: number;
  y: number;
  moduleDots: number;
  printWidth: number;
  name?: string;
}

/**
 * GS1 DataMatrix via `^BXN,m,200,,,,#`: quality 200 (ECC 200) with the escape character set
 * explicitly (firmware defaults differ: `_` on old, `~` on newer ones). We use `#` rather than
 * `_`: `#` is in none of the GS1 character sets, so no value ever needs the doubled-escape rule —
 * and zpl-renderer-js does not implement `__` the way the manual describes, so `_` would make our
 * previews disagree with the printer. `dmData` comes from src/gs1 `zplDataMatrixData(elements,
 * { escapeChar: DM_ESCAPE })` (`#1` = FNC1 first and as separator). `^FH` hex processing runs
 * before the escape processing, so the data stays injection-safe.
 */
export function zplGs1DataMatrix(data: { dmData: string; gsSeparated: string }, o: DataMatrixOpts): string {
  const size = dataMatrixModules(data.gsSeparated) * o.moduleDots;
  // DataMatrix needs a 1-module quiet zone.
  checkBarcodeFits(size, o.x, o.moduleDots, o.printWidth, o.name ?? 'datamatrix');
  return `^FO${o.x},${o.y}^BXN,${o.moduleDots},200,,,,${DM_ESCAPE}${fieldData(o.name ?? 'datamatrix', data.dmData)}`;
}

/** Graphic box (^GB): frames and rules. */
export function zplBox(x: number, y: number, w: number, h: number, thickness: number): string {
  return `^FO${x},${y}^GB${w},${h},${thickness}^FS`;
}

export interface LabelFrame {
  widthDots: number;
  heightDots: number;
  /** Comment written as `^FX` (ids only — never user text). */
  comment?: string;
  copies?: number;
}

/** Wrap elements in one format: `^XA^CI28^PW^LL^LH … ^PQ ^XZ`. */
export function zplLabel(frame: LabelFrame, body: string[]): string {
  const fx = frame.comment ? `^FX${frame.comment.replace(/[\^~\x00-\x1f\x7f]/g, ' ')}^FS` : '';
  return `^XA^CI28^PW${frame.widthDots}^LL${frame.heightDots}^LH0,0${fx}${body.join('')}^PQ${frame.copies ?? 1}^XZ\n`;
}

/** mm → dots at `dpi`, rounded. */
export function mmToDots(mm: number, dpi: number): number {
  return Math.round((mm * dpi) / 25.4);
}
