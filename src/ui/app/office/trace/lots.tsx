/** Lots: status, balance, supplier lot, expiry; filter by material and status; paged by lot id. */
import { useState } from 'preact/hooks';
import { withQuery } from '../api';
import type { PageProps } from '../routes';
import { linkClick, navigate } from '../router';
import { ErrorLine, Status, useApi } from '../ui';

const STATUSES = ['', 'quarantine', 'released', 'on_hold', 'rejected', 'depleted'];

export function LotsPage({ query }: PageProps) {
  const material = query.get('material') ?? '';
  const status = query.get('status') ?? '';
  const after = query.get('after') ?? '';
  const [f, setF] = useState({ material, status });
  const { data, err } = useApi<{ items: any[]; next: string | null }>(withQuery('/lots', { material, status, after, limit: 200 }), 15_000);
  const apply = (e: Event) => {
    e.preventDefault();
    navigate(withQuery('/ui/office/lots', f));
  };
  return (
    <div>
      <h1>Lots</h1>
      <form class="filters" onSubmit={apply} data-testid="lot-filters">
        <label>
          Material
          <input name="material" value={f.material} onInput={(e) => setF({ ...f, material: (e.target as HTMLInputElement).value.trim() })} placeholder="material code" />
        </label>
        <label>
          Status
          <select name="status" value={f.status} onChange={(e) => setF({ ...f, status: (e.target as HTMLSelectElement).value })}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorLine err={err} />
      <table class="grid" data-testid="lots">
        <thead>
          <tr><th>Lot</th><th>Material</th><th>Supplier</th><th>Supplier lot</th><th>Status</th><th class="num">Balance</th><th>Expiry</th><th>Made by batch</th></tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((l) => (
            <tr key={l.id} data-lot={l.id}>
              <td><a href={`/ui/office/lots/${encodeURIComponent(l.id)}`} onClick={linkClick}>{l.id}</a></td>
              <td>{l.material}</td>
              <td>{l.supplier ?? '—'}</td>
              <td>{l.supplierLot ?? '—'}</td>
              <td><Status value={l.status} /></td>
              <td class="num">{l.quantity} {l.unit}</td>
              <td>{l.expiry ?? '—'}</td>
              <td>{l.producedBy ? <a href={`/ui/office/batches/${encodeURIComponent(l.producedBy)}`} onClick={linkClick}>{l.producedBy}</a> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && <p class="muted">No lot matches.</p>}
      {data?.next && (
        <p><a href={withQuery('/ui/office/lots', { material, status, after: data.next })} onClick={linkClick} data-testid="lots-next">Next page →</a></p>
      )}
    </div>
  );
}
