import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { call } from './api';
import { CATALOGUES, type Lang } from './i18n';
import { StationPage } from './station';

interface StationItem {
  id: string;
  name: string;
  role: string;
  lang: Lang;
}

function Index() {
  const [items, setItems] = useState<StationItem[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    call<{ items: StationItem[] }>('GET', '/ui/api/stations', null)
      .then((r) => setItems(r.items))
      .catch((e) => setErr(String(e.message)));
  }, []);
  const t = CATALOGUES.en;
  document.title = t.title;
  return (
    <main class="index">
      <h1>{t.stations}</h1>
      {err && <p class="error">{err}</p>}
      <ul class="station-list">
        {(items ?? []).map((s) => (
          <li key={s.id}>
            <a href={`/ui/stations/${encodeURIComponent(s.id)}`} data-station={s.id}>
              <span class="sid">{s.id}</span> <span class="sname">{s.name}</span> <span class="srole">{s.role}</span>
            </a>
          </li>
        ))}
      </ul>
    </main>
  );
}

function App() {
  const m = /^\/ui\/stations\/([^/]+)\/?$/.exec(location.pathname);
  if (m) return <StationPage id={decodeURIComponent(m[1]!)} />;
  return <Index />;
}

render(<App />, document.getElementById('app')!);
