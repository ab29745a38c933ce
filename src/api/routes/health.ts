import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../context.js';
import { buildInfo } from '../../service/version.js';

/**
 * Liveness (the process answers) and readiness (the journal takes writes; per-subsystem states).
 * Both are public (PUBLIC_ROUTES). Without a token /health/ready says ready/degraded and each
 * subsystem's state only — hosts, ports, PKI paths, broker users and the gateway id are details a
 * monitoring probe does not need and an attacker would; any valid token sees the details.
 */
export const healthRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get('/health/live', { schema: { tags: ['health'], security: [] } }, async () => {
    const b = buildInfo();
    return { status: 'live', version: b.version, build: { commit: b.commit, dirty: b.dirty, builtAt: b.builtAt } };
  });
  app.get(
    '/health/ready',
    { schema: { tags: ['health'], security: [], description: 'Without a token: status and subsystem states. With any valid token: every detail.' } },
    async (req, reply) => {
      const h = deps.health();
      const subsystems = deps.authStats ? { ...h.subsystems, auth: deps.authStats() } : h.subsystems;
      return reply.code(h.ready ? 200 : 503).send({ status: h.status, subsystems: req.user ? subsystems : statesOnly(subsystems) });
    },
  );
};

/** `{name: {state}}` for each subsystem; a list of parts (drivers) → its worst state and counts. */
export function statesOnly(subsystems: Record<string, unknown>): Record<string, { state: string; online?: number; total?: number }> {
  const out: Record<string, { state: string; online?: number; total?: number }> = {};
  for (const [name, v] of Object.entries(subsystems)) {
    if (Array.isArray(v)) {
      const states = v.map((x) => String((x as { state?: unknown })?.state ?? 'unknown'));
      const online = states.filter((s) => s === 'online').length;
      out[name] = { state: online === states.length ? 'online' : 'degraded', online, total: states.length };
    } else {
      const state = (v as { state?: unknown } | null)?.state;
      // The gateway part has no state of its own: it answers, so it is online.
      out[name] = { state: typeof state === 'string' ? state : 'online' };
    }
  }
  return out;
}
