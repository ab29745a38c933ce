import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../errors.js';
import { ALL_ROLES, MANAGERS, MASTER_DATA, actorOf, type ApiDeps } from '../context.js';
import type { LotInput } from '../../ops.js';
import { Code, Decimal, IsoDate, LotSchema, MaterialSchema, Page, Text, errorResponses } from '../schemas.js';

const LotStatus = Type.Union(['quarantine', 'released', 'on_hold', 'rejected', 'depleted'].map((s) => Type.Literal(s)));

const MaterialBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    unit: Code('Unit every quantity of this material is kept in (kg, g, pcs, l…)', 16),
    tracking: Type.Optional(Type.Union([Type.Literal('lot'), Type.Literal('serial'), Type.Literal('none')], { default: 'lot' })),
    gtins: Type.Optional(Type.Array(Type.String({ pattern: '^\\d{14}$' }), { maxItems: 50, description: 'GTIN-14s on this material\'s labels' })),
    shelfLifeDays: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 36500 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const LotFields = {
  material: Code('Material code'),
  supplier: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  supplierLot: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 20 }), Type.Null()])),
  receiptDate: Type.Optional(Type.Union([IsoDate('Receipt date'), Type.Null()])),
  expiry: Type.Optional(Type.Union([IsoDate('Last day of use'), Type.Null()])),
  status: Type.Optional(LotStatus),
  quantity: Decimal('Quantity on hand'),
  unit: Type.Optional(Code('Unit (defaults to, and must equal, the material unit)', 16)),
  producedBy: Type.Optional(Type.Union([Code('Batch number'), Type.Null()], { description: 'The batch that produced this lot (intermediates, finished goods): links genealogy across steps' })),
};
const LotCreate = Type.Object({ id: Code('Internal lot id', 40), ...LotFields }, { additionalProperties: false });
const LotPut = Type.Object({ ...LotFields, reason: Type.Optional(Text('Why')) }, { additionalProperties: false });
const LotPatch = Type.Object(
  {
    status: Type.Optional(LotStatus),
    expiry: Type.Optional(Type.Union([IsoDate('Last day of use'), Type.Null()])),
    quantity: Type.Optional(Decimal('Corrected quantity on hand (stock count)')),
    reason: Text('Why (recorded in the audit trail)'),
  },
  { additionalProperties: false },
);

export const masterDataRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get('/materials', { config: { roles: ALL_ROLES }, schema: { tags: ['materials'], response: { 200: Type.Object({ items: Type.Array(MaterialSchema) }) } } }, async () => ({
    items: deps.repo.listMaterials(),
  }));

  app.get<{ Params: { code: string } }>(
    '/materials/:code',
    { config: { roles: ALL_ROLES }, schema: { tags: ['materials'], params: Type.Object({ code: Type.String() }), response: { 200: MaterialSchema, ...errorResponses } } },
    async (req) => {
      const m = deps.repo.material(req.params.code);
      if (!m) throw new LgError('LG_ERR_MATERIAL_NOT_FOUND', { material: req.params.code });
      return m;
    },
  );

  app.put<{ Params: { code: string }; Body: Static<typeof MaterialBody> }>(
    '/materials/:code',
    {
      config: { roles: MASTER_DATA },
      schema: { tags: ['materials'], description: 'Create or update a material (idempotent).', params: Type.Object({ code: Code('Material code') }), body: MaterialBody, response: { 200: Type.Object({ material: MaterialSchema, created: Type.Boolean(), changed: Type.Boolean() }), 201: Type.Object({ material: MaterialSchema, created: Type.Boolean(), changed: Type.Boolean() }), ...errorResponses } },
    },
    async (req, reply) => {
      const r = await deps.ops.upsertMaterial({ code: req.params.code, ...req.body }, actorOf(req));
      return reply.code(r.created ? 201 : 200).send({ material: deps.repo.material(req.params.code), ...r });
    },
  );

  app.get<{ Querystring: { material?: string; status?: string; limit: number; after?: string } }>(
    '/lots',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['lots'],
        querystring: Type.Object(
          { material: Type.Optional(Type.String()), status: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }), after: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
        response: { 200: Page(LotSchema) },
      },
    },
    async (req) => {
      const items = deps.repo.listLots(req.query);
      return { items, next: items.length === req.query.limit ? items[items.length - 1]!.id : null };
    },
  );

  app.post<{ Body: Static<typeof LotCreate> }>(
    '/lots',
    { config: { roles: MASTER_DATA }, schema: { tags: ['lots'], body: LotCreate, response: { 201: LotSchema, ...errorResponses } } },
    async (req, reply) => {
      const { lot } = await deps.ops.upsertLot(req.body as LotInput, actorOf(req), null, 'create');
      return reply.code(201).send(deps.repo.lot(lot.id));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/lots/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['lots'], params: Type.Object({ id: Type.String() }), response: { 200: LotSchema, ...errorResponses } } },
    async (req) => {
      const l = deps.repo.lot(req.params.id);
      if (!l) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: req.params.id });
      return l;
    },
  );

  app.put<{ Params: { id: string }; Body: Static<typeof LotPut> }>(
    '/lots/:id',
    {
      config: { roles: MASTER_DATA },
      schema: { tags: ['lots'], description: 'ERP push: create or update a lot (idempotent). A changed status takes effect at the next scan.', params: Type.Object({ id: Code('Internal lot id', 40) }), body: LotPut, response: { 200: Type.Object({ lot: LotSchema, created: Type.Boolean(), changed: Type.Boolean() }), 201: Type.Object({ lot: LotSchema, created: Type.Boolean(), changed: Type.Boolean() }), ...errorResponses } },
    },
    async (req, reply) => {
      const { reason, ...rest } = req.body;
      const r = await deps.ops.upsertLot({ id: req.params.id, ...rest } as LotInput, actorOf(req), reason ?? null, 'upsert');
      return reply.code(r.created ? 201 : 200).send({ lot: deps.repo.lot(req.params.id), created: r.created, changed: r.changed });
    },
  );

  app.patch<{ Params: { id: string }; Body: Static<typeof LotPatch> }>(
    '/lots/:id',
    {
      config: { roles: MANAGERS },
      schema: { tags: ['lots'], description: 'Change a lot\'s status, expiry or counted quantity, with a reason.', params: Type.Object({ id: Type.String() }), body: LotPatch, response: { 200: LotSchema, ...errorResponses } },
    },
    async (req) => {
      const cur = deps.repo.lot(req.params.id);
      if (!cur) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: req.params.id });
      await deps.ops.upsertLot(
        {
          id: cur.id,
          material: cur.material,
          quantity: req.body.quantity ?? cur.quantity,
          status: (req.body.status ?? cur.status) as typeof cur.status,
          ...(req.body.expiry !== undefined ? { expiry: req.body.expiry } : {}),
        },
        actorOf(req),
        req.body.reason,
        'upsert',
      );
      return deps.repo.lot(cur.id);
    },
  );
};
