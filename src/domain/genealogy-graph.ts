/**
 * The genealogy picture's data (issue 14), pure: the trace of a batch, a lot or a supplier lot as
 * nodes and edges, left to right:
 *
 *   supplier lot → lot → batch → (intermediate) lot → batch → pallet / loose cases → delivery → customer
 *
 * Backward from the start (what went into it, through intermediates) and forward (where it went:
 * the batches that consumed it, their lots onwards, the pallets holding their cases, the deliveries
 * and customers those pallets went to). Walks the same injected IO as src/domain/genealogy.ts, with
 * visited sets and a depth bound, so a data error never loops.
 *
 * Big graphs: cases are never drawn one by one (a pallet node carries its case count; cases not on
 * a pallet are one "N cases" node per batch). A batch with more than `perBatch` pallets gets ONE
 * group node for them ("N pallets"), and when the whole graph is still above `maxNodes`, the batches
 * with the most pallets are grouped too until it fits. Every grouping is listed in `collapsed` so
 * the picture says so; nothing is left out silently.
 */
import type { DispatchIO, GenealogyIO, GLot } from './genealogy.js';

export type GraphNodeKind = 'supplier-lot' | 'lot' | 'batch' | 'pallet' | 'cases' | 'pallets' | 'delivery' | 'customer';

export interface GraphNode {
  /** Stable id: `<kind>:<ref>` (`lot:L-1`, `batch:B-7`, `supplier-lot:ACME|SL-9`, `pallets:B-7`…). */
  id: string;
  kind: GraphNodeKind;
  /** What the node names: lot id, batch number, pallet id, delivery number, customer id, supplier lot. */
  ref: string;
  label: string;
  /** Second line: material, product, SSCC, customer name… */
  detail: string | null;
  /** Lot/batch/pallet/delivery status; `missing` when the record names something the master data does not hold. */
  status: string | null;
  /** Cases on a pallet, loose cases, pallets in a group. */
  count?: number;
  /** Supplier of a supplier-lot node. */
  supplier?: string | null;
  onHold?: boolean;
  /** The node the trace started from. */
  start?: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Quantity consumed (lot → batch). */
  label?: string;
}

export interface GraphStart {
  batch?: string;
  lot?: string;
  /** Lots found by supplier lot (the caller looks them up). */
  lots?: string[];
  supplierLot?: string;
}

export interface GenealogyGraph {
  start: GraphStart;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Batches whose pallets are drawn as one group node (and why). */
  collapsed: Array<{ batch: string; pallets: number; cases: number; reason: 'per-batch' | 'max-nodes' }>;
  /** Nodes the full trace has (every pallet one node) before grouping. */
  fullNodes: number;
}

export interface GraphLimits {
  /** More pallets than this for one batch → one group node for them (default 12). */
  perBatch: number;
  /** Group further batches' pallets until the graph has at most this many nodes (default 400). */
  maxNodes: number;
  maxDepth: number;
}

export const DEFAULT_GRAPH_LIMITS: GraphLimits = { perBatch: 12, maxNodes: 400, maxDepth: 12 };

export type GraphIO = GenealogyIO & DispatchIO;

export const nodeId = (kind: GraphNodeKind, ref: string): string => `${kind}:${ref}`;
export const supplierLotRef = (supplier: string | null, supplierLot: string): string => `${supplier ?? ''}|${supplierLot}`;

