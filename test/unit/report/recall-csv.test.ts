import { describe, expect, it } from 'vitest';
import { csvCell, recallCsv, recallHash, RECALL_CSV_COLUMNS, type RecallAnswer } from '../../../src/report/recall.js';

const answer = (over: Partial<RecallAnswer> = {}): RecallAnswer => ({
  query: { supplierLot: 'SL-1', supplier: 'ACME' },
  generatedAt: '2026-12-01T10:00:00.000Z',
  site: 'PLANT1',
  lots: [{ id: 'L-1', material: 'M', supplier: 'ACME', supplierLot: 'SL-1', status: 'released', quantity: '10', unit: 'kg', expiry: null }],
  batches: [
    { number: 'B-1', product: 'P', productName: 'Widget, large', status: 'released', line: 'L1', viaLots: ['L-1'], pallets: 1, cases: 4 },
    { number: 'B-2', product: 'Q', productName: null, status: 'in_process', line: 'L1', viaLots: ['L-1'], pallets: 0, cases: 0 },
  ],
  handlingUnits: [{ batch: 'B-1', pallet: 'p1', sscc: '395060000000000011', status: 'shipped', onHold: false, cases: 4, delivery: 'D-1' }],
  customers: [{ id: 'C1', name: '=HYPERLINK("x")', gln: '9506000000001', deliveries: [{ number: 'D-1', status: 'shipped', shippedAt: '2026-12-01T09:00:00Z', shipToGln: '9506000000002', ssccs: ['395060000000000011'], batches: ['B-1'] }] }],
  onSite: [],
  totals: { lots: 1, batches: 2, pallets: 1, shipped: 1, onSite: 0, customers: 1, deliveries: 1 },
  ...over,
});

describe('recall CSV (issue 14)', () => {
  it('quotes per RFC 4180 and never lets a spreadsheet run a cell as a formula', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const f of ['=1+2', '+1', '-1', '@SUM(A1)', '\tx']) expect(csvCell(f).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvCell(null)).toBe('');
    expect(csvCell(4)).toBe('4');
  });

  it('one row per pallet of each batch; a batch without pallets still has its row; the customer named on its pallet row', () => {
    const lines = recallCsv(answer()).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(RECALL_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('ACME,SL-1,L-1,B-1,"Widget, large",released,p1,395060000000000011,shipped,no,4,D-1,shipped,2026-12-01T09:00:00Z,C1,"\'=HYPERLINK(""x"")",9506000000001,9506000000002');
    expect(lines[2]).toBe('ACME,SL-1,L-1,B-2,Q,in_process,,,,,,,,,,,,');
    expect(lines[2]!.split(',')).toHaveLength(RECALL_CSV_COLUMNS.length);
  });

  it('the content hash ignores the generation time and changes with the content', () => {
    expect(recallHash(answer())).toBe(recallHash(answer({ generatedAt: '2027-01-01T00:00:00.000Z' })));
    expect(recallHash(answer())).not.toBe(recallHash(answer({ onSite: [{ pallet: 'p9', sscc: null, status: 'open', batch: 'B-2' }] })));
    expect(recallHash(answer())).toMatch(/^[0-9a-f]{64}$/);
  });
});
