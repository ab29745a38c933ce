/**
 * Audit trail: who changed what, when, why — with the old and new values and the hash chain. Filters
 * (entity kind, entity id) are answered by the API through its indexes (GET /audit); pages follow
 * the cursor. The chain check (GET /audit/verify) on request.
 */
import { useState } from 'preact/hooks';
import { api, withQuery } from '../api';
import type { PageProps } from '../routes';
import { linkClick, navigate } from '../router';
import { ErrorLine, fmtTime, useApi } from '../ui';

/** The kinds of entity the use cases audit (any other text is sent as typed). */
const ENTITIES = ['batch', 'lot', 'material', 'user', 'station', 'print_job', 'label', 'deviation', 'qc_inspection', 'inspection_plan', 'record', 'pallet', 'delivery', 'customer', 'kiosk', 'badge', 'opcua_certificate', 'system'];

export function AuditPage({ query }: PageProps) {
  const entity = query.get('entity') ?? '';
  const entityId = query.get('entityId') ?? '';
  const after = query.get('after') ?? '';
  const [f, setF] = useState({ entity, entityId });
  const [verify, setVerify] = useState<any>(null);
  const [verr, setVerr] = useState<unknown>(null);
  const { data, err } = useApi<{ items: any[]; next: number | null }>(withQuery('/audit', { entity, entityId, after, limit: 200 }));
  const apply = (e: Event) => {
    e.preventDefault();
    navigate(withQuery('/ui/office/audit', f));
  };
  const check = () => {
    setVerr(null);
    api('GET', '/audit/verify').then(setVerify).catch(setVerr);
  };
  return (
    <div>
      <h1>Audit trail</h1>
      <form class="filters" onSubmit={apply} data-testid="audit-filters">
        <label>
          Entity
          <input name="entity" list="lg-audit-entities" value={f.entity} onInput={(e) => setF({ ...f, entity: (e.target as HTMLInputElement).value.trim() })} placeholder="any" />
          <datalist id="lg-audit-entities">
            {ENTITIES.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </label>
        <label>
          Entity id
          <input name="entityId" value={f.entityId} onInput={(e) => setF({ ...f, entityId: (e.target as HTMLInputElement).value.trim() })} placeholder="batch number, lot id, user id…" />
        </label>
        <button type="submit">Filter</button>
        <button type="button" onClick={check} data-testid="audit-verify">Verify chain</button>
      </form>
      <ErrorLine err={err} />
      <ErrorLine err={verr} />
      {verify && (
        <p class={verify.ok ? 'ok' : 'error'} data-testid="audit-verify-result">
          {verify.ok ? `Chain intact: ${verify.checked} entries checked${verify.anchoredUpTo ? `, anchored up to ${verify.anchoredUpTo}` : ''}.` : `Chain BROKEN at ${JSON.stringify(verify.firstBroken)}`}
        </p>
      )}
      <table class="grid" data-testid="audit">
        <thead>
          <tr><th class="num">Seq</th><th>At</th><th>Who</th><th>Action</th><th>Entity</th><th>Reason</th><th>Old → new</th></tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((a) => (
            <tr key={a.seq} data-seq={a.seq} data-entity={a.entity} data-entity-id={a.entityId} data-action={a.action}>
              <td class="num">{a.seq}</td>
              <td>{fmtTime(a.at)}</td>
              <td>{a.actor}</td>
              <td>{a.action}</td>
              <td>
                <a href={withQuery('/ui/office/audit', { entity: a.entity, entityId: a.entityId })} onClick={linkClick}>
                  {a.entity} {a.entityId}
                </a>
              </td>
              <td>{a.reason ?? '—'}</td>
              <td><pre class="json">{a.old !== null && a.old !== undefined ? `${JSON.stringify(a.old)} → ` : ''}{JSON.stringify(a.new)}</pre></td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && <p class="muted">No audit entry matches.</p>}
      {data?.next != null && (
        <p><a href={withQuery('/ui/office/audit', { entity, entityId, after: data.next })} onClick={linkClick} data-testid="audit-next">Next page →</a></p>
      )}
    </div>
  );
}
