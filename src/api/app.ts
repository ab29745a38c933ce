import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { LgError, isLgError } from '../errors.js';
import type { ApiDeps } from './context.js';
import { ErrorBody } from './schemas.js';
import { typeboxValidatorCompiler } from './validation.js';
import { healthRoutes } from './routes/health.js';
import { batchRoutes } from './routes/batches.js';
import { masterDataRoutes } from './routes/masterdata.js';
import { stationRoutes } from './routes/stations.js';
import { recordRoutes } from './routes/records.js';
import { userRoutes } from './routes/users.js';
import { genealogyRoutes } from './routes/genealogy.js';
import { signatureRoutes } from './routes/signatures.js';
import { deviationRoutes } from './routes/deviations.js';
import { qualityRoutes } from './routes/quality.js';
import { reviewRoutes } from './routes/review.js';
import { AuthGuard, isKioskRoute, isPublicRoute } from './auth.js';
import { openapiFinish, openapiTransform } from './openapi.js';

/** Deepest JSON nesting a request body may have (our bodies nest 3 levels; validators recurse). */
export const MAX_JSON_DEPTH = 64;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Who may call each registered route, for the route walk test and the start-up check. */
export interface RouteAccess {
  method: string;
  url: string;
  public: boolean;
  roles: readonly string[];
}

/**
 * Build the fastify app. It never listens by itself: the gateway calls `listen`, tests call
 * `inject` or listen on port 0.
 */
