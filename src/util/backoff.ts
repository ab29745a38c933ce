/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"):
 * delay = random(0, min(cap, base * 2^attempt)), but never below `min`.
 * Used by every reconnect loop and by the upstream dispatcher.
 */
export interface BackoffOptions {
  /** First ceiling in ms (attempt 0). */
  baseMs: number;
  /** Largest ceiling in ms. */
  maxMs: number;
  /** Floor of every delay in ms (so a tight loop cannot happen). */
  minMs?: number;
  /** Random source in [0,1); injectable for tests. */
  random?: () => number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  const min = opts.minMs ?? Math.min(opts.baseMs, 50);
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(min, Math.floor(random() * ceiling));
}

/** Stateful helper: `next()` gives the next delay, `reset()` after a success. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}
  next(): number {
    return backoffDelay(this.attempt++, this.opts);
  }
  reset(): void {
    this.attempt = 0;
  }
  get attempts(): number {
    return this.attempt;
  }
}

/** Sleep that ends early (resolving false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
