import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { FLOOR, MANAGERS, actorOf, type ApiDeps } from '../context.js';
import { Code, Decimal, Text, errorResponses } from '../schemas.js';

const Json = Type.Any();

export const reviewRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  const r = () => deps.ops.review;

  app.get<{ Params: { number: string } }>(
    '/batches/:number/exceptions',
    { config: { roles: MANAGERS }, schema: { tags: ['review'], summary: 'Every exception of a batch record, with QA acknowledgements (review by exception)', params: Type.Object({ number: Code('Batch') }), response: { 200: Json, ...errorResponses } } },
    async (req) => {
      const items = r().exceptions(req.params.number);
      return { items, open: items.filter((e) => !e.acknowledged).length };
    },
  );

  app.post<{ Params: { number: string }; Body: { keys?: string[]; all?: boolean; comment: string } }>(
    '/batches/:number/exceptions/acknowledge',
    {
      config: { roles: ['qa'] },
      schema: {
        tags: ['review'],
        summary: 'QA acknowledges exceptions of a batch record with a comment (by key, or all open ones)',
        params: Type.Object({ number: Code('Batch') }),
        body: Type.Object({ keys: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 10_000 })), all: Type.Optional(Type.Boolean()), comment: Text('What was checked', 2000) }, { additionalProperties: false }),
        response: { 200: Json, ...errorResponses },
      },
    },
    async (req) => r().acknowledge(req.params.number, req.body.all ? 'all' : (req.body.keys ?? []), req.body.comment, actorOf(req)),
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number/reconciliation',
    { config: { roles: FLOOR }, schema: { tags: ['review'], summary: 'Reconciliation and yield: BOM planned vs consumed by lot, produced good/rejected, yield, label reconciliation', params: Type.Object({ number: Code('Batch') }), response: { 200: Json, ...errorResponses } } },
    async (req) => r().reconciliation(req.params.number),
  );

  app.post<{ Params: { id: string }; Body: { counted: string; reason: string } }>(
    '/lots/:id/stock-counts',
    { config: { roles: FLOOR }, schema: { tags: ['review'], summary: 'Record a physical stock count of a lot (applied when a second person approves)', params: Type.Object({ id: Code('Lot', 40) }), body: Type.Object({ counted: Decimal('Counted quantity in the lot unit'), reason: Text('Why counted / what was found') }, { additionalProperties: false }), response: { 201: Json, ...errorResponses } } },
    async (req, reply) => reply.code(201).send(await r().count(req.params.id, req.body.counted, req.body.reason, actorOf(req))),
  );

  app.get<{ Params: { id: string } }>(
    '/lots/:id/stock-counts',
    { config: { roles: FLOOR }, schema: { tags: ['review'], summary: 'Stock counts of a lot', params: Type.Object({ id: Code('Lot', 40) }), response: { 200: Json, ...errorResponses } } },
    async (req) => ({ items: r().counts(req.params.id) }),
  );

  app.post<{ Params: { id: string }; Body: { decision: 'approved' | 'rejected'; note: string } }>(
    '/stock-counts/:id/decision',
    {
      config: { roles: MANAGERS },
      schema: { tags: ['review'], summary: 'Approve (applies the counted quantity) or reject a stock count — not by the person who counted', params: Type.Object({ id: Code('Stock count', 64) }), body: Type.Object({ decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]), note: Text('Why') }, { additionalProperties: false }), response: { 200: Json, ...errorResponses } },
    },
    async (req) => r().decide(req.params.id, req.body.decision, req.body.note, actorOf(req)),
  );
};
