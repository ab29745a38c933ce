import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ALL_ROLES, actorOf, type ApiDeps } from '../context.js';
import { Code, errorResponses } from '../schemas.js';

const Role = Type.Union(['operator', 'supervisor', 'qa', 'admin', 'erp'].map((r) => Type.Literal(r)));
const UserSchema = Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), badge: Type.Union([Type.String(), Type.Null()]), disabled: Type.Boolean() });
const UserCreate = Type.Object(
  { id: Code('User id', 40), name: Type.String({ minLength: 1, maxLength: 100 }), role: Role, badge: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])) },
  { additionalProperties: false },
);
const UserPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    role: Type.Optional(Role),
    badge: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    disabled: Type.Optional(Type.Boolean()),
    rotateToken: Type.Optional(Type.Boolean({ description: 'Issue a new token; the old one stops working at once' })),
  },
  { additionalProperties: false },
);

export const userRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get('/me', { config: { roles: ALL_ROLES }, schema: { tags: ['users'] } }, async (req) => req.user);

  app.get('/users', { config: { roles: ['admin'] }, schema: { tags: ['users'], response: { 200: Type.Object({ items: Type.Array(UserSchema) }) } } }, async () => ({
    items: deps.repo.listUsers(),
  }));

  app.post<{ Body: Static<typeof UserCreate> }>(
    '/users',
    {
      config: { roles: ['admin'] },
      schema: { tags: ['users'], description: 'Create a user; the answer holds their bearer token, shown only this once (only its hash is stored).', body: UserCreate, response: { 201: Type.Object({ user: UserSchema, token: Type.String() }), ...errorResponses } },
    },
    async (req, reply) => {
      const { token } = await deps.ops.createUser(req.body as never, actorOf(req));
      return reply.code(201).send({ user: deps.repo.userById(req.body.id), token });
    },
  );

  app.patch<{ Params: { id: string }; Body: Static<typeof UserPatch> }>(
    '/users/:id',
    { config: { roles: ['admin'] }, schema: { tags: ['users'], params: Type.Object({ id: Type.String() }), body: UserPatch, response: { 200: Type.Object({ user: UserSchema, token: Type.Optional(Type.String()) }), ...errorResponses } } },
    async (req) => {
      const r = await deps.ops.updateUser(req.params.id, req.body as never, actorOf(req));
      return { user: deps.repo.userById(req.params.id), ...r };
    },
  );
};
