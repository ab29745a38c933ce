import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { Db } from '../../store/db.js';
import type { Clock } from '../../util/clock.js';
import { join } from 'node:path';
import { renderReport } from '../../report/run.js';
import { gatherWeekly, renderWeeklyHtml } from '../../report/weekly.js';
import type { UserView } from '../../binding/types.js';
import { Json, errorResponses } from '../schemas.js';

/** Reports are read by supervisors and QA (and admins); not by operators or the ERP. */
export const REPORT_ROLES: readonly UserView['role'][] = ['supervisor', 'qa', 'admin'];

/**
 * The batch record report (HTML, PDF, JSON export) and the weekly review (issue 14). Made on
 * request from the journal (no cache: a report always shows the record as of now, stamped with the
 * seqs it covers). Registered by the gateway with its db, config and state folder.
 */
export const reportRoutes = (deps: { db: Db; cfg: Readonly<Config>; stateDir: string; clock: Clock }) => async (app: FastifyInstance): Promise<void> => {
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

  app.get<{ Querystring: { from: string; to?: string; format?: 'json' | 'html' } }>(
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
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html')], { description: 'json (default) or printable html' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Json, ...errorResponses },
      },
    },
    async (req, reply) => {
      const w = gatherWeekly(deps.db, { from: req.query.from, to: req.query.to, timeZone: deps.cfg.site.timezone, site: deps.cfg.site.id, line: deps.cfg.line.id, now: deps.clock.now() });
      if (req.query.format === 'html') return reply.type('text/html; charset=utf-8').send(renderWeeklyHtml(w));
      return w;
    },
  );
};
