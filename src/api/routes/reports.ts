import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { Db } from '../../store/db.js';
import type { Clock } from '../../util/clock.js';
import { join } from 'node:path';
import { renderReport } from '../../report/run.js';
import { gatherWeekly, renderWeeklyHtml, renderWeeklyPdf } from '../../report/weekly.js';
import type { UserView } from '../../binding/types.js';
import type { Journal } from '../../store/journal.js';
import type { Signatures } from '../../usecases/signatures.js';
import { WeeklyReviews, type FrozenWeekly } from '../../usecases/weekly-reviews.js';
import { actorOf } from '../context.js';
import { Code, Json, errorResponses } from '../schemas.js';
import { SignatureBody } from './signatures.js';

/** Reports are read by supervisors and QA (and admins); not by operators or the ERP. */
export const REPORT_ROLES: readonly UserView['role'][] = ['supervisor', 'qa', 'admin'];

/**
 * The batch record report (HTML, PDF, JSON export) and the weekly review (issue 14). Made on
 * request from the journal (no cache: a report always shows the record as of now, stamped with the
 * seqs it covers). Registered by the gateway with its db, config and state folder.
 */
export const reportRoutes = (deps: { db: Db; cfg: Readonly<Config>; stateDir: string; clock: Clock; journal: Journal; signatures: Signatures }) => async (app: FastifyInstance): Promise<void> => {
  const reviews = new WeeklyReviews(deps.db, deps.journal, deps.clock, deps.signatures, { site: deps.cfg.site.id, line: deps.cfg.line.id, timeZone: deps.cfg.site.timezone });
  const params = Type.Object({ number: Type.String({ minLength: 1, maxLength: 64 }) });
  // Rendered in a worker thread on its own read-only connection (src/report/run.ts): a large PDF
  // must not hold up the readings of the line.
  const cfg = { site: deps.cfg.site, line: deps.cfg.line, devices: deps.cfg.devices as never, reconciliation: deps.cfg.reconciliation };
  const make = (number: string, by: string | null, format: 'pdf' | 'html' | 'json') =>
    renderReport({ dbFile: join(deps.stateDir, 'journal.sqlite'), batch: number, cfg, stateDir: deps.stateDir, by, now: deps.clock.now().toISOString(), format });
  const fileName = (n: string, ext: string): string => `batch-record-${n.replace(/[^A-Za-z0-9._-]/g, '_')}.${ext}`;

  app.get<{ Params: { number: string } }>(
    '/batches/:number/report.html',
    { config: { roles: REPORT_ROLES }, schema: { tags: ['reports'], summary: 'The batch record as printable, self-contained HTML (print CSS, page x of y, content SHA-256)', params, response: errorResponses } },
    async (req, reply) => {
      const r = await make(req.params.number, req.user?.id ?? null, 'html');
      return reply.type('text/html; charset=utf-8').header('x-linegate-report', r.stamp).send(r.body);
    },
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number/report.pdf',
    { config: { roles: REPORT_ROLES }, schema: { tags: ['reports'], summary: 'The batch record as PDF (A4, page x of y, content SHA-256 and audit checkpoint head on every page)', params, response: errorResponses } },
    async (req, reply) => {
      const r = await make(req.params.number, req.user?.id ?? null, 'pdf');
      return reply.type('application/pdf').header('content-disposition', `attachment; filename="${fileName(r.batch, 'pdf')}"`).header('x-linegate-report', r.stamp).send(r.body);
    },
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number/report.json',
    { config: { roles: REPORT_ROLES }, schema: { tags: ['reports'], summary: 'The batch record report as canonical JSON (the content the SHA-256 is computed from, plus the stamp)', params, response: errorResponses } },
    async (req, reply) => {
      const r = await make(req.params.number, req.user?.id ?? null, 'json');
      return reply.type('application/json; charset=utf-8').header('x-linegate-report', r.stamp).send(r.body);
    },
  );

  app.get<{ Querystring: { from: string; to?: string; format?: 'json' | 'html' | 'pdf' } }>(
    '/reports/weekly',
    {
      config: { roles: REPORT_ROLES },
      schema: {
        tags: ['reports'],
        summary: 'Weekly review (SOP 8): batches by status with yield and exceptions, inventory of the lots used and made, deviations, failed QC results',
        querystring: Type.Object(
          {
            from: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'First day (YYYY-MM-DD, site time zone)' }),
            to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Day after the last (default: from + 7 days)' })),
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html'), Type.Literal('pdf')], { description: 'json (default), printable html, or pdf' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Json, ...errorResponses },
      },
    },
    async (req, reply) => {
      const w = gatherWeekly(deps.db, { from: req.query.from, to: req.query.to, timeZone: deps.cfg.site.timezone, site: deps.cfg.site.id, line: deps.cfg.line.id, now: deps.clock.now() });
      if (req.query.format === 'html') return reply.type('text/html; charset=utf-8').send(renderWeeklyHtml(w));
      if (req.query.format === 'pdf') return reply.type('application/pdf').header('content-disposition', `attachment; filename="weekly-review-${w.period.fromDate}.pdf"`).send(await renderWeeklyPdf(w));
      return w;
    },
  );

  // ── the weekly review QA signs: frozen first, then signed (SOP 7.1 / 8; Part 11) ────────────
  const FrozenReview = Type.Object(
    {
      id: Type.String({ description: 'WR-<from>-<to>-<n>' }),
      periodFrom: Type.String(),
      periodTo: Type.String(),
      timeZone: Type.String(),
      asOf: Type.Object({ recordSeq: Type.Integer(), auditSeq: Type.Integer() }, { description: 'The journal cut the review was frozen at' }),
      contentHash: Type.String({ description: 'SHA-256 of the frozen content (canonical JSON); printed on every page' }),
      frozenBy: Type.String(),
      frozenByName: Type.Union([Type.String(), Type.Null()]),
      frozenAt: Type.String(),
    },
    { additionalProperties: true },
  );
  const ReviewSignature = Type.Object({
    id: Type.String(),
    signer: Type.String(),
    printedName: Type.String(),
    role: Type.Union([Type.String(), Type.Null()]),
    signedAt: Type.String(),
    meaning: Type.String(),
    statement: Type.Union([Type.String(), Type.Null()]),
    contentHash: Type.String({ description: 'SHA-256 of the snapshot the signature binds (the stored review)' }),
  });
  const FrozenWeeklySchema = Type.Object({ review: FrozenReview, content: Json, signatures: Type.Array(ReviewSignature) });
  const Period = Type.Object(
    {
      from: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'First day (YYYY-MM-DD, site time zone)' }),
      to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Day after the last (default: from + 7 days)' })),
    },
    { additionalProperties: false },
  );
  const idParams = Type.Object({ id: Code('Weekly review id', 80) });
  const frozenOut = (f: FrozenWeekly) => ({ review: f.review, content: f.content as unknown as Record<string, unknown>, signatures: f.signatures });

  app.post<{ Body: Static<typeof Period> }>(
    '/reports/weekly/reviews',
    {
      config: { roles: REPORT_ROLES },
      schema: {
        tags: ['reports'],
        summary: 'Freeze the weekly review of a period for QA to sign: its content as of now, stored with its SHA-256 and journal cut (never changed afterwards)',
        body: Period,
        response: { 201: FrozenWeeklySchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.code(201).send(frozenOut((await reviews.freeze(req.body, actorOf(req))).review)),
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/reports/weekly/reviews',
    {
      config: { roles: REPORT_ROLES },
      schema: {
        tags: ['reports'],
        summary: 'Frozen weekly reviews (newest period first), each with whether it is signed',
        querystring: Type.Object({ from: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })), to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Type.Intersect([FrozenReview, Type.Object({ signed: Type.Boolean() })])) }), ...errorResponses },
      },
    },
    async (req) => ({ items: reviews.list(req.query) }),
  );

  app.get<{ Params: { id: string }; Querystring: { format?: 'json' | 'html' | 'pdf' } }>(
    '/reports/weekly/reviews/:id',
    {
      config: { roles: REPORT_ROLES },
      schema: {
        tags: ['reports'],
        summary: 'A frozen weekly review with its signatures: JSON, or printable HTML / PDF with the content SHA-256 and every signature manifestation',
        params: idParams,
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html'), Type.Literal('pdf')])) }, { additionalProperties: false }),
        response: { 200: FrozenWeeklySchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const f = reviews.get(req.params.id);
      if (req.query.format === 'html') return reply.type('text/html; charset=utf-8').send(renderWeeklyHtml(f.content, f));
      if (req.query.format === 'pdf') return reply.type('application/pdf').header('content-disposition', `attachment; filename="${f.review.id}.pdf"`).send(await renderWeeklyPdf(f.content, f));
      return frozenOut(f);
    },
  );

  app.post<{ Params: { id: string }; Body: { contentSha256: string; signature: Static<typeof SignatureBody> } }>(
    '/reports/weekly/reviews/:id/signatures',
    {
      config: { roles: ['qa'] },
      schema: {
        tags: ['reports', 'signatures'],
        summary: 'QA signs a frozen weekly review (Part 11: user id + signing secret; meaning reviewed or approved). Refused when already signed or when the content is not the one shown',
        params: idParams,
        body: Type.Object(
          { contentSha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'The content SHA-256 printed on the review the signer read' }), signature: SignatureBody },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ signature: Json, review: FrozenWeeklySchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const out = await reviews.sign(req.params.id, req.body.signature, req.body.contentSha256, actorOf(req));
      return reply.code(201).send({ signature: out.signature as unknown as Record<string, unknown>, review: frozenOut(out.review) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/reports/weekly/reviews/:id/verify',
    {
      config: { roles: REPORT_ROLES },
      schema: { tags: ['reports', 'signatures'], summary: "Recompute each signature's binding of the frozen review (a changed row no longer verifies)", params: idParams, response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(Json) }), ...errorResponses } },
    },
    async (req) => {
      const items = reviews.verify(req.params.id);
      return { ok: items.length > 0 && items.every((c) => c.ok), items: items as unknown as Array<Record<string, unknown>> };
    },
  );
};
