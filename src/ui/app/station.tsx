import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, call, kioskToken, saveKioskToken } from './api';
import { CATALOGUES, fmt, type Lang, type Strings } from './i18n';
import { Pairing } from './pairing';
import { openStream, type ConnState } from './sse';
import { playVerdict, unlockAudio } from './sound';
import { attachWedge } from './wedge';
import { WeighingPanel, type LiveWeight } from './weighing';
import { MachinePanel, type MachineView } from './machine';
import { PackingPanel, type PackingView } from './packing';

export interface Verdict {
  seq: number;
  id: string;
  type: string;
  accepted: boolean;
  code: string | null;
  message: string | null;
  batch: string | null;
  lot: string | null;
  operator: string | null;
  device: string | null;
  at: string;
  detail?: Record<string, unknown>;
  replayed?: boolean;
  /** Page-local: when this page painted it (performance.now()), for the latency figures. */
  paintedAt?: number;
}

export interface View {
  station: { id: string; name: string; role: string; ui: { lang: Lang; idleSignOutSeconds: number; verdictFreshSeconds: number; wedge: { maxKeyIntervalMs: number; minLength: number } }; signOutCode: string | null };
  kiosk: { id: string; name: string };
  serverTime: string;
  lastSeq: number;
  operator: { id: string; name: string; role: string | null } | null;
  batch: {
    number: string;
    product: string;
    productName: string | null;
    status: string;
    plannedQty: string;
    producedQty: string;
    rejectedQty: string;
    unit: string;
    bom: Array<{ material: string; name: string | null; quantity: string; unit: string; tolerancePct: string; consumed: string; remaining: string }>;
  } | null;
  lots: Array<{ id: string; material: string; supplier?: string | null; supplierLot?: string | null; expiry?: string | null; status?: string; quantity?: string; unit?: string }>;
  devices: Array<{ id: string; kind: string; state: string; since: string; lastError: { code: string; message: string } | null; details?: Record<string, unknown> }>;
  printers: Array<{ printer: string; ready: boolean; condition: string; message: string | null; needsConfirmation: number; queued: number }>;
  recent: Verdict[];
  machine?: MachineView;
  packing?: PackingView;
}

/** Refusals a supervisor may override at the panel (the gateway's OVERRIDABLE set). */
const OVERRIDABLE = new Set(['LG_ERR_LOT_EXPIRED', 'LG_ERR_LOT_ON_HOLD', 'LG_ERR_LOT_QUARANTINED']);

/** Records a person at the station caused and must see a verdict for (machine counters are not). */
export function isOperatorFacing(v: { type: string }): boolean {
  return !v.type.startsWith('machine.') && !v.type.startsWith('label.') && v.type !== 'batch.status_changed';
}

const MAX_VERDICTS = 30;

export function StationPage({ id }: { id: string }) {
  const [token, setToken] = useState<string | null>(() => kioskToken(id));
  const [authMsg, setAuthMsg] = useState<string | null>(null);
  if (!token) {
    return (
      <Pairing
        station={id}
        lang={'en'}
        message={authMsg}
        onPaired={() => {
          setAuthMsg(null);
          setToken(kioskToken(id));
        }}
      />
    );
  }
  return (
    <Station
      id={id}
      token={token}
      onUnauthorized={(msg) => {
        saveKioskToken(id, null);
        setAuthMsg(msg);
        setToken(null);
      }}
    />
  );
}

