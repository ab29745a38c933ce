import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../errors.js';
import { ALL_ROLES, FLOOR, MANAGERS, MASTER_DATA, actorOf, type ApiDeps } from '../context.js';
import { BatchSchema, BomLineSchema, Code, Decimal, Json, RecordSchema, Text, errorResponses, Page } from '../schemas.js';
import type { BatchStatus } from '../../binding/types.js';
import { SignatureBody } from './signatures.js';
import { batchChecks } from '../../store/batch-checks.js';
import { enterProduction, reviewOverride } from '../../usecases/batch-record.js';

const BatchCreate = Type.Object(
  {
    number: Type.Optional(Code('Explicit batch number (imports only); normally generated from the numbering pattern')),
    product: Code('Product code'),
    productName: Type.Optional(Type.String({ maxLength: 200 })),
    gtin: Type.Optional(Type.String({ pattern: '^\\d{14}$', description: 'GTIN-14 of the product' })),
    plannedQty: Decimal('Planned quantity'),
    unit: Code('Unit of the planned quantity', 16),
    bom: Type.Array(BomLineSchema, { maxItems: 500, description: 'Bill of materials' }),
    plannedStart: Type.Optional(Type.String({ format: 'date-time' })),
    personnel: Type.Optional(Type.Array(Code('User id'), { maxItems: 100 })),
  },
  { additionalProperties: false },
);

const WorkOrder = Type.Omit(BatchCreate, ['number']);

const Transition = Type.Object(
  {
    to: Type.Union(['in_process', 'completed', 'released', 'on_hold', 'rejected', 'planned'].map((s) => Type.Literal(s)), {
      description: 'Target status. To resume a batch on hold, send the status it was held from.',
    }),
    reason: Type.Optional(Text('Why (required for on_hold, rejected, released)')),
    signature: Type.Optional(SignatureBody),
    justifications: Type.Optional(
      Type.Array(Type.Object({ material: Code('Material on the bill of materials'), reason: Text('Why its consumption may stand outside tolerance') }, { additionalProperties: false }), {
        maxItems: 500,
        description: 'Completion only (supervisor, QA, admin): one per material whose consumption fails its check; recorded and audited. Each raises a deviation for that material, which QA closes before release.',
      }),
    ),
  },
  { additionalProperties: false },
);

const CheckResultSchema = Type.Object({
  batch: Type.String(),
  stage: Type.Union([Type.Literal('completion'), Type.Literal('release')]),
  ok: Type.Boolean(),
  missing: Type.Array(Type.Object({ check: Type.String(), code: Type.String(), message: Type.String(), details: Json })),
  bom: Type.Array(Json),
  produced: Json,
  openPrintJobs: Type.Integer(),
  overrides: Json,
});

