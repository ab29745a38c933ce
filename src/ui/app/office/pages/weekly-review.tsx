/**
 * One frozen weekly review (SOP 7.1 / 8; 21 CFR Part 11): its period, who froze it and when, the
 * content SHA-256 (the same one printed on every page of its HTML / PDF), its signatures and their
 * verification, and QA's "Sign review" through the sign dialog (meaning reviewed or approved). The
 * signature sends the SHA-256 shown here: the gateway refuses it when the stored review is not the
 * content the signer was shown.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../routes';
import { linkClick } from '../router';
import { QA, can } from '../roles';
import { ErrorLine, Section, SignDialog, fmtTime, useApi } from '../ui';
import { WeeklySummary } from './weekly';

const MEANINGS = ['reviewed', 'approved'] as const;

export function WeeklyReviewPage({ params, user }: PageProps) {
  const id = params.id!;
  const enc = encodeURIComponent(id);
  const fr = useApi<any>(`/reports/weekly/reviews/${enc}`);
  const ver = useApi<{ ok: boolean; items: any[] }>(`/reports/weekly/reviews/${enc}/verify`);
  const [signing, setSigning] = useState(false);
  const [meaning, setMeaning] = useState<(typeof MEANINGS)[number]>('reviewed');
  const isQa = can(user, QA);
  const r = fr.data?.review;
  const sigs: any[] = fr.data?.signatures ?? [];
  const signed = sigs.length > 0;
  return (
    <div data-testid="weekly-review-page">
      <h1>
        Weekly review {id}{' '}
        {fr.data && (signed ? <span class="status st-released" data-testid="review-state">signed</span> : <span class="status st-pending" data-testid="review-state">not signed</span>)}
      </h1>
      <p>
        <a href="/ui/office/weekly" onClick={linkClick}>
          ← all weekly reviews
        </a>
      </p>
      <ErrorLine err={fr.err} />
      {r && (
        <Section title="Frozen review" id="frozen">
          <dl class="kv">
            <dt>Period</dt>
            <dd data-testid="period">
              {r.periodFrom} 00:00 to {r.periodTo} 00:00, {r.timeZone}
            </dd>
            <dt>Frozen</dt>
            <dd>
              by {r.frozenByName ?? r.frozenBy} ({r.frozenBy}), {fmtTime(r.frozenAt)}
            </dd>
            <dt>As of</dt>
            <dd>
              journal record {r.asOf.recordSeq}, audit entry {r.asOf.auditSeq}
            </dd>
            <dt>Content SHA-256</dt>
            <dd>
              <code class="code" data-testid="content-sha256">
                {r.contentHash}
              </code>
            </dd>
          </dl>
          <p class="links">
            <a href={`/reports/weekly/reviews/${enc}?format=html`} target="_blank" rel="noopener" data-testid="review-html">
              HTML
            </a>{' '}
            <a href={`/reports/weekly/reviews/${enc}?format=pdf`} download={`${id}.pdf`} data-testid="review-pdf">
              PDF
            </a>
          </p>
          <WeeklySummary w={fr.data.content} />
        </Section>
      )}

      <Section title="Signatures" id="signatures">
        <table class="grid" data-testid="review-signatures">
          <tbody>
            {sigs.map((s) => (
              <tr key={s.id} data-signer={s.signer}>
                <td>{s.printedName}</td>
                <td>{s.signer}</td>
                <td>{s.role ?? ''}</td>
                <td data-testid="sig-meaning">{s.meaning}</td>
                <td>{fmtTime(s.signedAt)}</td>
                <td class="muted">{s.statement ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {fr.data && !signed && <p class="muted">Not signed yet.</p>}
        <ErrorLine err={ver.err} />
        {ver.data && signed && (
          <p class={ver.data.ok ? 'ok' : 'error'} data-testid="verify" data-ok={ver.data.ok ? '1' : '0'}>
            {ver.data.ok ? 'Every signature verifies against the stored review.' : `Does not verify: ${ver.data.items.filter((c) => !c.ok).map((c) => c.problem ?? c.id).join('; ')}`}
          </p>
        )}
        {fr.data && !signed && (
          <div class="actions">
            <button class="primary" disabled={!isQa} onClick={() => setSigning(true)} data-testid="sign-review">
              Sign review…
            </button>
            {!isQa && <span class="muted">Only QA signs the weekly review.</span>}
          </div>
        )}
      </Section>

      {signing && r && (
        <SignDialog
          title={`Sign weekly review ${id}`}
          meaning={meaning}
          user={user}
          what={
            <p>
              You sign the weekly review of <b>{r.periodFrom}</b> – <b>{r.periodTo}</b> ({r.timeZone}) as frozen {fmtTime(r.frozenAt)}: content SHA-256 <code class="code">{r.contentHash}</code>.
            </p>
          }
          onSign={async (signature) => {
            await api('POST', `/reports/weekly/reviews/${enc}/signatures`, { contentSha256: r.contentHash, signature });
            await Promise.all([fr.reload(), ver.reload()]);
          }}
          onClose={() => setSigning(false)}
        >
          <label>
            Meaning
            <select name="meaning" value={meaning} onChange={(e) => setMeaning((e.target as HTMLSelectElement).value as (typeof MEANINGS)[number])}>
              {MEANINGS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
        </SignDialog>
      )}
    </div>
  );
}
