import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../domain/batch.js';
import { LgError } from '../errors.js';
import type { Ops } from '../ops.js';
import type { Repo } from '../store/repo.js';
import type { Journal } from '../store/journal.js';
import type { Logger } from '../util/log.js';
import type { UserView } from '../binding/types.js';
import type { LiveEvents } from '../events.js';

/** What the API needs from the gateway; the gateway builds it, tests build it too. */
export interface ApiDeps {
  ops: Ops;
  repo: Repo;
  journal: Journal;
  logger: Logger;
  events: LiveEvents;
  bodyLimit: number;
  /** Readiness and subsystem states for /health/ready. */
  health(): { ready: boolean; status: 'ready' | 'degraded' | 'starting' | 'stopping'; subsystems: Record<string, unknown> };
  /** The audit chain's signed checkpoints (absent in bare API tests). */
  anchor?: import('../store/anchor.js').AuditAnchor;
  /** Extra route plugins (labels, upstream, machines…) registered by the gateway. */
  extensions?: Array<(app: import('fastify').FastifyInstance) => Promise<void> | void>;
  /** Failed authentications allowed per source address (security.failedAuthLimit). */
  failedAuthLimit?: import('./auth.js').FailedAuthLimit;
  /** Sessions of the supervisor/QA pages (src/api/sessions.ts): their tokens authenticate like user tokens. */
  sessions?: import('./sessions.js').OfficeSessions;
  /** Set by buildApi for the health routes: failed-authentication counters. */
  authStats?: () => import('./auth.js').AuthStats;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: UserView | null;
  }
  interface FastifyContextConfig {
    /** Roles allowed on this route. Absent = nobody, unless the route is in PUBLIC_ROUTES (auth.ts). */
    roles?: readonly UserView['role'][];
  }
  interface FastifyInstance {
    /** Every registered route with who may call it (auth.ts, the route walk test). */
    routeAccess: import('./app.js').RouteAccess[];
    /** The API's authentication guard (sign-in routes count their failures with it). */
    authGuard: import('./auth.js').AuthGuard;
  }
}

export const ALL_ROLES: readonly UserView['role'][] = ['operator', 'supervisor', 'qa', 'admin', 'erp'];
export const FLOOR: readonly UserView['role'][] = ['operator', 'supervisor', 'qa', 'admin'];
export const MANAGERS: readonly UserView['role'][] = ['supervisor', 'qa', 'admin'];
export const MASTER_DATA: readonly UserView['role'][] = ['supervisor', 'qa', 'admin', 'erp'];

export function actorOf(req: FastifyRequest): { id: string; role: Role } {
  if (!req.user) throw new LgError('LG_ERR_AUTH_REQUIRED');
  return { id: req.user.id, role: req.user.role };
}

export function sendError(reply: FastifyReply, err: LgError): FastifyReply {
  return reply.code(err.status).send(err.toJSON());
}
