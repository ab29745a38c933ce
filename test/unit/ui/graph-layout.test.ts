import { describe, expect, it } from 'vitest';
import { buildGenealogyGraph, type GraphIO } from '../../../src/domain/genealogy-graph.js';
import { edgePath, layoutGraph, nodeHref, NODE_W } from '../../../src/ui/app/office/trace/graph-layout.js';

/** One supplier lot → lot → intermediate batch → lot → batch → pallet → delivery → customer. */
const io: GraphIO = {
  batch: (n) => (['INT', 'FG'].includes(n) ? { number: n, product: 'P', productName: null, status: 'released', line: 'L1', startedAt: null, completedAt: null } : undefined),
  lot: (id) =>
    id === 'L-SUP' ? { id, material: 'M', supplier: 'ACME', supplierLot: 'SL-1', expiry: null, status: 'released', producedBy: null }
    : id === 'L-INT' ? { id, material: 'I', supplier: null, supplierLot: null, expiry: null, status: 'released', producedBy: 'INT' }
    : undefined,
  consumptionsOfBatch: (b) => (b === 'INT' ? [{ lot: 'L-SUP', material: 'M', quantity: '1', unit: 'kg', additions: 1 }] : b === 'FG' ? [{ lot: 'L-INT', material: 'I', quantity: '1', unit: 'kg', additions: 1 }] : []),
  consumersOfLot: (l) => (l === 'L-SUP' ? [{ batch: 'INT', quantity: '1', unit: 'kg', additions: 1 }] : l === 'L-INT' ? [{ batch: 'FG', quantity: '1', unit: 'kg', additions: 1 }] : []),
  lotsProducedBy: (b) => (b === 'INT' ? ['L-INT'] : []),
  labelsOfBatch: () => [],
  palletsOfBatch: (b) =>
    b === 'FG' ? [{ pallet: 'p1', sscc: '395060000000000011', status: 'shipped', onHold: false, cases: 3, delivery: 'D1', deliveryStatus: 'shipped', shippedAt: null, customer: 'C1', customerName: 'Shop', customerGln: '1', shipToGln: '2' }] : [],
};

describe('genealogy picture layout (dagre, left to right)', () => {
  it('places every node once, without overlap, in trace order from left to right', () => {
    const g = buildGenealogyGraph({ lot: 'L-SUP' }, io);
    const l = layoutGraph(g);
    expect(l.nodes.map((p) => p.node.id).sort()).toEqual(g.nodes.map((n) => n.id).sort());
    const x = (id: string) => l.nodes.find((p) => p.node.id === id)!.x;
    const chain = ['supplier-lot:ACME|SL-1', 'lot:L-SUP', 'batch:INT', 'lot:L-INT', 'batch:FG', 'pallet:p1', 'delivery:D1', 'customer:C1'];
    for (let i = 1; i < chain.length; i++) expect(x(chain[i]!)).toBeGreaterThan(x(chain[i - 1]!) + NODE_W - 1);
    for (const a of l.nodes) for (const b of l.nodes) if (a !== b) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
    expect(l.edges).toHaveLength(g.edges.length);
    expect(l.width).toBeGreaterThan(chain.length * NODE_W);
    for (const p of l.nodes) expect(p.x + p.w).toBeLessThanOrEqual(l.width);
  });

  it('draws edge paths through the layout points; links each kind to its page', () => {
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 5 }])).toBe('M0,0L10,5');
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 20, y: 10 }])).toBe('M0,0Q10,0 20,10');
    const g = buildGenealogyGraph({ lot: 'L-SUP' }, io);
    const href = (id: string) => nodeHref(g.nodes.find((n) => n.id === id)!);
    expect(href('batch:FG')).toBe('/ui/office/batches/FG');
    expect(href('lot:L-INT')).toBe('/ui/office/lots/L-INT');
    expect(href('supplier-lot:ACME|SL-1')).toBe('/ui/office/recall?supplierLot=SL-1&supplier=ACME');
    expect(layoutGraph({ nodes: [], edges: [] })).toEqual({ width: 0, height: 0, nodes: [], edges: [] });
  });
});
