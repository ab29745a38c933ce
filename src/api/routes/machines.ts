import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listOpcuaCertificates, trustOpcuaCertificate } from '../../drivers/opcua/index.js';
import { stateDurations } from '../../binding/machine.js';
import { LgError } from '../../errors.js';
import type { Repo } from '../../store/repo.js';
import type { Journal } from '../../store/journal.js';
import type { Logger } from '../../util/log.js';
import type { OpcuaCertificateInfo } from '../../drivers/opcua/pki.js';
import { ALL_ROLES, actorOf } from '../context.js';
import { Json, errorResponses } from '../schemas.js';

/**
 * OPC UA server certificates (an unknown one is refused until a person trusts it) and the time a
 * batch spent in each PackML state.
 */
/**
 * Trusting a server certificate is a person's security decision (IEC 62443-4-2 CR 2.8): the trust
 * is written to the PKI, then an audit entry `opcua.certificate_trusted` names who, from where
 * (api/cli), the thumbprint, subject and validity, and the log says the same. Trusting one that is
 * already trusted changes nothing and is not audited. The file move and the audit entry cannot be
 * one transaction: should the audit not commit (disk full), the trust is taken back and the
 * caller gets the error — never a trust without its audit entry.
 */
export async function trustCertificateAudited(
  stateDir: string,
  thumbprintOrFile: string,
  deps: { journal: Journal; logger: Logger },
  by: { id: string; via: 'api' | 'cli'; source?: string | null },
): Promise<OpcuaCertificateInfo & { alreadyTrusted: boolean }> {
  const before = new Map(listOpcuaCertificates(stateDir).map((c) => [c.thumbprint, c.status]));
  const c = await trustOpcuaCertificate(stateDir, thumbprintOrFile);
  const log = deps.logger.child({ component: 'opcua' });
  if (before.get(c.thumbprint) === 'trusted') {
    log.info({ thumbprint: c.thumbprint, by: by.id, via: by.via }, 'OPC UA certificate already trusted: nothing changed');
    return { ...c, alreadyTrusted: true };
  }
  try {
    await deps.journal.submit((tx) =>
      tx.audit({
        actor: by.id,
        action: 'opcua.certificate_trusted',
        entity: 'opcua_certificate',
        entityId: c.thumbprint,
        reason: `trusted via ${by.via}${by.source ? ` from ${by.source}` : ''}`,
        old: { status: before.get(c.thumbprint) ?? 'unknown' },
        new: { status: 'trusted', subject: c.subject, validFrom: c.validFrom, validTo: c.validTo },
      }),
    );
  } catch (err) {
    await untrust(c);
    log.error({ err, thumbprint: c.thumbprint, by: by.id }, 'OPC UA certificate trust taken back: its audit entry could not be written');
    throw err;
  }
  log.warn({ thumbprint: c.thumbprint, subject: c.subject, by: by.id, via: by.via, source: by.source ?? null }, 'OPC UA server certificate trusted by a person');
  return { ...c, alreadyTrusted: false };
}

/** Move a just-trusted certificate back to rejected/ (node-opcua-pki layout). */
async function untrust(c: OpcuaCertificateInfo): Promise<void> {
  const { rename, mkdir } = await import('node:fs/promises');
  const { basename, dirname, join } = await import('node:path');
  const rejected = join(dirname(dirname(dirname(c.file))), 'rejected');
  await mkdir(rejected, { recursive: true }).catch(() => undefined);
  await rename(c.file, join(rejected, basename(c.file))).catch(() => undefined);
}

export const machineRoutes = (deps: { stateDir: string; repo: Repo; journal: Journal; logger: Logger }) => async (app: FastifyInstance): Promise<void> => {
  app.get('/opcua/certificates', { config: { roles: ['admin', 'supervisor'] }, schema: { tags: ['machines'], response: { 200: Type.Object({ items: Type.Array(Json) }) } } }, async () => ({
    items: listOpcuaCertificates(deps.stateDir) as unknown as Array<Record<string, unknown>>,
  }));

  app.post<{ Body: { thumbprint: string } }>(
    '/opcua/certificates/trust',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['machines'],
        description: "Trust a rejected server certificate by its thumbprint (full, or a unique prefix of 8+ hex digits) — after comparing it with the one shown on the PLC.",
        body: Type.Object({ thumbprint: Type.String({ pattern: '^[0-9a-fA-F:]{8,}$' }) }, { additionalProperties: false }),
        response: { 200: Json, ...errorResponses },
      },
    },
    async (req) => (await trustCertificateAudited(deps.stateDir, req.body.thumbprint, deps, { id: actorOf(req).id, via: 'api', source: req.ip })) as unknown as Record<string, unknown>,
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number/machine-states',
    { config: { roles: ALL_ROLES }, schema: { tags: ['machines'], description: 'Milliseconds the line spent in each PackML state while running this batch (from its machine.state_changed records).', params: Type.Object({ number: Type.String() }), response: { 200: Json, ...errorResponses } } },
    async (req) => {
      const b = deps.repo.batch(req.params.number);
      if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: req.params.number });
      const recs = deps.repo.listRecords({ batch: b.number, type: 'machine.*', limit: 100_000 }).items;
      return { batch: b.number, producedQty: b.producedQty, rejectedQty: b.rejectedQty, msInState: stateDurations(recs, b.completedAt ? { until: b.completedAt } : {}) };
    },
  );
};