export async function buildApi(deps: ApiDeps, opts: { https?: { cert: string | Buffer; key: string | Buffer } } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Request lines are debug noise on a line PC; errors still log. (fastify logs requests at info.)
    loggerInstance: deps.logger.child({ component: 'api' }, { level: deps.logger.level === 'debug' || deps.logger.level === 'trace' ? deps.logger.level : 'warn' }) as never,
    bodyLimit: deps.bodyLimit,
    ...(opts.https ? { https: opts.https } : {}),
    // Refused in our own onRequest hook instead (fastify's 503 body is not {code, message, details}).
    return503OnClosing: false,
    // A URL that cannot be decoded: our error shape, not fastify's.
    frameworkErrors: (err: FastifyError, req: { url: string }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
      const url = String(req.url).slice(0, 200);
      if (err.code === 'FST_ERR_BAD_URL') return reply.code(400).send(new LgError('LG_ERR_BAD_URL', { url }).toJSON());
      return reply.code(err.statusCode ?? 400).send({ code: 'LG_ERR_VALIDATION', message: err.message, details: { fastify: err.code, url } });
    },
    // Station pages hold SSE streams open: close them on shutdown instead of waiting them out.
    forceCloseConnections: true,
  } as FastifyServerOptions) as unknown as FastifyInstance;

  app.setValidatorCompiler(typeboxValidatorCompiler);

  // Bodies are JSON only: anything else (text/plain included) is 415. Nesting is bounded before
  // parsing — JSON.parse copes, but validators and clones recurse and would overflow the stack.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(new LgError('LG_ERR_JSON_TOO_DEEP', { max: MAX_JSON_DEPTH }), undefined);
    return jsonParser(req, text, done);
  });

  // Every route, with who may call it; patterns for 405 answers.
  const routeTable: RouteAccess[] = [];
  const patterns: Array<{ method: string; re: RegExp }> = [];
  app.decorate('routeAccess', routeTable);
  app.addHook('onRoute', (r) => {
    const roles = (r.config as { roles?: readonly string[] } | undefined)?.roles ?? [];
    for (const method of ([] as string[]).concat(r.method)) {
      const pub = isPublicRoute(method, r.url);
      routeTable.push({ method, url: r.url, public: pub, roles });
      patterns.push({ method, re: routePattern(r.url) });
      if (!pub && roles.length === 0 && method !== 'HEAD' && !isKioskRoute(r.url, r.config as { kiosk?: boolean })) {
        deps.logger.child({ component: 'api' }).error({ method, url: r.url }, `route ${method} ${r.url} declares no roles and is not in PUBLIC_ROUTES: it is refused to everybody`);
      }
    }
  });
  app.decorateRequest('user', null);
  app.addSchema(ErrorBody);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'linegate API',
        version: '1',
        license: { name: 'MIT', identifier: 'MIT' },
        description:
          'MES edge gateway API. Authenticate with `Authorization: Bearer <token>`. Errors are `{code, message, details}` with a stable `LG_ERR_…` code.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      // Relative: the document is the same on every gateway; it is served by the gateway it describes.
      servers: [{ url: '/', description: 'The gateway serving this document (api.host:api.port; HTTPS with security.tls)' }],
    },
    // Summaries, operationIds, roles, error responses and SSE for every route, also ones added later (openapi.ts).
    transform: openapiTransform as never,
    transformObject: openapiFinish as never,
  });

  // Authentication, deny by default (see auth.ts): a route needs a valid bearer token with one of
  // its `config.roles`, unless it is in PUBLIC_ROUTES. Unmatched URLs go on to 404/405.
  const auth = new AuthGuard(deps.repo, deps.logger, deps.failedAuthLimit, Date.now, deps.sessions ?? null);
  app.decorate('authGuard', auth);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (req) => {
    if (closing) throw new LgError('LG_ERR_NOT_READY');
    const url = req.routeOptions.url;
    if (url === undefined) return;
    // Kiosk routes are authenticated by the kiosk credential in the UI plugin's hook (auth.ts).
    if (isKioskRoute(url, req.routeOptions.config as { kiosk?: boolean })) return;
    auth.check(req, req.routeOptions.config?.roles, isPublicRoute(req.method, url));
  });

  app.setErrorHandler((err: FastifyError | LgError, req, reply) => {
    // No such route: say 404/405 even when the body (parsed first) was bad.
    if (req.routeOptions.url === undefined && !(isLgError(err) && err.status >= 500)) return notFound(req, reply);
    if (isLgError(err)) {
      if (err.code === 'LG_ERR_AUTH_LIMITED') reply.header('retry-after', String(err.details.retryAfter));
      return reply.code(err.status).send(err.toJSON());
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const details = fe.validation.map((v) => ({
        path: `${fe.validationContext ?? 'body'}${v.instancePath || ''}`,
        message: v.message ?? 'invalid',
        ...(v.keyword === 'additionalProperties' ? { unknownField: (v.params as { additionalProperty?: string }).additionalProperty } : {}),
      }));
      const e = new LgError('LG_ERR_VALIDATION', {
        detail: details.map((d) => `${d.path}: ${d.message}${'unknownField' in d ? ` (${String(d.unknownField)})` : ''}`).join('; '),
      });
      return reply.code(400).send({ code: e.code, message: e.message, details: { errors: details } });
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(new LgError('LG_ERR_BODY_TOO_LARGE', { limit: deps.bodyLimit }).toJSON());
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(new LgError('LG_ERR_UNSUPPORTED_MEDIA_TYPE').toJSON());
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send(new LgError('LG_ERR_BAD_JSON', { detail: fe.message }).toJSON());
    }
    if (fe.statusCode === 400 && err instanceof SyntaxError) {
      return reply.code(400).send(new LgError('LG_ERR_BAD_JSON', { detail: fe.message }).toJSON());
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ code: 'LG_ERR_VALIDATION', message: fe.message, details: { fastify: fe.code } });
    }
    req.log.error({ err }, 'unhandled API error');
    return reply.code(500).send(new LgError('LG_ERR_INTERNAL', { detail: fe.message }).toJSON());
  });

  const notFound = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = req.url.split('?')[0]!;
    const allow = METHODS.filter((m) => patterns.some((p) => p.method === m && p.re.test(path)));
    if (allow.length > 0) {
      // The path exists with other methods: 405 with Allow (RFC 9110 §15.5.6).
      reply.header('allow', allow.join(', '));
      return reply.code(405).send(new LgError('LG_ERR_METHOD_NOT_ALLOWED', { method: req.method, url: path, allow: allow.join(', ') }).toJSON());
    }
    return reply.code(404).send(new LgError('LG_ERR_NOT_FOUND', { method: req.method, url: path }).toJSON());
  };
  app.setNotFoundHandler(notFound);

  await app.register(healthRoutes({ ...deps, authStats: () => auth.stats() }));
  await app.register(batchRoutes(deps));
  await app.register(masterDataRoutes(deps));
  await app.register(stationRoutes(deps));
  await app.register(recordRoutes(deps));
  await app.register(userRoutes(deps));
  await app.register(genealogyRoutes(deps));
  await app.register(signatureRoutes(deps));
  await app.register(deviationRoutes(deps));
  await app.register(qualityRoutes(deps));
  await app.register(reviewRoutes(deps));
  for (const ext of deps.extensions ?? []) await app.register(async (inst) => ext(inst));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** Whether JSON text nests arrays/objects deeper than `max` (strings are skipped; no parsing). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** A fastify route URL (`/a/:id/*`) as a regular expression matching concrete paths. */
function routePattern(url: string): RegExp {
  const seg = (x: string): string => (x.startsWith(':') ? '[^/]+' : x === '*' ? '.*' : x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${url.split('/').map(seg).join('/')}/?$`);
}
