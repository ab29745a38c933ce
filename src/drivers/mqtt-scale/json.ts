/**
 * A strict, small JSON parser (RFC 8259) that keeps every number as its exact source text.
 *
 * Why not `JSON.parse`: it turns `0.1` into a binary double before we can see it, and a reviver
 * only receives the double on Node 20 (the "source text access" proposal — `context.source` in
 * the reviver — is in V8 from Node 22, not 20). Weights must never pass through a float, so we
 * parse the payload ourselves and hand back `JsonNumber { lexeme }` for every number; the weight
 * code turns the lexeme into an exact decimal (see `lexemeToDec` in weight.ts).
 *
 * Payloads are small (the driver refuses anything over the profile's `maxBytes` before parsing),
 * so a recursive-descent parser with a nesting limit is plenty fast (see bench/scale.ts).
 * Errors are thrown as `JsonSyntaxError` with a position; the caller turns them into
 * LG_ERR_WEIGHT_PAYLOAD readings.
 */
export class JsonNumber {
  constructor(readonly lexeme: string) {}
  toString(): string {
    return this.lexeme;
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | { [k: string]: JsonValue };

export class JsonSyntaxError extends Error {}

const MAX_DEPTH = 32;

// The parser's state lives at module level, not in closures made per call: one payload is parsed
// at a time (nothing re-enters: no callback runs during a parse), and four closures allocated per
// message were a measurable share of a scale message's cost (bench/scale.ts).
let text = '';
let i = 0;
let n = 0;

export function parseJsonExact(source: string): JsonValue {
  text = source;
  i = 0;
  n = source.length;
  try {
    const v = value(0);
    ws();
    if (i !== n) fail('trailing characters');
    return v;
  } finally {
    text = '';
  }
}

function fail(what: string): never {
  throw new JsonSyntaxError(`${what} at position ${i}`);
}
function ws(): void {
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else break;
  }
}

function str(): string {
  // at opening quote
  i++;
  // Fast path: no escape and no control character before the closing quote (keys, units, ISO times).
  const close = text.indexOf('"', i);
  if (close > 0) {
    let plain = true;
    for (let j = i; j < close; j++) {
      const cc = text.charCodeAt(j);
      if (cc === 0x5c || cc < 0x20) {
        plain = false;
        break;
      }
    }
    if (plain) {
      const out = text.slice(i, close);
      i = close + 1;
      return out;
    }
  }
  let out = '';
  let start = i;
  for (;;) {
    if (i >= n) fail('unterminated string');
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      out += text.slice(start, i);
      i++;
      return out;
    }
    if (c < 0x20) fail('control character in string');
    if (c === 0x5c) {
      out += text.slice(start, i);
      const e = text[i + 1];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          fail('bad escape');
      }
      i += 2;
      start = i;
      continue;
    }
    i++;
  }
}

// Hot path (every scale message): char codes, no per-character string allocation.
function value(depth: number): JsonValue {
  if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
  ws();
  if (i >= n) fail('unexpected end');
  const c = text.charCodeAt(i);
  if (c === 0x7b /* { */) {
    i++;
    // A plain object (fast properties: V8 keeps repeated payload shapes in one hidden class; an
    // Object.create(null) object is a hash table from its first key, which cost a quarter of the
    // driver's time per message). A key "__proto__" is defined as an own property, never
    // assigned, so a payload cannot reach the prototype (test/unit/scale-json.test.ts).
    const obj: { [k: string]: JsonValue } = {};
    ws();
    if (text.charCodeAt(i) === 0x7d) {
      i++;
      return obj;
    }
    for (;;) {
      ws();
      if (text.charCodeAt(i) !== 0x22) fail('expected a key');
      const k = str();
      ws();
      if (text.charCodeAt(i) !== 0x3a) fail('expected ":"');
      i++;
      const v = value(depth + 1);
      if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
      else obj[k] = v;
      ws();
      const d = text.charCodeAt(i);
      if (d === 0x2c) {
        i++;
        continue;
      }
      if (d === 0x7d) {
        i++;
        return obj;
      }
      fail('expected "," or "}"');
    }
  }
  if (c === 0x5b /* [ */) {
    i++;
    const arr: JsonValue[] = [];
    ws();
    if (text.charCodeAt(i) === 0x5d) {
      i++;
      return arr;
    }
    for (;;) {
      arr.push(value(depth + 1));
      ws();
      const d = text.charCodeAt(i);
      if (d === 0x2c) {
        i++;
        continue;
      }
      if (d === 0x5d) {
        i++;
        return arr;
      }
      fail('expected "," or "]"');
    }
  }
  if (c === 0x22) return str();
  if (c === 0x74 /* t */ && text.startsWith('true', i)) {
    i += 4;
    return true;
  }
  if (c === 0x66 /* f */ && text.startsWith('false', i)) {
    i += 5;
    return false;
  }
  if (c === 0x6e /* n */ && text.startsWith('null', i)) {
    i += 4;
    return null;
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
    const end = numberEnd(i);
    if (end > i) {
      const lexeme = text.slice(i, end);
      i = end;
      return new JsonNumber(lexeme);
    }
  }
  // NaN, Infinity, -Infinity, 'x', … are not JSON.
  return fail(`unexpected ${JSON.stringify(text.slice(i, i + 12))}`);
}


const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * End of the longest JSON number (RFC 8259 §6: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?) that starts
 * at `p`, or `p` when there is none. A fraction or exponent without its digits is not consumed
 * ("1." ends after the 1), so what follows fails as the next token, as with the regular expression
 * this replaces (an exec per number allocated a match array).
 */
function numberEnd(p: number): number {
  let j = p;
  if (text.charCodeAt(j) === 0x2d) j++;
  const first = text.charCodeAt(j);
  if (first === 0x30) j++;
  else if (first >= 0x31 && first <= 0x39) {
    j++;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
  } else return p;
  if (text.charCodeAt(j) === 0x2e && isDigit(text.charCodeAt(j + 1))) {
    j += 2;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
  }
  const e = text.charCodeAt(j);
  if (e === 0x65 || e === 0x45) {
    let k = j + 1;
    const sign = text.charCodeAt(k);
    if (sign === 0x2b || sign === 0x2d) k++;
    if (isDigit(text.charCodeAt(k))) {
      k++;
      while (k < n && isDigit(text.charCodeAt(k))) k++;
      j = k;
    }
  }
  return j;
}

/** Follow a dotted path ("weight.net", "data.0.value"); undefined when any step is missing. */
const splitCache = new Map<string, string[]>();
export function getPath(root: JsonValue, path: string): JsonValue | undefined {
  let parts = splitCache.get(path);
  if (!parts) {
    parts = path.split('.');
    if (splitCache.size < 1000) splitCache.set(path, parts);
  }
  let cur: JsonValue | undefined = root;
  for (const part of parts) {
    if (cur === null || cur === undefined || typeof cur !== 'object' || cur instanceof JsonNumber) return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(part)) return undefined;
      cur = cur[Number(part)];
    } else {
      cur = Object.prototype.hasOwnProperty.call(cur, part) ? cur[part] : undefined;
    }
  }
  return cur;
}
