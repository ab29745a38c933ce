/**
 * The weekly review (SOP section 8; issue 14): for a period (default: the 7 days from `from`,
 * midnight to midnight in the site's time zone) — the batches by status with output, yield and
 * exceptions, the inventory of the lots they used and made (status and on-hand), deviations open
 * and closed, and failed QC results. Read-only, one read transaction; JSON and printable HTML.
 *
 * Which batches: every batch created, started, completed or released in the period, and every batch
 * still open (planned, in process, on hold) that was created before the period ended — an open batch
 * is reviewed every week until it is closed.
 *
 * QA signs a FROZEN review (src/usecases/weekly-reviews.ts): this content stored with its SHA-256
 * and journal cut, then signed with Part 11 re-authentication. Drawn as HTML and PDF by
 * weekly-document.ts.
 */
import { LgError } from '../errors.js';
import type { Db } from '../store/db.js';

export interface WeeklyReview {
  kind: 'weekly-review';
  period: { from: string; to: string; fromDate: string; toDate: string; timeZone: string };
  site: string;
  line: string;
  batches: Array<{
    number: string;
    product: string;
    productName: string | null;
    status: string;
    plannedQty: string;
    producedQty: string;
    rejectedQty: string;
    unit: string;
    yieldPct: number | null;
    startedAt: string | null;
    completedAt: string | null;
    releasedAt: string | null;
    exceptions: number;
    openDeviations: number;
    qcFailures: number;
  }>;
  byStatus: Record<string, number>;
  inventory: Array<{ lot: string; material: string; status: string; quantity: string; unit: string; expiry: string | null; supplierLot: string | null; usedBy: string[]; producedBy: string | null }>;
  deviations: { open: number; underInvestigation: number; closed: number; items: Array<Record<string, unknown>> };
  qcFailures: Array<Record<string, unknown>>;
  generatedAt: string;
}

const DAY = 86_400_000;

/** Offset (ms) of `timeZone` from UTC at the instant `ms`. */
function tzOffset(ms: number, timeZone: string): number {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)) - Math.floor(ms / 1000) * 1000;
}

/** The UTC instant of local midnight starting `date` (YYYY-MM-DD) in `timeZone`. */
export function localMidnight(date: string, timeZone: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new LgError('LG_ERR_REPORT_RANGE', { from: date, to: '', detail: 'dates are YYYY-MM-DD' });
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(guess) || new Date(guess).toISOString().slice(0, 10) !== date) throw new LgError('LG_ERR_REPORT_RANGE', { from: date, to: '', detail: 'not a calendar date' });
  let t = guess - tzOffset(guess, timeZone);
  t = guess - tzOffset(t, timeZone); // across a DST change the offset at the result is the one that counts
  return new Date(t);
}

function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}

