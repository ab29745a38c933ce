import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../context.js';
import { buildInfo } from '../../service/version.js';

/** Liveness (the process answers) and readiness (the journal takes writes; per-subsystem states). */
export const healthRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get('/health/live', { schema: { tags: ['health'], security: [] } }, async () => {
    const b = buildInfo();
    return { status: 'live', version: b.version, build: { commit: b.commit, dirty: b.dirty, builtAt: b.builtAt } };
  });
  app.get('/health/ready', { schema: { tags: ['health'], security: [] } }, async (_req, reply) => {
    const h = deps.health();
    return reply.code(h.ready ? 200 : 503).send({ status: h.status, subsystems: h.subsystems });
  });
};
