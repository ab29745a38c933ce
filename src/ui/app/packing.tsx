import { useEffect, useState } from 'preact/hooks';
import { call } from './api';
import type { Strings } from './i18n';

export interface Job {
  id: string;
  printer: string;
  state: string;
  serial: string | null;
  sscc: string | null;
  statusText: string | null;
  errorCode: string | null;
  createdAt: string;
}

export interface PackingView {
  cases: number;
  lastJob: Job | null;
  toConfirm: Job[];
}

/** Packing station: cases, the last label as a picture, jobs to confirm with Printed / Reprint (reason). */
export function PackingPanel({ t, p, base, token, onDone }: { t: Strings; p: PackingView; base: string; token: string; onDone(): void }) {
  const [reason, setReason] = useState<Record<string, string>>({});
  const [err, setErr] = useState<string | null>(null);
  const decide = async (job: string, decision: 'printed' | 'reprint'): Promise<void> => {
    setErr(null);
    try {
      await call('POST', `${base}/print-jobs/${encodeURIComponent(job)}/decision`, token, decision === 'reprint' ? { decision, reason: reason[job] ?? '' } : { decision });
      onDone();
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  return (
    <section class="packing" data-testid="packing">
      <div class="cases">
        <span class="label">{t.cases}</span> <span class="value" data-testid="cases">{p.cases}</span>
      </div>
      {p.toConfirm.length > 0 && (
        <div class="confirm" data-testid="to-confirm">
          <h2>{t.jobsToConfirm}</h2>
          {p.toConfirm.map((j) => (
            <div class="job" key={j.id} data-job={j.id}>
              <div class="jobline">
                ▲ {j.serial ?? j.sscc ?? j.id} · {j.printer} · {j.statusText ?? j.errorCode ?? ''}
              </div>
              <button class="printed" data-testid="printed" onClick={() => decide(j.id, 'printed')}>
                ✔ {t.printed}
              </button>
              <input name="reprint-reason" placeholder={t.reprintReason} value={reason[j.id] ?? ''} onInput={(e) => setReason({ ...reason, [j.id]: (e.target as HTMLInputElement).value })} />
              <button class="reprint" data-testid="reprint" disabled={!(reason[j.id] ?? '').trim()} onClick={() => decide(j.id, 'reprint')}>
                ↻ {t.reprint}
              </button>
            </div>
          ))}
          {err && (
            <p class="error" role="alert">
              {err}
            </p>
          )}
        </div>
      )}
      {p.lastJob && (
        <figure class="lastlabel" data-testid="last-label">
          <figcaption>
            {t.lastLabel}: {p.lastJob.serial ?? p.lastJob.sscc ?? ''} ({p.lastJob.state})
          </figcaption>
          <LabelImage src={`${base}/print-jobs/${encodeURIComponent(p.lastJob.id)}/image`} token={token} />
        </figure>
      )}
    </section>
  );
}

/** The picture needs the kiosk's bearer token, so it is fetched and shown as a blob URL (revoked when replaced). */
function LabelImage({ src, token }: { src: string; token: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    let made: string | null = null;
    void fetch(src, { headers: { authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (gone || !b) return;
        made = URL.createObjectURL(b);
        setUrl(made);
      })
      .catch(() => {});
    return () => {
      gone = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [src, token]);
  return url ? <img src={url} alt="label" data-testid="label-image" /> : <div class="none">…</div>;
}
