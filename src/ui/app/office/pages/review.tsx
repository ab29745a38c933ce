/**
 * Review by exception and release of one batch (SOP 7; 21 CFR Part 11). Shows what QA must look
 * at — every exception with its acknowledgement (each acknowledged with a comment), supervisor
 * overrides to review, reconciliation and yield, deviations and QC results — and the release
 * checks the gateway enforces. The release button stays DISABLED until the gateway's release
 * checks pass (every exception acknowledged, overrides reviewed, deviations closed, …); the sign
 * dialog re-authenticates (user id shown, secret asked, meaning "released").
 */
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import type { PageProps } from '../routes';
import { linkClick } from '../router';
import { QA, can } from '../roles';
import { ErrorLine, Section, SignDialog, Status, fmtTime, useApi } from '../ui';

const KIND_LABEL: Record<string, string> = {
  refused_reading: 'Refused reading',
  override: 'Supervisor override',
  tolerance_flag: 'Outside tolerance (flagged)',
  deviation: 'Deviation',
  reprint: 'Label reprint',
  needed_confirmation: 'Print needed confirmation',
  link_gap: 'Machine link gap',
  counter_discontinuity: 'Counter discontinuity',
  clock_unsynced: 'Clock not synchronised',
  qc_overdue: 'QC check overdue',
  qc_failed: 'QC check failed',
  yield: 'Yield outside limits',
  labels_unaccounted: 'Labels unaccounted',
};

