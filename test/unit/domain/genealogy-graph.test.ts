import { describe, expect, it } from 'vitest';
import { buildGenealogyGraph, type GraphIO } from '../../../src/domain/genealogy-graph.js';
import type { DispatchIO } from '../../../src/domain/genealogy.js';

type Pallet = ReturnType<DispatchIO['palletsOfBatch']>[number];
const pallet = (id: string, cases: number, delivery: string | null, customer: string | null = null): Pallet => ({
  pallet: id,
  sscc: `3950600000000${id.replace(/\D/g, '').padStart(5, '0')}`,
  status: delivery ? 'shipped' : 'open',
  onHold: false,
  cases,
  delivery,
  deliveryStatus: delivery ? 'shipped' : null,
  shippedAt: null,
  customer,
  customerName: customer ? `Customer ${customer}` : null,
  customerGln: customer ? '9506000000001' : null,
  shipToGln: delivery ? '9506000000002' : null,
});

/**
 * Plain maps for SQLite: supplier ACME's lot SL-1 is received as L-SUP; batch INT makes the
 * intermediate L-INT from it; A consumes L-SUP directly; B consumes L-INT and L-OTHER (supplier BETA).
 */
function io(over: { pallets?: Record<string, Pallet[]>; labels?: Record<string, number> } = {}): GraphIO {
  const consumed: Record<string, string[]> = { INT: ['L-SUP'], A: ['L-SUP'], B: ['L-INT', 'L-OTHER'], C: ['L-OTHER'] };
  const produced: Record<string, string[]> = { INT: ['L-INT'], B: ['L-B'] };
  const lots: Record<string, { supplier: string | null; supplierLot: string | null }> = {
    'L-SUP': { supplier: 'ACME', supplierLot: 'SL-1' },
    'L-OTHER': { supplier: 'BETA', supplierLot: 'SL-9' },
    'L-INT': { supplier: null, supplierLot: null },
    'L-B': { supplier: null, supplierLot: null },
  };
  const pallets = over.pallets ?? { A: [pallet('p1', 10, 'D1', 'C1')], B: [pallet('p2', 4, 'D2', 'C2'), pallet('p3', 2, null)], C: [pallet('p4', 1, 'D3', 'C3')] };
  return {
    batch: (n) => (n in consumed ? { number: n, product: `P-${n}`, productName: null, status: 'released', line: 'L1', startedAt: null, completedAt: null } : undefined),
    lot: (id) => (id in lots ? { id, material: 'M', expiry: null, status: 'released', producedBy: Object.keys(produced).find((b) => produced[b]!.includes(id)) ?? null, ...lots[id]! } : undefined),
    consumptionsOfBatch: (b) => (consumed[b] ?? []).map((lot) => ({ lot, material: 'M', quantity: '1.5', unit: 'kg', additions: 1 })),
    consumersOfLot: (lot) => Object.keys(consumed).filter((b) => consumed[b]!.includes(lot)).map((batch) => ({ batch, quantity: '1.5', unit: 'kg', additions: 1 })),
    lotsProducedBy: (b) => produced[b] ?? [],
    labelsOfBatch: (b) => Array.from({ length: over.labels?.[b] ?? 0 }, (_, i) => ({ id: `${b}-l${i}`, kind: 'case', serial: `${b}-${i}`, sscc: null })),
    palletsOfBatch: (b) => pallets[b] ?? [],
  };
}

const ids = (g: ReturnType<typeof buildGenealogyGraph>) => g.nodes.map((n) => n.id).sort();

