import type { FastifyRequest } from 'fastify';
import { LgError } from '../errors.js';
import type { Repo } from '../store/repo.js';
import type { Logger } from '../util/log.js';
import type { UserView } from '../binding/types.js';
import { OfficeSessions, SESSION_COOKIE, cookieValue } from './sessions.js';

/**
 * Authentication is DENY BY DEFAULT (IEC 62443-4-2 CR 1.1/1.2).
 *
 * Every route needs a bearer token, except the ones listed here — the ONLY list of public
 * routes. A route that is not listed and declares no `config.roles` is refused to everybody
 * (401 without a token, 403 with any token) and logged at start-up: forgetting the roles locks a
 * route, it never opens it. To make a route public, add `METHOD /url-pattern` here (exactly as
 * registered, e.g. `GET /ui/station/:id`), and keep `schema.security: []` on it so the OpenAPI
 * document says the same; test/integration/security/routes.test.ts walks every route and fails
 * when the two disagree. HEAD follows its GET.
 *
 * A token sent to a public route is still checked: a wrong one answers 401 (and counts as a failed
 * authentication), a valid one may see more (e.g. /health/ready details).
 */
export const PUBLIC_ROUTES: readonly string[] = [
  'GET /health/live',
  // Unauthenticated: ready/degraded and subsystem states only; details need a token.
  'GET /health/ready',
  // The API description holds no data (it is the same on every gateway).
  'GET /openapi.json',
  // Station pages (src/ui): the page shell and its static assets hold no data; the station list
  // names ids, names and roles only; pairing redeems a one-time code an admin issued.
  'GET /ui',
  'GET /ui/',
  'GET /ui/pair',
  'GET /ui/stations/:id',
  'GET /ui/assets/:file',
  'GET /ui/api/stations',
  'POST /ui/api/pair',
  // Supervisor/QA pages (src/ui/server/office.ts): the page shell holds no data; signing in takes
  // user id + signing secret (checked like a signature, failures counted and locked out).
  'GET /ui/office',
  'GET /ui/office/*',
  'POST /ui/api/office/session',
];

/**
 * Routes a paired station panel calls with its KIOSK credential (src/ui/server/kiosks.ts), which
 * is not a user token: the user-token check leaves them to the UI plugin's own hook, which admits
 * only the kiosk of the station in the URL. Only routes under this prefix that are marked
 * `config.kiosk` qualify; anything else under it is deny-by-default like every route.
 */
export const KIOSK_ROUTE_PREFIX = '/ui/api/kiosk/';

export function isKioskRoute(url: string | undefined, config: { kiosk?: boolean } | undefined): boolean {
  return !!url && url.startsWith(KIOSK_ROUTE_PREFIX) && config?.kiosk === true;
}

export function isPublicRoute(method: string, url: string | undefined): boolean {
  if (!url) return false;
  const m = method === 'HEAD' ? 'GET' : method;
  return PUBLIC_ROUTES.includes(`${m} ${url}`);
}

export interface FailedAuthLimit {
  maxFailures: number;
  windowSeconds: number;
}

export const DEFAULT_FAILED_AUTH_LIMIT: FailedAuthLimit = { maxFailures: 10, windowSeconds: 60 };

/** What /health/ready (with a token) shows about authentication. */
export interface AuthStats {
  state: 'online';
  /** Failed authentications since start (unknown, disabled or malformed token). */
  failures: number;
  /** Requests refused with 429 because their source was over the limit. */
  limited: number;
  /** Sources over the limit right now. */
  limitedSources: number;
  lastFailureAt: string | null;
  limit: FailedAuthLimit;
}

/** Most sources tracked at once; the least recently failing one is forgotten beyond that. */
const MAX_SOURCES = 10_000;

/**
 * Bearer-token check with failure logging and a per-source limit (CR 1.11).
 *
 * Decision: a failure is a token that was PRESENTED and is wrong (unknown, disabled, malformed
 * header). A missing token is not an attempt (a browser opening a page) — it answers 401 but is
 * neither counted nor limited. Each source address (the TCP peer; no proxy headers are trusted)
 * may fail `maxFailures` times within a sliding `windowSeconds`; then every request from it that
 * carries a token answers 429 LG_ERR_AUTH_LIMITED with Retry-After — valid tokens too, so the
 * answer cannot tell an attacker which guess was right — until its oldest failure leaves the window.
 * Refused (429) requests are not failures, so a source is never locked out for longer than the
 * window. Default 10 per 60 s: a person mistyping is not hindered, a guesser gets 14,400 tries a
 * day against 256-bit tokens. The log line names source, method, route and code, never the token.
 */
export class AuthGuard {
  private readonly failuresBySource = new Map<string, number[]>();
  private failures = 0;
  private limited = 0;
  private lastFailureAt: Date | null = null;
  private readonly log: Logger;

  constructor(
    private readonly repo: Repo,
    logger: Logger,
    readonly limit: FailedAuthLimit = DEFAULT_FAILED_AUTH_LIMIT,
    private readonly now: () => number = Date.now,
    /** Sessions of the supervisor/QA pages: their tokens are accepted like the user's own token. */
    private readonly sessions: OfficeSessions | null = null,
  ) {
    this.log = logger.child({ component: 'auth' });
  }