function Station({ id, token, onUnauthorized }: { id: string; token: string; onUnauthorized(msg: string): void }) {
  const [view, setView] = useState<View | null>(null);
  const [conn, setConn] = useState<ConnState>('connecting');
  const [verdicts, setVerdicts] = useState<Verdict[]>([]);
  const [weight, setWeight] = useState<LiveWeight | null>(null);
  const [flash, setFlash] = useState<{ text: string; at: number } | null>(null);
  const [, setTick] = useState(0);
  const offset = useRef(0);
  const base = `/ui/api/kiosk/stations/${encodeURIComponent(id)}`;
  const connRef = useRef<ConnState>('connecting');
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const lang: Lang = view?.station.ui.lang ?? 'en';
  const t = CATALOGUES[lang];

  // Views can come back out of order (two refreshes in flight): only a newer request may replace the view.
  const viewReq = useRef({ sent: 0, applied: 0 });
  const loadView = useCallback(async (): Promise<View | null> => {
    const n = ++viewReq.current.sent;
    try {
      const v = await call<View>('GET', `${base}/view`, token);
      if (n < viewReq.current.applied) return v;
      viewReq.current.applied = n;
      offset.current = Date.parse(v.serverTime) - Date.now();
      setView(v);
      return v;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) onUnauthorized(e.message);
      return null;
    }
  }, [base, token]);

  const addVerdicts = useCallback((vs: Verdict[]) => {
    setVerdicts((cur) => {
      const bySeq = new Map(cur.map((v) => [v.seq, v]));
      for (const v of vs) if (!bySeq.has(v.seq)) bySeq.set(v.seq, v);
      return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, MAX_VERDICTS);
    });
  }, []);

  const refreshSoon = useCallback(() => {
    if (refreshTimer.current) return;
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      void loadView();
    }, 150);
  }, [loadView]);

  // First the view (its lastSeq is where the stream resumes), then the stream.
  useEffect(() => {
    let stream: ReturnType<typeof openStream> | null = null;
    let gone = false;
    void (async () => {
      let v: View | null = null;
      while (!gone && !(v = await loadView())) await new Promise((r) => setTimeout(r, 1000));
      if (gone || !v) return;
      addVerdicts(v.recent.filter(isOperatorFacing));
      let wasDown = false;
      stream = openStream({
        url: `${base}/events`,
        token,
        lastEventId: v.lastSeq,
        onState: (s) => {
          connRef.current = s;
          setConn(s);
          (window as any).__lg = { ...((window as any).__lg ?? {}), conn: s };
          if (s === 'down') wasDown = true;
          if (s === 'live' && wasDown) {
            wasDown = false;
            refreshSoon();
          }
        },
        onEvent: (event, data) => {
          if (event === 'record') {
            const rec = data as Verdict;
            if (isOperatorFacing(rec)) {
              rec.paintedAt = performance.now();
              addVerdicts([rec]);
              const age = Date.now() + offset.current - Date.parse(rec.at);
              if (!rec.replayed && age < (v!.station.ui.verdictFreshSeconds ?? 8) * 1000) playVerdict(rec.accepted);
            }
            // A refused reading changes nothing the view shows (no effects); machine and counter
            // records do change the machine panel even when refused (counter state).
            if (rec.accepted || !isOperatorFacing(rec) || rec.type === 'counter.updated') refreshSoon();
          } else if (event === 'device') {
            setView((cur) => (cur ? { ...cur, devices: cur.devices.map((d) => (d.id === data.id ? data : d)) } : cur));
          } else if (event === 'printer') {
            setView((cur) => (cur ? { ...cur, printers: cur.printers.some((p) => p.printer === data.printer) ? cur.printers.map((p) => (p.printer === data.printer ? data : p)) : [...cur.printers, data] } : cur));
            refreshSoon(); // jobs to confirm and the last label come with the view
          } else if (event === 'weight') {
            setWeight({ ...(data as LiveWeight), receivedAt: performance.now() });
            // Counted for the tests and the bench (updates per second, latency); nothing reads it in the page.
            const lg = ((window as any).__lg ??= {});
            lg.weights = (lg.weights ?? 0) + 1;
            lg.lastWeight = { net: data.net, at: data.at, receivedAt: Date.now() };
          } else if (event === 'reset') {
            void loadView().then((nv) => nv && setVerdicts(nv.recent.filter(isOperatorFacing)));
          } else if (event === 'unauthorized') {
            onUnauthorized(String(data?.message ?? 'unauthorized'));
          }
        },
      });
    })();
    return () => {
      gone = true;
      stream?.close();
    };
  }, [base, token]);

  // Ages are shown in seconds: repaint once a second.
  useEffect(() => {
    const i = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(i);
  }, []);

  // Keyboard-wedge scanner and touch activity.
  useEffect(() => {
    if (!view) return;
    const w = view.station.ui.wedge;
    const detach = attachWedge(document, {
      maxKeyIntervalMs: w.maxKeyIntervalMs,
      minLength: w.minLength,
      onScan: (text) => {
        if (connRef.current !== 'live') {
          setFlash({ text: t.notRecorded, at: Date.now() });
          playVerdict(false);
          return;
        }
        call<{ record: Verdict }>('POST', `${base}/scans`, token, { data: text })
          .then((r) => {
            r.record.paintedAt = performance.now();
            addVerdicts([r.record]);
          })
          .catch(() => {
            setFlash({ text: t.notConfirmed, at: Date.now() });
            playVerdict(false);
          });
      },
    });
    let lastTouch = 0;
    const onPointer = (): void => {
      unlockAudio();
      if (Date.now() - lastTouch > 30_000) {
        lastTouch = Date.now();
        void call('POST', `${base}/activity`, token).catch(() => {});
      }
    };
    document.addEventListener('pointerdown', onPointer);
    return () => {
      detach();
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [view?.station.id, lang, base, token]);

  useEffect(() => {
    if (view) document.title = `${view.station.id} — ${view.station.name}`;
  }, [view?.station.id]);

  // Measurement for `npm run bench` only (a page opened with window.__lgMeasure = true): when each
  // verdict and weight was on screen. Effects run after the browser painted the frame.
  const measured = useRef(new Set<number>());
  useEffect(() => {
    const w = window as any;
    if (!w.__lgMeasure) return;
    const now = performance.timeOrigin + performance.now();
    w.__lgPainted ??= [];
    for (const v of verdicts) {
      if (measured.current.has(v.seq)) continue;
      measured.current.add(v.seq);
      if (w.__lgPainted.length < 100_000) w.__lgPainted.push([v.seq, now]);
    }
  }, [verdicts]);
  useEffect(() => {
    const w = window as any;
    if (!w.__lgMeasure || !weight) return;
    w.__lgWeightPainted ??= [];
    if (w.__lgWeightPainted.length < 100_000) w.__lgWeightPainted.push([weight.net, performance.timeOrigin + performance.now()]);
  }, [weight]);

  if (!view) return <main class="station loading">{t.connecting}</main>;

  const now = Date.now() + offset.current;
  const fresh = view.station.ui.verdictFreshSeconds * 1000;
  const current = verdicts[0] ?? null;
  const signOut = async (): Promise<void> => {
    await call('POST', `${base}/sign-out`, token).catch(() => {});
    refreshSoon();
  };

  return (
    <main class={`station role-${view.station.role}`} data-conn={conn} lang={lang}>
      {conn !== 'live' && (
        <div class="unreachable" role="alert" data-testid="unreachable">
          <div class="big">{conn === 'connecting' ? t.connecting : t.offline}</div>
          <div>{t.offlineLong}</div>
        </div>
      )}
      <header class="top">
        <div class="sid">
          <span class="station-id">{view.station.id}</span> <span class="station-name">{view.station.name}</span>
        </div>
        <BatchBox t={t} view={view} />
        <div class="operator" data-testid="operator">
          <span class="label">{t.operator}</span>
          {view.operator ? (
            <>
              <span class="value">{view.operator.name}</span>
              <button class="signout" data-testid="sign-out" onClick={signOut}>
                {t.signOut}
              </button>
            </>
          ) : (
            <span class="value none">{t.noOperator}</span>
          )}
        </div>
        <div class={`conn conn-${conn}`} data-testid="conn">
          ● {conn === 'live' ? t.live : conn === 'connecting' ? t.connecting : t.offline}
        </div>
      </header>
      <DeviceStrip t={t} view={view} />
      {flash && Date.now() - flash.at < 10_000 && (
        <div class="flash" role="alert" data-testid="flash">
          ✗ {flash.text}
        </div>
      )}
      <section class="main">
        <VerdictPanel t={t} v={current} now={now} fresh={fresh} live={conn === 'live'}>
          {current && !current.accepted && current.type === 'lot.scanned' && current.code && OVERRIDABLE.has(current.code) && now - Date.parse(current.at) < 10 * 60_000 && (
            <Override key={current.seq} t={t} record={current.id} base={base} token={token} onDone={(v) => addVerdicts([v])} />
          )}
        </VerdictPanel>
        {view.station.role === 'weighing' && <WeighingPanel t={t} view={view} weight={weight} verdicts={verdicts} />}
        {view.machine && <MachinePanel t={t} m={view.machine} now={now} produced={view.batch?.producedQty ?? null} unit={view.batch?.unit ?? null} />}
        {view.packing && <PackingPanel t={t} p={view.packing} base={base} token={token} onDone={refreshSoon} />}
      </section>
      <VerdictList t={t} verdicts={verdicts} now={now} fresh={fresh} />
    </main>
  );
}

function BatchBox({ t, view }: { t: Strings; view: View }) {
  const b = view.batch;
  return (
    <div class="batch" data-testid="batch">
      <span class="label">{t.batch}</span>
      {b ? (
        <>
          <span class="value number">{b.number}</span>
          <span class="product">{b.productName ?? b.product}</span>
          <span class={`status status-${b.status}`}>{b.status}</span>
        </>
      ) : (
        <span class="value none">{t.noBatch}</span>
      )}
    </div>
  );
}

function stateWord(t: Strings, s: string): string {
  return s === 'online' ? t.online : s === 'degraded' ? t.degraded : s === 'offline' ? t.offlineDev : s === 'connecting' ? t.connectingDev : t.stopped;
}

function DeviceStrip({ t, view }: { t: Strings; view: View }) {
  return (
    <nav class="devices" aria-label={t.devices} data-testid="devices">
      {view.devices.map((d) => (
        <div key={d.id} class={`dev dev-${d.state}`} data-device={d.id} data-state={d.state}>
          <span class="dot">{d.state === 'online' ? '●' : d.state === 'degraded' ? '▲' : '■'}</span>
          <span class="dkind">{d.kind}</span> <span class="did">{d.id}</span> <span class="dstate">{stateWord(t, d.state)}</span>
          {d.state !== 'online' && d.lastError && <span class="dreason">{d.lastError.message}</span>}
        </div>
      ))}
      {view.printers.map((p) => (
        <div key={p.printer} class={`dev dev-${p.ready ? 'online' : 'degraded'}`} data-device={p.printer} data-state={p.ready ? 'online' : 'degraded'}>
          <span class="dot">{p.ready ? '●' : '▲'}</span>
          <span class="dkind">{t.printer}</span> <span class="did">{p.printer}</span> <span class="dstate">{p.ready ? t.ready : p.condition}</span>
          {!p.ready && p.message && <span class="dreason">{p.message}</span>}
        </div>
      ))}
    </nav>
  );
}

export function ageText(t: Strings, ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? fmt(t.ago, { n: s }) : fmt(t.agoMin, { n: Math.round(s / 60) });
}

/** A duration for "time in state": 45 s, 12 min, 3 h 05 min. */
export function durText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function headline(t: Strings, v: Verdict): string {
  if (!v.accepted && v.code && t.codes[v.code]) return t.codes[v.code]![0];
  const type = t.type[v.type] ?? v.type;
  const d = v.detail ?? {};
  const what = v.type === 'station.command' ? String(d.command ?? '') : v.type === 'material.consumed' ? `${String(d.quantity ?? d.net ?? '')} ${String(d.quantityUnit ?? d.unit ?? '')}`.trim() : v.type === 'batch.selected' ? (v.batch ?? '') : v.type.startsWith('operator.') ? (v.operator ?? '') : (v.lot ?? '');
  return what ? `${type}: ${what}` : type;
}

function VerdictPanel({ t, v, now, fresh, live, children }: { t: Strings; v: Verdict | null; now: number; fresh: number; live: boolean; children?: preact.ComponentChildren }) {
  if (!v) {
    return (
      <section class="verdict none" data-testid="verdict" data-verdict="none">
        <div class="big">{t.noVerdict}</div>
      </section>
    );
  }
  const age = now - Date.parse(v.at);
  const old = age > fresh || !live;
  const todo = !v.accepted ? (v.code && t.codes[v.code] ? t.codes[v.code]![1] : null) : null;
  return (
    <section
      class={`verdict ${v.accepted ? 'ok' : 'bad'} ${old ? 'old' : 'fresh'}`}
      data-testid="verdict"
      data-verdict={v.accepted ? 'accepted' : 'refused'}
      data-fresh={old ? 'old' : 'fresh'}
      data-seq={v.seq}
      data-code={v.code ?? ''}
      aria-live="assertive"
    >
      {old && (
        <div class="oldmark" data-testid="old">
          {t.old} — {ageText(t, age)}
        </div>
      )}
      <div class="icon" aria-hidden="true">
        {v.accepted ? '✔' : '✖'}
      </div>
      <div class="words">{v.accepted ? t.accepted : t.refused}</div>
      <div class="headline">{headline(t, v)}</div>
      {todo && (
        <div class="todo">
          <span class="label">{t.whatToDo}:</span> {todo}
        </div>
      )}
      {!v.accepted && v.message && <div class="message">{v.message}</div>}
      <div class="time">
        {new Date(v.at).toLocaleTimeString()} · {ageText(t, age)}
      </div>
      {children}
    </section>
  );
}

function VerdictList({ t, verdicts, now, fresh }: { t: Strings; verdicts: Verdict[]; now: number; fresh: number }) {
  const list = useMemo(() => verdicts.slice(0, 12), [verdicts]);
  return (
    <section class="verdicts" data-testid="verdicts">
      <h2>{t.lastVerdicts}</h2>
      <ol>
        {list.map((v) => (
          <li key={v.seq} class={`${v.accepted ? 'ok' : 'bad'} ${now - Date.parse(v.at) > fresh ? 'old' : ''}`} data-seq={v.seq} data-verdict={v.accepted ? 'accepted' : 'refused'}>
            <span class="vt">{new Date(v.at).toLocaleTimeString()}</span>
            <span class="vi">{v.accepted ? '✔' : '✖'}</span>
            <span class="vh">{headline(t, v)}</span>
            {!v.accepted && <span class="vc">{v.code}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}

/**
 * Supervisor override at the panel: the supervisor scans their badge into the first field (a
 * wedge scanner types into the focused field; the page's scan detection ignores form fields),
 * enters their PIN and a reason. The gateway checks badge + PIN and records who granted it, who
 * asked (the operator signed in) and why.
 */
function Override({ t, record, base, token, onDone }: { t: Strings; record: string; base: string; token: string; onDone(v: Verdict): void }) {
  const [open, setOpen] = useState(false);
  const [badge, setBadge] = useState('');
  const [pin, setPin] = useState('');
  const [reason, setReason] = useState('');
  const [err, setErr] = useState<string | null>(null);
  if (!open) {
    return (
      <button class="override-open" data-testid="override" onClick={() => setOpen(true)}>
        {t.override}
      </button>
    );
  }
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setErr(null);
    try {
      const r = await call<{ record: Verdict }>('POST', `${base}/override`, token, { record, badge, pin, reason });
      setOpen(false);
      onDone(r.record);
    } catch (x) {
      setErr(x instanceof ApiError && x.code && t.codes[x.code] ? `${t.codes[x.code]![0]} — ${t.codes[x.code]![1]}` : (x as Error).message);
      setPin('');
    }
  };
  return (
    <form class="override" data-testid="override-form" onSubmit={submit}>
      <input name="badge" autocomplete="off" placeholder={t.supervisorBadge} value={badge} onInput={(e) => setBadge((e.target as HTMLInputElement).value)} autoFocus />
      <input name="pin" type="password" inputMode="numeric" autocomplete="off" placeholder={t.pin} value={pin} onInput={(e) => setPin((e.target as HTMLInputElement).value)} />
      <input name="reason" autocomplete="off" placeholder={t.reason} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled={!badge || !pin || !reason.trim()}>
        {t.grant}
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        {t.cancel}
      </button>
      {err && (
        <p class="error" role="alert" data-testid="override-error">
          {err}
        </p>
      )}
    </form>
  );
}
