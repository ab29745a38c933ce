/**
 * The genealogy picture: GET /genealogy/graph → dagre layout → our SVG. Each node is clickable to
 * its page (batch, lot, supplier lot → recall question, a pallet group → the batch's picture with
 * every pallet); nodes linegate has no page for (pallet, delivery, customer) show their details
 * beside the picture. Groupings the server made are stated above the picture, never hidden.
 * The time from data to painted picture is kept on the <svg> (data-layout-ms, data-draw-ms) for
 * the bench.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { GenealogyGraph, GraphNode } from '../../../../domain/genealogy-graph.js';
import { withQuery } from '../api';
import { navigate } from '../router';
import { ErrorLine, useApi } from '../ui';
import { clip, edgePath, layoutGraph, nodeHref, type Layout } from './graph-layout';
import './trace.css';

export type PictureStart = { batch?: string; lot?: string; supplierLot?: string; supplier?: string; perBatch?: string; maxNodes?: string };

const KIND_LABEL: Record<GraphNode['kind'], string> = {
  'supplier-lot': 'supplier lot',
  lot: 'lot',
  batch: 'batch',
  pallet: 'pallet',
  pallets: 'pallets',
  cases: 'cases',
  delivery: 'delivery',
  customer: 'customer',
};

export function GenealogyPicture({ start }: { start: PictureStart }) {
  const path = start.batch || start.lot || start.supplierLot ? withQuery('/genealogy/graph', start) : null;
  const { data, err, loading } = useApi<GenealogyGraph>(path);
  if (!path) return null;
  return (
    <div class="genealogy" data-testid="genealogy">
      <ErrorLine err={err} />
      {loading && !data && <p class="muted">Tracing…</p>}
      {data && <Drawn graph={data} />}
    </div>
  );
}

function Drawn({ graph }: { graph: GenealogyGraph }) {
  const t0 = useRef(performance.now());
  const layoutMs = useRef(0);
  const laid: Layout = useMemo(() => {
    t0.current = performance.now();
    const l = layoutGraph(graph);
    layoutMs.current = performance.now() - t0.current;
    return l;
  }, [graph]);
  const svg = useRef<SVGSVGElement>(null);
  const [picked, setPicked] = useState<GraphNode | null>(null);
  // Drawn = the SVG is in the DOM and the browser painted it (next animation frame).
  useLayoutEffect(() => {
    const el = svg.current;
    if (!el) return;
    requestAnimationFrame(() => {
      el.setAttribute('data-draw-ms', (performance.now() - t0.current).toFixed(1));
      el.setAttribute('data-drawn', '1');
    });
  }, [laid]);
  useEffect(() => setPicked(null), [graph]);

  const open = (n: GraphNode) => {
    const h = nodeHref(n);
    if (h) navigate(h);
    else setPicked(n);
  };
  const full = graph.fullNodes;
  return (
    <div>
      <p class="muted" data-testid="genealogy-summary">
        {graph.nodes.length} nodes, {graph.edges.length} links{full > graph.nodes.length ? ` (the full trace has ${full} nodes)` : ''}
        {laid.engine === 'layered' ? ' — a big picture: drawn in columns (fast layout), links may cross' : ''}. Click a node to open its page.
      </p>
      {graph.collapsed.length > 0 && (
        <p class="note" data-testid="genealogy-collapsed">
          Grouped to keep the picture readable: {graph.collapsed.map((c) => `batch ${c.batch}: ${c.pallets} pallets (${c.cases} cases)`).join('; ')}
          {graph.collapsed.length > 0 ? ' — click a group to see its pallets one by one.' : ''}
        </p>
      )}
      <div class="genealogy-legend">
        {(['supplier-lot', 'lot', 'batch', 'pallet', 'delivery', 'customer'] as const).map((k) => (
          <span key={k} class={`gl gk-${k}`}>
            {KIND_LABEL[k]}
          </span>
        ))}
      </div>
      <div class="genealogy-scroll">
        {graph.nodes.length === 0 ? (
          <p class="muted">Nothing to draw.</p>
        ) : (
          <svg
            ref={svg}
            data-testid="genealogy-svg"
            data-layout-ms={layoutMs.current.toFixed(1)}
            data-nodes={graph.nodes.length}
            data-engine={laid.engine}
            width={laid.width}
            height={laid.height}
            viewBox={`0 0 ${laid.width} ${laid.height}`}
            role="img"
            aria-label="Genealogy picture"
          >
            <defs>
              <marker id="lg-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0,0 L8,4 L0,8 z" class="garrow" />
              </marker>
            </defs>
            <g class="gedges">
              {laid.edges.map((e) => (
                <path key={`${e.edge.from}>${e.edge.to}`} d={edgePath(e.points)} class="gedge" marker-end="url(#lg-arrow)" data-from={e.edge.from} data-to={e.edge.to}>
                  {e.edge.label && <title>{e.edge.label}</title>}
                </path>
              ))}
            </g>
            <g class="gnodes">
              {laid.nodes.map((p) => {
                const n = p.node;
                const cls = `gnode gk-${n.kind}${n.start ? ' gstart' : ''}${n.status === 'missing' ? ' gmissing' : ''}${n.onHold || n.status === 'on_hold' ? ' ghold' : ''}${nodeHref(n) ? ' glink' : ''}`;
                return (
                  <g
                    key={n.id}
                    class={cls}
                    data-node-id={n.id}
                    data-kind={n.kind}
                    transform={`translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`}
                    tabIndex={0}
                    role="link"
                    onClick={() => open(n)}
                    onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), open(n))}
                  >
                    <title>{`${KIND_LABEL[n.kind]} ${n.label}${n.detail ? ` — ${n.detail}` : ''}${n.status ? ` [${n.status}]` : ''}`}</title>
                    <rect width={p.w} height={p.h} rx="5" />
                    <text x="8" y="16" class="gt1">
                      {clip(n.label, 22)}
                    </text>
                    <text x="8" y="32" class="gt2">
                      {clip([n.detail, n.status].filter(Boolean).join(' · '), 28)}
                    </text>
                  </g>
                );
              })}
            </g>
          </svg>
        )}
      </div>
      {picked && (
        <div class="card gpicked" data-testid="node-detail" data-node-id={picked.id}>
          <b>
            {KIND_LABEL[picked.kind]} {picked.label}
          </b>
          {picked.detail && <span> — {picked.detail}</span>}
          {picked.status && <span class="muted"> [{picked.status}]</span>}
          {picked.count !== undefined && <span class="muted"> · {picked.count} {picked.kind === 'pallet' ? 'cases' : ''}</span>}
          {picked.onHold && <span class="error"> · on hold</span>}
          <button type="button" onClick={() => setPicked(null)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}
