/**
 * Issue 14, the pure parts of the report: the machine timeline (link gaps), the stamp a copy
 * carries, site-local week boundaries across a DST change, text the PDF standard fonts can show, and
 * the report of a real (file) journal being cut at its as-of seqs.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { openDatabase } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { LINK_GAP, gatherReport, machineTimeline } from '../../../src/report/data.js';
import { parseStamp, stampLine, stripLayout } from '../../../src/report/format.js';
import { pdfText, renderPdf } from '../../../src/report/pdf.js';
import { renderHtml } from '../../../src/report/html.js';
import { localMidnight } from '../../../src/report/weekly.js';
import { tempDir } from '../../helpers/tmp.js';

const rec = (type: string, payload: Record<string, unknown>, receivedAt = '2026-11-24T08:00:00.000Z') => ({ type, device: 'fill.plc', payload, receivedAt });

describe('report: machine timeline', () => {
  it('a link gap interrupts the state and the state resumes after it; durations add up to the span', () => {
    const m = machineTimeline(
      [
        rec('machine.state_changed', { to: 'Execute', enteredAt: '2026-11-24T08:00:00.000Z' }),
        rec('machine.link_lost', { since: '2026-11-24T08:10:00.000Z' }),
        rec('machine.link_restored', { since: '2026-11-24T08:10:00.000Z', gapMs: 120_000 }),
        rec('machine.state_changed', { to: 'Complete', enteredAt: '2026-11-24T08:30:00.000Z' }),
      ],
      '2026-11-24T08:31:00.000Z',
    );
    expect(m.segments.map((s) => [s.state, s.from.slice(11, 16), s.to?.slice(11, 16)])).toEqual([
      ['Execute', '08:00', '08:10'],
      [LINK_GAP, '08:10', '08:12'],
      ['Execute', '08:12', '08:30'],
      ['Complete', '08:30', '08:31'],
    ]);
    expect(m.linkGaps).toBe(1);
    expect(m.msInState).toEqual({ Execute: 28 * 60_000, [LINK_GAP]: 120_000, Complete: 60_000 });
    const lay = stripLayout(m.segments, 300, '2026-11-24T08:31:00.000Z')!;
    const total = lay.rows[0]!.bars.reduce((a, b) => a + b.w, 0);
    expect(total).toBeCloseTo(300, 0);
  });

  it('a restore whose loss fell before the batch still shows the gap', () => {
    const m = machineTimeline([rec('machine.link_restored', { since: '2026-11-24T07:59:00.000Z', gapMs: 90_000 })], null);
    expect(m.segments).toEqual([{ device: 'fill.plc', state: LINK_GAP, from: '2026-11-24T07:59:00.000Z', to: '2026-11-24T08:00:30.000Z', gap: true }]);
  });
});

describe('report: stamp, week boundaries, PDF text', () => {
  it('the stamp round-trips, including batch numbers that need escaping and section hashes', () => {
    const d = { v: 1, batch: 'B 7/ü', asOf: { recordSeq: 12, auditSeq: 5 }, contentHash: 'a'.repeat(64), sectionHashes: { header: 'b'.repeat(64), 'extra.checks': 'c'.repeat(64) } };
    const line = stampLine(d as never, { generatedAt: '', generatedBy: null, checkpoint: { seq: 5, hash: 'd'.repeat(64), at: '' } });
    expect(parseStamp(`junk ${line} junk`)).toEqual({
      v: 1, batch: 'B 7/ü', asOf: { recordSeq: 12, auditSeq: 5 }, sha256: 'a'.repeat(64), checkpoint: { seq: 5, hash: 'd'.repeat(64) },
      sections: { header: 'b'.repeat(16), 'extra.checks': 'c'.repeat(16) },
    });
    expect(parseStamp('no stamp here')).toBeNull();
  });

  it('a week starts at local midnight of the site, also across the end of summer time', () => {
    expect(localMidnight('2026-10-25', 'Europe/Berlin').toISOString()).toBe('2026-10-24T22:00:00.000Z'); // still CEST at 00:00
    expect(localMidnight('2026-10-26', 'Europe/Berlin').toISOString()).toBe('2026-10-25T23:00:00.000Z'); // CET
    expect(localMidnight('2026-03-29', 'America/New_York').toISOString()).toBe('2026-03-29T04:00:00.000Z');
    expect(() => localMidnight('2026-02-30', 'UTC')).toThrow(/not a calendar date/);
  });

  it('text outside the standard fonts prints as "?", never silently dropped', () => {
    expect(pdfText('Zucker 50 kg ± 2 % — Müller')).toBe('Zucker 50 kg ± 2 % — Müller');
    expect(pdfText('砂糖 → ok')).toBe('?? ? ok');
  });
});

describe('report: a file journal', () => {
  it('is cut at its as-of seqs: a later record does not change the report recomputed at the old point', async () => {
    const dir = tempDir('lg-report-unit-');
    const db = openDatabase(join(dir.path, 'journal.sqlite'));
    const journal = new Journal(db, { site: 'PLANT1', line: 'L1', sinks: [] });
    try {
      const at = '2026-11-24T08:00:00.000Z';
      db.prepare(`INSERT INTO batches (number, product, planned_qty, unit, line, status, created_at, updated_at) VALUES ('B1','P','10','pcs','L1','in_process',?,?)`).run(at, at);
      const cfg = { site: { id: 'PLANT1', timezone: 'Europe/Berlin' }, line: { id: 'L1' }, devices: [{ id: 'fill.plc', kind: 'opcua-machine', nodeMap: 'packml-generic' }] };
      await journal.submit((tx) => tx.append({ type: 'machine.state_changed', status: 'accepted', batch: 'B1', device: 'fill.plc', payload: { to: 'Execute', enteredAt: at } }));
      const first = gatherReport(db, 'B1', { cfg });
      await journal.submit((tx) => tx.append({ type: 'machine.state_changed', status: 'accepted', batch: 'B1', device: 'fill.plc', payload: { to: 'Held', enteredAt: '2026-11-24T08:05:00.000Z' } }));
      const later = gatherReport(db, 'B1', { cfg });
      expect(later.contentHash).not.toBe(first.contentHash);
      expect(later.sections.machine.segments.map((s) => s.state)).toEqual(['Execute', 'Held']);
      const again = gatherReport(db, 'B1', { cfg, asOf: first.asOf });
      expect(again.contentHash).toBe(first.contentHash);
      expect(again.sections.machine.segments.map((s) => s.state)).toEqual(['Execute']);
      // both renderers carry the stamp and the hash
      const stamp = { generatedAt: '2026-11-24T09:00:00.000Z', generatedBy: null, checkpoint: null };
      expect(renderHtml(first, stamp)).toContain(`content="${stampLine(first, stamp)}"`);
      const pdf = await renderPdf(first, stamp);
      expect(parseStamp(pdf.toString('latin1'))?.sha256).toBe(first.contentHash);
      const f = join(dir.path, 'r.pdf');
      writeFileSync(f, pdf);
      const text = execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
      const n = Number(/Page 1 of (\d+)/.exec(text)?.[1]);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(text).toContain(`Page ${n} of ${n}`);
      expect(text).toContain('Batch record B1');
    } finally {
      await journal.close();
      db.close();
      dir.cleanup();
    }
  });
});
