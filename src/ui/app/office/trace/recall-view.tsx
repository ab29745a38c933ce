/**
 * One recall (issue 15, GET /recalls/:id): what it put on hold (each object with its state NOW),
 * what had left the site (customer, delivery, SSCCs, batches), CSV and EPCIS exports, and
 * "Close recall" (QA, signed, with the outcome). Closing lifts no hold: each object keeps its hold
 * until its own QA disposition (the page says so).
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../routes';
import { QA, can } from '../roles';
import { linkClick } from '../router';
import { ErrorLine, Section, SignDialog, Status, fmtTime, useApi } from '../ui';
import { download } from './download';
import { heldCount, scopeText, type RecallSummary } from './recalls';

interface RecallItem {
  kind: 'lot' | 'batch' | 'pallet' | 'delivery';
  ref: string;
  action: 'held' | 'already_held' | 'unchanged' | 'shipped';
  statusBefore: string | null;
  now: { status: string | null; onHold?: boolean } | null;
  detail: Record<string, any>;
  recordSeq: number | null;
}
interface RecallView extends RecallSummary {
  signature: string | null;
  closeReason: string | null;
  items: RecallItem[];
  shipped: Array<{ delivery: string; customer: string; customerName: string | null; customerGln: string | null; shipToGln: string | null; shippedAt: string | null; ssccs: string[]; batches: string[] }>;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const ACTION: Record<RecallItem['action'], string> = { held: 'put on hold', already_held: 'was on hold already', unchanged: 'not holdable (left as it was)', shipped: 'had shipped' };
const batchLink = (n: string) => (
  <a href={`/ui/office/batches/${encodeURIComponent(n)}`} onClick={linkClick}>
    {n}
  </a>
);

function ObjectRef({ i }: { i: RecallItem }) {
  if (i.kind === 'lot') return <a href={`/ui/office/lots/${encodeURIComponent(i.ref)}`} onClick={linkClick}>{i.ref}</a>;
  if (i.kind === 'batch') return batchLink(i.ref);
  return <span>{i.detail.sscc ?? `pallet ${i.ref}`}</span>;
}

function nowText(i: RecallItem) {
  if (!i.now) return <span class="muted">unknown</span>;
  return (
    <span>
      <Status value={i.now.status} />
      {i.kind === 'pallet' && i.now.status !== 'shipped' && (i.now.onHold ? <b class="error"> on hold</b> : <span> hold lifted</span>)}
    </span>
  );
}

export function RecallViewPage({ params, user }: PageProps) {
  const key = params.id!;
  const { data: r, err, reload } = useApi<RecallView>(`/recalls/${encodeURIComponent(key)}`, 15_000);
  const [closing, setClosing] = useState(false);
  const [outcome, setOutcome] = useState('');
  const [exportErr, setExportErr] = useState<unknown>(null);
  const exp = (format: 'csv' | 'epcis') => {
    if (!r) return;
    setExportErr(null);
    download(`/recalls/${encodeURIComponent(r.number)}/export?format=${format}`, format === 'csv' ? `recall-${r.number}.csv` : `recall-${r.number}.epcis.jsonld`).catch(setExportErr);
  };
  const objects = r ? r.items.filter((i) => i.kind !== 'delivery') : [];
  return (
    <div>
      <h1>Recall {r?.number ?? key}</h1>
      <ErrorLine err={err} />
      {r && (
        <div data-testid="recall" data-status={r.status}>
          <div class="card">
            <table class="grid" data-testid="recall-facts">
              <tbody>
                <tr><th>Scope</th><td data-testid="recall-scope">{scopeText(r.scope)}</td></tr>
                <tr><th>Reason</th><td>{r.reason}</td></tr>
                <tr><th>Status</th><td><Status value={r.status} /></td></tr>
                <tr><th>Started</th><td>{fmtTime(r.startedAt)} by {r.startedBy} (signed, meaning approved)</td></tr>
                {r.closedAt && (
                  <tr><th>Closed</th><td data-testid="recall-closed">{fmtTime(r.closedAt)} by {r.closedBy}: {r.outcome}{r.closeReason ? ` — ${r.closeReason}` : ''}</td></tr>
                )}
                <tr>
                  <th>Counts</th>
                  <td data-testid="recall-counts">
                    {heldCount(r.counts)} put on hold ({plural(r.counts.batchesHeld, 'batch', 'batches')}, {plural(r.counts.lotsHeld, 'lot', 'lots')}, {plural(r.counts.palletsHeld, 'pallet', 'pallets')}), {r.counts.alreadyHeld} on hold already;{' '}
                    {plural(r.counts.deliveriesShipped, 'delivery', 'deliveries')} shipped ({plural(r.counts.palletsShipped, 'pallet', 'pallets')}); {r.counts.stillOnHold} still on hold now
                  </td>
                </tr>
              </tbody>
            </table>
            <p>
              <button type="button" data-testid="recall-export-csv" onClick={() => exp('csv')}>Export CSV</button>{' '}
              <button type="button" data-testid="recall-export-epcis" onClick={() => exp('epcis')}>Export EPCIS</button>
            </p>
            <ErrorLine err={exportErr} />
            {r.status === 'open' && can(user, QA) && (
              <p>
                <button type="button" class="primary" data-testid="recall-close-open" onClick={() => setClosing(true)}>Close recall…</button>{' '}
                <span class="muted">Closing records the outcome; it lifts no hold (each object's hold is lifted by its own QA disposition).</span>
              </p>
            )}
            {r.status === 'open' && !can(user, QA) && <p class="muted" data-testid="recall-close-not-allowed">Closing a recall is QA's, signed. You are signed in as {user.role}.</p>}
          </div>
          <Section title="Put on hold / found on site" id="held">
            <table class="grid" data-testid="recall-held">
              <thead><tr><th>Kind</th><th>Object</th><th>What the recall did</th><th>State before</th><th>State now</th><th>Batches</th><th>Detail</th></tr></thead>
              <tbody>
                {objects.map((i) => (
                  <tr key={`${i.kind}/${i.ref}`} data-kind={i.kind} data-ref={i.ref} data-action={i.action} data-now={i.now?.status ?? ''}>
                    <td>{i.kind}</td>
                    <td><ObjectRef i={i} /></td>
                    <td>{ACTION[i.action]}</td>
                    <td>{i.statusBefore ?? '—'}</td>
                    <td>{nowText(i)}</td>
                    <td>
                      {i.kind === 'batch' && batchLink(i.ref)}
                      {i.kind === 'lot' && i.detail.producedBy && batchLink(String(i.detail.producedBy))}
                      {i.kind === 'pallet' && ((i.detail.batches as string[] | undefined) ?? []).map((b, k) => <span key={b}>{k > 0 && ', '}{batchLink(b)}</span>)}
                    </td>
                    <td class="muted">
                      {i.kind === 'lot' && [i.detail.material, i.detail.supplierLot && `supplier lot ${i.detail.supplierLot}`, i.detail.quantity && `${i.detail.quantity} ${i.detail.unit}`].filter(Boolean).join('; ')}
                      {i.kind === 'batch' && i.detail.product}
                      {i.kind === 'pallet' && `${i.detail.cases === 1 ? '1 case' : `${i.detail.cases ?? '?'} cases`}${i.detail.delivery ? `, delivery ${i.detail.delivery}` : ''}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {objects.length === 0 && <p class="muted">Nothing was on site.</p>}
          </Section>
          <Section title="What had left the site" id="shipped">
            <table class="grid" data-testid="recall-shipped">
              <thead><tr><th>Customer</th><th>GLN</th><th>Delivery</th><th>Shipped</th><th>Ship-to</th><th>Batches</th><th>SSCCs</th></tr></thead>
              <tbody>
                {r.shipped.map((d) => (
                  <tr key={d.delivery} data-delivery={d.delivery} data-customer={d.customer}>
                    <td>{d.customerName ?? d.customer} <span class="muted">({d.customer})</span></td>
                    <td>{d.customerGln ?? '—'}</td>
                    <td>{d.delivery}</td>
                    <td>{fmtTime(d.shippedAt)}</td>
                    <td>{d.shipToGln ?? '—'}</td>
                    <td>{d.batches.map((b, k) => <span key={b}>{k > 0 && ', '}{batchLink(b)}</span>)}</td>
                    <td>{d.ssccs.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {r.shipped.length === 0 && <p class="muted">Nothing had left the site.</p>}
          </Section>
          {closing && (
            <SignDialog
              title={`Close recall ${r.number}`}
              meaning="closed"
              user={user}
              blocked={!outcome.trim()}
              what={<p>Close recall <b>{r.number}</b> of {scopeText(r.scope)} with its outcome. No hold is lifted by closing.</p>}
              onClose={() => setClosing(false)}
              onSign={async (signature) => {
                await api('POST', `/recalls/${encodeURIComponent(r.number)}/close`, { outcome: outcome.trim(), signature });
                setOutcome('');
                await reload();
              }}
            >
              <label>
                Outcome (required)
                <textarea name="outcome" rows={3} value={outcome} data-testid="recall-outcome" onInput={(e) => setOutcome((e.target as HTMLTextAreaElement).value)} placeholder="what was recovered, destroyed, released; the authority informed…" />
              </label>
            </SignDialog>
          )}
        </div>
      )}
    </div>
  );
}
