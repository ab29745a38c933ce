import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../errors.js';
import { FLOOR, MANAGERS, actorOf, type ApiDeps } from '../context.js';
import { Code, RecordSchema, Text, errorResponses } from '../schemas.js';
import { SignatureBody } from './signatures.js';

const Category = Type.Union([Type.Literal('minor'), Type.Literal('major'), Type.Literal('critical')]);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const DeviationSchema = Type.Object({
  number: Type.String(),
  batch: Nullable(Type.String()),
  lot: Nullable(Type.String()),
  material: Nullable(Type.String()),
  station: Nullable(Type.String()),
  recordId: Nullable(Type.String()),
  type: Type.String(),
  category: Type.String(),
  title: Type.String(),
  description: Type.String(),
  immediateAction: Nullable(Type.String()),
  source: Type.String({ description: "'manual', or 'auto:<trigger>' when linegate raised it" }),
  status: Type.String({ description: 'open, under_investigation, closed' }),
  rootCause: Nullable(Type.String()),
  impact: Nullable(Type.String()),
  capaRef: Nullable(Type.String()),
  raisedBy: Type.String(),
  raisedAt: Type.String(),
  investigatedBy: Nullable(Type.String()),
  closedBy: Nullable(Type.String()),
  closedAt: Nullable(Type.String()),
  closureSignature: Nullable(Type.String()),
  updatedAt: Type.String(),
});

const Raise = Type.Object(
  {
    batch: Type.Optional(Code('Batch number')),
    lot: Type.Optional(Code('Lot id')),
    material: Type.Optional(Code('BOM material it covers (e.g. consumed outside tolerance)')),
    station: Type.Optional(Code('Station')),
    recordId: Type.Optional(Code('The record it is about', 64)),
    type: Type.Union([Type.Literal('planned'), Type.Literal('unplanned')]),
    category: Category,
    title: Text('Short title', 200),
    description: Text('What happened', 4000),
    immediateAction: Type.Optional(Text('What was done at once', 2000)),
  },
  { additionalProperties: false },
);

const Investigate = Type.Object(
  {
    rootCause: Type.Optional(Nullable(Text('Root cause', 4000))),
    impact: Type.Optional(Nullable(Text('Impact on the batch and product', 4000))),
    capaRef: Type.Optional(Nullable(Text('CAPA reference', 200))),
    category: Type.Optional(Category),
    immediateAction: Type.Optional(Nullable(Text('What was done at once', 2000))),
  },
  { additionalProperties: false },
);

const Answer = Type.Object({ deviation: DeviationSchema, record: RecordSchema });

export const deviationRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.post<{ Body: Static<typeof Raise> }>(
    '/deviations',
    { config: { roles: FLOOR }, schema: { tags: ['deviations'], summary: 'Raise a deviation (SOP 5.2.2)', body: Raise, response: { 201: Answer, ...errorResponses } } },
    async (req, reply) => reply.code(201).send(await deps.ops.deviations.raise(req.body, actorOf(req))),
  );

  app.get<{ Querystring: { batch?: string; status?: 'open' | 'under_investigation' | 'closed'; limit: number } }>(
    '/deviations',
    {
      config: { roles: FLOOR },
      schema: {
        tags: ['deviations'],
        summary: 'Deviations, by batch and status',
        querystring: Type.Object(
          {
            batch: Type.Optional(Code('Batch number')),
            status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('under_investigation'), Type.Literal('closed')])),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(DeviationSchema) }), ...errorResponses },
      },
    },
    async (req) => ({ items: deps.ops.deviations.list(req.query) }),
  );

  app.get<{ Params: { number: string } }>(
    '/deviations/:number',
    { config: { roles: FLOOR }, schema: { tags: ['deviations'], summary: 'One deviation', params: Type.Object({ number: Code('Deviation number') }), response: { 200: DeviationSchema, ...errorResponses } } },
    async (req) => {
      const d = deps.ops.deviations.get(req.params.number);
      if (!d) throw new LgError('LG_ERR_DEVIATION_NOT_FOUND', { number: req.params.number });
      return d;
    },
  );

  app.patch<{ Params: { number: string }; Body: Static<typeof Investigate> }>(
    '/deviations/:number',
    {
      config: { roles: MANAGERS },
      schema: { tags: ['deviations'], summary: 'Record the investigation (root cause, impact, CAPA); moves it to under_investigation', params: Type.Object({ number: Code('Deviation number') }), body: Investigate, response: { 200: Answer, ...errorResponses } },
    },
    async (req) => deps.ops.deviations.investigate(req.params.number, req.body, actorOf(req)),
  );

  app.post<{ Params: { number: string }; Body: { signature: Static<typeof SignatureBody> } }>(
    '/deviations/:number/close',
    {
      config: { roles: ['qa'] },
      schema: {
        tags: ['deviations'],
        summary: 'Close a deviation with a QA electronic signature (meaning "closed"); needs root cause and impact',
        params: Type.Object({ number: Code('Deviation number') }),
        body: Type.Object({ signature: SignatureBody }, { additionalProperties: false }),
        response: { 200: Answer, ...errorResponses },
      },
    },
    async (req) => deps.ops.deviations.close(req.params.number, req.body.signature, actorOf(req)),
  );
};
