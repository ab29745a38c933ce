import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../errors.js';
import { verifyAudit, type RecordFilter } from '../../store/repo.js';
import { readCheckpoints, verifyCheckpoints } from '../../store/anchor.js';
import { ALL_ROLES, MANAGERS, actorOf, type ApiDeps } from '../context.js';
import { Decimal, Json, Page, RecordSchema, Text, errorResponses } from '../schemas.js';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../ops.js';

/**
 * Who grants, who asked (issue 10.18): the caller asks; with `supervisorToken` the supervisor who
 * signs at the station grants (their role is checked by the use case), otherwise the caller grants.
 */
function grantAndAsk(deps: ApiDeps, req: FastifyRequest, supervisorToken: string | undefined): { by: Actor; requestedBy: Actor } {
  const requestedBy = actorOf(req);
  if (!supervisorToken) return { by: requestedBy, requestedBy };
  const sup = deps.repo.userByToken(supervisorToken);
  if (!sup) throw new LgError('LG_ERR_AUTH_INVALID');
  return { by: { id: sup.id, role: sup.role as Actor['role'] }, requestedBy };
}

const RecordQuery = Type.Object(
  {
    batch: Type.Optional(Type.String()),
    lot: Type.Optional(Type.String()),
    station: Type.Optional(Type.String()),
    device: Type.Optional(Type.String()),
    type: Type.Optional(Type.String({ description: 'Record type; a trailing * matches a prefix (lot.*)' })),
    status: Type.Optional(Type.Union([Type.Literal('accepted'), Type.Literal('rejected')])),
    errorCode: Type.Optional(Type.String({ pattern: '^LG_ERR_[A-Z0-9_]+$', description: 'Error code (LG_ERR_…) of rejected or flagged records' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Received at or after (ISO time)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Received before (ISO time)' })),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'Cursor: the seq of the last record of the previous page' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
  },
  { additionalProperties: false },
);

export const recordRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get<{ Querystring: RecordFilter }>(
    '/records',
    { config: { roles: ALL_ROLES }, schema: { tags: ['records'], querystring: RecordQuery, response: { 200: Page(RecordSchema), ...errorResponses } } },
    async (req) => {
      const q = { ...req.query };
      if (q.from) q.from = new Date(q.from).toISOString();
      if (q.to) q.to = new Date(q.to).toISOString();
      return deps.repo.listRecords(q);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/records/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['records'], params: Type.Object({ id: Type.String({ description: 'Record id or seq' }) }), response: { 200: RecordSchema, ...errorResponses } } },
    async (req) => {
      const r = deps.repo.record(req.params.id);
      if (!r) throw new LgError('LG_ERR_RECORD_NOT_FOUND', { id: req.params.id });
      return r;
    },
  );

  app.post<{ Params: { id: string }; Body: { reason: string; supervisorToken?: string } }>(
    '/records/:id/override',
    {
      config: { roles: ['operator', 'supervisor', 'qa', 'admin'] },
      schema: {
        tags: ['records'],
        description:
          'A supervisor lets one refused lot scan through. Either the request itself is made by a supervisor, or an operator session sends the supervisor\'s own token in `supervisorToken` (the supervisor signs at the station).',
        params: Type.Object({ id: Type.String() }),
        body: Type.Object({ reason: Text('Why the refusal is overridden'), supervisorToken: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })) }, { additionalProperties: false }),
        response: { 201: RecordSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { by, requestedBy } = grantAndAsk(deps, req, req.body.supervisorToken);
      const rec = await deps.ops.overrideScan(req.params.id, req.body.reason, by, requestedBy);
      return reply.code(201).send(rec);
    },
  );

  app.post<{ Params: { id: string }; Body: { reason: string; quantity?: string; supervisorToken?: string } }>(
    '/records/:id/correction',
    {
      config: { roles: ['operator', 'supervisor', 'qa', 'admin'] },
      schema: {
        tags: ['records'],
        description:
          'Correct a wrong consumption: a `material.consumption_corrected` record naming the `material.consumed` record, with a reason, granted by a supervisor (the request itself, or `supervisorToken` as for overrides). Gives `quantity` (default: all of it, in the lot unit) back to the lot and off the batch total; once per consumption, never more than it consumed.',
        params: Type.Object({ id: Type.String({ description: 'Id or seq of the material.consumed record' }) }),
        body: Type.Object(
          {
            reason: Text('Why the consumption was wrong'),
            quantity: Type.Optional(Decimal('How much to take back, in the unit of the consumption (default: all of it)')),
            supervisorToken: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: RecordSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { by, requestedBy } = grantAndAsk(deps, req, req.body.supervisorToken);
      const rec = await deps.ops.correctConsumption(req.params.id, { reason: req.body.reason, quantity: req.body.quantity }, by, requestedBy);
      return reply.code(201).send(rec);
    },
  );

  app.get<{ Querystring: { entity?: string; entityId?: string; after?: number; limit: number } }>(
    '/audit',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['audit'],
        querystring: Type.Object(
          { entity: Type.Optional(Type.String()), entityId: Type.Optional(Type.String()), after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Page(
            Type.Object({
              seq: Type.Integer(),
              at: Type.String(),
              actor: Type.String(),
              action: Type.String(),
              entity: Type.String(),
              entityId: Type.String(),
              reason: Type.Union([Type.String(), Type.Null()]),
              old: Type.Unknown(),
              new: Type.Unknown(),
              hash: Type.String(),
              prevHash: Type.String(),
            }),
          ),
        },
      },
    },
    async (req) => deps.repo.listAudit(req.query),
  );

  app.get(
    '/audit/verify',
    { config: { roles: MANAGERS }, schema: { tags: ['audit'], response: { 200: Json } } },
    async () => {
      const chain = verifyAudit(deps.repo.db);
      if (!chain.ok || !deps.anchor) return chain;
      const anchored = verifyCheckpoints(deps.repo.db, readCheckpoints(deps.anchor.checkpointFile), deps.anchor.publicKey);
      return anchored.ok
        ? { ...chain, checkpoints: anchored.checkpoints, anchoredUpTo: anchored.newest }
        : { ok: false, checked: chain.checked, firstBroken: anchored.problem, checkpoints: anchored.checkpoints, anchoredUpTo: anchored.newest };
    },
  );

  app.get(
    '/audit/public-key',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['audit'],
        summary: "The gateway's Ed25519 public key that signs audit checkpoints (give it to QA to verify a journal offline)",
        response: { 200: Type.Object({ algorithm: Type.Literal('Ed25519'), publicKeyPem: Type.String(), fingerprintSha256: Type.String() }) },
      },
    },
    async () => {
      if (!deps.anchor) throw new LgError('LG_ERR_NOT_FOUND', { method: 'GET', url: '/audit/public-key' });
      return { algorithm: 'Ed25519' as const, publicKeyPem: deps.anchor.publicKeyPem, fingerprintSha256: deps.anchor.fingerprint };
    },
  );
};
