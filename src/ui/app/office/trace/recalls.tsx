/** Recalls list (issue 15, GET /recalls): number, scope, reason, started by/at, status, held and shipped counts. */
import { useState } from 'preact/hooks';
import { withQuery } from '../api';
import type { PageProps } from '../routes';
import { linkClick, navigate } from '../router';
import { ErrorLine, Status, fmtTime, useApi } from '../ui';
import { recallHref } from './recall-start';

export interface RecallSummary {
  id: string;
  number: string;
  scope: { kind: 'supplier_lot' | 'lot' | 'batch'; value: string; supplier: string | null };
  reason: string;
  status: 'open' | 'closed';
  startedBy: string;
  startedAt: string;
  closedBy: string | null;
  closedAt: string | null;
  outcome: string | null;
  counts: { lotsHeld: number; batchesHeld: number; palletsHeld: number; alreadyHeld: number; deliveriesShipped: number; palletsShipped: number; stillOnHold: number };
}

export function scopeText(s: RecallSummary['scope']): string {
  if (s.kind === 'supplier_lot') return `supplier lot ${s.value}${s.supplier ? ` of ${s.supplier}` : ''}`;
  return `${s.kind} ${s.value}`;
}

export const heldCount = (c: RecallSummary['counts']) => c.lotsHeld + c.batchesHeld + c.palletsHeld;

export function RecallsPage({ query }: PageProps) {
  const status = query.get('status') ?? '';
  const [f, setF] = useState(status);
  const { data, err, loading } = useApi<{ items: RecallSummary[] }>(withQuery('/recalls', { status: status || null }), 15_000);
  return (
    <div>
      <h1>Recalls</h1>
      <p class="muted">
        Recalls started by QA (from the <a href="/ui/office/recall" onClick={linkClick}>recall question</a>): what each put on hold and what had already left the site.
      </p>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withQuery('/ui/office/recalls', { status: f || null }));
        }}
      >
        <label>
          Status
          <select name="status" value={f} onChange={(e) => setF((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            <option value="open">open</option>
            <option value="closed">closed</option>
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      <ErrorLine err={err} />
      {loading && !data && <p class="muted">Loading…</p>}
      {data && (
        <table class="grid" data-testid="recalls">
          <thead>
            <tr>
              <th>Recall</th><th>Scope</th><th>Reason</th><th>Started by</th><th>Started</th><th>Status</th>
              <th class="num" title="lots, batches and pallets this recall put on hold">Held</th>
              <th class="num" title="deliveries that had shipped (pallets)">Shipped</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((r) => (
              <tr key={r.id} data-recall={r.number}>
                <td><a href={recallHref(r.number)} onClick={linkClick}>{r.number}</a></td>
                <td>{scopeText(r.scope)}</td>
                <td>{r.reason}</td>
                <td>{r.startedBy}</td>
                <td>{fmtTime(r.startedAt)}</td>
                <td><Status value={r.status} /></td>
                <td class="num" data-col="held">{heldCount(r.counts)}</td>
                <td class="num" data-col="shipped">{r.counts.deliveriesShipped} <span class="muted">({r.counts.palletsShipped} pallets)</span></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && data.items.length === 0 && <p class="muted">No recall{status ? ` ${status}` : ''}.</p>}
    </div>
  );
}