  /**
   * Authenticate the request (if it carries a token) and check the route's roles.
   *
   * A supervisor/QA page session (src/api/sessions.ts) is a bearer token too. For GET/HEAD
   * only, it may also come as the httpOnly SameSite=Strict cookie the sign-in sets, so that plain
   * links (the batch record report as HTML/PDF/JSON) open in the browser; a request that changes
   * anything must carry the Authorization header (a cookie alone never changes state: no CSRF).
   */
  check(req: FastifyRequest, roles: readonly UserView['role'][] | undefined, isPublic: boolean): void {
    let h = req.headers.authorization;
    const source = req.ip;
    const route = req.routeOptions.url ?? req.url.split('?')[0] ?? '';
    if (h === undefined && this.sessions && (req.method === 'GET' || req.method === 'HEAD')) {
      const c = cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (c && OfficeSessions.isSessionToken(c)) h = `Bearer ${c}`;
    }
    if (h === undefined) {
      if (isPublic) return;
      this.log.debug({ source, method: req.method, route }, 'request without a token refused');
      throw new LgError('LG_ERR_AUTH_REQUIRED');
    }
    const retryAfter = this.retryAfter(source);
    if (retryAfter > 0) {
      this.limited++;
      this.log.warn({ source, method: req.method, route, code: 'LG_ERR_AUTH_LIMITED', retryAfter }, 'request refused: too many failed authentications from this source');
      throw new LgError('LG_ERR_AUTH_LIMITED', { source, retryAfter });
    }
    if (!/^Bearer\s+\S+$/i.test(h)) this.fail(source, req.method, route, 'LG_ERR_AUTH_REQUIRED');
    const token = h.replace(/^Bearer\s+/i, '').trim();
    let user = this.repo.userByToken(token);
    if (!user && this.sessions) {
      const s = this.sessions.resolve(token, req.headers['x-lg-background'] !== '1');
      // An ended session is not a guess: say so (the page signs in again), do not count it.
      if (s && 'ended' in s) throw new LgError('LG_ERR_SESSION_EXPIRED', { reason: s.ended });
      if (s) user = s.user;
    }
    if (!user) this.fail(source, req.method, route, 'LG_ERR_AUTH_INVALID');
    req.user = user;
    if (isPublic) return;
    if (!roles || !roles.includes(user.role)) {
      this.log.info({ source, method: req.method, route, user: user.id, role: user.role }, 'request refused: role not allowed');
      throw new LgError('LG_ERR_FORBIDDEN', { role: user.role, action: `${req.method} ${route}`, allowed: roles?.length ? roles.join(', ') : 'none (the route declares no roles)' });
    }
  }

  /**
   * A failed sign-in (wrong user id or secret at POST /ui/api/office/session) counts against its
   * source like a wrong token; over the limit, sign-ins from it answer 429 too.
   */
  signInFailed(req: FastifyRequest): void {
    try {
      this.fail(req.ip, req.method, req.routeOptions.url ?? '', 'LG_ERR_AUTH_INVALID');
    } catch {
      /* counted */
    }
  }

  /** Throws LG_ERR_AUTH_LIMITED when the request's source is over the limit. */
  checkLimit(req: FastifyRequest): void {
    const retryAfter = this.retryAfter(req.ip);
    if (retryAfter > 0) {
      this.limited++;
      throw new LgError('LG_ERR_AUTH_LIMITED', { source: req.ip, retryAfter });
    }
  }

  private fail(source: string, method: string, route: string, code: 'LG_ERR_AUTH_REQUIRED' | 'LG_ERR_AUTH_INVALID'): never {
    const t = this.now();
    this.failures++;
    this.lastFailureAt = new Date(t);
    const list = this.window(source, t);
    list.push(t);
    // Re-insert: the map's order is then least recently failing first (what is evicted).
    this.failuresBySource.delete(source);
    this.failuresBySource.set(source, list);
    if (this.failuresBySource.size > MAX_SOURCES) this.failuresBySource.delete(this.failuresBySource.keys().next().value!);
    this.log.warn({ source, method, route, code, failuresInWindow: list.length, limit: this.limit.maxFailures }, 'authentication failed');
    throw new LgError(code);
  }

  /** The source's failures still inside the window (pruned in place). */
  private window(source: string, t: number): number[] {
    const list = this.failuresBySource.get(source) ?? [];
    const from = t - this.limit.windowSeconds * 1000;
    while (list.length && list[0]! <= from) list.shift();
    return list;
  }

  /** Seconds until the source may try again; 0 when it is under the limit. */
  retryAfter(source: string): number {
    const t = this.now();
    const list = this.window(source, t);
    if (list.length === 0) {
      this.failuresBySource.delete(source);
      return 0;
    }
    if (list.length < this.limit.maxFailures) return 0;
    const oldestRelevant = list[list.length - this.limit.maxFailures]!;
    return Math.max(1, Math.ceil((oldestRelevant + this.limit.windowSeconds * 1000 - t) / 1000));
  }

  stats(): AuthStats {
    let limitedSources = 0;
    for (const s of [...this.failuresBySource.keys()]) if (this.retryAfter(s) > 0) limitedSources++;
    return { state: 'online', failures: this.failures, limited: this.limited, limitedSources, lastFailureAt: this.lastFailureAt?.toISOString() ?? null, limit: this.limit };
  }
}
