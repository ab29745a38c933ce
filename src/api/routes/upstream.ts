import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Dispatcher } from '../../upstream/index.js';
import { ALL_ROLES, MANAGERS } from '../context.js';
import { Json, errorResponses } from '../schemas.js';

/**
 * Upstream delivery: per-sink backlog and errors, and the quarantine — records a receiver
 * permanently refused, kept visible, exportable and replayable, never silently dropped.
 */
export const upstreamRoutes = (dispatcher: () => Dispatcher) => async (app: FastifyInstance): Promise<void> => {
  const Sink = Type.Object({ sink: Type.String() });

  app.get('/upstream/sinks', { config: { roles: ALL_ROLES }, schema: { tags: ['upstream'], response: { 200: Type.Object({ items: Type.Array(Json) }) } } }, async () => ({
    items: dispatcher().stats() as unknown as Array<Record<string, unknown>>,
  }));

  app.get<{ Params: { sink: string }; Querystring: { limit: number; after: number } }>(
    '/upstream/sinks/:sink/quarantine',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['upstream'],
        params: Sink,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }), after: Type.Integer({ minimum: 0, default: 0 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Json) }), ...errorResponses },
      },
    },
    async (req) => ({ items: dispatcher().listQuarantined(req.params.sink, req.query) as unknown as Array<Record<string, unknown>> }),
  );

  app.post<{ Params: { sink: string }; Body: { seqs: number[] | 'all' } }>(
    '/upstream/sinks/:sink/quarantine/replay',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['upstream'],
        description: 'Send quarantined records again (after the receiver was fixed). They go back to pending, in sequence order.',
        params: Sink,
        body: Type.Object({ seqs: Type.Union([Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 100_000 }), Type.Literal('all')]) }, { additionalProperties: false }),
        response: { 200: Type.Object({ replayed: Type.Integer() }), ...errorResponses },
      },
    },
    async (req) => ({ replayed: dispatcher().replayQuarantined(req.params.sink, req.body.seqs) }),
  );

  app.get<{ Params: { sink: string } }>(
    '/upstream/sinks/:sink/quarantine/export',
    { config: { roles: MANAGERS }, schema: { tags: ['upstream'], description: 'NDJSON: each quarantined record with the receiver\'s answer and the exact CloudEvent.', params: Sink, produces: ['application/x-ndjson'] } },
    async (req, reply) => {
      const it = dispatcher().exportQuarantined(req.params.sink);
      reply.header('content-type', 'application/x-ndjson');
      let body = '';
      for (const e of it) body += JSON.stringify(e) + '\n';
      return reply.send(body);
    },
  );
};