export function gatherWeekly(db: Db, o: { from: string; to?: string; timeZone: string; site: string; line: string; now: Date }): WeeklyReview {
  const toDate = o.to ?? addDays(o.from, 7);
  const from = localMidnight(o.from, o.timeZone).toISOString();
  const to = localMidnight(toDate, o.timeZone).toISOString();
  if (to <= from) throw new LgError('LG_ERR_REPORT_RANGE', { from: o.from, to: toDate, detail: 'the end must be after the start' });
  if (Date.parse(to) - Date.parse(from) > 366 * DAY) throw new LgError('LG_ERR_REPORT_RANGE', { from: o.from, to: toDate, detail: 'at most one year' });
  const run = db.transaction(() => {
    const inP = (c: string): string => `(${c} >= @from AND ${c} < @to)`;
    const rows = db
      .prepare(
        `SELECT b.*,
            (SELECT COUNT(*) FROM records r WHERE r.batch = b.number AND (r.status = 'rejected' OR r.error_code IS NOT NULL)) AS exceptions,
            (SELECT COUNT(*) FROM deviations d WHERE d.batch = b.number AND d.status <> 'closed') AS open_devs,
            (SELECT COUNT(*) FROM qc_inspections q WHERE q.batch = b.number AND q.verdict = 'failed') AS qc_failed
           FROM batches b
          WHERE ${inP('b.created_at')} OR ${inP('b.started_at')} OR ${inP('b.completed_at')} OR ${inP('b.released_at')}
             OR (b.status IN ('planned','in_process','on_hold') AND b.created_at < @to)
          ORDER BY b.created_at, b.number`,
      )
      .all({ from, to }) as Array<Record<string, unknown>>;
    const batches = rows.map((b) => {
      const planned = Number(b.planned_qty);
      const produced = Number(b.produced_qty);
      return {
        number: String(b.number),
        product: String(b.product),
        productName: (b.product_name as string | null) ?? null,
        status: String(b.status),
        plannedQty: String(b.planned_qty),
        producedQty: String(b.produced_qty),
        rejectedQty: String(b.rejected_qty),
        unit: String(b.unit),
        // For display only: the exact quantities are next to it.
        yieldPct: planned > 0 ? Math.round((produced / planned) * 1000) / 10 : null,
        startedAt: (b.started_at as string | null) ?? null,
        completedAt: (b.completed_at as string | null) ?? null,
        releasedAt: (b.released_at as string | null) ?? null,
        exceptions: Number(b.exceptions),
        openDeviations: Number(b.open_devs),
        qcFailures: Number(b.qc_failed),
      };
    });
    const byStatus: Record<string, number> = {};
    for (const b of batches) byStatus[b.status] = (byStatus[b.status] ?? 0) + 1;
    const numbers = JSON.stringify(batches.map((b) => b.number));
    const lots = db
      .prepare(
        `SELECT l.id, l.material, l.status, l.quantity, l.unit, l.expiry, l.supplier_lot, l.produced_by,
                (SELECT json_group_array(DISTINCT c.batch) FROM consumptions c WHERE c.lot = l.id AND c.batch IN (SELECT value FROM json_each(@n))) AS used_by
           FROM lots l
          WHERE l.id IN (SELECT lot FROM consumptions WHERE batch IN (SELECT value FROM json_each(@n)))
             OR l.produced_by IN (SELECT value FROM json_each(@n))
          ORDER BY l.material, l.id`,
      )
      .all({ n: numbers }) as Array<Record<string, unknown>>;
    const inventory = lots.map((l) => ({
      lot: String(l.id),
      material: String(l.material),
      status: String(l.status),
      quantity: String(l.quantity),
      unit: String(l.unit),
      expiry: (l.expiry as string | null) ?? null,
      supplierLot: (l.supplier_lot as string | null) ?? null,
      usedBy: (JSON.parse(String(l.used_by ?? '[]')) as string[]).sort(),
      producedBy: (l.produced_by as string | null) ?? null,
    }));
    const devRows = db
      .prepare(
        `SELECT number, batch, category, type, title, status, raised_at, raised_by, closed_at, closed_by FROM deviations
          WHERE status <> 'closed' OR ${inP('raised_at')} OR ${inP('closed_at')} ORDER BY number`,
      )
      .all({ from, to }) as Array<Record<string, unknown>>;
    const items = devRows.map((d) => ({ number: d.number, batch: d.batch, category: d.category, type: d.type, title: d.title, status: d.status, raisedAt: d.raised_at, raisedBy: d.raised_by, closedAt: d.closed_at ?? null, closedBy: d.closed_by ?? null }));
    const qcFailures = (
      db
        .prepare(`SELECT id, plan, lot, batch, station, results, inspected_by, inspected_at, retake_of FROM qc_inspections WHERE verdict = 'failed' AND ${inP('inspected_at')} ORDER BY inspected_at, id`)
        .all({ from, to }) as Array<Record<string, unknown>>
    ).map((q) => {
      const retaken = db.prepare(`SELECT id, verdict FROM qc_inspections WHERE retake_of = ? ORDER BY inspected_at DESC LIMIT 1`).get(q.id) as { id: string; verdict: string } | undefined;
      const failed = (JSON.parse(String(q.results)) as Array<{ code?: string; verdict?: string }>).filter((r) => r.verdict === 'fail').map((r) => r.code);
      return { id: q.id, plan: q.plan, lot: q.lot ?? null, batch: q.batch ?? null, station: q.station ?? null, failed, inspectedBy: q.inspected_by, inspectedAt: q.inspected_at, retake: retaken ? `${retaken.id} ${retaken.verdict}` : null };
    });
    return {
      kind: 'weekly-review' as const,
      period: { from, to, fromDate: o.from, toDate, timeZone: o.timeZone },
      site: o.site,
      line: o.line,
      batches,
      byStatus,
      inventory,
      deviations: {
        open: items.filter((d) => d.status === 'open').length,
        underInvestigation: items.filter((d) => d.status === 'under_investigation').length,
        closed: items.filter((d) => d.status === 'closed').length,
        items,
      },
      qcFailures,
      generatedAt: o.now.toISOString(),
    };
  });
  return run.deferred();
}

export { renderWeeklyHtml, renderWeeklyPdf } from './weekly-document.js';
