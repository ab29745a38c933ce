import { parseScan, type ScanElement } from '../gs1/index.js';
import type { ParsedScan } from './scan.js';

/**
 * The GS1 parser, narrowed to what binding needs. Values are normalised for lookups: GTINs to 14
 * digits, dates to ISO YYYY-MM-DD (with DD=00 resolved to the month's last day), a date range
 * (7007 harvest date) to an ISO interval YYYY-MM-DD/YYYY-MM-DD; everything else exactly as
 * carried. `raw` keeps each value exactly as carried, so the record shows both.
 */
export function parseForBinding(raw: Buffer, opts: { fnc1Substitute?: string; now?: Date } = {}): ParsedScan {
  const r = parseScan(raw, opts);
  if (!r.ok) return { ok: false, code: r.code, message: r.message, details: r.details };
  return {
    ok: true,
    gs1: r.gs1,
    aim: r.aim,
    symbology: r.symbology,
    text: r.text,
    elements: r.elements.map((e) => ({ ai: e.ai, value: normalised(e), raw: e.value })),
  };
}

function normalised(e: ScanElement): string {
  const t = e.typed;
  if (t?.kind === 'date') return t.end !== undefined ? `${t.date}/${t.end}` : t.date;
  if (t?.kind === 'gtin') return t.gtin;
  return e.value;
}
