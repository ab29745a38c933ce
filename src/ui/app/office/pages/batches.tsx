/** Batches list: filter by status, product and date (the batch's day: started, else planned, else created). */
import { useState } from 'preact/hooks';
import { withQuery } from '../api';
import type { PageProps } from '../routes';
import { linkClick, navigate } from '../router';
import { ErrorLine, Status, fmtTime, useApi } from '../ui';

const STATUSES = ['', 'planned', 'in_process', 'completed', 'on_hold', 'released', 'rejected'];

/** A local date (yyyy-mm-dd from the date input) as the UTC instant its day starts. */
const dayStart = (d: string, plusDays = 0): string => {
  const t = new Date(`${d}T00:00:00`);
  t.setDate(t.getDate() + plusDays);
  return t.toISOString();
};

export function BatchesPage({ query }: PageProps) {
  const status = query.get('status') ?? '';
  const product = query.get('product') ?? '';
  const from = query.get('from') ?? '';
  const to = query.get('to') ?? '';
  const [f, setF] = useState({ status, product, from, to });
  const path = withQuery('/batches', { status, product, from: from ? dayStart(from) : null, to: to ? dayStart(to, 1) : null, limit: 200 });
  const { data, err } = useApi<{ items: any[] }>(path, 10_000);
  const apply = (e: Event) => {
    e.preventDefault();
    navigate(withQuery('/ui/office/batches', f));
  };
  return (
    <div>
      <h1>Batches</h1>
      <form class="filters" onSubmit={apply} data-testid="batch-filters">
        <label>
          Status
          <select name="status" value={f.status} onChange={(e) => setF({ ...f, status: (e.target as HTMLSelectElement).value })}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Product
          <input name="product" value={f.product} onInput={(e) => setF({ ...f, product: (e.target as HTMLInputElement).value.trim() })} placeholder="product code" />
        </label>
        <label>
          From
          <input name="from" type="date" value={f.from} onInput={(e) => setF({ ...f, from: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          To
          <input name="to" type="date" value={f.to} onInput={(e) => setF({ ...f, to: (e.target as HTMLInputElement).value })} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorLine err={err} />
      <table class="grid" data-testid="batches">
        <thead>
          <tr>
            <th>Batch</th>
            <th>Product</th>
            <th>Status</th>
            <th class="num">Planned</th>
            <th class="num">Produced</th>
            <th class="num">Rejected</th>
            <th>Line</th>
            <th>Started</th>
            <th>Completed</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((b) => (
            <tr key={b.number} data-batch={b.number}>
              <td>
                <a href={`/ui/office/batches/${encodeURIComponent(b.number)}`} onClick={linkClick}>
                  {b.number}
                </a>
              </td>
              <td>
                {b.product} <span class="muted">{b.productName ?? ''}</span>
              </td>
              <td>
                <Status value={b.status} />
              </td>
              <td class="num">
                {b.plannedQty} {b.unit}
              </td>
              <td class="num">{b.producedQty}</td>
              <td class="num">{b.rejectedQty}</td>
              <td>{b.line}</td>
              <td>{fmtTime(b.startedAt ?? b.plannedStart)}</td>
              <td>{fmtTime(b.completedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && <p class="muted">No batch matches.</p>}
    </div>
  );
}
