import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listOpcuaCertificates, trustOpcuaCertificate } from '../../drivers/opcua/index.js';
import { stateDurations } from '../../binding/machine.js';
import { LgError } from '../../errors.js';
import type { Repo } from '../../store/repo.js';
import { ALL_ROLES } from '../context.js';
import { Json, errorResponses } from '../schemas.js';

/**
 * OPC UA server certificates (an unknown one is refused until a person trusts it) and the time a
 * batch spent in each PackML state.
 */
export const machineRoutes = (deps: { stateDir: string; repo: Repo }) => async (app: FastifyInstance): Promise<void> => {
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
    async (req) => (await trustOpcuaCertificate(deps.stateDir, req.body.thumbprint)) as unknown as Record<string, unknown>,
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
