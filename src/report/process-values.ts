/**
 * Batch record section "Process values" (issue 18): per declared value recorded in the batch
 * (device + name), the number of recorded samples, min, max, the last value and when, and the
 * rejected samples (out of range, and all rejections). Left out of batches without process values.
 * Read with the report's as-of point, like every other section, so a reprint is identical.
 */
import type { Db } from '../store/db.js';
import { registerReportSection, type AsOf } from './data.js';

export interface ProcessValueSummary {
  device: string;
  name: string;
  unit: string | null;
  count: number;
  min: number | null;
  max: number | null;
  last: number | null;
  lastAt: string | null;
  outOfRange: number;
  rejected: number;
}

export function processValuesSection(db: Db, batch: string, asOf: AsOf): ProcessValueSummary[] | null {
  const rows = db
    .prepare(
      `WITH pv AS (
         SELECT seq, device, json_extract(payload, '$.name') AS name, json_extract(payload, '$.unit') AS unit, status, error_code,
                json_extract(payload, '$.value') AS v
           FROM records WHERE batch = ? AND seq <= ? AND type = 'process.value')
       SELECT device, name, max(unit) AS unit,
              sum(status = 'accepted') AS count,
              min(CASE WHEN status = 'accepted' THEN v END) AS min,
              max(CASE WHEN status = 'accepted' THEN v END) AS max,
              sum(error_code = 'LG_ERR_VALUE_OUT_OF_RANGE') AS outOfRange,
              sum(status = 'rejected') AS rejected,
              max(CASE WHEN status = 'accepted' THEN seq END) AS lastSeq
         FROM pv GROUP BY device, name ORDER BY device, name`,
    )
    .all(batch, asOf.recordSeq) as Array<Omit<ProcessValueSummary, 'last' | 'lastAt'> & { lastSeq: number | null }>;
  if (rows.length === 0) return null;
  const lastOf = db.prepare(`SELECT json_extract(payload, '$.value') AS v, coalesce(source_time, received_at) AS at FROM records WHERE seq = ?`);
  return rows.map(({ lastSeq, ...r }) => {
    const l = lastSeq !== null ? (lastOf.get(lastSeq) as { v: number; at: string } | undefined) : undefined;
    return { device: String(r.device), name: String(r.name), unit: r.unit ?? null, count: Number(r.count), min: r.min ?? null, max: r.max ?? null, last: l?.v ?? null, lastAt: l?.at ?? null, outOfRange: Number(r.outOfRange ?? 0), rejected: Number(r.rejected ?? 0) };
  });
}

registerReportSection('Process values', processValuesSection);
