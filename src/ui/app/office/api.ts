/**
 * The office pages' calls to the gateway: same origin, the ordinary JSON API, with the page
 * session's token (from POST /ui/api/office/session) as the bearer token. The token lives in
 * sessionStorage (this tab only; gone when the tab closes); the server also set it as an httpOnly
 * cookie so that plain links to reports (GET only) open. Every page uses `api()`; a 401 (session
 * ended, token unknown) clears the session and the shell shows the sign-in again.
 */
export interface SessionUser {
  id: string;
  name: string;
  role: 'operator' | 'supervisor' | 'qa' | 'admin' | 'erp';
}
export interface Session {
  token: string;
  user: SessionUser;
  idleSeconds: number;
  expiresAt: string;
}

const KEY = 'linegate.office.session';
const listeners = new Set<(s: Session | null) => void>();

export function session(): Session | null {
  try {
    const v = sessionStorage.getItem(KEY);
    return v ? (JSON.parse(v) as Session) : null;
  } catch {
    return null;
  }
}

export function setSession(s: Session | null, why?: string): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  if (!s && why) sessionStorage.setItem(`${KEY}.ended`, why);
  for (const l of listeners) l(s);
}

/** Why the last session ended (shown on the sign-in form), read once. */
export function endedReason(): string | null {
  const v = sessionStorage.getItem(`${KEY}.ended`);
  sessionStorage.removeItem(`${KEY}.ended`);
  return v;
}

export function onSession(fn: (s: Session | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly details: any = null,
  ) {
    super(message);
  }
}

const SESSION_OVER = new Set(['LG_ERR_SESSION_EXPIRED', 'LG_ERR_AUTH_INVALID', 'LG_ERR_AUTH_REQUIRED']);

export interface CallOptions {
  /** The page called by itself (polling): does not count as the person's activity (idle timeout). */
  background?: boolean;
  timeoutMs?: number;
}

/** Call the JSON API as the signed-in person. Throws ApiError with the gateway's code. */
export async function api<T = any>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
  const s = session();
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), opts.timeoutMs ?? 15_000);
  try {
    const res = await fetch(path, {
      method,
      headers: {
        ...(s ? { authorization: `Bearer ${s.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.background ? { 'x-lg-background': '1' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
      cache: 'no-store',
    });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const err = new ApiError(res.status, parsed?.code ?? null, parsed?.message ?? String(text).slice(0, 200), parsed?.details ?? null);
      // The session is over (timed out, signed out elsewhere, daemon restarted): back to sign-in.
      // (Only the authentication codes: a refused SIGNATURE is a 401 too, and must not sign the person out.)
      if (res.status === 401 && s && SESSION_OVER.has(err.code ?? '') && path !== '/ui/api/office/session') setSession(null, err.message);
      throw err;
    }
    return parsed as T;
  } finally {
    clearTimeout(timer);
  }
}

export async function signIn(userId: string, secret: string): Promise<Session> {
  const r = await api<Session & { token: string }>('POST', '/ui/api/office/session', { userId, secret });
  const s: Session = { token: r.token, user: r.user, idleSeconds: r.idleSeconds, expiresAt: r.expiresAt };
  setSession(s);
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/ui/api/office/session');
  } catch {
    /* the session may already be over */
  }
  setSession(null, 'signed out');
}

/** URL with a query string from the set values of `q`. */
export function withQuery(path: string, q: Record<string, string | number | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== null && v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}
