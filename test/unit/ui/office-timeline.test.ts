import { describe, expect, it } from 'vitest';
import { LINK_GAP, timelineSegments, type MachineRecord } from '../../../src/ui/app/office/timeline.js';

/** The batch page's PackML strip: one segment per state, link gaps as their own segments, clipped to the batch. */
describe('office batch page: PackML timeline segments', () => {
  const T0 = Date.parse('2026-12-01T08:00:00Z');
  const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
  let seq = 0;
  const rec = (type: string, payload: Record<string, unknown>, station = 'FILL-1'): MachineRecord => ({ seq: ++seq, type, station, payload });

  it('states in order, the state before a link gap resumes after it, the last state runs to the end', () => {
    const records = [
      rec('machine.state_changed', { from: 'Idle', to: 'Execute', enteredAt: iso(10), previousEnteredAt: iso(-100) }),
      rec('machine.link_lost', { since: iso(40) }),
      rec('machine.link_restored', { since: iso(40), gapMs: 20_000 }),
      rec('machine.state_changed', { from: 'Execute', to: 'Held', enteredAt: iso(80) }),
      rec('machine.state_changed', { from: 'Held', to: 'Execute', enteredAt: iso(90) }),
    ];
    const segs = timelineSegments(records, T0, T0 + 120_000);
    expect(segs.map((s) => [s.state, (s.start - T0) / 1000, (s.end - T0) / 1000, s.gap])).toEqual([
      ['Idle', 0, 10, false],
      ['Execute', 10, 40, false],
      [LINK_GAP, 40, 60, true],
      ['Execute', 60, 80, false],
      ['Held', 80, 90, false],
      ['Execute', 90, 120, false],
    ]);
  });

  it('records out of order are sorted by their own times; other stations get their own rows; everything clipped to the batch', () => {
    const records = [
      rec('machine.state_changed', { from: 'Execute', to: 'Stopped', enteredAt: iso(50) }),
      rec('machine.state_changed', { from: 'Idle', to: 'Execute', enteredAt: iso(20) }),
      rec('machine.state_changed', { from: 'Idle', to: 'Execute', enteredAt: iso(200) }, 'FILL-2'),
      rec('lot.scanned', {}),
    ];
    const segs = timelineSegments(records, T0 + 30_000, T0 + 100_000);
    // FILL-2 changed only after the batch: it was in the state it left (Idle) for the whole batch.
    expect(segs.map((s) => [s.station, s.state, (s.start - T0) / 1000, (s.end - T0) / 1000])).toEqual([
      ['FILL-1', 'Execute', 30, 50],
      ['FILL-1', 'Stopped', 50, 100],
      ['FILL-2', 'Idle', 30, 100],
    ]);
  });

  it('a batch with no machine records has no segments', () => {
    expect(timelineSegments([rec('lot.scanned', {})], T0, T0 + 1000)).toEqual([]);
  });
});
