/**
 * The weekly review (SOP 8; issue 14): pick a period (default: the last 7 days, today included,
 * in the site's time zone), see the live review the gateway computes from the journal, freeze it
 * for QA's signature (supervisor, QA, admin), and the list of frozen reviews with whether each is
 * signed. Signing happens on the frozen review's own page (weekly-review.tsx): QA signs what was
 * frozen, never the live view that keeps changing as records arrive.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, withQuery } from '../api';
import type { PageProps } from '../routes';
import { href, linkClick, navigate } from '../router';
import { REPORTS, can } from '../roles';
import { ErrorLine, Section, Status, fmtTime, useApi } from '../ui';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Today (YYYY-MM-DD) in a time zone. */
export function todayIn(timeZone: string | undefined, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** The last 7 days with today: from = today − 6, to (the day after the last) = tomorrow. */
export function lastWeek(timeZone: string | undefined): { from: string; to: string } {
  const to = addDays(todayIn(timeZone), 1);
  return { from: addDays(to, -7), to };
}

export function WeeklyPage({ query, user }: PageProps) {
  const qFrom = query.get('from') ?? '';
  const qTo = query.get('to') ?? '';
  const explicit = DAY_RE.test(qFrom);
  // The site's zone is only known from the gateway's answer (period.timeZone): start with the
  // browser's, then move the default period to the site's days once the zone is known.
  const [zone, setZone] = useState<string | undefined>(undefined);
  const period = explicit ? { from: qFrom, to: DAY_RE.test(qTo) ? qTo : addDays(qFrom, 7) } : lastWeek(zone);
  const [f, setF] = useState(period);
  useEffect(() => setF(period), [period.from, period.to]);
  const live = useApi<any>(withQuery('/reports/weekly', { from: period.from, to: period.to, format: 'json' }), 30_000);
  const frozen = useApi<{ items: any[] }>('/reports/weekly/reviews', 30_000);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    const z = live.data?.period?.timeZone;
    if (typeof z === 'string' && z !== zone) setZone(z);
  }, [live.data?.period?.timeZone]);
  const canFreeze = can(user, REPORTS);
  const freeze = async () => {
    setBusy(true);
    setErr(null);
    try {
      const r = await api<any>('POST', '/reports/weekly/reviews', period);
      navigate(href('/ui/office/weekly/:id', { id: r.review.id }));
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  const liveQs = (format: string) => withQuery('/reports/weekly', { from: period.from, to: period.to, format });
  return (
    <div data-testid="weekly-page">
      <h1>Weekly review</h1>
      <form
        class="filters"
        data-testid="weekly-period"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withQuery('/ui/office/weekly', f));
        }}
      >
        <label>
          From
          <input name="from" type="date" value={f.from} onInput={(e) => setF({ ...f, from: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          To (day after the last)
          <input name="to" type="date" value={f.to} onInput={(e) => setF({ ...f, to: (e.target as HTMLInputElement).value })} />
        </label>
        <button type="submit">Show</button>
      </form>
      <ErrorLine err={live.err} />

      <Section title="Live review (changes as records arrive)" id="live">
        {live.data && (
          <>
            <p data-testid="live-period">
              {live.data.period.fromDate} 00:00 to {live.data.period.toDate} 00:00, {live.data.period.timeZone} — site {live.data.site}, line {live.data.line}. Computed {fmtTime(live.data.generatedAt)}.
            </p>
            <p class="links">
              <a href={liveQs('html')} target="_blank" rel="noopener" data-testid="live-html">
                HTML
              </a>{' '}
              <a href={liveQs('pdf')} download={`weekly-review-${live.data.period.fromDate}.pdf`} data-testid="live-pdf">
                PDF
              </a>
            </p>
            <WeeklySummary w={live.data} />
          </>
        )}
        {canFreeze && (
          <div class="actions">
            <button class="primary" onClick={() => void freeze()} disabled={busy || !live.data} data-testid="freeze">
              Freeze for signature
            </button>
            <span class="muted">Stores the review of {period.from} – {period.to} as it is now, with its SHA-256, for QA to sign.</span>
          </div>
        )}
        <ErrorLine err={err} />
      </Section>

      <Section title="Frozen reviews" id="frozen">
        <ErrorLine err={frozen.err} />
        <table class="grid" data-testid="frozen-reviews">
          <thead>
            <tr>
              <th>Review</th>
              <th>Period</th>
              <th>Frozen</th>
              <th>Content SHA-256</th>
              <th>Signed</th>
            </tr>
          </thead>
          <tbody>
            {(frozen.data?.items ?? []).map((r) => (
              <tr key={r.id} data-review={r.id} data-signed={r.signed ? '1' : '0'}>
                <td>
                  <a href={href('/ui/office/weekly/:id', { id: r.id })} onClick={linkClick}>
                    {r.id}
                  </a>
                </td>
                <td>
                  {r.periodFrom} – {r.periodTo}
                </td>
                <td>
                  {r.frozenByName ?? r.frozenBy}, {fmtTime(r.frozenAt)}
                </td>
                <td>
                  <code class="code">{String(r.contentHash).slice(0, 16)}…</code>
                </td>
                <td>{r.signed ? <span class="ok">signed</span> : <span class="warn">not signed</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {frozen.data && frozen.data.items.length === 0 && <p class="muted">No review frozen yet.</p>}
      </Section>
    </div>
  );
}

/** What a weekly review holds (the live one or a frozen one's content), compactly. */
export function WeeklySummary({ w }: { w: any }) {
  const statuses = Object.entries((w.byStatus ?? {}) as Record<string, number>);
  return (
    <div data-testid="weekly-summary">
      <p>
        {w.batches.length} batch(es){statuses.length > 0 && ': '}
        {statuses.map(([s, n], i) => (
          <span key={s}>
            {i > 0 && ', '}
            {n} <Status value={s} />
          </span>
        ))}
        . Deviations: {w.deviations.open} open, {w.deviations.underInvestigation} under investigation, {w.deviations.closed} closed. Failed QC results: {w.qcFailures.length}. Lots used or made: {w.inventory.length}.
      </p>
      <table class="grid" data-testid="weekly-batches">
        <thead>
          <tr>
            <th>Batch</th>
            <th>Product</th>
            <th>Status</th>
            <th class="num">Produced</th>
            <th class="num">Yield</th>
            <th class="num">Exceptions</th>
            <th class="num">Open deviations</th>
            <th class="num">QC failures</th>
          </tr>
        </thead>
        <tbody>
          {w.batches.map((b: any) => (
            <tr key={b.number} data-batch={b.number}>
              <td>
                <a href={href('/ui/office/batches/:number', { number: b.number })} onClick={linkClick}>
                  {b.number}
                </a>
              </td>
              <td>
                {b.product} {b.productName ?? ''}
              </td>
              <td>
                <Status value={b.status} />
              </td>
              <td class="num">
                {b.producedQty} {b.unit}
              </td>
              <td class="num">{b.yieldPct === null ? '—' : `${b.yieldPct} %`}</td>
              <td class="num">{b.exceptions}</td>
              <td class="num">{b.openDeviations}</td>
              <td class="num">{b.qcFailures}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
