/**
 * PackML state timeline of a batch, from its machine.* records (the same reading as
 * stateDurations in src/binding/machine.ts and the report's strip): segments of one state each,
 * link gaps (machine.link_lost → machine.link_restored) as their own segments with `gap: true`;
 * the state before a gap resumes after it. Pure: unit-tested in test/unit/office-timeline.test.ts.
 */
export interface MachineRecord {
  seq: number;
  type: string;
  station?: string | null;
  receivedAt?: string;
  payload: Record<string, any>;
}

export interface Segment {
  state: string;
  start: number;
  end: number;
  gap: boolean;
  station: string | null;
}

const t = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : NaN);

function at(r: MachineRecord): number {
  const p = r.payload ?? {};
  if (r.type === 'machine.state_changed') return t(p.enteredAt);
  if (r.type === 'machine.link_lost') return t(p.since);
  if (r.type === 'machine.link_restored') return t(p.since) + Number(p.gapMs ?? 0);
  return t(r.receivedAt ?? p.receivedAt);
}

export const LINK_GAP = 'LINK LOST';

/** Segments between `from` (batch start) and `until` (batch end or now), per machine station. */
export function timelineSegments(records: readonly MachineRecord[], from: number, until: number): Segment[] {
  const byStation = new Map<string, MachineRecord[]>();
  for (const r of records) {
    if (!r.type.startsWith('machine.')) continue;
    const k = r.station ?? '';
    (byStation.get(k) ?? byStation.set(k, []).get(k)!).push(r);
  }
  const out: Segment[] = [];
  for (const [station, list] of byStation) {
    const rel = list.map((r) => ({ r, at: at(r) })).filter((x) => Number.isFinite(x.at)).sort((a, b) => a.at - b.at || a.r.seq - b.r.seq);
    let cur: { state: string; since: number; gap: boolean } | null = null;
    let beforeGap: string | null = null;
    const push = (s: { state: string; since: number; gap: boolean }, end: number): void => {
      const a = Math.max(s.since, from);
      const b = Math.min(end, until);
      if (b > a) out.push({ state: s.state, start: a, end: b, gap: s.gap, station: station || null });
    };
    for (const { r, at: when } of rel) {
      const p = r.payload ?? {};
      if (r.type === 'machine.state_changed') {
        if (!cur && typeof p.from === 'string') {
          const prev = t(p.previousEnteredAt);
          cur = { state: p.from, since: Number.isFinite(prev) ? Math.max(prev, from) : from, gap: false };
        }
        if (cur) push(cur, when);
        cur = { state: String(p.to), since: when, gap: false };
        beforeGap = null;
      } else if (r.type === 'machine.link_lost') {
        if (cur && !cur.gap) {
          push(cur, when);
          beforeGap = cur.state;
        }
        if (!cur?.gap) cur = { state: LINK_GAP, since: when, gap: true };
      } else if (r.type === 'machine.link_restored') {
        if (cur?.gap) {
          push(cur, when);
          cur = beforeGap ? { state: beforeGap, since: when, gap: false } : null;
        }
      } else if (r.type === 'machine.state_confirmed' && !cur && typeof p.state === 'string') {
        const entered = t(p.enteredAt);
        cur = { state: p.state, since: Number.isFinite(entered) ? Math.max(entered, from) : when, gap: false };
      }
    }
    if (cur) push(cur, until);
  }
  return out.sort((a, b) => (a.station ?? '').localeCompare(b.station ?? '') || a.start - b.start);
}

/** Colours of the PackML states (ISA-TR88.00.02): execute green, held/suspended amber, stopped/aborted red. */
export const STATE_COLOURS: Record<string, string> = {
  EXECUTE: '#2e9d4f',
  IDLE: '#8fb8de',
  STARTING: '#a7d7b5',
  COMPLETING: '#a7d7b5',
  COMPLETE: '#5c7c99',
  RESETTING: '#c5d5e4',
  HOLDING: '#f2c46d',
  HELD: '#e9a825',
  UNHOLDING: '#f2c46d',
  SUSPENDING: '#f5d08a',
  SUSPENDED: '#d9902f',
  UNSUSPENDING: '#f5d08a',
  STOPPING: '#ec8f86',
  STOPPED: '#d3453a',
  ABORTING: '#b2413a',
  ABORTED: '#7d1f1a',
  CLEARING: '#c9a0a0',
  [LINK_GAP]: '#ffffff',
};

export const colourOf = (state: string): string => STATE_COLOURS[state.toUpperCase()] ?? '#9aa7b3';
