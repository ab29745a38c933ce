/** A tiny history router for the office pages: path patterns with `:name` segments. */
import { useEffect, useState } from 'preact/hooks';

export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.replace(/\/+$/, '').split('/');
  const b = path.replace(/\/+$/, '').split('/');
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.startsWith(':')) {
      if (!b[i]) return null;
      params[a[i]!.slice(1)] = decodeURIComponent(b[i]!);
    } else if (a[i] !== b[i]) return null;
  }
  return params;
}

/** Fill a pattern's `:name` segments. */
export function href(pattern: string, params: Record<string, string> = {}): string {
  return pattern.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(params[k] ?? ''));
}

const subs = new Set<() => void>();
export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const s of subs) s();
}
window.addEventListener('popstate', () => {
  for (const s of subs) s();
});

/** The current path and query (re-renders on navigation). */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, set] = useState(0);
  useEffect(() => {
    const f = () => set((n) => n + 1);
    subs.add(f);
    return () => void subs.delete(f);
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** onClick for <a href>: navigate in the page (ctrl/middle click still opens a new tab). */
export function linkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement) ?? null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/office')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}
