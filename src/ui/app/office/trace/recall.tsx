/**
 * The recall question on one page: "which batches, handling units and customers received
 * supplier X's lot Y?" (GET /genealogy/recall), with CSV and PDF exports made by the server.
 * Starting a recall (holds, signed, QA) is the recall action's: recall-start.tsx, in its marked place below.
 */
import { useState } from 'preact/hooks';
import type { RecallAnswer } from '../../../../report/recall-answer.js';
import { withQuery } from '../api';
import type { PageProps } from '../routes';
import { linkClick, navigate } from '../router';
import { ErrorLine, Section, Status, fmtTime, useApi } from '../ui';
import { download } from './download';
import { StartRecall } from './recall-start';

const batchHref = (n: string) => `/ui/office/batches/${encodeURIComponent(n)}`;

export function RecallPage({ query, user }: PageProps) {
  const supplierLot = query.get('supplierLot') ?? '';
  const supplier = query.get('supplier') ?? '';
  const [f, setF] = useState({ supplierLot, supplier });
  const [exportErr, setExportErr] = useState<unknown>(null);
  const q = { supplierLot, supplier: supplier || null };
  const { data, err, loading } = useApi<RecallAnswer>(supplierLot ? withQuery('/genealogy/recall', q) : null);
  const ask = (e: Event) => {
    e.preventDefault();
    if (f.supplierLot) navigate(withQuery('/ui/office/recall', { supplierLot: f.supplierLot, supplier: f.supplier }));
  };
  const exp = (ext: 'csv' | 'pdf') => {
    setExportErr(null);
    download(withQuery(`/genealogy/recall.${ext}`, q), `recall-${supplierLot}.${ext}`).catch(setExportErr);
  };
  return (
    <div>
      <h1>Recall question</h1>
      <p class="muted">Which batches, handling units and customers received a supplier's lot — directly or through intermediate batches.</p>
      <form class="filters" onSubmit={ask} data-testid="recall-form">
        <label>
          Supplier lot
          <input name="supplierLot" required value={f.supplierLot} onInput={(e) => setF({ ...f, supplierLot: (e.target as HTMLInputElement).value.trim() })} placeholder="as printed on the supplier's label" />
        </label>
        <label>
          Supplier (optional)
          <input name="supplier" value={f.supplier} onInput={(e) => setF({ ...f, supplier: (e.target as HTMLInputElement).value.trim() })} />
        </label>
        <button type="submit" class="primary">
          Answer
        </button>
      </form>
      <ErrorLine err={err} />
      {loading && supplierLot && !data && <p class="muted">Tracing…</p>}
      {data && (
        <div data-testid="recall-answer">
          <div class="card">
            <div class="totals" data-testid="recall-totals">
              <span><b>{data.totals.lots}</b> lots</span>
              <span><b>{data.totals.batches}</b> batches</span>
              <span><b>{data.totals.pallets}</b> pallets ({data.totals.shipped} shipped, {data.totals.onSite} on site)</span>
              <span><b>{data.totals.customers}</b> customers</span>
              <span><b>{data.totals.deliveries}</b> deliveries</span>
            </div>
            <p>
              <button type="button" data-testid="export-csv" onClick={() => exp('csv')}>Export CSV</button>{' '}
              <button type="button" data-testid="export-pdf" onClick={() => exp('pdf')}>Export PDF</button>{' '}
              <a href={withQuery('/ui/office/genealogy', { supplierLot, supplier: supplier || null })} onClick={linkClick} data-testid="recall-picture">Genealogy picture</a>
              <span class="muted"> · answered {fmtTime(data.generatedAt)}</span>
            </p>
            <ErrorLine err={exportErr} />
            {/* ── The recall ACTION (issue 15, POST /recalls): recall-start.tsx. ── */}
            <div class="recall-slot" data-testid="recall-action-slot">
              <StartRecall scope={{ supplierLot, supplier: supplier || null }} user={user} />
            </div>
          </div>
          <Section title="Lots received under this supplier lot" id="lots">
            <table class="grid" data-testid="recall-lots">
              <thead><tr><th>Lot</th><th>Material</th><th>Supplier</th><th>Supplier lot</th><th>Status</th><th class="num">Balance</th><th>Expiry</th></tr></thead>
              <tbody>
                {data.lots.map((l) => (
                  <tr key={l.id} data-lot={l.id}>
                    <td><a href={`/ui/office/lots/${encodeURIComponent(l.id)}`} onClick={linkClick}>{l.id}</a></td>
                    <td>{l.material}</td><td>{l.supplier ?? '—'}</td><td>{l.supplierLot}</td><td><Status value={l.status} /></td>
                    <td class="num">{l.quantity} {l.unit}</td><td>{l.expiry ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.lots.length === 0 && <p class="muted">No lot in the lot master carries this supplier lot.</p>}
          </Section>
          <Section title="Batches made from it" id="batches">
            <table class="grid" data-testid="recall-batches">
              <thead><tr><th>Batch</th><th>Product</th><th>Status</th><th>Via lot</th><th class="num">Pallets</th><th class="num">Cases on pallets</th></tr></thead>
              <tbody>
                {data.batches.map((b) => (
                  <tr key={b.number} data-batch={b.number}>
                    <td><a href={batchHref(b.number)} onClick={linkClick}>{b.number}</a></td>
                    <td>{b.productName ?? b.product}</td><td><Status value={b.status} /></td><td>{b.viaLots.join(', ')}</td>
                    <td class="num">{b.pallets}</td><td class="num">{b.cases}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.batches.length === 0 && <p class="muted">No batch consumed it.</p>}
          </Section>
          <Section title="Customers and deliveries" id="customers">
            <table class="grid" data-testid="recall-customers">
              <thead><tr><th>Customer</th><th>GLN</th><th>Delivery</th><th>Status</th><th>Shipped</th><th>Ship-to</th><th>Batches</th><th>SSCCs</th></tr></thead>
              <tbody>
                {data.customers.flatMap((c) =>
                  c.deliveries.map((d) => (
                    <tr key={`${c.id}/${d.number}`} data-customer={c.id} data-delivery={d.number}>
                      <td>{c.name ?? c.id} <span class="muted">({c.id})</span></td><td>{c.gln ?? '—'}</td><td>{d.number}</td><td><Status value={d.status} /></td>
                      <td>{fmtTime(d.shippedAt)}</td><td>{d.shipToGln ?? '—'}</td><td>{d.batches.join(', ')}</td><td>{d.ssccs.join(', ')}</td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
            {data.customers.length === 0 && <p class="muted">Nothing made from it was loaded onto a delivery.</p>}
          </Section>
          <Section title="Handling units" id="units">
            <table class="grid" data-testid="recall-units">
              <thead><tr><th>Batch</th><th>Pallet</th><th>SSCC</th><th>Status</th><th>On hold</th><th class="num">Cases</th><th>Delivery</th></tr></thead>
              <tbody>
                {data.handlingUnits.map((h) => (
                  <tr key={`${h.batch}/${h.pallet}`} data-pallet={h.pallet} data-sscc={h.sscc ?? ''}>
                    <td>{h.batch}</td><td>{h.pallet}</td><td>{h.sscc ?? '—'}</td><td><Status value={h.status} /></td>
                    <td>{h.onHold ? <b class="error">on hold</b> : 'no'}</td><td class="num">{h.cases}</td><td>{h.delivery ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.handlingUnits.length === 0 && <p class="muted">No pallet holds cases of these batches.</p>}
            {data.onSite.length > 0 && (
              <p class="warn" data-testid="recall-onsite">Still on site (a recall can stop these): {data.onSite.map((p) => p.sscc ?? `pallet ${p.pallet}`).join(', ')}</p>
            )}
          </Section>
        </div>
      )}
    </div>
  );
}
