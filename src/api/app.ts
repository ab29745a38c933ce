import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
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
    return503OnClosing: true,
    // Station pages hold SSE streams open: close them on shutdown instead of waiting them out.
    forceCloseConnections: true,
  } as FastifyServerOptions) as unknown as FastifyInstance;

  app.setValidatorCompiler(typeboxValidatorCompiler);
  app.decorateRequest('user', null);
  app.addSchema(ErrorBody);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'linegate API',
        version: '1',
        description:
          'MES edge gateway API. Authenticate with `Authorization: Bearer <token>`. Errors are `{code, message, details}` with a stable `LG_ERR_…` code.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // Authentication: every route that declares roles needs a valid bearer token with one of them.
  app.addHook('onRequest', async (req) => {
    const roles = req.routeOptions.config?.roles;
    if (!roles) return;
    const h = req.headers.authorization;
    if (!h || !/^Bearer\s+\S+$/i.test(h)) throw new LgError('LG_ERR_AUTH_REQUIRED');
    const user = deps.repo.userByToken(h.replace(/^Bearer\s+/i, '').trim());
    if (!user) throw new LgError('LG_ERR_AUTH_INVALID');
    req.user = user;
    if (!roles.includes(user.role)) {
      throw new LgError('LG_ERR_FORBIDDEN', { role: user.role, action: `${req.method} ${req.routeOptions.url}`, allowed: roles.join(', ') });
    }
  });

  app.setErrorHandler((err: FastifyError | LgError, req, reply) => {
    if (isLgError(err)) return reply.code(err.status).send(err.toJSON());
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

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(new LgError('LG_ERR_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] }).toJSON());
  });

  await app.register(healthRoutes(deps));
  await app.register(batchRoutes(deps));
  await app.register(masterDataRoutes(deps));
  await app.register(stationRoutes(deps));
  await app.register(recordRoutes(deps));
  await app.register(userRoutes(deps));
  await app.register(genealogyRoutes(deps));
  await app.register(signatureRoutes(deps));
  await app.register(deviationRoutes(deps));
  await app.register(qualityRoutes(deps));
  for (const ext of deps.extensions ?? []) await app.register(async (inst) => ext(inst));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
