/** The page's calls to the gateway: same origin, the kiosk token of this panel's station. */
const KEY = (station: string): string => `linegate.kiosk.${station}`;

export function kioskToken(station: string): string | null {
  try {
    return localStorage.getItem(KEY(station));
  } catch {
    return null;
  }
}

export function saveKioskToken(station: string, token: string | null): void {
  if (token) localStorage.setItem(KEY(station), token);
  else localStorage.removeItem(KEY(station));
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T = any>(method: string, path: string, token: string | null, body?: unknown, timeoutMs = 8000): Promise<T> {
  const ctrl = new AbortController();
  const t = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
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
    if (!res.ok) throw new ApiError(res.status, parsed?.code ?? null, parsed?.message ?? String(text).slice(0, 200));
    return parsed as T;
  } finally {
    clearTimeout(t);
  }
}
