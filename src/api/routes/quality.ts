import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../errors.js';
import { FLOOR, MANAGERS, MASTER_DATA, actorOf, type ApiDeps } from '../context.js';
import { Code, Decimal, RecordSchema, Text, errorResponses } from '../schemas.js';
import { SignatureBody } from './signatures.js';

const Characteristic = Type.Object(
  {
    code: Code('Characteristic code', 40),
    name: Text('Name', 200),
    kind: Type.Union([Type.Literal('attribute'), Type.Literal('measurement')]),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: 'Unit of a measurement (%, g, mm, °C…)' })),
    lower: Type.Optional(Decimal('Lower specification limit (inclusive)')),
    upper: Type.Optional(Decimal('Upper specification limit (inclusive)')),
    target: Type.Optional(Decimal('Target value')),
  },
  { additionalProperties: false },
);

const PlanPut = Type.Object(
  {
    scope: Type.Union([Type.Literal('receiving'), Type.Literal('in_process')]),
    material: Type.Optional(Code('Receiving: the material inspected')),
    product: Type.Optional(Code('In process: the product made')),
    name: Text('Plan name', 200),
    characteristics: Type.Array(Characteristic, { minItems: 1, maxItems: 100 }),
    sampleSize: Type.Integer({ minimum: 1, maximum: 100_000 }),
    frequency: Type.Optional(Type.Object({ everyMinutes: Type.Optional(Type.Integer({ minimum: 1 })), everyCases: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false })),
    onFail: Type.Optional(Type.Union([Type.Literal('quarantine'), Type.Literal('reject')])),
    requiredForRelease: Type.Optional(Type.Boolean()),
    approvalRequired: Type.Optional(Type.Boolean()),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ResultIn = Type.Object(
  {
    code: Code('Characteristic code', 40),
    value: Type.Optional(Decimal('Measured value')),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: 'Unit of the value' })),
    conforms: Type.Optional(Type.Boolean({ description: 'Attribute observation' })),
  },
  { additionalProperties: false },
);

const InspectionIn = Type.Object(
  {
    plan: Code('Inspection plan id'),
    lot: Type.Optional(Code('Lot (receiving)')),
    batch: Type.Optional(Code('Batch (in process)')),
    station: Type.Optional(Code('Station')),
    sampleSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    results: Type.Array(ResultIn, { minItems: 1, maxItems: 100 }),
    retakeOf: Type.Optional(Code('The failed inspection this retakes', 40)),
    note: Type.Optional(Text('Note', 2000)),
  },
  { additionalProperties: false },
);

const Json = Type.Any();

export const qualityRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  const q = () => deps.ops.quality;

  app.put<{ Params: { id: string }; Body: Static<typeof PlanPut> }>(
    '/inspection-plans/:id',
    { config: { roles: MASTER_DATA }, schema: { tags: ['quality'], summary: 'Create or update an inspection plan (idempotent; a change bumps its version)', params: Type.Object({ id: Code('Plan id') }), body: PlanPut, response: { 200: Json, 201: Json, ...errorResponses } } },
    async (req, reply) => {
      const r = await q().upsertPlan(req.params.id, req.body as never, actorOf(req));
      return reply.code(r.created ? 201 : 200).send(r);
    },
  );

  app.get<{ Querystring: { material?: string; product?: string } }>(
    '/inspection-plans',
    { config: { roles: FLOOR }, schema: { tags: ['quality'], summary: 'Active inspection plans', querystring: Type.Object({ material: Type.Optional(Code('Material')), product: Type.Optional(Code('Product')) }, { additionalProperties: false }), response: { 200: Json, ...errorResponses } } },
    async (req) => ({ items: q().plans(req.query) }),
  );

  app.post<{ Body: Static<typeof InspectionIn> }>(
    '/qc/inspections',
    { config: { roles: FLOOR }, schema: { tags: ['quality'], summary: 'Record a QC inspection; pass/fail is computed from the plan', body: InspectionIn, response: { 201: Type.Object({ inspection: Json, record: RecordSchema }), ...errorResponses } } },
    async (req, reply) => reply.code(201).send(await q().record(req.body, actorOf(req))),
  );

  app.get<{ Querystring: { lot?: string; batch?: string } }>(
    '/qc/inspections',
    {
      config: { roles: FLOOR },
      schema: { tags: ['quality'], summary: 'Inspections of a lot or a batch', querystring: Type.Object({ lot: Type.Optional(Code('Lot')), batch: Type.Optional(Code('Batch')) }, { additionalProperties: false }), response: { 200: Json, ...errorResponses } },
    },
    async (req) => {
      if (!req.query.lot === !req.query.batch) throw new LgError('LG_ERR_VALIDATION', { detail: 'give lot or batch' });
      return { items: q().list(req.query) };
    },
  );

  app.post<{ Params: { id: string }; Body: { signature: Static<typeof SignatureBody> } }>(
    '/qc/inspections/:id/approve',
    { config: { roles: ['qa'] }, schema: { tags: ['quality'], summary: 'Approve a QC result with a QA signature (meaning "approved")', params: Type.Object({ id: Code('Inspection id') }), body: Type.Object({ signature: SignatureBody }, { additionalProperties: false }), response: { 200: Json, ...errorResponses } } },
    async (req) => q().approve(req.params.id, req.body.signature, actorOf(req)),
  );

  app.get<{ Params: { id: string } }>(
    '/stations/:id/qc-due',
    { config: { roles: FLOOR }, schema: { tags: ['quality'], summary: "In-process checks due at a station (for its active batch)", params: Type.Object({ id: Code('Station') }), response: { 200: Json, ...errorResponses } } },
    async (req) => {
      const ctx = deps.ops.stationContext(req.params.id);
      return { batch: ctx.batch, items: ctx.batch ? q().dueFor(ctx.batch) : [] };
    },
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number/qc-due',
    { config: { roles: MANAGERS }, schema: { tags: ['quality'], summary: 'In-process checks of a batch: due and overdue', params: Type.Object({ number: Code('Batch') }), response: { 200: Json, ...errorResponses } } },
    async (req) => ({ items: q().dueFor(req.params.number) }),
  );
};