export function ReviewPage({ params, user }: PageProps) {
  const n = params.number!;
  const enc = encodeURIComponent(n);
  const batch = useApi<any>(`/batches/${enc}`);
  const checks = useApi<any>(`/batches/${enc}/checks?stage=release`);
  const ex = useApi<{ items: any[]; open: number }>(`/batches/${enc}/exceptions`);
  const rec = useApi<any>(`/batches/${enc}/reconciliation`);
  const devs = useApi<{ items: any[] }>(`/deviations?batch=${enc}`);
  const qc = useApi<{ items: any[] }>(`/qc/inspections?batch=${enc}`);
  const sigs = useApi<{ items: any[]; ok: boolean }>(`/batches/${enc}/signatures`);
  const [signing, setSigning] = useState(false);
  const [reason, setReason] = useState('Batch record reviewed by exception');
  const isQa = can(user, QA);
  const reloadAll = async () => {
    await Promise.all([batch.reload(), checks.reload(), ex.reload(), rec.reload(), devs.reload(), qc.reload(), sigs.reload()]);
  };
  const b = batch.data;
  const open = ex.data?.open ?? null;
  const released = b?.status === 'released';
  const canRelease = isQa && b?.status === 'completed' && open === 0 && checks.data?.ok === true;
  const whyNot = !isQa
    ? 'only QA releases'
    : !b
      ? 'loading'
      : b.status !== 'completed'
        ? `the batch is ${b.status}`
        : open !== 0
          ? `${open ?? '?'} exception(s) not acknowledged`
          : checks.data?.ok !== true
            ? 'release checks not passed'
            : '';
  return (
    <div data-testid="review-page">
      <h1>
        Review and release — batch{' '}
        <a href={`/ui/office/batches/${enc}`} onClick={linkClick}>
          {n}
        </a>{' '}
        {b && <Status value={b.status} />}
      </h1>
      <ErrorLine err={batch.err} />

      <Section title="Release checks" id="checks">
        <ErrorLine err={checks.err} />
        {checks.data && (
          <ul class="checks" data-testid="checks">
            {checks.data.ok && <li class="good">Every release check passes.</li>}
            {checks.data.missing.map((m: any, i: number) => (
              <li key={i} class="bad" data-code={m.code}>
                <code class="code">{m.code}</code> {m.message}
              </li>
            ))}
          </ul>
        )}
        <div class="actions">
          <button class="primary" disabled={!canRelease || released} onClick={() => setSigning(true)} data-testid="release">
            Release batch…
          </button>
          {!released && !canRelease && (
            <span class="muted" data-testid="release-why">
              Release is disabled: {whyNot}.
            </span>
          )}
          {released && (
            <span class="ok" data-testid="released">
              Released {fmtTime(b.releasedAt)}
            </span>
          )}
        </div>
      </Section>

      <Section title={`Exceptions${open !== null ? ` (${open} open of ${ex.data!.items.length})` : ''}`} id="exceptions">
        <ErrorLine err={ex.err} />
        <table class="grid" data-testid="exceptions">
          <thead>
            <tr>
              <th>Kind</th>
              <th>When</th>
              <th>What</th>
              <th>Acknowledgement</th>
            </tr>
          </thead>
          <tbody>
            {(ex.data?.items ?? []).map((e) => (
              <ExceptionRow key={e.key} batch={n} e={e} isQa={isQa} onDone={reloadAll} />
            ))}
          </tbody>
        </table>
      </Section>

      <Overrides batch={n} missing={checks.data?.missing ?? []} isQa={isQa} onDone={reloadAll} />

      <div class="cards">
        <Section title="Reconciliation and yield" id="reconciliation">
          <ErrorLine err={rec.err} />
          {rec.data && <Reconciliation r={rec.data} />}
        </Section>
        <Section title="Deviations" id="deviations">
          <ErrorLine err={devs.err} />
          <table class="grid" data-testid="deviations">
            <tbody>
              {(devs.data?.items ?? []).map((d) => (
                <tr key={d.number} data-deviation={d.number}>
                  <td>
                    <a href={`/ui/office/deviations/${encodeURIComponent(d.number)}`} onClick={linkClick}>
                      {d.number}
                    </a>
                  </td>
                  <td>{d.title}</td>
                  <td>{d.category}</td>
                  <td>
                    <Status value={d.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {devs.data && devs.data.items.length === 0 && <p class="muted">No deviation.</p>}
        </Section>
        <Section title="QC results" id="qc">
          <ErrorLine err={qc.err} />
          <table class="grid" data-testid="qc-results">
            <tbody>
              {(qc.data?.items ?? []).map((q) => (
                <tr key={q.id}>
                  <td>{q.id}</td>
                  <td>{q.plan}</td>
                  <td>{q.results.map((r: any) => `${r.code} ${r.value ?? (r.conforms === null ? '' : r.conforms ? 'conforms' : 'does not conform')} ${r.unit ?? ''}`).join('; ')}</td>
                  <td>
                    <Status value={q.verdict} />
                    {q.retakeOf && <span class="muted"> retake of {q.retakeOf}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {qc.data && qc.data.items.length === 0 && <p class="muted">No QC result.</p>}
        </Section>
      </div>

      <Section title="Signatures" id="signatures">
        <ErrorLine err={sigs.err} />
        <table class="grid" data-testid="signatures">
          <tbody>
            {(sigs.data?.items ?? []).map((s) => (
              <tr key={s.id}>
                <td>{s.signerName}</td>
                <td>{s.signer}</td>
                <td>{s.meaning}</td>
                <td>{fmtTime(s.signedAt)}</td>
                <td class={s.ok ? 'ok' : 'error'}>{s.ok ? 'verifies' : s.problem}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {sigs.data && sigs.data.items.length === 0 && <p class="muted">Not signed yet.</p>}
      </Section>

      {signing && (
        <SignDialog
          title={`Release batch ${n}`}
          meaning="released"
          user={user}
          blocked={!reason.trim()}
          what={
            <p>
              You release batch <b>{n}</b> ({b?.product} {b?.productName ?? ''}, {b?.producedQty} {b?.unit} good). The signature binds the SHA-256 of the batch record as of now.
            </p>
          }
          onSign={async (signature) => {
            await api('POST', `/batches/${enc}/transitions`, { to: 'released', reason: reason.trim(), signature });
            await reloadAll();
          }}
          onClose={() => setSigning(false)}
        >
          <label>
            Reason
            <textarea name="reason" value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          </label>
        </SignDialog>
      )}
    </div>
  );
}

function ExceptionRow({ batch, e, isQa, onDone }: { batch: string; e: any; isQa: boolean; onDone: () => Promise<void> }) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const ack = async () => {
    setBusy(true);
    setErr(null);
    try {
      await api('POST', `/batches/${encodeURIComponent(batch)}/exceptions/acknowledge`, { keys: [e.key], comment: comment.trim() });
      await onDone();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-exception={e.key} data-kind={e.kind} data-acknowledged={e.acknowledged ? '1' : '0'}>
      <td>{KIND_LABEL[e.kind] ?? e.kind}</td>
      <td>{fmtTime(e.at)}</td>
      <td>
        {e.summary}
        {e.recordId && <div class="muted">record {e.recordId}</div>}
      </td>
      <td>
        {e.acknowledged ? (
          <span class="ok">
            ✓ {e.acknowledged.by}, {fmtTime(e.acknowledged.at)}: {e.acknowledged.comment}
          </span>
        ) : isQa ? (
          <div class="actions">
            <input name="comment" placeholder="what you checked" value={comment} onInput={(x) => setComment((x.target as HTMLInputElement).value)} size={28} />
            <button onClick={() => void ack()} disabled={busy || !comment.trim()} data-testid="ack">
              Acknowledge
            </button>
          </div>
        ) : (
          <span class="warn">not acknowledged</span>
        )}
        <ErrorLine err={err} />
      </td>
    </tr>
  );
}

function Overrides({ batch, missing, isQa, onDone }: { batch: string; missing: any[]; isQa: boolean; onDone: () => Promise<void> }) {
  const list = missing.filter((m) => m.code === 'LG_ERR_CHECK_OVERRIDE_UNREVIEWED');
  const [comment, setComment] = useState<Record<string, string>>({});
  const [err, setErr] = useState<unknown>(null);
  if (!list.length) return null;
  const review = async (id: string) => {
    setErr(null);
    try {
      await api('POST', `/batches/${encodeURIComponent(batch)}/overrides/${encodeURIComponent(id)}/review`, { comment: (comment[id] ?? '').trim() });
      await onDone();
    } catch (x) {
      setErr(x);
    }
  };
  return (
    <Section title="Supervisor overrides to review" id="overrides">
      <table class="grid" data-testid="overrides">
        <tbody>
          {list.map((m) => {
            const d = m.details;
            return (
              <tr key={d.override} data-override={d.override}>
                <td>
                  Lot {d.lot} ({d.material}) refused with <code class="code">{d.overriddenCode}</code>, overridden by {d.by}
                </td>
                <td>
                  {isQa ? (
                    <div class="actions">
                      <input name="override-comment" placeholder="QA comment" value={comment[d.override] ?? ''} onInput={(x) => setComment({ ...comment, [d.override]: (x.target as HTMLInputElement).value })} size={28} />
                      <button onClick={() => void review(d.override)} disabled={!(comment[d.override] ?? '').trim()} data-testid="review-override">
                        Mark reviewed
                      </button>
                    </div>
                  ) : (
                    <span class="warn">not reviewed</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {err instanceof ApiError && <ErrorLine err={err} />}
    </Section>
  );
}

function Reconciliation({ r }: { r: any }) {
  return (
    <div data-testid="reconciliation">
      <table class="grid">
        <thead>
          <tr>
            <th>Material</th>
            <th class="num">Planned</th>
            <th class="num">Consumed</th>
            <th class="num">Difference</th>
            <th>Within</th>
          </tr>
        </thead>
        <tbody>
          {r.materials.map((m: any) => (
            <tr key={m.material}>
              <td>{m.material}</td>
              <td class="num">
                {m.planned} {m.unit}
              </td>
              <td class="num">{m.consumed}</td>
              <td class="num">{m.difference}</td>
              <td class={m.withinTolerance ? 'ok' : 'error'}>{m.withinTolerance ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Produced {r.produced.good} good, {r.produced.rejected} rejected; yield{' '}
        <b class={r.yield?.within ? 'ok' : 'error'}>{r.yield?.pct ?? '—'} %</b> (limits {r.yield?.lowerPct}–{r.yield?.upperPct} %). Labels printed {r.labels.printed}, applied {r.labels.applied}, destroyed {r.labels.destroyed}
        {r.labels.balanced ? ' — balanced' : ` — ${r.labels.unaccounted} unaccounted`}.
      </p>
    </div>
  );
}
