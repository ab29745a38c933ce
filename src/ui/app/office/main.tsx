/**
 * The supervisor and QA pages (issue 14): sign-in, navigation by role, the route table
 * (routes.tsx). Built by src/ui/build.ts as its own bundle (office.js/office.css), so the station
 * panels' bundle stays small.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './office.css';
import { ApiError, api, endedReason, onSession, session, signIn, signOut, type Session } from './api';
import { HOME, ROUTES } from './routes';
import { linkClick, match, useLocation } from './router';
import { ErrorLine } from './ui';

function SignIn() {
  const [userId, setUserId] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const [ended] = useState(endedReason());
  document.title = 'linegate — sign in';
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await signIn(userId.trim(), secret);
    } catch (x) {
      setErr(x instanceof ApiError ? x : new ApiError(0, null, String((x as Error).message)));
      setSecret('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} data-testid="signin">
        <h1>linegate — supervisor and QA</h1>
        <p class="hint">Sign in with your user id and your signing secret (the password or PIN you sign with).</p>
        {ended && !err && <p class="note" data-testid="ended">Signed out: {ended}</p>}
        <label>
          User id
          <input name="userId" autoComplete="username" value={userId} onInput={(e) => setUserId((e.target as HTMLInputElement).value)} required autoFocus />
        </label>
        <label>
          Signing secret
          <input name="secret" type="password" autoComplete="current-password" value={secret} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} required />
        </label>
        <button type="submit" disabled={busy || !userId || !secret}>
          Sign in
        </button>
        {err && <ErrorLine err={err} />}
      </form>
    </main>
  );
}

/** Keep the server-side idle timer going while the person works in the page (typing a form calls no API). */
function useActivityKeepAlive(s: Session): void {
  useEffect(() => {
    let active = false;
    const mark = () => {
      active = true;
    };
    const events = ['keydown', 'pointerdown', 'wheel'];
    for (const e of events) window.addEventListener(e, mark, { passive: true });
    const every = Math.max(10, Math.min(60, Math.floor(s.idleSeconds / 3))) * 1000;
    const timer = setInterval(() => {
      if (!active) return;
      active = false;
      void api('GET', '/ui/api/office/session').catch(() => undefined);
    }, every);
    return () => {
      for (const e of events) window.removeEventListener(e, mark);
      clearInterval(timer);
    };
  }, [s.token]);
}

function Shell({ s }: { s: Session }) {
  let { path, query } = useLocation();
  useActivityKeepAlive(s);
  if (path === '/ui/office' || path === '/ui/office/') {
    history.replaceState(null, '', HOME);
    path = HOME;
  }
  let found: { route: (typeof ROUTES)[number]; params: Record<string, string> } | null = null;
  for (const route of ROUTES) {
    const params = match(route.path, path);
    if (params) {
      found = { route, params };
      break;
    }
  }
  const allowed = found ? found.route.roles.includes(s.user.role) : false;
  const title = found ? found.route.title(found.params) : 'Not found';
  document.title = `${title} — linegate`;
  const Page = found?.route.component;
  return (
    <div class="office">
      <header class="top">
        <a class="brand" href={HOME} onClick={linkClick}>
          linegate
        </a>
        <nav data-testid="nav">
          {ROUTES.filter((r) => r.nav && r.roles.includes(s.user.role)).map((r) => (
            <a key={r.path} href={r.path} onClick={linkClick} class={path === r.path || path.startsWith(`${r.path}/`) ? 'on' : ''} data-nav={r.path}>
              {r.nav}
            </a>
          ))}
        </nav>
        <span class="who" data-testid="who">
          {s.user.name} <span class="role">({s.user.id}, {s.user.role})</span>
        </span>
        <button class="signout" onClick={() => void signOut()} data-testid="signout">
          Sign out
        </button>
      </header>
      <main class="page">
        {!found && (
          <p class="error" data-testid="not-found">
            No such page: {path}
          </p>
        )}
        {found && !allowed && (
          <div class="refused" data-testid="refused">
            <h1>Not allowed</h1>
            <p>
              {title} is for {found.route.roles.join(', ')}; you are signed in as {s.user.id} ({s.user.role}).
            </p>
          </div>
        )}
        {found && allowed && Page && <Page key={path} params={found.params} query={query} user={s.user} />}
      </main>
    </div>
  );
}

function App() {
  const [s, setS] = useState<Session | null>(session());
  useEffect(() => onSession(setS), []);
  return s ? <Shell s={s} /> : <SignIn />;
}

render(<App />, document.getElementById('app')!);
