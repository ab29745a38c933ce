import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../errors.js';
import { ALL_ROLES, MANAGERS, actorOf, type ApiDeps } from '../context.js';
import { Code, RecordSchema, Text, errorResponses } from '../schemas.js';

/** The two components of an electronic signature, plus its meaning (21 CFR Part 11 §11.50, §11.200). */
export const SignatureBody = Type.Object(
  {
    userId: Code('The signer\'s user id (first component)', 40),
    secret: Type.String({ minLength: 1, maxLength: 256, description: 'The signer\'s signing password or PIN (second component; never the bearer token)' }),
    meaning: Code('What the signature means, from the vocabulary of the action: released, reviewed, approved, closed…', 40),
    statement: Type.Optional(Text('Free text shown with the signature', 500)),
  },
  { additionalProperties: false, description: 'An electronic signature: user id + signing secret, re-entered at every signing.' },
);

const SignatureView = Type.Object({
  id: Type.String(),
  recordSeq: Type.Integer(),
  entity: Type.String(),
  entityId: Type.String(),
  meaning: Type.String(),
  action: Type.String(),
  signer: Type.String(),
  signerName: Type.String(),
  signedAt: Type.String(),
  coveredSeq: Type.Integer(),
  contentHash: Type.String(),
});
const SignatureCheck = Type.Intersect([SignatureView, Type.Object({ ok: Type.Boolean(), problem: Type.Union([Type.String(), Type.Null()]) })]);

const SecretBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('password'), Type.Literal('pin')], { description: 'password (≥ signatures.passwordMinLength) or PIN (digits, ≥ signatures.pinMinLength)' }),
    secret: Type.String({ minLength: 1, maxLength: 256, description: 'The new signing secret' }),
    current: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'The current signing secret (needed to change your own)' })),
  },
  { additionalProperties: false },
);

const Signable = Type.Union([Type.Literal('batch'), Type.Literal('record')]);
const ACTION_OF: Record<string, string> = { batch: 'batch.review', record: 'record.review' };

export const signatureRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.put<{ Body: Static<typeof SecretBody> }>(
    '/me/signing-secret',
    {
      config: { roles: ALL_ROLES },
      schema: { tags: ['signatures'], summary: 'Set or change your own signing secret (argon2id; separate from your token)', body: SecretBody, response: { 200: Type.Object({ expiresAt: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses } },
    },
    async (req) => deps.ops.signatures.setSecret(actorOf(req).id, req.body, actorOf(req)),
  );

  app.put<{ Params: { id: string }; Body: Static<typeof SecretBody> }>(
    '/users/:id/signing-secret',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['signatures'],
        summary: 'Set a temporary signing secret for a user (expired at once: they must choose their own before signing)',
        params: Type.Object({ id: Code('User id', 40) }),
        body: SecretBody,
        response: { 200: Type.Object({ expiresAt: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (req) => deps.ops.signatures.setSecret(req.params.id, req.body, actorOf(req)),
  );

  app.post<{ Params: { id: string }; Body: { reason: string; signature: Static<typeof SignatureBody> } }>(
    '/users/:id/signing-unlock',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['signatures'],
        summary: "Unlock a user's signing after failed attempts (signed by another admin)",
        params: Type.Object({ id: Code('User id', 40) }),
        body: Type.Object({ reason: Text('Why'), signature: SignatureBody }, { additionalProperties: false }),
        response: { 200: Type.Object({ record: RecordSchema }), ...errorResponses },
      },
    },
    async (req) => ({ record: await deps.ops.signatures.unlock(req.params.id, req.body.reason, req.body.signature, actorOf(req)) }),
  );

  app.post<{ Body: { entity: 'batch' | 'record'; entityId: string; signature: Static<typeof SignatureBody> } }>(
    '/signatures',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['signatures'],
        summary: 'Sign a batch record or a record as reviewed/approved (binds the SHA-256 of its content as of now)',
        body: Type.Object({ entity: Signable, entityId: Code('Batch number or record id', 64), signature: SignatureBody }, { additionalProperties: false }),
        response: { 201: Type.Object({ signature: SignatureView }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { signature } = await deps.ops.signatures.sign(req.body.entity, req.body.entityId, ACTION_OF[req.body.entity]!, req.body.signature, actorOf(req));
      return reply.code(201).send({ signature });
    },
  );

  app.get<{ Querystring: { entity: string; entityId: string } }>(
    '/signatures',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['signatures'],
        summary: 'Signatures of one thing, each re-verified against what it signed',
        querystring: Type.Object({ entity: Code('batch, record, user, deviation…', 40), entityId: Code('Its id', 64) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(SignatureCheck), ok: Type.Boolean() }), ...errorResponses },
      },
    },
    async (req) => {
      const items = deps.ops.signatures.verify(req.query.entity, req.query.entityId);
      return { items, ok: items.every((i) => i.ok) };
    },
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number/signatures',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['signatures'],
        summary: "A batch's signatures, each re-verified (what `linegate verify batch` checks)",
        params: Type.Object({ number: Code('Batch number') }),
        response: { 200: Type.Object({ items: Type.Array(SignatureCheck), ok: Type.Boolean() }), ...errorResponses },
      },
    },
    async (req) => {
      if (!deps.repo.batch(req.params.number)) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: req.params.number });
      const items = deps.ops.signatures.verify('batch', req.params.number);
      return { items, ok: items.every((i) => i.ok) };
    },
  );
};
