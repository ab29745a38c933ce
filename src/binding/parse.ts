import { parseScan } from '../gs1/index.js';
import type { ParsedScan } from './scan.js';

/**
 * The GS1 parser, narrowed to what binding needs. Values are normalised for lookups: GTINs to 14
 * digits, dates to ISO YYYY-MM-DD (with DD=00 resolved to the month's last day); everything else
 * exactly as carried.
 */
export function parseForBinding(raw: Buffer, opts: { fnc1Substitute?: string; now?: Date } = {}): ParsedScan {
  const r = parseScan(raw, opts);
  if (!r.ok) return { ok: false, code: r.code, message: r.message, details: r.details };
  return {
    ok: true,
    gs1: r.gs1,
    aim: r.aim,
    text: r.text,
    elements: r.elements.map((e) => ({
      ai: e.ai,
      value: e.typed?.kind === 'date' ? e.typed.date : e.typed?.kind === 'gtin' ? e.typed.gtin : e.value,
    })),
  };
}
