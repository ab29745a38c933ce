import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { affectedBatches, traceBackward, traceForward } from '../../domain/genealogy.js';
import { LgError } from '../../errors.js';
import { ALL_ROLES, type ApiDeps } from '../context.js';
import { Json, errorResponses } from '../schemas.js';

/**
 * Traceability in one request: backward from a batch, forward from a lot, and the recall question
 * "which batches and labels came from supplier X's lot Y?".
 */
export const genealogyRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get<{ Params: { number: string } }>(
    '/batches/:number/genealogy',
    { config: { roles: ALL_ROLES }, schema: { tags: ['genealogy'], description: 'Backward: every lot that went into this batch, with suppliers, through intermediates.', params: Type.Object({ number: Type.String() }), response: { 200: Json, ...errorResponses } } },
    async (req) => {
      const tree = traceBackward(req.params.number, deps.repo.genealogyIO());
      if (!tree) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: req.params.number });
      return tree as unknown as Record<string, unknown>;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/lots/:id/genealogy',
    { config: { roles: ALL_ROLES }, schema: { tags: ['genealogy'], description: 'Forward: every batch that consumed this lot, their labels and the lots they produced, onwards.', params: Type.Object({ id: Type.String() }), response: { 200: Json, ...errorResponses } } },
    async (req) => {
      const tree = traceForward(req.params.id, deps.repo.genealogyIO());
      if (!tree) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: req.params.id });
      return { ...tree, affectedBatches: [...affectedBatches(tree)] } as unknown as Record<string, unknown>;
    },
  );

  app.get<{ Querystring: { supplierLot: string; supplier?: string; material?: string } }>(
    '/genealogy/supplier-lot',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['genealogy'],
        description: "Recall: which batches (and labels) were made from supplier X's lot Y.",
        querystring: Type.Object({ supplierLot: Type.String({ minLength: 1 }), supplier: Type.Optional(Type.String()), material: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: { 200: Json, ...errorResponses },
      },
    },
    async (req) => {
      const ids = deps.repo.lotIdsBySupplierLot(req.query);
      const io = deps.repo.genealogyIO();
      const trees = ids.map((id) => traceForward(id, io)!).filter(Boolean);
      const batches = new Set<string>();
      for (const t of trees) affectedBatches(t, batches);
      return { lots: ids, affectedBatches: [...batches], trees } as unknown as Record<string, unknown>;
    },
  );
};
