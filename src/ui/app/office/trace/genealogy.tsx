/** Genealogy page: the picture for a batch, a lot or a supplier lot (from the URL, or the form). */
import { useState } from 'preact/hooks';
import { withQuery } from '../api';
import type { PageProps } from '../routes';
import { navigate } from '../router';
import { GenealogyPicture } from './picture';

export function GenealogyPage({ query }: PageProps) {
  const start = {
    batch: query.get('batch') ?? undefined,
    lot: query.get('lot') ?? undefined,
    supplierLot: query.get('supplierLot') ?? undefined,
    supplier: query.get('supplier') ?? undefined,
    perBatch: query.get('perBatch') ?? undefined,
    maxNodes: query.get('maxNodes') ?? undefined,
  };
  const kind = start.batch ? 'batch' : start.lot ? 'lot' : 'supplierLot';
  const [f, setF] = useState({ kind, value: start.batch ?? start.lot ?? start.supplierLot ?? '', supplier: start.supplier ?? '' });
  const go = (e: Event) => {
    e.preventDefault();
    if (!f.value) return;
    navigate(withQuery('/ui/office/genealogy', { [f.kind]: f.value, supplier: f.kind === 'supplierLot' ? f.supplier : null }));
  };
  const title = start.batch ? `batch ${start.batch}` : start.lot ? `lot ${start.lot}` : start.supplierLot ? `supplier lot ${start.supplierLot}${start.supplier ? ` of ${start.supplier}` : ''}` : null;
  return (
    <div>
      <h1>Genealogy{title ? ` of ${title}` : ''}</h1>
      <form class="filters" onSubmit={go} data-testid="genealogy-form">
        <label>
          Trace
          <select name="kind" value={f.kind} onChange={(e) => setF({ ...f, kind: (e.target as HTMLSelectElement).value as typeof kind })}>
            <option value="batch">batch</option>
            <option value="lot">lot</option>
            <option value="supplierLot">supplier lot</option>
          </select>
        </label>
        <label>
          Number
          <input name="value" value={f.value} onInput={(e) => setF({ ...f, value: (e.target as HTMLInputElement).value.trim() })} />
        </label>
        {f.kind === 'supplierLot' && (
          <label>
            Supplier (optional)
            <input name="supplier" value={f.supplier} onInput={(e) => setF({ ...f, supplier: (e.target as HTMLInputElement).value.trim() })} />
          </label>
        )}
        <button type="submit" class="primary">
          Draw
        </button>
      </form>
      <p class="muted">Left to right: supplier lots → lots → batches → intermediate lots → batches → pallets and loose cases → deliveries → customers.</p>
      <GenealogyPicture start={start} />
    </div>
  );
}
