/**
 * QC result entry: pick an inspection plan, see each characteristic's specification, enter the
 * values. The page shows a preview against the spec while typing; the GATEWAY decides pass/fail
 * (POST /qc/inspections computes it from the plan) and the page shows its answer.
 */
import { useState } from 'preact/hooks';
import { api, withQuery } from '../api';
import type { PageProps } from '../routes';
import { ErrorLine, Section, Status, fmtTime, useApi } from '../ui';

/** Preview only (the gateway's verdict is what counts): decimal text against lower/upper. */
export function preview(c: any, v: string | boolean | undefined): 'pass' | 'fail' | null {
  if (c.kind !== 'measurement') return typeof v === 'boolean' ? (v ? 'pass' : 'fail') : null;
  if (typeof v !== 'string' || !/^-?\d+(\.\d+)?$/.test(v.trim())) return null;
  const x = Number(v);
  if (c.lower != null && x < Number(c.lower)) return 'fail';
  if (c.upper != null && x > Number(c.upper)) return 'fail';
  return 'pass';
}

const spec = (c: any): string =>
  c.kind === 'measurement' ? `${c.lower ?? '−∞'} … ${c.upper ?? '+∞'} ${c.unit ?? ''}${c.target ? ` (target ${c.target})` : ''}` : c.requirement ?? 'conforms / does not conform';

export function QcPage({ query }: PageProps) {
  const plans = useApi<{ items: any[] }>('/inspection-plans');
  const [planId, setPlanId] = useState(query.get('plan') ?? '');
  const [batch, setBatch] = useState(query.get('batch') ?? '');
  const [lot, setLot] = useState(query.get('lot') ?? '');
  const [station, setStation] = useState('');
  const [retakeOf, setRetakeOf] = useState('');
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [err, setErr] = useState<unknown>(null);
  const [answer, setAnswer] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const plan = plans.data?.items.find((p) => p.id === planId) ?? null;
  const recent = useApi<{ items: any[] }>(batch || lot ? withQuery('/qc/inspections', { batch: batch || null, lot: batch ? null : lot || null }) : null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!plan) return;
    setBusy(true);
    setErr(null);
    setAnswer(null);
    try {
      const results = plan.characteristics.map((c: any) =>
        c.kind === 'measurement' ? { code: c.code, value: String(values[c.code] ?? '').trim(), ...(c.unit ? { unit: c.unit } : {}) } : { code: c.code, conforms: values[c.code] === true },
      );
      const r = await api('POST', '/qc/inspections', {
        plan: plan.id,
        ...(batch.trim() ? { batch: batch.trim() } : {}),
        ...(lot.trim() ? { lot: lot.trim() } : {}),
        ...(station.trim() ? { station: station.trim() } : {}),
        ...(retakeOf ? { retakeOf } : {}),
        results,
      });
      setAnswer(r.inspection);
      setValues({});
      await recent.reload();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  const failed = (recent.data?.items ?? []).filter((i) => i.verdict === 'failed' && i.plan === planId);
  return (
    <div data-testid="qc-page">
      <h1>QC results</h1>
      <Section title="Enter a result" id="entry">
        <form onSubmit={submit} data-testid="qc-entry">
          <div class="filters">
            <label>
              Inspection plan
              <select name="plan" value={planId} onChange={(e) => setPlanId((e.target as HTMLSelectElement).value)}>
                <option value="">choose…</option>
                {(plans.data?.items ?? []).map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.id} — {p.name} ({p.scope}, v{p.version})
                  </option>
                ))}
              </select>
            </label>
            <label>
              Batch
              <input name="batch" value={batch} onInput={(e) => setBatch((e.target as HTMLInputElement).value)} />
            </label>
            <label>
              Lot
              <input name="lot" value={lot} onInput={(e) => setLot((e.target as HTMLInputElement).value)} />
            </label>
            <label>
              Station
              <input name="station" value={station} onInput={(e) => setStation((e.target as HTMLInputElement).value)} />
            </label>
            {failed.length > 0 && (
              <label>
                Retake of
                <select name="retakeOf" value={retakeOf} onChange={(e) => setRetakeOf((e.target as HTMLSelectElement).value)}>
                  <option value="">— (a new check)</option>
                  {failed.map((f) => (
                    <option key={f.id} value={f.id}>
                      {f.id} (failed {fmtTime(f.inspectedAt)})
                    </option>
                  ))}
                </select>
              </label>
            )}
          </div>
          {plan && (
            <table class="grid" data-testid="characteristics">
              <thead>
                <tr>
                  <th>Characteristic</th>
                  <th>Specification</th>
                  <th>Result</th>
                  <th>Preview</th>
                </tr>
              </thead>
              <tbody>
                {plan.characteristics.map((c: any) => {
                  const p = preview(c, values[c.code]);
                  return (
                    <tr key={c.code} data-characteristic={c.code}>
                      <td>
                        {c.code} — {c.name}
                      </td>
                      <td data-testid="spec">{spec(c)}</td>
                      <td>
                        {c.kind === 'measurement' ? (
                          <input name={`value-${c.code}`} inputMode="decimal" value={String(values[c.code] ?? '')} onInput={(e) => setValues({ ...values, [c.code]: (e.target as HTMLInputElement).value })} size={10} />
                        ) : (
                          <label style={{ flexDirection: 'row', gap: '6px' }}>
                            <input type="checkbox" name={`conforms-${c.code}`} checked={values[c.code] === true} onChange={(e) => setValues({ ...values, [c.code]: (e.target as HTMLInputElement).checked })} /> conforms
                          </label>
                        )}{' '}
                        {c.unit ?? ''}
                      </td>
                      <td data-testid="preview" class={p === 'pass' ? 'ok' : p === 'fail' ? 'error' : 'muted'}>
                        {p ? `${p} (preview)` : '—'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <p class="hint">The preview compares with the specification as you type; the gateway decides pass or fail when the result is recorded.</p>
          <button type="submit" class="primary" disabled={!plan || busy || (!batch.trim() && !lot.trim())} data-testid="qc-submit">
            Record result
          </button>
          <ErrorLine err={err} />
        </form>
        {answer && (
          <div class="card" data-testid="qc-answer" data-verdict={answer.verdict}>
            <p>
              Recorded <b>{answer.id}</b>: the gateway's verdict is <b class={`verdict ${answer.verdict === 'passed' ? 'ok' : 'error'}`}>{answer.verdict}</b>.
            </p>
            <ul>
              {answer.results.map((r: any) => (
                <li key={r.code}>
                  {r.code}: {r.value ?? String(r.conforms)} {r.unit ?? ''} → {r.verdict}
                </li>
              ))}
            </ul>
          </div>
        )}
      </Section>
      {(batch || lot) && (
        <Section title={`Results of ${batch ? `batch ${batch}` : `lot ${lot}`}`} id="recent">
          <ErrorLine err={recent.err} />
          <table class="grid" data-testid="qc-results">
            <tbody>
              {(recent.data?.items ?? []).map((q) => (
                <tr key={q.id}>
                  <td>{q.id}</td>
                  <td>{q.plan}</td>
                  <td>{fmtTime(q.inspectedAt)}</td>
                  <td>{q.inspectedBy}</td>
                  <td>{q.results.map((r: any) => `${r.code} ${r.value ?? String(r.conforms)} → ${r.verdict}`).join('; ')}</td>
                  <td>
                    <Status value={q.verdict} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </div>
  );
}
