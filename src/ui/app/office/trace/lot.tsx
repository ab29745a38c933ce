/** One lot: status and balance, QC results, where it was used (batches, forward), and its picture. */
import type { PageProps } from '../routes';
import { linkClick } from '../router';
import { ErrorLine, Section, Status, fmtTime, useApi } from '../ui';
import { GenealogyPicture } from './picture';

export function LotPage({ params }: PageProps) {
  const id = params.id!;
  const e = encodeURIComponent(id);
  const lot = useApi<any>(`/lots/${e}`, 15_000);
  const qc = useApi<{ items: any[] }>(`/qc/inspections?lot=${e}`);
  const used = useApi<any>(`/lots/${e}/genealogy`);
  const l = lot.data;
  return (
    <div>
      <h1>Lot {id}</h1>
      <ErrorLine err={lot.err} />
      {l && (
        <div class="cards">
          <Section title="Lot" id="lot">
            <table class="grid" data-testid="lot-facts">
              <tbody>
                <tr><th>Material</th><td>{l.material}</td></tr>
                <tr><th>Status</th><td><Status value={l.status} /></td></tr>
                <tr><th>Balance</th><td data-testid="lot-balance">{l.quantity} {l.unit}</td></tr>
                <tr><th>Supplier</th><td>{l.supplier ?? '—'}</td></tr>
                <tr>
                  <th>Supplier lot</th>
                  <td>{l.supplierLot ? <a href={`/ui/office/recall?supplierLot=${encodeURIComponent(l.supplierLot)}${l.supplier ? `&supplier=${encodeURIComponent(l.supplier)}` : ''}`} onClick={linkClick}>{l.supplierLot}</a> : '—'}</td>
                </tr>
                <tr><th>Received</th><td>{l.receiptDate ?? '—'}</td></tr>
                <tr><th>Expiry</th><td>{l.expiry ?? '—'}</td></tr>
                <tr><th>Made by batch</th><td>{l.producedBy ? <a href={`/ui/office/batches/${encodeURIComponent(l.producedBy)}`} onClick={linkClick}>{l.producedBy}</a> : '—'}</td></tr>
              </tbody>
            </table>
          </Section>
          <Section title="QC results" id="qc">
            <ErrorLine err={qc.err} />
            <table class="grid" data-testid="lot-qc">
              <thead><tr><th>Inspection</th><th>Plan</th><th>Verdict</th><th>Results</th><th>By</th><th>At</th><th>Approved by</th></tr></thead>
              <tbody>
                {(qc.data?.items ?? []).map((i) => (
                  <tr key={i.id} data-inspection={i.id}>
                    <td>{i.id}{i.retakeOf ? <span class="muted"> (retake of {i.retakeOf})</span> : null}</td>
                    <td>{i.plan} v{i.planVersion}</td>
                    <td><Status value={i.verdict} /></td>
                    <td>{(i.results ?? []).map((r: any) => `${r.name}: ${r.value ?? '—'}${r.unit ? ` ${r.unit}` : ''} ${r.verdict === 'pass' ? '✔' : '✖ fail'}`).join('; ')}</td>
                    <td>{i.inspectedBy}</td>
                    <td>{fmtTime(i.inspectedAt)}</td>
                    <td>{i.approvedBy ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {qc.data && qc.data.items.length === 0 && <p class="muted">No QC inspection of this lot.</p>}
          </Section>
          <Section title="Where used" id="used">
            <ErrorLine err={used.err} />
            <table class="grid" data-testid="lot-used">
              <thead><tr><th>Batch</th><th>Product</th><th>Status</th><th class="num">Consumed</th><th class="num">Additions</th></tr></thead>
              <tbody>
                {(used.data?.usedIn ?? []).map((u: any) => (
                  <tr key={u.batch.number} data-batch={u.batch.number}>
                    <td><a href={`/ui/office/batches/${encodeURIComponent(u.batch.number)}`} onClick={linkClick}>{u.batch.number}</a></td>
                    <td>{u.batch.productName ?? u.batch.product ?? '—'}</td>
                    <td><Status value={u.batch.status ?? (u.batch.missing ? 'missing' : null)} /></td>
                    <td class="num">{u.quantity} {u.unit}{u.corrections ? ` (net of ${u.corrections} correction${u.corrections === 1 ? '' : 's'})` : ''}</td>
                    <td class="num">{u.additions}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {used.data && used.data.usedIn.length === 0 && <p class="muted">Not consumed by any batch yet.</p>}
          </Section>
        </div>
      )}
      <Section title="Genealogy" id="genealogy">
        <GenealogyPicture start={{ lot: id }} />
      </Section>
    </div>
  );
}
