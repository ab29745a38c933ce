import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LgError } from '../../errors.js';
import type { LabelService } from '../../labels/queue.js';
import type { LabelTriggers } from '../../labels/triggers.js';
import type { Ops } from '../../ops.js';
import { ALL_ROLES, FLOOR, MANAGERS, actorOf } from '../context.js';
import { Code, Decimal, Json, Text, errorResponses } from '../schemas.js';

/**
 * Printers, print jobs and labels: status, the operator's decision on a job that may or may not
 * have printed (`needs_confirmation`), reprints (with a reason, marked on the label), and labels
 * requested at a station.
 */
export const labelRoutes = (deps: { labels: () => LabelService; triggers: () => LabelTriggers; ops: Ops }) => async (app: FastifyInstance): Promise<void> => {
  const JobParams = Type.Object({ id: Type.String() });

  app.get('/printers', { config: { roles: ALL_ROLES }, schema: { tags: ['labels'], response: { 200: Type.Object({ items: Type.Array(Json) }) } } }, async () => ({
    items: deps.labels().printerStatuses() as unknown as Array<Record<string, unknown>>,
  }));

  app.get<{ Querystring: { printer?: string; state?: string; limit: number } }>(
    '/print-jobs',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['labels'],
        querystring: Type.Object({ printer: Type.Optional(Type.String()), state: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Json) }) },
      },
    },
    async (req) => ({ items: deps.labels().listJobs(req.query as never) as unknown as Array<Record<string, unknown>> }),
  );

  app.get<{ Querystring: { batch?: string; kind?: string; limit: number } }>(
    '/labels',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['labels'],
        querystring: Type.Object({ batch: Type.Optional(Type.String()), kind: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Json) }) },
      },
    },
    async (req) => ({ items: deps.labels().listLabels(req.query as never) as unknown as Array<Record<string, unknown>> }),
  );

  const Decision = Type.Object(
    {
      decision: Type.Union([Type.Literal('printed'), Type.Literal('reprint')], { description: 'The operator looked at the printer: the label came out (printed), or it did not (reprint).' }),
      reason: Type.Optional(Text('Why (required for a reprint)')),
      printer: Type.Optional(Code('Print the reprint on another printer')),
    },
    { additionalProperties: false },
  );
  app.post<{ Params: { id: string }; Body: Static<typeof Decision> }>(
    '/print-jobs/:id/decision',
    { config: { roles: FLOOR }, schema: { tags: ['labels'], description: 'Resolve a job in needs_confirmation.', params: JobParams, body: Decision, response: { 200: Json, ...errorResponses } } },
    async (req) => {
      if (req.body.decision === 'reprint' && !req.body.reason) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'reprint a label' });
      return (await deps.labels().decide(req.params.id, req.body.decision, { actor: actorOf(req).id, reason: req.body.reason, printer: req.body.printer })) as unknown as Record<string, unknown>;
    },
  );

  const Reprint = Type.Object({ reason: Text('Why the label is printed again'), printer: Type.Optional(Code('Printer')) }, { additionalProperties: false });
  app.post<{ Params: { id: string }; Body: Static<typeof Reprint> }>(
    '/print-jobs/:id/reprint',
    { config: { roles: MANAGERS.concat(['operator']) }, schema: { tags: ['labels'], description: 'Print a label again: a new job and record, marked as a reprint on the label, and an audit entry.', params: JobParams, body: Reprint, response: { 200: Json, ...errorResponses } } },
    async (req) => (await deps.labels().reprint(req.params.id, { actor: actorOf(req).id, reason: req.body.reason, printer: req.body.printer })) as unknown as Record<string, unknown>,
  );

  const Cancel = Type.Object({ reason: Text('Why the job is cancelled') }, { additionalProperties: false });
  app.post<{ Params: { id: string }; Body: Static<typeof Cancel> }>(
    '/print-jobs/:id/cancel',
    { config: { roles: MANAGERS }, schema: { tags: ['labels'], params: JobParams, body: Cancel, response: { 200: Json, ...errorResponses } } },
    async (req) => (await deps.labels().cancel(req.params.id, { actor: actorOf(req).id, reason: req.body.reason })) as unknown as Record<string, unknown>,
  );

  const LabelRequest = Type.Object(
    {
      kind: Type.Union([Type.Literal('case'), Type.Literal('batch'), Type.Literal('pallet')]),
      batch: Type.Optional(Code('Batch (default: the station\'s active batch)')),
      netWeight: Type.Optional(Decimal('Net weight in kg (case labels without a scale)')),
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: 99_999_999, description: 'Number of cases on the pallet (AI 37)' })),
    },
    { additionalProperties: false },
  );
  app.post<{ Params: { id: string }; Body: Static<typeof LabelRequest> }>(
    '/stations/:id/labels',
    { config: { roles: FLOOR }, schema: { tags: ['labels'], description: 'An operator asks for a label at a station.', params: Type.Object({ id: Type.String() }), body: LabelRequest, response: { 201: Json, ...errorResponses } } },
    async (req, reply) => {
      const ctx = deps.ops.stationContext(req.params.id);
      const batch = req.body.batch ?? ctx.batch;
      if (!batch) throw new LgError('LG_ERR_NO_ACTIVE_BATCH', { station: req.params.id });
      const who = actorOf(req).id;
      const t = deps.triggers();
      let q;
      if (req.body.kind === 'case') {
        if (!req.body.netWeight) throw new LgError('LG_ERR_VALIDATION', { detail: 'a case label needs netWeight' });
        q = await t.caseLabel(req.params.id, batch, req.body.netWeight, who, { type: 'operator.request' });
      } else if (req.body.kind === 'pallet') {
        if (!req.body.count) throw new LgError('LG_ERR_VALIDATION', { detail: 'a pallet label needs count' });
        q = await t.palletLabel(req.params.id, batch, req.body.count, who);
      } else q = await t.batchLabel(batch, req.params.id, who);
      return reply.code(201).send({ labelId: q!.labelId, jobId: q!.jobId, serial: q!.serial, sscc: q!.sscc, record: q!.record });
    },
  );
};
