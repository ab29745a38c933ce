import { useEffect, useState } from 'preact/hooks';
import { call, saveKioskToken } from './api';
import { CATALOGUES, fmt, type Lang } from './i18n';

/** A panel that holds no credential for its station: whoever stands there types the admin's pairing code once. */
export function Pairing({ station, lang, message, onPaired }: { station: string; lang: Lang; message?: string | null; onPaired(): void }) {
  const t = CATALOGUES[lang];
  const [code, setCode] = useState('');
  const [err, setErr] = useState<string | null>(message ?? null);
  const pair = async (code: string): Promise<void> => {
    try {
      const r = await call<{ token: string; kiosk: { station: string } }>('POST', '/ui/api/pair', null, { code });
      if (r.kiosk.station !== station) {
        setErr(fmt(t.pairFailed, { msg: `code is for ${r.kiosk.station}` }));
        saveKioskToken(r.kiosk.station, r.token);
        return;
      }
      saveKioskToken(station, r.token);
      onPaired();
    } catch (x) {
      setErr(fmt(t.pairFailed, { msg: (x as Error).message }));
    }
  };
  const submit = (e: Event): void => {
    e.preventDefault();
    void pair(code);
  };
  // A link with `#pair=CODE` (printed by `linegate demo`) pairs at once; the fragment is removed.
  useEffect(() => {
    const m = /^#pair=([A-Za-z0-9-]{6,20})$/.exec(location.hash);
    if (!m) return;
    history.replaceState(null, '', location.pathname + location.search);
    void pair(m[1]!);
  }, []);
  return (
    <main class="pairing">
      <h1>{fmt(t.notPaired, { station })}</h1>
      <p>{t.pairHelp}</p>
      <form onSubmit={submit}>
        <label>
          {t.pairingCode}
          <input name="code" autocomplete="off" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t.pair}</button>
      </form>
      {err && <p class="error" role="alert">{err}</p>}
    </main>
  );
}

