/**
 * Batch page: live progress (polled every 3 s in the background): BOM consumed vs target per
 * material, produced/rejected against plan, the PackML state timeline (SVG, link gaps hatched),
 * and the batch record report as HTML, PDF and JSON (plain links: the session cookie opens them).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../routes';
import { linkClick } from '../router';
import { QA_VIEW, REPORTS, can } from '../roles';
import { LINK_GAP, colourOf, timelineSegments, type MachineRecord } from '../timeline';
import { ErrorLine, Section, Status, fmtTime, useApi } from '../ui';

const LIVE_MS = 3000;

export function BatchPage({ params, user }: PageProps) {
  const n = params.number!;
  const enc = encodeURIComponent(n);
  const batch = useApi<any>(`/batches/${enc}`, LIVE_MS);
  const rec = useApi<any>(`/batches/${enc}/reconciliation`, LIVE_MS);
  const machine = useMachineRecords(n);
  const b = batch.data;
  return (
    <div data-testid="batch-page">
      <h1>
        Batch {n} {b && <Status value={b.status} />}
      </h1>
      <ErrorLine err={batch.err} />
      {b && (
        <div class="cards">
          <Section title="Batch" id="header">
            <dl class="kv">
              <dt>Product</dt>
              <dd>
                {b.product} {b.productName ?? ''} {b.gtin ? <span class="muted">GTIN {b.gtin}</span> : null}
              </dd>
              <dt>Work order</dt>
              <dd>{b.workOrder ?? '—'}</dd>
              <dt>Line</dt>
              <dd>{b.line}</dd>
              <dt>Planned start</dt>
              <dd>{fmtTime(b.plannedStart)}</dd>
              <dt>Started</dt>
              <dd>{fmtTime(b.startedAt)}</dd>
              <dt>Completed</dt>
              <dd>{fmtTime(b.completedAt)}</dd>
              <dt>Released</dt>
              <dd>{fmtTime(b.releasedAt)}</dd>
            </dl>
            <p class="links" data-testid="report-links">
              {can(user, REPORTS) && (
                <>
                  <a href={`/batches/${enc}/report.html`} target="_blank" rel="noopener" data-testid="report-html">
                    Report (HTML)
                  </a>
                  <a href={`/batches/${enc}/report.pdf`} download={`batch-record-${n}.pdf`} data-testid="report-pdf">
                    Report (PDF)
                  </a>
                  <a href={`/batches/${enc}/report.json`} download={`batch-record-${n}.json`} data-testid="report-json">
                    JSON
                  </a>
                </>
              )}
              {can(user, QA_VIEW) && (
                <a href={`/ui/office/batches/${enc}/review`} onClick={linkClick} data-testid="to-review">
                  Review and release →
                </a>
              )}
            </p>
          </Section>
          <Section title="Produced" id="produced">
            <Produced b={b} yieldInfo={rec.data?.yield ?? null} />
          </Section>
        </div>
      )}
      <Section title="Materials: consumed vs target" id="bom">
        <ErrorLine err={rec.err} />
        {rec.data && <BomTable materials={rec.data.materials} />}
      </Section>
      <Section title="Machine timeline (PackML)" id="timeline">
        <ErrorLine err={machine.err} />
        {b && <Timeline records={machine.records} from={b.startedAt ?? b.createdAt} until={b.completedAt} />}
      </Section>
    </div>
  );
}

function Produced({ b, yieldInfo }: { b: any; yieldInfo: { pct: string | null; lowerPct: string; upperPct: string; within: boolean } | null }) {
  const planned = Number(b.plannedQty);
  const good = Number(b.producedQty);
  const rej = Number(b.rejectedQty);
  const pct = planned > 0 ? Math.min(100, (good / planned) * 100) : 0;
  return (
    <div>
      <dl class="kv">
        <dt>Planned</dt>
        <dd data-testid="planned">
          {b.plannedQty} {b.unit}
        </dd>
        <dt>Good</dt>
        <dd data-testid="good">
          {b.producedQty} {b.unit}
        </dd>
        <dt>Rejected</dt>
        <dd data-testid="rejected">
          {b.rejectedQty} {b.unit}
        </dd>
        <dt>Yield</dt>
        <dd data-testid="yield" class={yieldInfo && !yieldInfo.within ? 'warn' : ''}>
          {yieldInfo?.pct != null ? `${yieldInfo.pct} % of plan (limits ${yieldInfo.lowerPct}–${yieldInfo.upperPct} %)` : '—'}
        </dd>
        <dt>Good of counted</dt>
        <dd>{good + rej > 0 ? `${((good / (good + rej)) * 100).toFixed(2)} %` : '—'}</dd>
      </dl>
      <div class="bar" title={`${pct.toFixed(1)} % of plan`}>
        <span style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

function BomTable({ materials }: { materials: any[] }) {
  return (
    <table class="grid" data-testid="bom">
      <thead>
        <tr>
          <th>Material</th>
          <th class="num">Target</th>
          <th class="num">Tolerance</th>
          <th class="num">Consumed</th>
          <th class="num">Difference</th>
          <th>Progress</th>
          <th>Lots</th>
        </tr>
      </thead>
      <tbody>
        {materials.map((m) => {
          const max = Number(m.max) || Number(m.planned) || 1;
          const scale = Math.max(max, Number(m.consumed)) * 1.05;
          return (
            <tr key={m.material} data-material={m.material}>
              <td>{m.material}</td>
              <td class="num">
                {m.planned} {m.unit}
              </td>
              <td class="num">
                ±{m.tolerancePct} % ({m.min}…{m.max})
              </td>
              <td class="num" data-testid="consumed">
                {m.consumed} {m.unit}
              </td>
              <td class={`num ${m.withinTolerance ? '' : 'error'}`}>{m.difference}</td>
              <td>
                <div class="bar" title={`${m.consumed} of ${m.planned} ${m.unit}`}>
                  <span class={m.withinTolerance || Number(m.consumed) < Number(m.min) ? '' : 'over'} style={{ width: `${(Math.min(Number(m.consumed), scale) / scale) * 100}%` }} />
                  <i style={{ left: `${(Number(m.min) / scale) * 100}%` }} />
                  <i style={{ left: `${(Number(m.max) / scale) * 100}%` }} />
                </div>
              </td>
              <td>
                {(m.byLot ?? []).map((l: any) => (
                  <div key={l.lot}>
                    {l.lot} <span class="muted">{l.supplierLot ?? ''}</span> {l.net}
                  </div>
                ))}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The batch's machine.* records, fetched incrementally (after the last seq) every few seconds. */
