import { describe, expect, it } from 'vitest';
import { compileBatchPattern, localDateParts } from '../../../src/domain/numbering.js';

describe('batch number patterns', () => {
  it('renders the default pattern and recognises its numbers', () => {
    const p = compileBatchPattern('{YYYY}{MM}{DD}-{seq:3}');
    const parts = localDateParts(new Date('2024-06-27T10:00:00Z'), 'UTC');
    expect(p.render(parts, 'L1', 'S', 1)).toBe('20240627-001');
    expect(p.render(parts, 'L1', 'S', 1234)).toBe('20240627-1234');
    expect(p.counterKey(parts, 'L1', 'S')).toBe('batch:20240627-{seq}');
    const re = p.regex('L1', 'S');
    expect(re.test('20240627-001')).toBe(true);
    expect(re.test('20240627-01')).toBe(false);
    expect(re.test('L-1001-A')).toBe(false);
  });
  it('takes the date in the site time zone', () => {
    const d = new Date('2026-11-22T23:30:00Z');
    expect(localDateParts(d, 'UTC').DD).toBe('22');
    expect(localDateParts(d, 'Europe/Berlin').DD).toBe('23');
    expect(localDateParts(d, 'America/New_York').DD).toBe('22');
  });
  it('refuses patterns without exactly one counter or with unknown tokens', () => {
    for (const bad of ['{YYYY}{MM}{DD}', '{seq}{seq}', '{YYYY}-{foo}-{seq}', 'A B {seq}', '{seq:0}']) {
      expect(() => compileBatchPattern(bad), bad).toThrow(expect.objectContaining({ code: 'LG_ERR_BATCH_NUMBER_PATTERN' }));
    }
  });
});
