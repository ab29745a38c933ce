/**
 * Print-job queue: every job with its state, printer, attempts, error code and reprint reason;
 * a job's label as a picture (GET /print-jobs/:id/label.png, rendered once from its stored ZPL and
 * cached by the gateway — never on the print path). Decisions on a job are taken at the station.
 */
import { useEffect, useState } from 'preact/hooks';
import { withQuery } from '../api';
import type { PageProps } from '../routes';
import { linkClick, navigate } from '../router';
import { ErrorLine, Status, fmtTime, useApi } from '../ui';
import { imageUrl } from './download';

const STATES = ['', 'queued', 'sending', 'sent', 'confirmed', 'needs_confirmation', 'failed'];

export function PrintJobsPage({ query }: PageProps) {
  const state = query.get('state') ?? '';
  const printer = query.get('printer') ?? '';
  const [f, setF] = useState({ state, printer });
  const [shown, setShown] = useState<string | null>(null);
  const { data, err } = useApi<{ items: any[] }>(withQuery('/print-jobs', { state, printer, limit: 200 }), 5_000);
  const printers = useApi<{ items: any[] }>('/printers', 10_000);
  const apply = (e: Event) => {
    e.preventDefault();
    navigate(withQuery('/ui/office/print-jobs', f));
  };
  return (
    <div>
      <h1>Print jobs</h1>
      <div class="filters" data-testid="printers">
        {(printers.data?.items ?? []).map((p) => (
          <span key={p.printer} class="card" data-printer={p.printer}>
            <b>{p.printer}</b> {p.station ? <span class="muted">at {p.station}</span> : null} <span class={`dev-state dev-${p.state}`}>{p.state}</span>
            {p.lastError ? <span class="error"> {p.lastError.code}</span> : null}
          </span>
        ))}
      </div>
      <form class="filters" onSubmit={apply} data-testid="job-filters">
        <label>
          State
          <select name="state" value={f.state} onChange={(e) => setF({ ...f, state: (e.target as HTMLSelectElement).value })}>
            {STATES.map((s) => (
              <option key={s} value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Printer
          <input name="printer" value={f.printer} onInput={(e) => setF({ ...f, printer: (e.target as HTMLInputElement).value.trim() })} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorLine err={err} />
      <table class="grid" data-testid="print-jobs">
        <thead>
          <tr><th>Job</th><th>State</th><th>Printer</th><th>Template</th><th>Label</th><th>Batch</th><th class="num">Attempts</th><th>Reprint of / reason</th><th>Error</th><th>Created</th><th>Confirmed</th><th></th></tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((j) => (
            <tr key={j.id} data-job={j.id} data-state={j.state}>
              <td>{j.id}</td>
              <td><Status value={j.state} /></td>
              <td>{j.printer}</td>
              <td>{j.template}</td>
              <td>{j.sscc ?? j.serial ?? j.labelId}</td>
              <td>{j.batch ? <a href={`/ui/office/batches/${encodeURIComponent(j.batch)}`} onClick={linkClick}>{j.batch}</a> : '—'}</td>
              <td class="num">{j.attempts}</td>
              <td data-testid="reprint-reason">{j.reprintOf ? `${j.reprintOf}: ${j.reprintReason ?? ''}` : '—'}</td>
              <td>{j.errorCode ? <code class="code">{j.errorCode}</code> : ''} {j.statusText ?? ''}</td>
              <td>{fmtTime(j.createdAt)}</td>
              <td>{j.confirmedAt ? `${fmtTime(j.confirmedAt)}${j.decidedBy ? ` (${j.decidedBy})` : ''}` : '—'}</td>
              <td><button type="button" data-testid="show-label" onClick={() => setShown(shown === j.id ? null : j.id)}>{shown === j.id ? 'Hide' : 'Label'}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && <p class="muted">No print job matches.</p>}
      {shown && <LabelPicture job={shown} />}
    </div>
  );
}

function LabelPicture({ job }: { job: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    let url: string | null = null;
    setSrc(null);
    setErr(null);
    imageUrl(`/print-jobs/${encodeURIComponent(job)}/label.png`)
      .then((u) => setSrc((url = u)))
      .catch(setErr);
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [job]);
  return (
    <div class="card" data-testid="label-picture" data-job={job}>
      <h2>Label of job {job}</h2>
      <ErrorLine err={err} />
      {!src && !err && <p class="muted">Rendering the label from its ZPL (about a second the first time)…</p>}
      {src && <img class="label-img" src={src} alt={`label of print job ${job}`} />}
    </div>
  );
}
