import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LgError } from '../../errors.js';
import { ALL_ROLES, FLOOR, MANAGERS, MASTER_DATA, actorOf } from '../context.js';
import { Code, Json, Text, errorResponses } from '../schemas.js';
import type { Dispatch } from '../../usecases/dispatch.js';
import type { Exports } from '../../usecases/exports.js';

/** Issue 15: pallets, customers, deliveries, shipments, forward trace to customers, EPCIS and B2MML. */
const Gln = (d: string) => Type.String({ pattern: '^\\d{13}$', description: d });
const CustomerBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), gln: Gln('Customer GLN (party)') }, { additionalProperties: false });
const DeliveryBody = Type.Object(
  {
    customer: Code('Customer id'),
    shipTo: Type.Object({ gln: Gln('Ship-to location GLN'), name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])) }, { additionalProperties: false }),
    plannedDate: Type.Optional(Type.Union([Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), Type.Null()])),
    items: Type.Optional(Type.Array(Type.Object({ gtin: Type.String({ pattern: '^\\d{14}$' }), quantity: Type.String({ pattern: '^\\d+(\\.\\d+)?$' }) }, { additionalProperties: false }), { maxItems: 500 })),
  },
  { additionalProperties: false },
);
const ShipmentBody = Type.Object({ ssccs: Type.Array(Type.String({ pattern: '^\\d{18}$' }), { minItems: 1, maxItems: 1000 }), shippedAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])) }, { additionalProperties: false });
const Reason = Type.Object({ reason: Text('Why (recorded in the audit trail)') }, { additionalProperties: false });

