/**
 * Device health: every driver's state (scanners, scales, OPC UA machines, and devices that failed
 * to start), since when, its last reading and last error with the code; then the other subsystems
 * (journal, printers, upstream…). From GET /health/ready with the person's token (details shown to
 * any signed-in user), refreshed every 5 s. A degraded gateway answers 503 with the same body.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, session } from '../api';
import type { PageProps } from '../routes';
import { ErrorLine, fmtTime } from '../ui';

interface Health {
  status: string;
  subsystems: Record<string, any>;
}

async function readHealth(): Promise<Health> {
  const s = session();
  const res = await fetch('/health/ready', { headers: s ? { authorization: `Bearer ${s.token}`, 'x-lg-background': '1' } : {}, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!body || !body.subsystems) throw new ApiError(res.status, body?.code ?? null, body?.message ?? `HTTP ${res.status}`);
  return body as Health;
}

export function DevicesPage(_: PageProps) {
  const [h, setH] = useState<Health | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      readHealth()
        .then((x) => live && (setH(x), setErr(null)))
        .catch((e) => live && setErr(e));
    void load();
    const t = setInterval(load, 5_000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  const drivers: any[] = Array.isArray(h?.subsystems.drivers) ? h!.subsystems.drivers : [];
  const others = Object.entries(h?.subsystems ?? {}).filter(([k]) => k !== 'drivers');
  return (
    <div>
      <h1>Device health</h1>
      <ErrorLine err={err} />
      {h && (
        <p data-testid="gateway-status">
          Gateway: <b class={`dev-state dev-${h.status === 'ready' ? 'online' : 'degraded'}`}>{h.status}</b>
        </p>
      )}
      <table class="grid" data-testid="drivers">
        <thead>
          <tr><th>Device</th><th>Kind</th><th>State</th><th>Since</th><th>Last reading</th><th>Last error</th><th>Details</th></tr>
        </thead>
        <tbody>
          {drivers.map((d) => (
            <tr key={d.id} data-device={d.id} data-state={d.state}>
              <td>{d.id}</td>
              <td>{d.kind ?? '—'}</td>
              <td><span class={`dev-state dev-${d.state}`}>{d.state}</span></td>
              <td>{fmtTime(d.since)}</td>
              <td>{fmtTime(d.lastReadingAt)}</td>
              <td>{d.lastError ? <><code class="code">{d.lastError.code}</code> {d.lastError.message}</> : '—'}</td>
              <td><pre class="json">{d.details ? JSON.stringify(d.details) : ''}</pre></td>
            </tr>
          ))}
        </tbody>
      </table>
      {h && drivers.length === 0 && <p class="muted">No device drivers configured.</p>}
      <h2 class="subsystems-h">Subsystems</h2>
      <table class="grid" data-testid="subsystems">
        <thead><tr><th>Part</th><th>State</th><th>Details</th></tr></thead>
        <tbody>
          {others.map(([k, v]) => (
            <tr key={k} data-subsystem={k}>
              <td>{k}</td>
              <td><span class={`dev-state dev-${v?.state ?? 'online'}`}>{v?.state ?? (Array.isArray(v) ? `${v.length} parts` : 'online')}</span></td>
              <td><pre class="json">{JSON.stringify(v)}</pre></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