function useMachineRecords(batch: string): { records: MachineRecord[]; err: unknown } {
  const [records, setRecords] = useState<MachineRecord[]>([]);
  const [err, setErr] = useState<unknown>(null);
  const last = useRef(0);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = async (background: boolean) => {
      try {
        for (let page = 0; page < 50 && !stop; page++) {
          const r = await api<{ items: MachineRecord[] }>('GET', `/records?batch=${encodeURIComponent(batch)}&type=machine.*&after=${last.current}&limit=1000`, undefined, { background });
          if (r.items.length) {
            last.current = r.items[r.items.length - 1]!.seq;
            setRecords((old) => [...old, ...r.items]);
          }
          if (r.items.length < 1000) break;
        }
        setErr(null);
      } catch (e) {
        setErr(e);
      }
      if (!stop) timer = setTimeout(() => void load(true), LIVE_MS);
    };
    void load(false);
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
  }, [batch]);
  return { records, err };
}

function Timeline({ records, from, until }: { records: MachineRecord[]; from: string; until: string | null }) {
  const start = Date.parse(from);
  const end = until ? Date.parse(until) : Date.now();
  const segs = timelineSegments(records, start, end);
  if (!segs.length) return <p class="muted">No machine state recorded for this batch.</p>;
  const stations = [...new Set(segs.map((s) => s.station ?? ''))];
  const W = 1000;
  const rowH = 26;
  const left = 90;
  const span = Math.max(1, end - start);
  const x = (ms: number): number => left + ((ms - start) / span) * (W - left - 10);
  const ticks = 6;
  const h = stations.length * (rowH + 8) + 24;
  const states = [...new Set(segs.map((s) => s.state))];
  return (
    <div>
      <svg class="timeline" viewBox={`0 0 ${W} ${h}`} role="img" aria-label="PackML state timeline" data-testid="timeline">
        <defs>
          <pattern id="gap" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="#fff" />
            <line x1="0" y1="0" x2="0" y2="6" stroke="#c62828" stroke-width="2" />
          </pattern>
        </defs>
        {stations.map((st, i) => {
          const y = i * (rowH + 8) + 4;
          return (
            <g key={st}>
              <text x={0} y={y + rowH / 2 + 4} font-size="12" fill="#5f6b76">
                {st || 'machine'}
              </text>
              {segs
                .filter((s) => (s.station ?? '') === st)
                .map((s) => (
                  <rect key={`${s.start}-${s.state}`} x={x(s.start)} y={y} width={Math.max(0.5, x(s.end) - x(s.start))} height={rowH} fill={s.gap ? 'url(#gap)' : colourOf(s.state)} stroke={s.gap ? '#c62828' : 'none'} data-state={s.state} data-gap={s.gap ? '1' : '0'}>
                    <title>{`${s.state}: ${new Date(s.start).toLocaleTimeString()} – ${new Date(s.end).toLocaleTimeString()} (${Math.round((s.end - s.start) / 1000)} s)`}</title>
                  </rect>
                ))}
            </g>
          );
        })}
        {Array.from({ length: ticks + 1 }, (_, i) => {
          const ms = start + (span * i) / ticks;
          return (
            <text key={i} x={x(ms)} y={h - 6} font-size="11" fill="#5f6b76" text-anchor={i === 0 ? 'start' : i === ticks ? 'end' : 'middle'}>
              {new Date(ms).toLocaleTimeString()}
            </text>
          );
        })}
      </svg>
      <div class="legend">
        {states.map((s) => (
          <span key={s}>
            <i style={{ background: s === LINK_GAP ? '#fdecea' : colourOf(s), border: s === LINK_GAP ? '1px solid #c62828' : 'none' }} />
            {s === LINK_GAP ? 'link lost (no data)' : s}
          </span>
        ))}
      </div>
    </div>
  );
}
