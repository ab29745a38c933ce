/** One deviation: its record, the investigation (root cause, impact, CAPA), closure with a QA signature. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../routes';
import { linkClick } from '../router';
import { QA, can } from '../roles';
import { ErrorLine, Section, SignDialog, Status, fmtTime, useApi } from '../ui';

export function DeviationPage({ params, user }: PageProps) {
  const n = params.number!;
  const enc = encodeURIComponent(n);
  const dev = useApi<any>(`/deviations/${enc}`);
  const d = dev.data;
  const [inv, setInv] = useState({ rootCause: '', impact: '', capaRef: '' });
  const [err, setErr] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [signing, setSigning] = useState(false);
  useEffect(() => {
    if (d) setInv({ rootCause: d.rootCause ?? '', impact: d.impact ?? '', capaRef: d.capaRef ?? '' });
  }, [d?.updatedAt]);
  const closed = d?.status === 'closed';
  const save = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setSaved(false);
    try {
      await api('PATCH', `/deviations/${enc}`, { rootCause: inv.rootCause.trim() || null, impact: inv.impact.trim() || null, capaRef: inv.capaRef.trim() || null });
      setSaved(true);
      await dev.reload();
    } catch (x) {
      setErr(x);
    }
  };
  const set = (k: keyof typeof inv) => (e: Event) => setInv({ ...inv, [k]: (e.target as HTMLTextAreaElement).value });
  return (
    <div data-testid="deviation-page">
      <h1>
        Deviation {n} {d && <Status value={d.status} />}
      </h1>
      <ErrorLine err={dev.err} />
      {d && (
        <>
          <Section title={d.title} id="deviation">
            <dl class="kv">
              <dt>Category</dt>
              <dd>
                {d.category} ({d.type})
              </dd>
              <dt>Batch</dt>
              <dd>
                {d.batch ? (
                  <a href={`/ui/office/batches/${encodeURIComponent(d.batch)}/review`} onClick={linkClick}>
                    {d.batch}
                  </a>
                ) : (
                  '—'
                )}
              </dd>
              <dt>Lot / material</dt>
              <dd>
                {d.lot ?? '—'} / {d.material ?? '—'}
              </dd>
              <dt>Station</dt>
              <dd>{d.station ?? '—'}</dd>
              <dt>Raised</dt>
              <dd>
                {fmtTime(d.raisedAt)} by {d.raisedBy} <span class="muted">({d.source})</span>
              </dd>
              <dt>What happened</dt>
              <dd>{d.description}</dd>
              <dt>Immediate action</dt>
              <dd>{d.immediateAction ?? '—'}</dd>
              {closed && (
                <>
                  <dt>Closed</dt>
                  <dd>
                    {fmtTime(d.closedAt)} by {d.closedBy} <span class="muted">(signature {d.closureSignature})</span>
                  </dd>
                </>
              )}
            </dl>
          </Section>
          <Section title="Investigation" id="investigation">
            <form onSubmit={save} class="filters" data-testid="investigate">
              <label style={{ flexBasis: '100%' }}>
                Root cause
                <textarea name="rootCause" value={inv.rootCause} onInput={set('rootCause')} disabled={closed} />
              </label>
              <label style={{ flexBasis: '100%' }}>
                Impact on the batch and product
                <textarea name="impact" value={inv.impact} onInput={set('impact')} disabled={closed} />
              </label>
              <label>
                CAPA reference
                <input name="capaRef" value={inv.capaRef} onInput={set('capaRef')} disabled={closed} />
              </label>
              {!closed && (
                <button type="submit" data-testid="investigate-save">
                  Save investigation
                </button>
              )}
              {saved && <span class="ok">saved</span>}
              {d.investigatedBy && <span class="muted">investigated by {d.investigatedBy}</span>}
            </form>
            <ErrorLine err={err} />
          </Section>
          {!closed && can(user, QA) && (
            <div class="actions">
              <button class="primary" disabled={!d.rootCause || !d.impact} onClick={() => setSigning(true)} data-testid="close-deviation">
                Close with signature…
              </button>
              {(!d.rootCause || !d.impact) && <span class="muted">Closing needs the root cause and the impact saved.</span>}
            </div>
          )}
        </>
      )}
      {signing && d && (
        <SignDialog
          title={`Close deviation ${n}`}
          meaning="closed"
          user={user}
          what={
            <p>
              You close <b>{n}</b>: {d.title}. Root cause: {d.rootCause}. Impact: {d.impact}.
            </p>
          }
          onSign={async (signature) => {
            await api('POST', `/deviations/${enc}/close`, { signature });
            await dev.reload();
          }}
          onClose={() => setSigning(false)}
        />
      )}
    </div>
  );
}
