/** Deviations: list (by status, batch) and the form to raise one (SOP 5.2.2). */
import { useState } from 'preact/hooks';
import { api, withQuery } from '../api';
import type { PageProps } from '../routes';
import { linkClick, navigate } from '../router';
import { ErrorLine, Section, Status, fmtTime, useApi } from '../ui';

export function DeviationsPage({ query }: PageProps) {
  const status = query.get('status') ?? '';
  const batch = query.get('batch') ?? '';
  const list = useApi<{ items: any[] }>(withQuery('/deviations', { status, batch, limit: 500 }), 15_000);
  const [raising, setRaising] = useState(false);
  return (
    <div data-testid="deviations-page">
      <h1>Deviations</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget as HTMLFormElement);
          navigate(withQuery('/ui/office/deviations', { status: String(f.get('status') ?? ''), batch: String(f.get('batch') ?? '').trim() }));
        }}
      >
        <label>
          Status
          <select name="status" defaultValue={status}>
            <option value="">any</option>
            <option value="open">open</option>
            <option value="under_investigation">under investigation</option>
            <option value="closed">closed</option>
          </select>
        </label>
        <label>
          Batch
          <input name="batch" defaultValue={batch} />
        </label>
        <button type="submit">Filter</button>
        <button type="button" class="primary" onClick={() => setRaising(true)} data-testid="raise-open">
          Raise a deviation…
        </button>
      </form>
      {raising && <RaiseForm batch={batch} onDone={(n) => (n ? navigate(`/ui/office/deviations/${encodeURIComponent(n)}`) : setRaising(false))} />}
      <ErrorLine err={list.err} />
      <table class="grid" data-testid="deviations">
        <thead>
          <tr>
            <th>Number</th>
            <th>Title</th>
            <th>Category</th>
            <th>Batch</th>
            <th>Lot</th>
            <th>Status</th>
            <th>Raised</th>
            <th>Source</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((d) => (
            <tr key={d.number} data-deviation={d.number}>
              <td>
                <a href={`/ui/office/deviations/${encodeURIComponent(d.number)}`} onClick={linkClick}>
                  {d.number}
                </a>
              </td>
              <td>{d.title}</td>
              <td>{d.category}</td>
              <td>{d.batch ?? '—'}</td>
              <td>{d.lot ?? '—'}</td>
              <td>
                <Status value={d.status} />
              </td>
              <td>
                {fmtTime(d.raisedAt)} <span class="muted">{d.raisedBy}</span>
              </td>
              <td class="muted">{d.source}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.items.length === 0 && <p class="muted">No deviation matches.</p>}
    </div>
  );
}

function RaiseForm({ batch, onDone }: { batch: string; onDone: (number: string | null) => void }) {
  const [f, setF] = useState({ batch, lot: '', material: '', type: 'unplanned', category: 'minor', title: '', description: '', immediateAction: '' });
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const body: Record<string, string> = { type: f.type, category: f.category, title: f.title.trim(), description: f.description.trim() };
      for (const k of ['batch', 'lot', 'material', 'immediateAction'] as const) if (f[k].trim()) body[k] = f[k].trim();
      const r = await api<{ deviation: { number: string } }>('POST', '/deviations', body);
      onDone(r.deviation.number);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Raise a deviation" id="raise">
      <form onSubmit={submit} class="filters" data-testid="raise">
        <label>
          Batch
          <input name="batch" value={f.batch} onInput={set('batch')} />
        </label>
        <label>
          Lot
          <input name="lot" value={f.lot} onInput={set('lot')} />
        </label>
        <label>
          Material
          <input name="material" value={f.material} onInput={set('material')} />
        </label>
        <label>
          Type
          <select name="type" value={f.type} onChange={set('type')}>
            <option value="unplanned">unplanned</option>
            <option value="planned">planned</option>
          </select>
        </label>
        <label>
          Category
          <select name="category" value={f.category} onChange={set('category')}>
            <option value="minor">minor</option>
            <option value="major">major</option>
            <option value="critical">critical</option>
          </select>
        </label>
        <label style={{ flexBasis: '100%' }}>
          Title
          <input name="title" value={f.title} onInput={set('title')} required maxLength={200} />
        </label>
        <label style={{ flexBasis: '100%' }}>
          What happened
          <textarea name="description" value={f.description} onInput={set('description')} required />
        </label>
        <label style={{ flexBasis: '100%' }}>
          Immediate action
          <textarea name="immediateAction" value={f.immediateAction} onInput={set('immediateAction')} />
        </label>
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy || !f.title.trim() || !f.description.trim()} data-testid="raise-submit">
          Raise
        </button>
        <ErrorLine err={err} />
      </form>
    </Section>
  );
}