describe('genealogy graph (issue 14: the picture\'s nodes and edges)', () => {
  it('from a supplier lot\'s lot: supplier lot → lot → batches (through the intermediate) → pallets → deliveries → customers', () => {
    const g = buildGenealogyGraph({ lots: ['L-SUP'], supplierLot: 'SL-1' }, io());
    expect(ids(g)).toEqual(
      [
        'supplier-lot:ACME|SL-1', 'lot:L-SUP', 'batch:INT', 'batch:A', 'lot:L-INT', 'batch:B', 'lot:L-B',
        'pallet:p1', 'pallet:p2', 'pallet:p3', 'delivery:D1', 'delivery:D2', 'customer:C1', 'customer:C2',
      ].sort(),
    );
    // C consumed another supplier's lot only: not reached; B's other input is not part of a forward trace.
    expect(ids(g)).not.toContain('batch:C');
    expect(ids(g)).not.toContain('lot:L-OTHER');
    const e = (a: string, b: string) => g.edges.find((x) => x.from === a && x.to === b);
    expect(e('supplier-lot:ACME|SL-1', 'lot:L-SUP')).toBeDefined();
    expect(e('lot:L-SUP', 'batch:INT')?.label).toBe('1.5 kg');
    expect(e('batch:INT', 'lot:L-INT')).toBeDefined();
    expect(e('pallet:p2', 'delivery:D2')).toBeDefined();
    expect(e('delivery:D2', 'customer:C2')).toBeDefined();
    expect(g.nodes.find((n) => n.id === 'lot:L-SUP')!.start).toBe(true);
    expect(g.nodes.find((n) => n.id === 'supplier-lot:ACME|SL-1')!.start).toBe(true);
    expect(g.collapsed).toEqual([]);
    expect(g.fullNodes).toBe(g.nodes.length);
  });

  it('from a batch: backward to every supplier lot (through the intermediate batch) and forward to its customers', () => {
    const g = buildGenealogyGraph({ batch: 'B' }, io());
    expect(ids(g)).toEqual(
      ['batch:B', 'lot:L-INT', 'batch:INT', 'lot:L-SUP', 'supplier-lot:ACME|SL-1', 'lot:L-OTHER', 'supplier-lot:BETA|SL-9', 'lot:L-B', 'pallet:p2', 'pallet:p3', 'delivery:D2', 'customer:C2'].sort(),
    );
    // Ancestors' own pallets are not this batch's trace.
    expect(ids(g)).not.toContain('pallet:p1');
    expect(g.nodes.filter((n) => n.start).map((n) => n.id)).toEqual(['batch:B']);
    expect(buildGenealogyGraph({ batch: 'NOPE' }, io()).nodes).toEqual([]);
  });

  it('cases not on a pallet are one node per batch with their count, never one node each', () => {
    const g = buildGenealogyGraph({ batch: 'A' }, io({ labels: { A: 25 } }));
    const loose = g.nodes.find((n) => n.id === 'cases:A')!;
    expect(loose.count).toBe(15); // 25 case labels, 10 of them on p1
    expect(g.nodes.filter((n) => n.kind === 'cases')).toHaveLength(1);
  });

  it('a batch with more pallets than the per-batch limit gets one group node, listed in `collapsed`, deliveries still reached', () => {
    const many = Array.from({ length: 30 }, (_, i) => pallet(`q${i}`, 5, `D${i % 3}`, `C${i % 2}`));
    const g = buildGenealogyGraph({ batch: 'A' }, io({ pallets: { A: many } }), { perBatch: 12 });
    expect(g.nodes.filter((n) => n.kind === 'pallet')).toHaveLength(0);
    const group = g.nodes.find((n) => n.id === 'pallets:A')!;
    expect(group).toMatchObject({ kind: 'pallets', count: 30, label: '30 pallets' });
    expect(g.collapsed).toEqual([{ batch: 'A', pallets: 30, cases: 150, reason: 'per-batch' }]);
    expect(g.edges.filter((e) => e.from === 'pallets:A').map((e) => e.to).sort()).toEqual(['delivery:D0', 'delivery:D1', 'delivery:D2']);
    expect(ids(g)).toEqual(expect.arrayContaining(['customer:C0', 'customer:C1']));
    expect(g.fullNodes).toBe(g.nodes.length + 29);
    // Below the limit nothing is grouped.
    expect(buildGenealogyGraph({ batch: 'A' }, io({ pallets: { A: many.slice(0, 12) } }), { perBatch: 12 }).collapsed).toEqual([]);
  });

  it('over maxNodes, the batches with the most pallets are grouped first until the graph fits', () => {
    const ps = (b: string, n: number) => Array.from({ length: n }, (_, i) => pallet(`${b}${i}`, 1, null));
    const g = buildGenealogyGraph({ lots: ['L-SUP'] }, io({ pallets: { A: ps('a', 10), INT: ps('i', 6), B: ps('b', 3) } }), { perBatch: 100, maxNodes: 20 });
    // 7 trace nodes (lot, INT, A, L-INT, B, L-B, supplier lot) + 19 pallets = 26 > 20: group A (10 → 1) gives 17.
    expect(g.fullNodes).toBe(26);
    expect(g.collapsed).toEqual([{ batch: 'A', pallets: 10, cases: 10, reason: 'max-nodes' }]);
    expect(g.nodes.length).toBe(17);
    expect(g.nodes.length).toBeLessThanOrEqual(20);
  });

  it('a lot that names a batch missing from the master data is drawn as missing, and a cycle in bad data ends', () => {
    const base = io();
    const bad: GraphIO = {
      ...base,
      lot: (id) => (id === 'L-LOOP' ? { id, material: 'M', supplier: null, supplierLot: null, expiry: null, status: 'released', producedBy: 'LOOP' } : base.lot(id)),
      batch: (n) => (n === 'LOOP' ? { number: n, product: 'P', productName: null, status: 'released', line: 'L1', startedAt: null, completedAt: null } : base.batch(n)),
      consumptionsOfBatch: (b) => (b === 'LOOP' ? [{ lot: 'L-LOOP', material: 'M', quantity: '1', unit: 'kg', additions: 1 }, { lot: 'L-GONE', material: 'M', quantity: '1', unit: 'kg', additions: 1 }] : base.consumptionsOfBatch(b)),
      consumersOfLot: (l) => (l === 'L-LOOP' ? [{ batch: 'LOOP', quantity: '1', unit: 'kg', additions: 1 }] : base.consumersOfLot(l)),
      lotsProducedBy: (b) => (b === 'LOOP' ? ['L-LOOP'] : base.lotsProducedBy(b)),
    };
    const g = buildGenealogyGraph({ batch: 'LOOP' }, bad);
    expect(ids(g)).toEqual(['batch:LOOP', 'lot:L-GONE', 'lot:L-LOOP']);
    expect(g.nodes.find((n) => n.id === 'lot:L-GONE')!.status).toBe('missing');
  });
});