export const dispatchRoutes = (d: { dispatch: () => Dispatch; exports: () => Exports }) => async (app: FastifyInstance): Promise<void> => {
  const r200 = { 200: Json, ...errorResponses };

  app.put<{ Params: { id: string }; Body: Static<typeof CustomerBody> }>(
    '/customers/:id',
    { config: { roles: MASTER_DATA }, schema: { tags: ['dispatch'], description: 'Create or update a customer (idempotent).', params: Type.Object({ id: Code('Customer id') }), body: CustomerBody, response: { 200: Json, 201: Json, ...errorResponses } } },
    async (req, reply) => {
      const r = await d.dispatch().upsertCustomer({ id: req.params.id, ...req.body }, actorOf(req));
      return reply.code(r.created ? 201 : 200).send(r);
    },
  );
  app.get<{ Params: { id: string } }>('/customers/:id', { config: { roles: ALL_ROLES }, schema: { tags: ['dispatch'], params: Type.Object({ id: Type.String() }), response: r200 } }, async (req) => {
    const c = d.dispatch().customer(req.params.id);
    if (!c) throw new LgError('LG_ERR_CUSTOMER_NOT_FOUND', { customer: req.params.id });
    return c;
  });

  app.put<{ Params: { number: string }; Body: Static<typeof DeliveryBody> }>(
    '/deliveries/:number',
    { config: { roles: MASTER_DATA }, schema: { tags: ['dispatch'], description: 'Create or update a delivery (idempotent; refused once shipped).', params: Type.Object({ number: Code('Delivery number') }), body: DeliveryBody, response: { 200: Json, 201: Json, ...errorResponses } } },
    async (req, reply) => {
      const r = await d.dispatch().upsertDelivery({ number: req.params.number, ...req.body }, actorOf(req));
      return reply.code(r.created ? 201 : 200).send(r as unknown as Record<string, unknown>);
    },
  );
  app.get<{ Params: { number: string } }>('/deliveries/:number', { config: { roles: ALL_ROLES }, schema: { tags: ['dispatch'], params: Type.Object({ number: Type.String() }), response: r200 } }, async (req) => {
    const x = d.dispatch().delivery(req.params.number);
    if (!x) throw new LgError('LG_ERR_DELIVERY_NOT_FOUND', { delivery: req.params.number });
    return x as unknown as Record<string, unknown>;
  });
  app.post<{ Params: { number: string } }>(
    '/deliveries/:number/ship',
    { config: { roles: FLOOR }, schema: { tags: ['dispatch'], description: 'Close the delivery: its loaded pallets are shipped.', params: Type.Object({ number: Type.String() }), response: r200 } },
    async (req) => d.dispatch().ship(req.params.number, actorOf(req)) as unknown as Record<string, unknown>,
  );
  app.put<{ Params: { number: string }; Body: Static<typeof ShipmentBody> }>(
    '/deliveries/:number/shipment',
    { config: { roles: ['erp', 'admin'] }, schema: { tags: ['dispatch'], description: 'A shipment the ERP recorded itself (idempotent; a contradicting one is refused).', params: Type.Object({ number: Type.String() }), body: ShipmentBody, response: r200 } },
    async (req) => d.dispatch().pushShipment(req.params.number, req.body, actorOf(req)) as unknown as Record<string, unknown>,
  );

  app.get<{ Params: { key: string } }>('/pallets/:key', { config: { roles: ALL_ROLES }, schema: { tags: ['dispatch'], description: 'A pallet (by SSCC or id) with its content now.', params: Type.Object({ key: Type.String() }), response: r200 } }, async (req) => {
    const p = d.dispatch().pallet(req.params.key);
    if (!p) throw new LgError('LG_ERR_HU_PALLET_NOT_FOUND', { sscc: req.params.key });
    return p as unknown as Record<string, unknown>;
  });
  app.post<{ Params: { sscc: string }; Body: Static<typeof Reason> }>(
    '/pallets/:sscc/hold',
    { config: { roles: ['qa', 'admin'] }, schema: { tags: ['dispatch'], params: Type.Object({ sscc: Type.String() }), body: Reason, response: r200 } },
    async (req) => d.dispatch().setHold(req.params.sscc, true, req.body.reason, actorOf(req)) as unknown as Record<string, unknown>,
  );
  app.post<{ Params: { sscc: string }; Body: Static<typeof Reason> }>(
    '/pallets/:sscc/release-hold',
    { config: { roles: ['qa', 'admin'] }, schema: { tags: ['dispatch'], params: Type.Object({ sscc: Type.String() }), body: Reason, response: r200 } },
    async (req) => d.dispatch().setHold(req.params.sscc, false, req.body.reason, actorOf(req)) as unknown as Record<string, unknown>,
  );
  app.post<{ Params: { id: string } }>(
    '/stations/:id/pallet/close',
    { config: { roles: FLOOR }, schema: { tags: ['dispatch'], description: 'Close the open pallet of a palletising station: its SSCC label prints.', params: Type.Object({ id: Type.String() }), response: r200 } },
    async (req) => {
      const p = await d.dispatch().requestClose(req.params.id, actorOf(req));
      if (!p) throw new LgError('LG_ERR_HU_PALLET_STATE', { sscc: '(open pallet)', status: 'open', detail: 'the SSCC label could not be issued; see the handling_unit.close_failed record' });
      return p as unknown as Record<string, unknown>;
    },
  );
  app.get<{ Params: { serial: string } }>('/cases/:serial', { config: { roles: ALL_ROLES }, schema: { tags: ['dispatch'], params: Type.Object({ serial: Type.String() }), response: r200 } }, async (req) => {
    const c = d.dispatch().caseInfo(req.params.serial);
    if (!c) throw new LgError('LG_ERR_HU_CASE_UNKNOWN', { serial: req.params.serial, gtin: '(any)' });
    return c as unknown as Record<string, unknown>;
  });
  app.post<{ Params: { serial: string }; Body: Static<typeof Reason> }>(
    '/cases/:serial/unpack',
    { config: { roles: MANAGERS }, schema: { tags: ['dispatch'], description: 'Take a case off its pallet (recorded; repack by scanning it at a palletising station).', params: Type.Object({ serial: Type.String() }), body: Reason, response: r200 } },
    async (req) => ({ record: await d.dispatch().unpack(req.params.serial, req.body.reason, actorOf(req)) }) as unknown as Record<string, unknown>,
  );

  app.get<{ Querystring: { supplierLot?: string; supplier?: string; lot?: string; batch?: string; serial?: string; gtin?: string } }>(
    '/genealogy/customers',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['genealogy'],
        description: 'Forward trace to customers: from a supplier lot (optionally of one supplier), an internal lot, a serial of a serial-tracked component (optionally of one GTIN) or a batch, every batch, pallet, delivery and customer reached.',
        querystring: Type.Object(
          { supplierLot: Type.Optional(Type.String({ minLength: 1 })), supplier: Type.Optional(Type.String()), lot: Type.Optional(Type.String()), batch: Type.Optional(Type.String()), serial: Type.Optional(Type.String({ minLength: 1 })), gtin: Type.Optional(Type.String({ pattern: '^\\d{14}$' })) },
          { additionalProperties: false },
        ),
        response: r200,
      },
    },
    async (req) => d.exports().traceCustomers(req.query) as unknown as Record<string, unknown>,
  );

  app.get<{ Querystring: { batch?: string; from?: string; to?: string } }>(
    '/exports/epcis',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['exports'],
        description: 'EPCIS 2.0 JSON-LD document: commissioning, packing, transformation and shipping events, for a batch or a time range.',
        querystring: Type.Object({ batch: Type.Optional(Type.String()), from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false }),
        response: r200,
      },
    },
    async (req, reply) => reply.type('application/ld+json').send(d.exports().epcis(req.query)),
  );

  app.get<{ Params: { number: string } }>(
    '/batches/:number/b2mml',
    { config: { roles: ALL_ROLES }, schema: { tags: ['exports'], description: 'ISA-95 B2MML ProductionPerformance of a batch (XML).', params: Type.Object({ number: Type.String() }) } },
    async (req, reply) => reply.type('application/xml').send(d.exports().b2mml(req.params.number)),
  );
};