export const batchRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get<{ Querystring: { status?: string; line?: string; product?: string; from?: string; to?: string; limit: number; after?: string } }>(
    '/batches',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['batches'],
        querystring: Type.Object(
          {
            status: Type.Optional(Type.String()),
            line: Type.Optional(Type.String()),
            product: Type.Optional(Type.String({ maxLength: 64, description: 'Product code' })),
            from: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}', maxLength: 40, description: 'Batches of this day or later (ISO date or date-time, UTC): started, else planned start, else created' })),
            to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}', maxLength: 40, description: 'Batches before this day (exclusive; ISO date or date-time, UTC)' })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
            after: Type.Optional(Type.String({ description: 'Cursor: the last batch number of the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(BatchSchema), ...errorResponses },
      },
    },
    async (req) => {
      const items = deps.repo.listBatches(req.query);
      return { items, next: items.length === req.query.limit ? items[items.length - 1]!.number : null };
    },
  );

  app.post<{ Body: Static<typeof BatchCreate> }>(
    '/batches',
    { config: { roles: MASTER_DATA }, schema: { tags: ['batches'], body: BatchCreate, response: { 201: BatchSchema, ...errorResponses } } },
    async (req, reply) => {
      const { number } = await deps.ops.createBatch(req.body, actorOf(req));
      return reply.code(201).send(deps.repo.batch(number));
    },
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number',
    { config: { roles: ALL_ROLES }, schema: { tags: ['batches'], params: Type.Object({ number: Type.String() }), response: { 200: BatchSchema, ...errorResponses } } },
    async (req) => {
      const b = deps.repo.batch(req.params.number);
      if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: req.params.number });
      return b;
    },
  );

  app.post<{ Params: { number: string }; Body: Static<typeof Transition> }>(
    '/batches/:number/transitions',
    {
      config: { roles: FLOOR },
      schema: {
        tags: ['batches'],
        params: Type.Object({ number: Type.String() }),
        body: Transition,
        response: { 200: Type.Object({ batch: BatchSchema, record: RecordSchema }), ...errorResponses },
      },
    },
    async (req) => {
      const record = await deps.ops.transitionBatch(req.params.number, req.body.to as BatchStatus, actorOf(req), req.body.reason ?? null, req.body.signature ?? null, req.body.justifications ?? null);
      return { batch: deps.repo.batch(req.params.number), record };
    },
  );

  // Completion and release checks (issue 10.6): what is missing, before anyone tries.
  app.get<{ Params: { number: string }; Querystring: { stage?: 'completion' | 'release' } }>(
    '/batches/:number/checks',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['batches'],
        description: 'The completion or release checks of a batch, read-only (default: release for a completed batch, completion otherwise). The same checks the transition enforces.',
        params: Type.Object({ number: Type.String() }),
        querystring: Type.Object({ stage: Type.Optional(Type.Union([Type.Literal('completion'), Type.Literal('release')])) }, { additionalProperties: false }),
        response: { 200: CheckResultSchema, ...errorResponses },
      },
    },
    async (req) => {
      const b = deps.repo.batch(req.params.number);
      if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: req.params.number });
      const stage = req.query.stage ?? (b.status === 'completed' || b.status === 'released' ? 'release' : 'completion');
      return batchChecks(deps.repo, b.number, stage);
    },
  );

  app.post<{ Params: { number: string }; Body: { good: string; rejected?: string; reason: string } }>(
    '/batches/:number/production',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['batches'],
        description: 'A supervisor enters the produced quantity of a batch no machine counted — once, while in process, with a reason; recorded and audited.',
        params: Type.Object({ number: Type.String() }),
        body: Type.Object({ good: Decimal('Good quantity produced'), rejected: Type.Optional(Decimal('Rejected quantity')), reason: Text('Why entered by hand') }, { additionalProperties: false }),
        response: { 201: Type.Object({ batch: BatchSchema, record: RecordSchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const record = await enterProduction(deps.journal, deps.repo, req.params.number, req.body, actorOf(req));
      return reply.code(201).send({ batch: deps.repo.batch(req.params.number), record });
    },
  );

  app.post<{ Params: { number: string; override: string }; Body: { comment: string } }>(
    '/batches/:number/overrides/:override/review',
    {
      config: { roles: ['qa'] },
      schema: {
        tags: ['batches'],
        description: 'QA reviews a supervisor override of a refused lot in this batch (release needs every override reviewed). Recorded and audited.',
        params: Type.Object({ number: Type.String(), override: Type.String({ description: 'The lot.override record id' }) }),
        body: Type.Object({ comment: Text('QA comment') }, { additionalProperties: false }),
        response: { 201: RecordSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const record = await reviewOverride(deps.journal, deps.repo, req.params.number, req.params.override, req.body.comment, actorOf(req));
      return reply.code(201).send(record);
    },
  );

  app.put<{ Params: { id: string }; Body: Static<typeof WorkOrder> }>(
    '/work-orders/:id',
    {
      config: { roles: MASTER_DATA },
      schema: {
        tags: ['batches'],
        description: 'ERP push: a work order becomes a planned batch with its bill of materials. Idempotent; updates while still planned.',
        params: Type.Object({ id: Code('Work order id') }),
        body: WorkOrder,
        response: { 200: Type.Object({ batch: BatchSchema, created: Type.Boolean(), changed: Type.Boolean() }), 201: Type.Object({ batch: BatchSchema, created: Type.Boolean(), changed: Type.Boolean() }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = await deps.ops.upsertWorkOrder(req.params.id, req.body, actorOf(req));
      return reply.code(r.created ? 201 : 200).send({ batch: deps.repo.batch(r.number), created: r.created, changed: r.changed });
    },
  );
};
