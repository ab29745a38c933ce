import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.js';
import { buildGenealogyGraph, DEFAULT_GRAPH_LIMITS } from '../../domain/genealogy-graph.js';
import { LgError } from '../../errors.js';
import { recallAnswer, recallCsv, recallPdf } from '../../report/recall.js';
import type { Repo } from '../../store/repo.js';
import { labelPng } from '../../ui/server/label-images.js';
import { dispatchIO, lotsBySupplierLot } from '../../usecases/exports.js';
import type { Clock } from '../../util/clock.js';
import { ALL_ROLES, MANAGERS } from '../context.js';
import { Json, errorResponses } from '../schemas.js';

/**
 * What the office trace pages read beyond the existing APIs (issue 14): the genealogy graph as
 * nodes + edges (the picture), the recall question with its CSV and PDF exports, and a print job's
 * label as a picture for the print-job queue page.
 */
export const traceRoutes = (deps: { repo: Repo; cfg: Readonly<Config>; clock: Clock }) => async (app: FastifyInstance): Promise<void> => {
  const GraphQuery = Type.Object(
    {
      batch: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      lot: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      supplierLot: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      supplier: Type.Optional(Type.String({ maxLength: 64 })),
      perBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: `Group a batch's pallets into one node above this many (default ${DEFAULT_GRAPH_LIMITS.perBatch})` })),
      maxNodes: Type.Optional(Type.Integer({ minimum: 10, maximum: 5000, description: `Group further batches' pallets until at most this many nodes (default ${DEFAULT_GRAPH_LIMITS.maxNodes})` })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: { batch?: string; lot?: string; supplierLot?: string; supplier?: string; perBatch?: number; maxNodes?: number } }>(
    '/genealogy/graph',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['genealogy'],
        summary: 'The genealogy of a batch, a lot or a supplier lot as a graph (nodes + edges), for the genealogy picture',
        description:
          'Supplier lots → lots → batches → intermediate lots → batches → pallets / loose cases → deliveries → customers: backward from the start (what went into it) and forward (where it went). Cases are counted on their pallet, never drawn one by one; a batch with many pallets gets one group node, and `collapsed` lists every grouping. Node ids are `<kind>:<ref>`.',
        querystring: GraphQuery,
        response: { 200: Json, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const given = [q.batch, q.lot, q.supplierLot].filter(Boolean).length;
      if (given !== 1) throw new LgError('LG_ERR_VALIDATION', { detail: 'name exactly one of batch, lot or supplierLot' });
      if (q.batch && !deps.repo.batch(q.batch)) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: q.batch });
      if (q.lot && !deps.repo.lot(q.lot)) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: q.lot });
      const lots = q.supplierLot ? lotsBySupplierLot(deps.repo, q.supplierLot, q.supplier || undefined) : [];
      if (q.supplierLot && lots.length === 0) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: `supplier lot ${q.supplierLot}${q.supplier ? ` of ${q.supplier}` : ''}` });
      const start = q.batch ? { batch: q.batch } : q.lot ? { lot: q.lot } : { lots, supplierLot: q.supplierLot };
      const limits = { ...(q.perBatch ? { perBatch: q.perBatch } : {}), ...(q.maxNodes ? { maxNodes: q.maxNodes } : {}) };
      return buildGenealogyGraph(start, { ...deps.repo.genealogyIO(), ...dispatchIO(deps.repo) }, limits) as unknown as Record<string, unknown>;
    },
  );

  const RecallQuery = Type.Object(
    { supplierLot: Type.String({ minLength: 1, maxLength: 64, description: "The supplier's lot number" }), supplier: Type.Optional(Type.String({ maxLength: 64, description: 'Only lots of this supplier' })) },
    { additionalProperties: false },
  );
  type RQ = { Querystring: { supplierLot: string; supplier?: string } };
  const answer = (q: RQ['Querystring']) => recallAnswer(deps.repo, q, deps.clock.now(), deps.cfg.site.id);
  const fileName = (q: RQ['Querystring'], ext: string) => `recall-${`${q.supplier ? `${q.supplier}-` : ''}${q.supplierLot}`.replace(/[^A-Za-z0-9._-]/g, '_')}.${ext}`;
  const recallDescription = "Which batches, handling units and customers received supplier X's lot Y: every lot received under the supplier lot, the batches made from it (through intermediates), their pallets, deliveries and customers. A question: nothing is held (the recall action is a separate API).";

  app.get<RQ>(
    '/genealogy/recall',
    { config: { roles: MANAGERS }, schema: { tags: ['genealogy'], summary: 'The recall question, answered (JSON)', description: recallDescription, querystring: RecallQuery, response: { 200: Json, ...errorResponses } } },
    async (req) => answer(req.query) as unknown as Record<string, unknown>,
  );
  app.get<RQ>(
    '/genealogy/recall.csv',
    { config: { roles: MANAGERS }, schema: { tags: ['genealogy'], summary: 'The recall question as CSV: one row per pallet of each batch reached (RFC 4180, formula-safe cells)', description: recallDescription, querystring: RecallQuery, response: errorResponses } },
    async (req, reply) => reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${fileName(req.query, 'csv')}"`).send(recallCsv(answer(req.query))),
  );
  app.get<RQ>(
    '/genealogy/recall.pdf',
    { config: { roles: MANAGERS }, schema: { tags: ['genealogy'], summary: 'The recall question as PDF (A4 landscape, page x of y, content SHA-256)', description: recallDescription, querystring: RecallQuery, response: errorResponses } },
    async (req, reply) => {
      const pdf = await recallPdf(answer(req.query), { timeZone: deps.cfg.site.timezone, by: req.user?.id ?? null });
      return reply.type('application/pdf').header('content-disposition', `attachment; filename="${fileName(req.query, 'pdf')}"`).send(pdf);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/print-jobs/:id/label.png',
    {
      config: { roles: MANAGERS },
      schema: { tags: ['labels'], summary: "A print job's label as PNG, rendered from its stored ZPL on first request, then cached (never on the print path)", params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: errorResponses },
    },
    async (req, reply) => {
      const row = deps.repo.db.prepare('SELECT zpl FROM print_jobs WHERE id = ?').get(req.params.id) as { zpl: string } | undefined;
      if (!row) throw new LgError('LG_ERR_PRINT_JOB_NOT_FOUND', { job: req.params.id });
      const png = await labelPng(req.params.id, row.zpl);
      return reply.type('image/png').header('cache-control', 'private, max-age=86400').send(png);
    },
  );
};
