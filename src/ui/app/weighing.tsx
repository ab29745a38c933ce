import { fmt, type Strings } from './i18n';
import type { Verdict, View } from './station';
import { windowOf } from './tolerance';

export interface LiveWeight {
  device: string;
  net: string;
  unit: string;
  stable: boolean;
  phase?: string;
  at: string;
  /** performance.now() when the page received it. */
  receivedAt?: number;
}

function n(v: number): string {
  return v.toFixed(3).replace(/\.?0+$/, '') || '0';
}

export function WeighingPanel({ t, view, weight, verdicts }: { t: Strings; view: View; weight: LiveWeight | null; verdicts: Verdict[] }) {
  const b = view.batch;
  const lot = view.lots.length ? view.lots[view.lots.length - 1]! : null;
  const line = b && lot ? b.bom.find((l) => l.material === lot.material) : undefined;
  // Once the scale's placement is captured, that weight is in `consumed` already: the current
  // addition is zero until the platform is emptied or the load moves.
  const net = weight ? (weight.phase === 'captured' ? 0 : Number(weight.net)) : null;
  const w = line && weight && net !== null ? windowOf(line, net, weight.unit, line.unit) : null;
  const captures = verdicts.filter((v) => v.type === 'material.consumed').slice(0, 8);
  // The bar spans 0 … 120 % of the upper limit.
  const span = w ? Math.max(w.max * 1.2, w.after, 1e-9) : 1;
  const pct = (x: number): string => `${Math.max(0, Math.min(100, (x / span) * 100)).toFixed(2)}%`;
  return (
    <section class="weighing" data-testid="weighing">
      <div class="lot" data-testid="active-lot">
        <h2>{t.activeLot}</h2>
        {lot ? (
          <dl>
            <dt>{t.material}</dt>
            <dd>{lot.material}</dd>
            <dt>Lot</dt>
            <dd class="lot-id">{lot.id}</dd>
            <dt>{t.supplierLot}</dt>
            <dd>{lot.supplierLot ?? '—'}</dd>
            <dt>{t.expiry}</dt>
            <dd>{lot.expiry ?? '—'}</dd>
            <dt>{t.status}</dt>
            <dd class={`status status-${lot.status}`}>{lot.status}</dd>
            <dt>{t.onHand}</dt>
            <dd>
              {lot.quantity} {lot.unit}
            </dd>
          </dl>
        ) : (
          <p class="none">{t.noLot}</p>
        )}
      </div>
      <div class="scale" data-testid="scale">
        <h2>{t.weight}</h2>
        {weight ? (
          <div class={`reading ${weight.stable ? 'stable' : 'moving'}`} data-testid="live-weight" data-net={weight.net} data-stable={String(weight.stable)}>
            <span class="net">{weight.net}</span> <span class="unit">{weight.unit}</span>
            <span class="stab">{weight.stable ? `▣ ${t.stable}` : `~ ${t.unstable}`}</span>
          </div>
        ) : (
          <p class="none">{t.noScale}</p>
        )}
        {w && line && (
          <div class={`tolbar pos-${w.position}`} data-testid="tolbar" data-position={w.position}>
            <div class="track">
              <div class="window" style={{ left: pct(w.min), width: `calc(${pct(w.max)} - ${pct(w.min)})` }} />
              <div class="consumed" style={{ width: pct(Number(line.consumed)) }} />
              <div class="marker" style={{ left: pct(w.after) }} />
            </div>
            <div class="poslabel">
              {w.position === 'under' ? `▼ ${t.under}` : w.position === 'over' ? `▲ ${t.over}` : `✔ ${t.within}`} · {n(w.after)} {line.unit} · {fmt(t.window, { min: n(w.min), max: n(w.max), unit: line.unit })}
            </div>
          </div>
        )}
      </div>
      {b && (
        <table class="bom" data-testid="bom">
          <caption>{t.bom}</caption>
          <thead>
            <tr>
              <th>{t.material}</th>
              <th>{t.target}</th>
              <th>{t.tolerance}</th>
              <th>{t.consumed}</th>
              <th>{t.remaining}</th>
            </tr>
          </thead>
          <tbody>
            {b.bom.map((l) => (
              <tr key={l.material} class={lot?.material === l.material ? 'active' : ''} data-material={l.material}>
                <td>
                  {l.material} {l.name && <span class="mname">{l.name}</span>}
                </td>
                <td>
                  {l.quantity} {l.unit}
                </td>
                <td>± {l.tolerancePct} %</td>
                <td class="consumed">{l.consumed}</td>
                <td class="remaining">{l.remaining}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="captures" data-testid="captures">
        <h2>{t.captures}</h2>
        <ol>
          {captures.map((c) => (
            <li key={c.seq} class={c.accepted ? 'ok' : 'bad'} data-seq={c.seq}>
              {new Date(c.at).toLocaleTimeString()} {c.accepted ? '✔' : '✖'} {String(c.detail?.quantity ?? c.detail?.net ?? '')} {String(c.detail?.quantityUnit ?? c.detail?.unit ?? '')} {c.lot ?? ''} {!c.accepted && c.code}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
