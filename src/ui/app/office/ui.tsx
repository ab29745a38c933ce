/** Pieces every office page uses: errors with their code, polling, times, the sign dialog. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type SessionUser } from './api';

export function ErrorLine({ err }: { err: unknown }) {
  if (!err) return null;
  const e = err instanceof ApiError ? err : new ApiError(0, null, String((err as Error)?.message ?? err));
  return (
    <p class="error" role="alert" data-testid="error" data-code={e.code ?? ''}>
      {e.code && <code class="code">{e.code}</code>} {e.message}
    </p>
  );
}

/**
 * GET a path as the signed-in person and keep it fresh: every `everyMs` (background: does not
 * count as activity for the idle sign-out), and at once on `reload()`. Keeps the last good value
 * while a refresh fails (the error is shown beside it).
 */
export function useApi<T = any>(path: string | null, everyMs = 0): { data: T | null; err: unknown; reload: () => Promise<void>; loading: boolean } {
  const [data, setData] = useState<T | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const load = useCallback(
    async (background: boolean) => {
      if (!path) return;
      const my = ++seq.current;
      try {
        const r = await api<T>('GET', path, undefined, { background });
        if (my === seq.current) {
          setData(r);
          setErr(null);
        }
      } catch (e) {
        if (my === seq.current) setErr(e);
      } finally {
        if (my === seq.current) setLoading(false);
      }
    },
    [path],
  );
  useEffect(() => {
    setLoading(true);
    void load(false);
    if (!everyMs) return;
    const t = setInterval(() => void load(true), everyMs);
    return () => clearInterval(t);
  }, [load, everyMs]);
  return { data, err, loading, reload: () => load(false) };
}

/** Date and time in the browser's time zone, to the second, with the zone stated. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}

export function Status({ value }: { value: string | null | undefined }) {
  return <span class={`status st-${value ?? 'none'}`}>{value ?? '—'}</span>;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" data-section={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export interface Signature {
  userId: string;
  secret: string;
  meaning: string;
  statement?: string;
}

/**
 * The sign dialog (21 CFR Part 11 §11.200): re-authentication at every signing. The signer's user
 * id is shown (the signed-in person), the secret is asked, the meaning is shown; the server checks
 * both components. A refusal shows its code; the server locks the user's signing after
 * `maxFailedAttempts` (3 by default) wrong secrets in a row, and the dialog says so.
 */
export function SignDialog(props: {
  title: string;
  meaning: string;
  user: SessionUser;
  /** What the signature covers, in words (shown above the secret). */
  what: ComponentChildren;
  /** Extra fields (reason, comment) rendered in the dialog. */
  children?: ComponentChildren;
  /** Sign: gets the signature, throws ApiError when refused. */
  onSign: (sig: Signature) => Promise<void>;
  onClose: () => void;
  /** Disable the Sign button (e.g. a required reason is empty). */
  blocked?: boolean;
}) {
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const [failures, setFailures] = useState<{ n: number; max: number } | null>(null);
  // Locked: the gateway says so (this attempt locked it, or it was locked already).
  const locked = err?.code === 'LG_ERR_SIGNATURE_LOCKED' || (err?.code === 'LG_ERR_SIGNATURE_INVALID' && err.details?.locked === true);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await props.onSign({ userId: props.user.id, secret, meaning: props.meaning });
      props.onClose();
    } catch (x) {
      const ae = x instanceof ApiError ? x : new ApiError(0, null, String((x as Error).message));
      if (ae.code === 'LG_ERR_SIGNATURE_INVALID' && typeof ae.details?.failedAttempts === 'number') setFailures({ n: ae.details.failedAttempts, max: ae.details.maxFailedAttempts ?? 3 });
      setErr(ae);
      setSecret('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="dialog-backdrop">
      <form class="dialog" role="dialog" aria-label={props.title} data-testid="sign-dialog" onSubmit={submit}>
        <h2>{props.title}</h2>
        <div class="what">{props.what}</div>
        {props.children}
        <dl class="sig">
          <dt>Signer</dt>
          <dd data-testid="sign-user">
            {props.user.name} ({props.user.id})
          </dd>
          <dt>Meaning</dt>
          <dd data-testid="sign-meaning">{props.meaning}</dd>
        </dl>
        <label>
          Signing secret
          <input type="password" name="secret" autoComplete="off" value={secret} disabled={locked} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} autoFocus />
        </label>
        <p class="hint">Your signature is the electronic equivalent of your handwritten signature. Signing locks after 3 wrong secrets in a row; an admin must unlock it.</p>
        {failures && !locked && (
          <p class="warn" data-testid="sign-failures">
            Wrong secret: {failures.n} of {failures.max} in a row. At {failures.max} your signing is locked.
          </p>
        )}
        {locked && (
          <p class="error" data-testid="sign-locked">
            Signing is locked for {props.user.id} after {failures?.max ?? 3} wrong secrets in a row. An admin must unlock it (a signed action).
          </p>
        )}
        <ErrorLine err={err} />
        <div class="buttons">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !secret || locked || props.blocked} data-testid="sign-submit">
            Sign ({props.meaning})
          </button>
        </div>
      </form>
    </div>
  );
}
