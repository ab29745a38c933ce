import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LgError } from '../../errors.js';
import { ALL_ROLES, actorOf } from '../context.js';
import { Json, Text, errorResponses } from '../schemas.js';
import { SignatureBody } from './signatures.js';
import type { Recalls } from '../../usecases/recalls.js';

/** Issue 15: recall as an action (src/usecases/recalls.ts). Starting and closing are QA's, signed. */
const Key = (d: string) => Type.String({ minLength: 1, maxLength: 100, description: d });
const StartBody = Type.Object(
  {
    supplierLot: Type.Optional(Key("The supplier's lot number (as on the supplier's label)")),
    supplier: Type.Optional(Key('Only lots of this supplier (with supplierLot)')),
    lot: Type.Optional(Key('An internal lot id')),
    batch: Type.Optional(Key('A batch number')),
    reason: Text('Why the recall (recorded, audited, signed)'),
    signature: SignatureBody,
  },
  { additionalProperties: false },
);
const CloseBody = Type.Object(
  { outcome: Text('The outcome (what was recovered, destroyed, released; the authority informed…)', 2000), reason: Type.Optional(Text('Comment', 2000)), signature: SignatureBody },
  { additionalProperties: false },
);

export const recallRoutes = (recalls: () => Recalls) => async (app: FastifyInstance): Promise<void> => {
  app.post<{ Body: Static<typeof StartBody> }>(
    '/recalls',
    {
      config: { roles: ['qa'] },
      schema: {
        tags: ['recall'],
        description:
          'Start a recall of a supplier lot (optionally of one supplier), a lot or a batch: in one transaction every affected lot, batch and pallet still on site goes on hold (each a record naming the recall) and what left the site is listed. Signed (meaning "approved"). Refused when one is open for the same scope (LG_ERR_RECALL_ALREADY_OPEN) or it finds nothing (LG_ERR_RECALL_NOTHING_FOUND).',
        body: StartBody,
        response: { 201: Json, ...errorResponses },
      },
    },
    async (req, reply) => reply.code(201).send((await recalls().start(req.body, actorOf(req))) as unknown as Record<string, unknown>),
  );
  app.get<{ Querystring: { status?: 'open' | 'closed' } }>(
    '/recalls',
    { config: { roles: ALL_ROLES }, schema: { tags: ['recall'], querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])) }, { additionalProperties: false }), response: { 200: Json, ...errorResponses } } },
    async (req) => ({ items: recalls().list(req.query) }),
  );
  app.get<{ Params: { id: string } }>(
    '/recalls/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['recall'], description: 'A recall (by id or number): what it held, what was already held, what had shipped, and each object\'s state now.', params: Type.Object({ id: Type.String() }), response: { 200: Json, ...errorResponses } } },
    async (req) => {
      const r = recalls().get(req.params.id);
      if (!r) throw new LgError('LG_ERR_RECALL_NOT_FOUND', { recall: req.params.id });
      return r as unknown as Record<string, unknown>;
    },
  );
  app.get<{ Params: { id: string }; Querystring: { format?: 'csv' | 'epcis' } }>(
    '/recalls/:id/export',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['recall'],
        description: 'The recall list as CSV (one line per object, per SSCC shipped), or the EPCIS 2.0 events of the affected objects (JSON-LD).',
        params: Type.Object({ id: Type.String() }),
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('epcis')], { default: 'csv' })) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      if (req.query.format === 'epcis') return reply.type('application/ld+json').send(recalls().epcis(req.params.id));
      const r = recalls().csv(req.params.id);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="recall-${req.params.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv"`).send(r);
    },
  );
  app.post<{ Params: { id: string }; Body: Static<typeof CloseBody> }>(
    '/recalls/:id/close',
    {
      config: { roles: ['qa'] },
      schema: { tags: ['recall'], description: 'Close a recall with its outcome (signed, meaning "closed"). Lifts no hold: each object keeps its hold until its own QA disposition.', params: Type.Object({ id: Type.String() }), body: CloseBody, response: { 200: Json, ...errorResponses } },
    },
    async (req) => (await recalls().close(req.params.id, req.body, actorOf(req))) as unknown as Record<string, unknown>,
  );
};
