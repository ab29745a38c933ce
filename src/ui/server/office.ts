import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ALL_ROLES } from '../../api/context.js';
import { isLgError, LgError } from '../../errors.js';
import type { Ops } from '../../ops.js';
import type { Journal } from '../../store/journal.js';
import type { Logger } from '../../util/log.js';
import { packageRoot } from '../../util/paths.js';
import { loadAssets } from './plugin.js';
import { OfficeSessions, SESSION_COOKIE, cookieValue } from '../../api/sessions.js';

/**
 * The supervisor and QA pages (issue 14), server side: the page shell and the sign-in.
 *
 * Auth, route by route:
 * - public: the shell (`GET /ui/office`, `GET /ui/office/*`: no data) and the sign-in
 *   (`POST /ui/api/office/session`, which checks user id + signing secret itself).
 * - any signed-in role (session or user token): who am I (`GET`), sign out (`DELETE`).
 * Every page then calls the ordinary JSON API with the session token as its bearer token; the
 * API's own roles decide (an operator's session gets 403 on QA routes like an operator's token).
 *
 * Sign-in failures count against the signer like a wrong signature (3 in a row lock the user's
 * signing and sign-in until an admin unlocks it, a signed action) and against the source address
 * like a wrong token (security.failedAuthLimit → 429). Both are audited (`signature.failed`).
 * A successful sign-in and a sign-out are audited (`office.signed_in`, `office.signed_out`).
 */
export interface OfficeDeps {
  ops: Ops;
  journal: Journal;
  logger: Logger;
  sessions: OfficeSessions;
  /** The gateway serves HTTPS: the session cookie is marked Secure. */
  tls: boolean;
  assetsDir?: string;
}

const SignIn = Type.Object(
  {
    userId: Type.String({ minLength: 1, maxLength: 40, description: 'Your user id' }),
    secret: Type.String({ minLength: 1, maxLength: 256, description: 'Your signing secret (password or PIN), the one you sign with — never the API token' }),
  },
  { additionalProperties: false },
);

const SessionView = Type.Object({
  user: Type.Object({ id: Type.String(), name: Type.String(), role: Type.String() }),
  idleSeconds: Type.Integer(),
  idleExpiresAt: Type.String(),
  expiresAt: Type.String(),
});

export function officeRoutes(deps: OfficeDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    const assets = loadAssets(deps.assetsDir ?? join(packageRoot(), 'dist', 'ui'));
    const shell = async (req: FastifyRequest, reply: FastifyReply) => {
      const a = assets.get('office.html');
      if (!a) return reply.code(503).type('text/plain; charset=utf-8').send('The supervisor/QA pages are not built. Run `npm run build` (or `npm ci`) and restart linegate.');
      reply.header('etag', a.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY');
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'");
      if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.type(a.type).send(a.body);
    };
    const pub = { public: true } as const;
    app.get('/ui/office', { config: pub, schema: { hide: true } }, shell);
    app.get('/ui/office/*', { config: pub, schema: { hide: true } }, shell);

    const cookie = (token: string, maxAge: number): string =>
      `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${deps.tls ? '; Secure' : ''}`;

    app.post<{ Body: { userId: string; secret: string } }>(
      '/ui/api/office/session',
      {
        config: pub,
        schema: {
          tags: ['ui'],
          security: [],
          summary: 'Sign in to the supervisor/QA pages with user id + signing secret; answers a session token (bearer) and sets it as an httpOnly cookie for report links',
          body: SignIn,
          response: { 201: Type.Intersect([SessionView, Type.Object({ token: Type.String() })]) },
        },
      },
      async (req, reply) => {
        app.authGuard.checkLimit(req);
        let user;
        try {
          user = await deps.ops.signatures.authenticateSignIn(req.body.userId.trim(), req.body.secret, `office:${req.ip}`);
        } catch (err) {
          if (isLgError(err) && err.code === 'LG_ERR_SIGNATURE_INVALID') app.authGuard.signInFailed(req);
          deps.logger.warn({ source: req.ip, user: req.body.userId, code: isLgError(err) ? err.code : 'LG_ERR_INTERNAL' }, 'sign-in to the supervisor/QA pages refused');
          throw err;
        }
        const s = deps.sessions.create(user.id);
        await deps.journal.submit((tx) => {
          tx.audit({ actor: user.id, action: 'office.signed_in', entity: 'user', entityId: user.id, reason: `supervisor/QA pages, from ${req.ip}`, new: { expiresAt: s.expiresAt, idleSeconds: deps.sessions.opts.idleSeconds } });
        });
        reply.header('set-cookie', cookie(s.token, deps.sessions.opts.maxSeconds));
        return reply.code(201).send({ token: s.token, user: { id: user.id, name: user.name, role: user.role }, idleSeconds: deps.sessions.opts.idleSeconds, idleExpiresAt: s.idleExpiresAt, expiresAt: s.expiresAt });
      },
    );

    const current = (req: FastifyRequest): string | null => {
      const h = req.headers.authorization;
      const t = h && /^Bearer\s+\S+$/i.test(h) ? h.replace(/^Bearer\s+/i, '').trim() : cookieValue(req.headers.cookie, SESSION_COOKIE);
      return t && OfficeSessions.isSessionToken(t) ? t : null;
    };

    app.get(
      '/ui/api/office/session',
      { config: { roles: ALL_ROLES }, schema: { tags: ['ui'], summary: 'Who is signed in (the session of this token), and when the session ends', response: { 200: SessionView } } },
      async (req) => {
        const t = current(req);
        const s = t ? deps.sessions.resolve(t, false) : null;
        const u = req.user!;
        if (s && 'user' in s) return { user: { id: u.id, name: u.name, role: u.role }, idleSeconds: deps.sessions.opts.idleSeconds, idleExpiresAt: s.session.idleExpiresAt, expiresAt: s.session.expiresAt };
        // A user's API token (not a session): no idle timeout applies to it.
        return { user: { id: u.id, name: u.name, role: u.role }, idleSeconds: 0, idleExpiresAt: '', expiresAt: '' };
      },
    );

    app.delete(
      '/ui/api/office/session',
      { config: { roles: ALL_ROLES }, schema: { tags: ['ui'], summary: 'Sign out of the supervisor/QA pages (the session token stops working at once)' } },
      async (req, reply) => {
        const t = current(req);
        if (!t) throw new LgError('LG_ERR_VALIDATION', { detail: 'this request does not carry a page session (an API token cannot be signed out)' });
        const who = deps.sessions.signOut(t, 'signed out');
        if (who) {
          await deps.journal.submit((tx) => {
            tx.audit({ actor: who, action: 'office.signed_out', entity: 'user', entityId: who, reason: 'signed out (button)' });
          });
        }
        reply.header('set-cookie', cookie('', 0));
        return { signedOut: true };
      },
    );
  };
}
