import type { Strings } from './i18n';
import { durText } from './station';

export interface MachineView {
  state: string | null;
  enteredAt: string | null;
  good: string | null;
  rejected: string | null;
  ratePerMin: string;
  link: string | null;
  linkLost: string | null;
  lastGapMs: number | null;
  lastGapAt: string | null;
}

/** Filling / machine station: PackML state with time in state, counters, rate, link and last gap, batch produced. */
export function MachinePanel({ t, m, now, produced, unit }: { t: Strings; m: MachineView; now: number; produced: string | null; unit: string | null }) {
  const inState = m.enteredAt ? now - Date.parse(m.enteredAt) : null;
  return (
    <section class="machine" data-testid="machine">
      <div class="mstate" data-testid="packml" data-state={m.state ?? ''}>
        <span class="label">{t.state}</span>
        <span class="value">{m.state ?? '—'}</span>
        {inState !== null && (
          <span class="instate">
            {t.inState} {durText(inState)}
          </span>
        )}
      </div>
      <dl class="mcounters">
        <dt>{t.good}</dt>
        <dd data-testid="good">{m.good ?? '—'}</dd>
        <dt>{t.reject}</dt>
        <dd data-testid="rejected">{m.rejected ?? '—'}</dd>
        <dt>{t.rate}</dt>
        <dd data-testid="rate">{m.ratePerMin} /min</dd>
        <dt>{t.produced}</dt>
        <dd data-testid="produced">
          {produced ?? '—'} {unit ?? ''}
        </dd>
        <dt>{t.link}</dt>
        <dd data-testid="link" data-state={m.link ?? ''}>
          {m.link ?? '—'}
        </dd>
        <dt>{t.lastGap}</dt>
        <dd data-testid="last-gap">{m.lastGapMs !== null ? `${(m.lastGapMs / 1000).toFixed(1)} s${m.lastGapAt ? ` @ ${new Date(m.lastGapAt).toLocaleTimeString()}` : ''}` : '—'}</dd>
      </dl>
    </section>
  );
}
