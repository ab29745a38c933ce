import { describe, expect, it } from 'vitest';
import { buildGenealogyGraph, type GraphIO } from '../../../src/domain/genealogy-graph.js';
import { DAGRE_MAX_NODES, edgePath, layoutGraph, nodeHref, NODE_W, type Layout } from '../../../src/ui/app/office/trace/graph-layout.js';
import type { GraphEdge, GraphNode } from '../../../src/domain/genealogy-graph.js';

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

  const noOverlap = (l: Layout) => {
    const byX = [...l.nodes].sort((a, b) => a.x - b.x || a.y - b.y);
    for (let i = 0; i < byX.length; i++)
      for (let j = i + 1; j < byX.length && byX[j]!.x < byX[i]!.x + byX[i]!.w; j++) {
        const a = byX[i]!;
        const b = byX[j]!;
        expect(a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.node.id} overlaps ${b.node.id}`).toBe(true);
      }
  };

  it('the small picture is dagre\'s; a big one (over the limits) gets the layered layout: every node once, no overlap, every edge left to right', () => {
    const small = layoutGraph(buildGenealogyGraph({ lot: 'L-SUP' }, io));
    expect(small.engine).toBe('dagre');
    // A wide trace: 1 lot → 30 batches → 12 pallets each → 20 deliveries → 5 customers.
    const nodes: GraphNode[] = [];
    const edges: GraphEdge[] = [];
    const n = (id: string, kind: GraphNode['kind']) => nodes.push({ id, kind, ref: id, label: id, detail: null, status: null });
    n('lot:L', 'lot');
    for (let c = 0; c < 5; c++) n(`customer:C${c}`, 'customer');
    for (let d = 0; d < 20; d++) (n(`delivery:D${d}`, 'delivery'), edges.push({ from: `delivery:D${d}`, to: `customer:C${d % 5}` }));
    for (let b = 0; b < 30; b++) {
      n(`batch:B${b}`, 'batch');
      edges.push({ from: 'lot:L', to: `batch:B${b}` });
      for (let p = 0; p < 12; p++) {
        n(`pallet:P${b}-${p}`, 'pallet');
        edges.push({ from: `batch:B${b}`, to: `pallet:P${b}-${p}` }, { from: `pallet:P${b}-${p}`, to: `delivery:D${(b * 12 + p) % 20}` });
      }
    }
    expect(nodes.length).toBeGreaterThan(DAGRE_MAX_NODES);
    const big = layoutGraph({ nodes, edges });
    expect(big.engine).toBe('layered');
    expect(big.nodes.map((p) => p.node.id).sort()).toEqual(nodes.map((x) => x.id).sort());
    noOverlap(big);
    const at = new Map(big.nodes.map((p) => [p.node.id, p]));
    for (const e of big.edges) expect(at.get(e.edge.from)!.x).toBeLessThan(at.get(e.edge.to)!.x);
    expect(big.edges).toHaveLength(edges.length);
    for (const p of big.nodes) expect(p.x + p.w <= big.width && p.y + p.h <= big.height && p.x >= 0 && p.y >= 0).toBe(true);
    // Columns by kind here: lot, batches, pallets, deliveries, customers.
    const xs = (k: string) => new Set(big.nodes.filter((p) => p.node.kind === k).map((p) => p.x));
    for (const k of ['lot', 'batch', 'pallet', 'delivery', 'customer']) expect(xs(k).size).toBe(1);
    // Each batch sits beside its own pallets (within their vertical span), not centred somewhere else.
    for (let b = 0; b < 30; b++) {
      const mid = (p: { y: number; h: number }) => p.y + p.h / 2;
      const ys = Array.from({ length: 12 }, (_, k) => mid(at.get(`pallet:P${b}-${k}`)!));
      const yb = mid(at.get(`batch:B${b}`)!);
      expect(yb).toBeGreaterThanOrEqual(Math.min(...ys) - 1);
      expect(yb).toBeLessThanOrEqual(Math.max(...ys) + 1);
    }
    // The same graph forced through dagre is placed too (the bench's peer).
    expect(layoutGraph({ nodes: nodes.slice(0, 60), edges: edges.filter((e) => nodes.slice(0, 60).some((x) => x.id === e.to) && nodes.slice(0, 60).some((x) => x.id === e.from)) }, { engine: 'layered' }).engine).toBe('layered');
  });

  it('draws edge paths through the layout points; links each kind to its page', () => {
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 5 }])).toBe('M0,0L10,5');
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 20, y: 10 }])).toBe('M0,0Q10,0 20,10');
    const g = buildGenealogyGraph({ lot: 'L-SUP' }, io);
    const href = (id: string) => nodeHref(g.nodes.find((n) => n.id === id)!);
    expect(href('batch:FG')).toBe('/ui/office/batches/FG');
    expect(href('lot:L-INT')).toBe('/ui/office/lots/L-INT');
    expect(href('supplier-lot:ACME|SL-1')).toBe('/ui/office/recall?supplierLot=SL-1&supplier=ACME');
    expect(layoutGraph({ nodes: [], edges: [] })).toEqual({ width: 0, height: 0, nodes: [], edges: [], engine: 'dagre' });
  });
});
