/**
 * The genealogy picture's layout (issue 14): dagre places the nodes left to right (supplier lots on
 * the left, customers on the right); we draw the SVG ourselves from its coordinates. No DOM here,
 * so it is unit-tested in Node and timed in the browser by the bench.
 */
import dagre from 'dagre';
import type { GraphEdge, GraphNode, GraphNodeKind } from '../../../../domain/genealogy-graph.js';

export interface PlacedNode {
  node: GraphNode;
  /** Top-left corner and size, in SVG user units. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlacedEdge {
  edge: GraphEdge;
  points: Array<{ x: number; y: number }>;
}

export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export const NODE_W = 168;
export const NODE_H = 42;
const MARGIN = 16;

/** Column order hint: dagre ranks by edges; these only break ties when a kind has no edge in. */
export const KIND_ORDER: GraphNodeKind[] = ['supplier-lot', 'lot', 'batch', 'pallet', 'pallets', 'cases', 'delivery', 'customer'];

export function layoutGraph(g: { nodes: GraphNode[]; edges: GraphEdge[] }): Layout {
  if (g.nodes.length === 0) return { width: 0, height: 0, nodes: [], edges: [] };
  const d = new dagre.graphlib.Graph({ multigraph: false });
  // tight-tree ranking: ~3× faster than network-simplex on 1,000 nodes, and a trace is tree-like.
  d.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 56, edgesep: 6, marginx: MARGIN, marginy: MARGIN, ranker: 'tight-tree' });
  d.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of g.nodes) {
    ids.add(n.id);
    d.setNode(n.id, { width: NODE_W, height: NODE_H });
  }
  for (const e of g.edges) if (ids.has(e.from) && ids.has(e.to) && e.from !== e.to) d.setEdge(e.from, e.to);
  dagre.layout(d);
  const nodes = g.nodes.map((n) => {
    const p = d.node(n.id);
    return { node: n, x: p.x - NODE_W / 2, y: p.y - NODE_H / 2, w: NODE_W, h: NODE_H };
  });
  const edges: PlacedEdge[] = [];
  for (const e of g.edges) {
    const de = ids.has(e.from) && ids.has(e.to) ? d.edge(e.from, e.to) : undefined;
    if (de?.points) edges.push({ edge: e, points: de.points.map((p) => ({ x: p.x, y: p.y })) });
  }
  const gr = d.graph();
  return { width: Math.ceil(gr.width ?? 0), height: Math.ceil(gr.height ?? 0), nodes, edges };
}

/** A smooth SVG path through dagre's edge points (a straight line for two points). */
export function edgePath(points: Array<{ x: number; y: number }>): string {
  if (points.length === 0) return '';
  const f = (n: number) => Math.round(n * 10) / 10;
  let s = `M${f(points[0]!.x)},${f(points[0]!.y)}`;
  if (points.length === 2) return `${s}L${f(points[1]!.x)},${f(points[1]!.y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const c = points[i]!;
    const n = points[i + 1]!;
    const mx = i === points.length - 2 ? n.x : (c.x + n.x) / 2;
    const my = i === points.length - 2 ? n.y : (c.y + n.y) / 2;
    s += `Q${f(c.x)},${f(c.y)} ${f(mx)},${f(my)}`;
  }
  return s;
}

/** Where a node leads when clicked: the page of that thing (null when linegate has no page for it). */
export function nodeHref(n: GraphNode): string | null {
  const e = encodeURIComponent;
  switch (n.kind) {
    case 'batch':
      return `/ui/office/batches/${e(n.ref)}`;
    case 'lot':
      return `/ui/office/lots/${e(n.ref)}`;
    case 'supplier-lot':
      return `/ui/office/recall?supplierLot=${e(n.label)}${n.supplier ? `&supplier=${e(n.supplier)}` : ''}`;
    case 'pallet':
    case 'pallets':
    case 'cases':
      // Handling units of a batch: the batch's genealogy picture with every pallet drawn.
      return n.kind === 'pallet' ? null : `/ui/office/genealogy?batch=${e(n.ref)}&perBatch=1000&maxNodes=5000`;
    default:
      return null;
  }
}

/** Lines shown in a node box, shortened to fit its width. */
export function clip(s: string | null | undefined, max = 24): string {
  if (!s) return '';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
