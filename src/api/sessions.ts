import { createHash, randomBytes } from 'node:crypto';
import type { UserView } from '../binding/types.js';
import type { Repo } from '../store/repo.js';

/**
 * Sessions of the supervisor/QA pages (issue 14): a person signs in with user id + signing secret
 * (checked like a signature, src/usecases/signatures.ts `authenticateSignIn`) and gets a short-lived
 * session token the API's auth accepts like that user's own token (src/api/auth.ts), with the
 * user's CURRENT role (a role change or a disabled user takes effect at the next request).
 *
 * - Kept in memory only: a restart of the daemon signs everybody out (nothing to steal from disk).
 * - Only the SHA-256 of a token is kept; the token itself is shown once, at sign-in.
 * - Idle timeout (default 15 min): any request the person makes restarts it, except requests the
 *   page makes by itself (polling, live streams), which send `x-lg-background: 1`.
 * - Absolute lifetime (default 12 h, one shift and a half): then sign in again.
 * - An ended session is remembered for an hour so its token answers LG_ERR_SESSION_EXPIRED (not a
 *   failed authentication): the page then shows the sign-in again instead of an error.
 */
export const SESSION_PREFIX = 'lgo_';
export const SESSION_COOKIE = 'lg_office';

export interface SessionOptions {
  idleSeconds: number;
  maxSeconds: number;
  now?: () => number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleSeconds: 15 * 60, maxSeconds: 12 * 3600 };

interface Session {
  user: string;
  createdAt: number;
  lastUsed: number;
  endedAt: number | null;
  endReason: string | null;
}

export type Resolved = { user: UserView; session: { createdAt: string; idleExpiresAt: string; expiresAt: string } } | { ended: string } | null;

const REMEMBER_ENDED_MS = 3600_000;
const MAX_SESSIONS = 5_000;

const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

export class OfficeSessions {
  private readonly byHash = new Map<string, Session>();
  readonly opts: Required<SessionOptions>;

  constructor(
    private readonly repo: Pick<Repo, 'userById'>,
    opts: Partial<SessionOptions> = {},
  ) {
    this.opts = { ...DEFAULT_SESSION_OPTIONS, now: Date.now, ...opts } as Required<SessionOptions>;
  }

  /** A new session for a user whose two components were checked. Returns the token (shown once). */
  create(userId: string): { token: string; idleExpiresAt: string; expiresAt: string } {
    this.prune();
    const token = SESSION_PREFIX + randomBytes(32).toString('base64url');
    const now = this.opts.now();
    this.byHash.set(digest(token), { user: userId, createdAt: now, lastUsed: now, endedAt: null, endReason: null });
    return { token, idleExpiresAt: new Date(now + this.opts.idleSeconds * 1000).toISOString(), expiresAt: new Date(now + this.opts.maxSeconds * 1000).toISOString() };
  }

  static isSessionToken(token: string): boolean {
    return token.startsWith(SESSION_PREFIX);
  }

  /**
   * The user of a session token; `{ended}` for a session that timed out or was signed out; null for
   * a token that never was a session. `touch` = the person did something (restarts the idle timer).
   */
  resolve(token: string, touch: boolean): Resolved {
    if (!OfficeSessions.isSessionToken(token)) return null;
    const s = this.byHash.get(digest(token));
    if (!s) return null;
    const now = this.opts.now();
    if (s.endedAt === null) {
      if (now - s.lastUsed >= this.opts.idleSeconds * 1000) this.end(s, now, `no activity for ${Math.round(this.opts.idleSeconds / 60)} min`);
      else if (now - s.createdAt >= this.opts.maxSeconds * 1000) this.end(s, now, `signed in for more than ${Math.round(this.opts.maxSeconds / 3600)} h`);
    }
    if (s.endedAt !== null) return { ended: s.endReason ?? 'signed out' };
    const u = this.repo.userById(s.user) as (UserView & { disabled?: boolean | number }) | undefined;
    if (!u || u.disabled) {
      this.end(s, now, 'the user was disabled');
      return { ended: s.endReason! };
    }
    if (touch) s.lastUsed = now;
    return {
      user: { id: u.id, name: u.name, role: u.role, badge: u.badge ?? null },
      session: { createdAt: new Date(s.createdAt).toISOString(), idleExpiresAt: new Date(s.lastUsed + this.opts.idleSeconds * 1000).toISOString(), expiresAt: new Date(s.createdAt + this.opts.maxSeconds * 1000).toISOString() },
    };
  }

  /** Sign out (the token stops working at once). Returns the user it belonged to. */
  signOut(token: string, reason = 'signed out'): string | null {
    const s = this.byHash.get(digest(token));
    if (!s || s.endedAt !== null) return null;
    this.end(s, this.opts.now(), reason);
    return s.user;
  }

  /** Sessions open now (for health). */
  active(): number {
    const now = this.opts.now();
    let n = 0;
    for (const s of this.byHash.values()) if (s.endedAt === null && now - s.lastUsed < this.opts.idleSeconds * 1000 && now - s.createdAt < this.opts.maxSeconds * 1000) n++;
    return n;
  }

  private end(s: Session, now: number, reason: string): void {
    s.endedAt = now;
    s.endReason = reason;
  }

  private prune(): void {
    const now = this.opts.now();
    for (const [h, s] of this.byHash) {
      const endedAt = s.endedAt ?? (now - s.lastUsed >= this.opts.idleSeconds * 1000 || now - s.createdAt >= this.opts.maxSeconds * 1000 ? now : null);
      if (endedAt !== null && now - endedAt > REMEMBER_ENDED_MS) this.byHash.delete(h);
    }
    // Bounded: the oldest go first (a flood of sign-ins cannot grow memory without end).
    while (this.byHash.size >= MAX_SESSIONS) this.byHash.delete(this.byHash.keys().next().value!);
  }
}

/** The value of one cookie in a Cookie header (no dependency: one name, no attributes). */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}