export function buildGenealogyGraph(start: GraphStart, io: GraphIO, limits: Partial<GraphLimits> = {}): GenealogyGraph {
  const lim = { ...DEFAULT_GRAPH_LIMITS, ...limits };
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const addNode = (n: GraphNode): string => {
    const had = nodes.get(n.id);
    if (!had) nodes.set(n.id, n);
    else if (n.start) had.start = true;
    return n.id;
  };
  const addEdge = (from: string, to: string, label?: string): void => {
    const k = `${from}\u0000${to}`;
    if (!edges.has(k)) edges.set(k, label ? { from, to, label } : { from, to });
  };

  const batchNode = (number: string, start = false): string => {
    const b = io.batch(number);
    return addNode({ id: nodeId('batch', number), kind: 'batch', ref: number, label: number, detail: b ? (b.productName ?? b.product) : null, status: b ? b.status : 'missing', ...(start ? { start } : {}) });
  };
  const lotNode = (id: string, lot: GLot | undefined, start = false): string => {
    const n = addNode({ id: nodeId('lot', id), kind: 'lot', ref: id, label: id, detail: lot ? lot.material : null, status: lot ? lot.status : 'missing', ...(start ? { start } : {}) });
    if (lot?.supplierLot) {
      const ref = supplierLotRef(lot.supplier, lot.supplierLot);
      const s = addNode({ id: nodeId('supplier-lot', ref), kind: 'supplier-lot', ref, label: lot.supplierLot, detail: lot.supplier, status: null, supplier: lot.supplier });
      addEdge(s, n);
    }
    return n;
  };

  // Backward from a batch: its inputs, their suppliers, and the batches that made intermediate lots.
  const seenBack = new Set<string>();
  const backward = (number: string, depth: number): void => {
    if (seenBack.has(number) || depth > lim.maxDepth) return;
    seenBack.add(number);
    const b = batchNode(number);
    for (const c of io.consumptionsOfBatch(number)) {
      const lot = io.lot(c.lot);
      const l = lotNode(c.lot, lot);
      addEdge(l, b, `${c.quantity} ${c.unit}`);
      if (lot?.producedBy) {
        addEdge(batchNode(lot.producedBy), l);
        backward(lot.producedBy, depth + 1);
      }
    }
  };

  // Forward: what a batch made, who consumed it, onwards; each batch reached gets its handling units.
  const reached = new Set<string>();
  const seenLots = new Set<string>();
  const forwardFromLot = (lotId: string, depth: number): void => {
    if (seenLots.has(lotId) || depth > lim.maxDepth) return;
    seenLots.add(lotId);
    const l = lotNode(lotId, io.lot(lotId));
    for (const c of io.consumersOfLot(lotId)) {
      addEdge(l, batchNode(c.batch), `${c.quantity} ${c.unit}`);
      forwardFromBatch(c.batch, depth + 1);
    }
  };
  const forwardFromBatch = (number: string, depth: number): void => {
    if (reached.has(number) || depth > lim.maxDepth) return;
    reached.add(number);
    const b = batchNode(number);
    for (const out of io.lotsProducedBy(number)) {
      addEdge(b, lotNode(out, io.lot(out)));
      forwardFromLot(out, depth + 1);
    }
  };

  const startLots = [...(start.lot ? [start.lot] : []), ...(start.lots ?? [])];
  if (start.batch && io.batch(start.batch)) {
    batchNode(start.batch, true);
    backward(start.batch, 0);
    forwardFromBatch(start.batch, 0);
  }
  for (const id of startLots) {
    const lot = io.lot(id);
    if (!lot) continue;
    lotNode(id, lot, true);
    if (lot.producedBy) {
      addEdge(batchNode(lot.producedBy), nodeId('lot', id));
      backward(lot.producedBy, 0);
    }
    forwardFromLot(id, 0);
  }
  if (start.supplierLot && !start.batch) {
    for (const n of nodes.values()) if (n.kind === 'supplier-lot' && n.label === start.supplierLot) n.start = true;
  }

  // Handling units of every batch reached forward, then deliveries and customers.
  type Hu = ReturnType<DispatchIO['palletsOfBatch']>[number];
  const hus = new Map<string, { pallets: Hu[]; loose: number }>();
  for (const number of [...reached].sort()) {
    const pallets = io.palletsOfBatch(number);
    const onPallets = pallets.reduce((a, p) => a + p.cases, 0);
    const caseLabels = new Set(io.labelsOfBatch(number).filter((x) => x.kind === 'case').map((x) => x.serial ?? x.id));
    hus.set(number, { pallets, loose: Math.max(0, caseLabels.size - onPallets) });
  }
  const baseNodes = nodes.size;
  const allDeliveries = new Set<string>();
  const allCustomers = new Set<string>();
  let huNodes = 0;
  for (const { pallets, loose } of hus.values()) {
    huNodes += pallets.length + (loose > 0 ? 1 : 0);
    for (const p of pallets) {
      if (p.delivery) allDeliveries.add(p.delivery);
      if (p.customer) allCustomers.add(p.customer);
    }
  }
  const fullNodes = baseNodes + huNodes + allDeliveries.size + allCustomers.size;

  const collapse = new Map<string, 'per-batch' | 'max-nodes'>();
  for (const [b, h] of hus) if (h.pallets.length > lim.perBatch) collapse.set(b, 'per-batch');
  let total = fullNodes;
  for (const b of collapse.keys()) total -= hus.get(b)!.pallets.length - 1;
  if (total > lim.maxNodes) {
    const order = [...hus.entries()].filter(([b, h]) => !collapse.has(b) && h.pallets.length > 1).sort((a, b) => b[1].pallets.length - a[1].pallets.length || a[0].localeCompare(b[0]));
    for (const [b, h] of order) {
      if (total <= lim.maxNodes) break;
      collapse.set(b, 'max-nodes');
      total -= h.pallets.length - 1;
    }
  }

  const collapsed: GenealogyGraph['collapsed'] = [];
  const deliveryNode = (p: Hu): string => {
    const d = addNode({ id: nodeId('delivery', p.delivery!), kind: 'delivery', ref: p.delivery!, label: p.delivery!, detail: p.shipToGln ? `ship-to ${p.shipToGln}` : null, status: p.deliveryStatus });
    if (p.customer) addEdge(d, addNode({ id: nodeId('customer', p.customer), kind: 'customer', ref: p.customer, label: p.customerName ?? p.customer, detail: p.customerGln ? `GLN ${p.customerGln}` : p.customer, status: null }));
    return d;
  };
  for (const [number, { pallets, loose }] of hus) {
    const b = nodeId('batch', number);
    if (loose > 0) addEdge(b, addNode({ id: nodeId('cases', number), kind: 'cases', ref: number, label: `${loose} case${loose === 1 ? '' : 's'}`, detail: 'not on a pallet', status: null, count: loose }));
    const why = collapse.get(number);
    if (why) {
      const cases = pallets.reduce((a, p) => a + p.cases, 0);
      const shipped = pallets.filter((p) => p.status === 'shipped').length;
      const g = addNode({ id: nodeId('pallets', number), kind: 'pallets', ref: number, label: `${pallets.length} pallets`, detail: `${cases} cases, ${shipped} shipped`, status: null, count: pallets.length, onHold: pallets.some((p) => p.onHold) });
      addEdge(b, g);
      for (const p of pallets) if (p.delivery) addEdge(g, deliveryNode(p));
      collapsed.push({ batch: number, pallets: pallets.length, cases, reason: why });
      continue;
    }
    for (const p of pallets) {
      const n = addNode({ id: nodeId('pallet', p.pallet), kind: 'pallet', ref: p.sscc ?? p.pallet, label: p.sscc ?? `pallet ${p.pallet}`, detail: `${p.cases} case${p.cases === 1 ? '' : 's'}`, status: p.status, count: p.cases, onHold: p.onHold });
      addEdge(b, n);
      if (p.delivery) addEdge(n, deliveryNode(p));
    }
  }
  return { start, nodes: [...nodes.values()], edges: [...edges.values()], collapsed: collapsed.sort((a, b) => a.batch.localeCompare(b.batch)), fullNodes };
}
