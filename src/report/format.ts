/**
 * What the HTML and the PDF renderer share: times in the site's zone, the stamp that makes a copy
 * verifiable, the PackML colours and the state strip geometry.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE, readCheckpoints } from '../store/anchor.js';
import type { MachineSegment, ReportData } from './data.js';
import { LINK_GAP } from './data.js';

/** The newest signed audit checkpoint known when the report was made (null = none yet). */
export interface CheckpointHead {
  seq: number;
  hash: string;
  at: string;
}

/** Printed on every page and embedded as metadata: enough to find and recompute the report. */
export interface ReportStamp {
  generatedAt: string;
  generatedBy: string | null;
  checkpoint: CheckpointHead | null;
}

/**
 * The one-line marker embedded in a PDF (Info dictionary key `LinegateReport`) and an HTML
 * (`<meta name="linegate-report">`). ASCII only; `report verify` parses it back.
 */
export function stampLine(d: ReportData, s: ReportStamp): string {
  const cp = s.checkpoint ? `${s.checkpoint.seq}:${s.checkpoint.hash}` : 'none';
  const sections = Object.entries(d.sectionHashes)
    .map(([k, h]) => `${encodeURIComponent(k)}:${h.slice(0, 16)}`)
    .join(',');
  return `LGR${d.v} batch=${encodeURIComponent(d.batch)} asof=${d.asOf.recordSeq}.${d.asOf.auditSeq} sha256=${d.contentHash} checkpoint=${cp} sections=${sections}`;
}

export interface ParsedStamp {
  v: number;
  batch: string;
  asOf: { recordSeq: number; auditSeq: number };
  sha256: string;
  checkpoint: { seq: number; hash: string } | null;
  /** Section name → first 16 hex digits of its SHA-256 (absent for a hash typed from paper). */
  sections: Record<string, string> | null;
}

export function parseStamp(text: string): ParsedStamp | null {
  const m = /LGR(\d+) batch=(\S+) asof=(\d+)\.(\d+) sha256=([0-9a-f]{64}) checkpoint=(none|(\d+):([0-9a-f]{64}))/.exec(text);
  if (!m) return null;
  const sec = /sections=((?:[^\s:,]+:[0-9a-f]{16},?)+)/.exec(text.slice(m.index));
  return {
    v: Number(m[1]),
    batch: decodeURIComponent(m[2]!),
    asOf: { recordSeq: Number(m[3]), auditSeq: Number(m[4]) },
    sha256: m[5]!,
    checkpoint: m[7] ? { seq: Number(m[7]), hash: m[8]! } : null,
    sections: sec ? Object.fromEntries(sec[1]!.split(',').map((p) => p.split(':')).map(([k, h]) => [decodeURIComponent(k!), h!])) : null,
  };
}

/** The newest checkpoint in a state folder covering at most `auditSeq`. */
export function checkpointHead(stateDir: string, auditSeq: number): CheckpointHead | null {
  const file = join(stateDir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  let best: CheckpointHead | null = null;
  for (const c of readCheckpoints(file)) {
    if (c.seq < 0 || c.seq > auditSeq) continue;
    if (!best || c.seq > best.seq || (c.seq === best.seq && c.at > best.at)) best = { seq: c.seq, hash: c.hash, at: c.at };
  }
  return best;
}

/** "2026-12-01 10:32:05" in the site's zone ('' for null). */
export function timeFormatter(timeZone: string): (iso: unknown) => string {
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  } catch {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }
  return (iso) => {
    if (iso === null || iso === undefined || iso === '') return '';
    const d = new Date(String(iso));
    if (Number.isNaN(d.getTime())) return String(iso);
    return f.format(d);
  };
}

/** "Europe/Berlin (UTC+01:00)" at the given instant. */
export function zoneLabel(timeZone: string, at: Date): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at);
    const off = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
    return `${timeZone} (${off.replace('GMT', 'UTC') || 'UTC'})`;
  } catch {
    return timeZone;
  }
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** PackML state colours (ISA-TR88.00.02 has none; these follow the common HMI convention). */
export function stateColour(state: string): string {
  if (state === LINK_GAP) return '#222222';
  const c: Record<string, string> = {
    Execute: '#2e9d4a',
    Idle: '#8fb3d9',
    Starting: '#b5d99c',
    Completing: '#7fb0e0',
    Complete: '#2f6db5',
    Resetting: '#c6c6c6',
    Held: '#f2b632',
    Holding: '#f5cd70',
    Unholding: '#f5cd70',
    Suspended: '#e8842c',
    Suspending: '#f0aa66',
    Unsuspending: '#f0aa66',
    Stopped: '#c0392b',
    Stopping: '#dd7a6f',
    Aborted: '#7b1e1e',
    Aborting: '#a65252',
    Clearing: '#d9b3b3',
  };
  return c[state] ?? '#999999';
}

export interface StripBar {
  device: string;
  x: number;
  w: number;
  state: string;
  gap: boolean;
  from: string;
  to: string;
}

/**
 * Lay the machine segments out on a strip `width` wide: one row per device, time left to right from
 * the first segment to the last end (an open segment ends at `endIso`, e.g. completion or now).
 */
export function stripLayout(segments: readonly MachineSegment[], width: number, endIso: string): { rows: Array<{ device: string; bars: StripBar[] }>; from: string; to: string } | null {
  if (segments.length === 0) return null;
  const endMs = Date.parse(endIso);
  const spans = segments.map((s) => {
    const a = Date.parse(s.from);
    const b = s.to ? Date.parse(s.to) : Math.max(a, endMs);
    return { s, a, b };
  });
  const t0 = Math.min(...spans.map((x) => x.a));
  const t1 = Math.max(t0 + 1, ...spans.map((x) => x.b));
  const k = width / (t1 - t0);
  const rows = new Map<string, StripBar[]>();
  for (const { s, a, b } of spans) {
    const dev = s.device ?? '';
    if (!rows.has(dev)) rows.set(dev, []);
    rows.get(dev)!.push({ device: dev, x: (a - t0) * k, w: Math.max(0.75, (b - a) * k), state: s.state, gap: s.gap, from: new Date(a).toISOString(), to: new Date(b).toISOString() });
  }
  return { rows: [...rows.entries()].map(([device, bars]) => ({ device, bars })), from: new Date(t0).toISOString(), to: new Date(t1).toISOString() };
}

/** Short title per section, shared by HTML and PDF. */
export const SECTION_TITLES: Record<string, string> = {
  header: 'Batch',
  personnel: 'Personnel',
  equipment: 'Equipment',
  materials: 'Materials and consumption',
  corrections: 'Consumption corrections',
  machine: 'Machine timeline (PackML)',
  counters: 'Counters and output',
  reconciliation: 'Reconciliation and yield',
  exceptions: 'Exceptions (review by exception) and QA acknowledgements',
  qc: 'QC results',
  deviations: 'Deviations',
  labels: 'Labels and print jobs',
  rejectedRecords: 'Refused and flagged records',
  signatures: 'Electronic signatures',
  audit: 'Audit trail excerpt',
};

/** Column definitions of the tabular sections: [title, value getter] — the same in HTML and PDF. */
export type Col = [string, (row: Record<string, unknown>) => unknown, number];
