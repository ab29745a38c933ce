/**
 * The genealogy picture's layout (issue 14), left to right (supplier lots on the left, customers on
 * the right); we draw the SVG ourselves from the coordinates. No DOM here, so it is unit-tested in
 * Node and timed in the browser by the bench.
 *
 * Two engines:
 * - dagre (the library) for pictures up to DAGRE_MAX_NODES nodes and DAGRE_MAX_EDGES edges: the
 *   best drawing (few crossings, long edges routed around nodes).
 * - beyond that, a plain layered layout of our own (ranks by longest path, 4 barycenter sweeps to
 *   order each column, each node placed near its neighbours): dagre's crossing minimisation and positioning cost
 *   1.8 s of CPU for a 1,000-node / 1,800-edge trace on this machine (bench/trace-pages.ts), the
 *   layered one a few tens of milliseconds. Its long edges are curves across the columns.
 * `engine` forces one (the bench measures both on the same graph).
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
  engine: 'dagre' | 'layered';
}

export const DAGRE_MAX_NODES = 200;
export const DAGRE_MAX_EDGES = 400;
const NODESEP = 10;
const RANKSEP = 56;

export const NODE_W = 168;
export const NODE_H = 42;
const MARGIN = 16;

/** Column order hint: dagre ranks by edges; these only break ties when a kind has no edge in. */
export const KIND_ORDER: GraphNodeKind[] = ['supplier-lot', 'lot', 'batch', 'pallet', 'pallets', 'cases', 'delivery', 'customer'];

export function layoutGraph(g: { nodes: GraphNode[]; edges: GraphEdge[] }, opts: { engine?: 'dagre' | 'layered' } = {}): Layout {
  const engine = opts.engine ?? (g.nodes.length <= DAGRE_MAX_NODES && g.edges.length <= DAGRE_MAX_EDGES ? 'dagre' : 'layered');
  if (g.nodes.length === 0) return { width: 0, height: 0, nodes: [], edges: [], engine };
  return engine === 'dagre' ? dagreLayout(g) : layeredLayout(g);
}

function dagreLayout(g: { nodes: GraphNode[]; edges: GraphEdge[] }): Layout {
  const d = new dagre.graphlib.Graph({ multigraph: false });
  // tight-tree ranking: ~3× faster than network-simplex on 1,000 nodes, and a trace is tree-like.
  d.setGraph({ rankdir: 'LR', nodesep: NODESEP, ranksep: RANKSEP, edgesep: 6, marginx: MARGIN, marginy: MARGIN, ranker: 'tight-tree' });
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
  return { width: Math.ceil(gr.width ?? 0), height: Math.ceil(gr.height ?? 0), nodes, edges, engine: 'dagre' };
}

/** Layered layout for big pictures: O(edges) per sweep. */
function layeredLayout(g: { nodes: GraphNode[]; edges: GraphEdge[] }): Layout {
  const index = new Map(g.nodes.map((n, i) => [n.id, i]));
  const out: number[][] = g.nodes.map(() => []);
  const inn: number[][] = g.nodes.map(() => []);
  const edges = g.edges.filter((e) => index.has(e.from) && index.has(e.to) && e.from !== e.to);
  for (const e of edges) {
    out[index.get(e.from)!]!.push(index.get(e.to)!);
    inn[index.get(e.to)!]!.push(index.get(e.from)!);
  }
  // Ranks: longest path from the sources (Kahn's order); a node left over by a cycle in bad data
  // keeps the rank it had reached.
  const rank = new Array<number>(g.nodes.length).fill(0);
  const indeg = inn.map((x) => x.length);
  const queue = g.nodes.map((_, i) => i).filter((i) => indeg[i] === 0);
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q]!;
    for (const w of out[v]!) {
      rank[w] = Math.max(rank[w]!, rank[v]! + 1);
      if (--indeg[w]! === 0) queue.push(w);
    }
  }
  const ranks: number[][] = [];
  for (const v of queue.length === g.nodes.length ? queue : g.nodes.map((_, i) => i)) (ranks[rank[v]!] ??= []).push(v);
  for (let r = 0; r < ranks.length; r++) ranks[r] ??= [];
  const pos = new Array<number>(g.nodes.length).fill(0);
  const setPos = () => ranks.forEach((col) => col.forEach((v, i) => (pos[v] = i - col.length / 2)));
  setPos();
  const bary = (v: number, nb: number[]) => (nb.length ? nb.reduce((a, w) => a + pos[w]!, 0) / nb.length : pos[v]!);
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    for (let k = 0; k < ranks.length; k++) {
      const r = down ? k : ranks.length - 1 - k;
      const col = ranks[r]!;
      const key = new Map(col.map((v) => [v, bary(v, down ? inn[v]! : out[v]!)]));
      col.sort((a, b) => key.get(a)! - key.get(b)! || a - b);
      col.forEach((v, i) => (pos[v] = i - col.length / 2));
    }
  }
  // Vertical places: each node near the mean of its neighbours (left to right, then right to left),
  // in its column's order, pushed apart to one node height plus a gap; then the whole picture is
  // shifted to start at the margin. A batch thus sits beside its pallets, a lot beside its batches.
  const stepY = NODE_H + NODESEP;
  const y = new Array<number>(g.nodes.length).fill(0);
  ranks.forEach((col) => col.forEach((v, i) => (y[v] = i * stepY)));
  const place = (col: number[], nb: (v: number) => number[]) => {
    if (col.length === 0) return;
    const want = col.map((v) => {
      const n = nb(v);
      return n.length ? n.reduce((a, w) => a + y[w]!, 0) / n.length : y[v]!;
    });
    const got = want.slice();
    for (let i = 1; i < got.length; i++) got[i] = Math.max(got[i]!, got[i - 1]! + stepY);
    // Spread the push: shift the column so that it sits, on average, where its nodes want to be.
    const shift = want.reduce((a, w, i) => a + (w - got[i]!), 0) / got.length;
    for (let i = got.length - 1; i >= 0; i--) {
      let v = got[i]! + shift;
      if (i < got.length - 1) v = Math.min(v, got[i + 1]! - stepY);
      got[i] = v;
    }
    col.forEach((v, i) => (y[v] = got[i]!));
  };
  for (let pass = 0; pass < 2; pass++) {
    for (let r = 1; r < ranks.length; r++) place(ranks[r]!, (v) => inn[v]!);
    for (let r = ranks.length - 2; r >= 0; r--) place(ranks[r]!, (v) => out[v]!);
  }
  const top = Math.min(...y);
  const height = MARGIN * 2 + Math.max(...y) - top + NODE_H;
  const placed: PlacedNode[] = new Array(g.nodes.length);
  ranks.forEach((col, r) => col.forEach((v) => (placed[v] = { node: g.nodes[v]!, x: MARGIN + r * (NODE_W + RANKSEP), y: MARGIN + y[v]! - top, w: NODE_W, h: NODE_H })));
  const pe: PlacedEdge[] = edges.map((e) => {
    const a = placed[index.get(e.from)!]!;
    const b = placed[index.get(e.to)!]!;
    const s = { x: a.x + a.w, y: a.y + a.h / 2 };
    const t = { x: b.x, y: b.y + b.h / 2 };
    const mx = (s.x + t.x) / 2;
    return { edge: e, points: [s, { x: mx, y: s.y }, { x: mx, y: t.y }, t] };
  });
  return { width: MARGIN * 2 + ranks.length * (NODE_W + RANKSEP) - RANKSEP, height, nodes: placed, edges: pe, engine: 'layered' };
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
