import { LgError } from '../errors.js';

/**
 * Batch numbering (SOP 5.1.2): `YYYYMMDD-###` by default, configurable pattern.
 * Tokens: {YYYY} {YY} {MM} {DD} (site-local date), {line}, {site}, {seq:N} (counter, zero-padded
 * to at least N digits — 1000 after 999, never a wrap to 000, so a number is never reissued).
 *
 * The counter is kept in the journal (`counters` table) under a key made of the pattern rendered
 * with everything but the counter: it restarts at 1 whenever that text changes — the next day for
 * the default pattern — and is incremented in the same transaction that inserts the batch, so
 * concurrent requests, restarts and midnight cannot produce the same number twice.
 */

export interface DateParts {
  YYYY: string;
  YY: string;
  MM: string;
  DD: string;
}

export interface CompiledPattern {
  pattern: string;
  /** Text with every token but the counter filled in: the counter's key. */
  counterKey(parts: DateParts, line: string, site: string): string;
  render(parts: DateParts, line: string, site: string, seq: number): string;
  /** Recognises batch numbers of this pattern for a given line and site (any date, any counter). */
  regex(line: string, site: string): RegExp;
}

const TOKEN = /\{(YYYY|YY|MM|DD|line|site|seq(?::(\d))?)\}/g;

export function compileBatchPattern(pattern: string): CompiledPattern {
  const seqTokens = [...pattern.matchAll(/\{seq(?::(\d))?\}/g)];
  if (seqTokens.length !== 1) {
    throw new LgError('LG_ERR_BATCH_NUMBER_PATTERN', { pattern, detail: 'it must contain exactly one {seq} or {seq:N} token' });
  }
  const width = Number(seqTokens[0]![1] ?? '3');
  if (width < 1 || width > 9) throw new LgError('LG_ERR_BATCH_NUMBER_PATTERN', { pattern, detail: '{seq:N} needs N from 1 to 9' });
  const stray = pattern.replace(TOKEN, '');
  if (/[{}]/.test(stray)) throw new LgError('LG_ERR_BATCH_NUMBER_PATTERN', { pattern, detail: `unknown token in "${pattern}"` });
  if (!/^[A-Za-z0-9_.:/-]*$/.test(stray)) {
    throw new LgError('LG_ERR_BATCH_NUMBER_PATTERN', { pattern, detail: 'literal text may only use letters, digits and _ . : / -' });
  }

  const fill = (parts: DateParts, line: string, site: string, seq: string): string =>
    pattern.replace(TOKEN, (_w, tok: string) => {
      if (tok.startsWith('seq')) return seq;
      if (tok === 'line') return line;
      if (tok === 'site') return site;
      return parts[tok as keyof DateParts];
    });

  return {
    pattern,
    counterKey: (parts, line, site) => `batch:${fill(parts, line, site, '{seq}')}`,
    render: (parts, line, site, seq) => fill(parts, line, site, String(seq).padStart(width, '0')),
    regex: (line, site) => {
      let src = '';
      let last = 0;
      for (const m of pattern.matchAll(TOKEN)) {
        src += escapeRe(pattern.slice(last, m.index));
        const tok = m[1]!;
        src +=
          tok === 'YYYY' ? '\\d{4}' : tok === 'YY' || tok === 'MM' || tok === 'DD' ? '\\d{2}' : tok === 'line' ? escapeRe(line) : tok === 'site' ? escapeRe(site) : `\\d{${width},}`;
        last = (m.index ?? 0) + m[0].length;
      }
      src += escapeRe(pattern.slice(last));
      return new RegExp(`^${src}$`);
    },
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Calendar date of `d` in `timeZone` (the site's local production date). */
export function localDateParts(d: Date, timeZone: string): DateParts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value])) as Record<string, string>;
  const YYYY = parts.year!;
  return { YYYY, YY: YYYY.slice(2), MM: parts.month!, DD: parts.day! };
}

/** `YYYY-MM-DD` of `d` in `timeZone`. */
export function localDate(d: Date, timeZone: string): string {
  const p = localDateParts(d, timeZone);
  return `${p.YYYY}-${p.MM}-${p.DD}`;
}
