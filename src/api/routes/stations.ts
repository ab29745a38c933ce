import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../errors.js';
import { ALL_ROLES, FLOOR, actorOf, type ApiDeps } from '../context.js';
import { Code, Decimal, RecordSchema, Text, errorResponses } from '../schemas.js';
import { bindWeight } from '../../binding/weight.js';
import type { WeightReading } from '../../readings/reading.js';
import { streamStation } from '../sse.js';

const ContextSchema = Type.Object({
  station: Type.String(),
  role: Type.String(),
  batch: Type.Union([Type.String(), Type.Null()]),
  operator: Type.Union([Type.String(), Type.Null()]),
  lots: Type.Record(Type.String(), Type.String()),
  overrides: Type.Optional(
    Type.Record(Type.String(), Type.Object({ lot: Type.String(), batch: Type.String(), record: Type.String(), codes: Type.Array(Type.String()) }), {
      description: 'Supervisor overrides in force, per material: that lot, that batch, the refusal codes let through (cleared when the lot or batch changes)',
    }),
  ),
  updatedAt: Type.Union([Type.String(), Type.Null()]),
});

const ContextPut = Type.Object(
  {
    batch: Type.Optional(Type.Union([Code('Batch number'), Type.Null()])),
    operator: Type.Optional(Type.Union([Code('User id'), Type.Null()])),
    reason: Type.Optional(Text('Why')),
  },
  { additionalProperties: false },
);

const ScanBody = Type.Object(
  {
    data: Type.String({ minLength: 1, maxLength: 65_536, description: 'The scan as the scanner delivered it (text, or base64/hex for raw bytes)' }),
    encoding: Type.Union([Type.Literal('text'), Type.Literal('base64'), Type.Literal('hex')], { default: 'text', description: 'How `data` is encoded. In text, GS (0x1D) may be sent as \\u001d.' }),
    device: Type.Optional(Code('Device id, e.g. a keyboard-wedge scanner at the station page')),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ id: Type.String() });

export const stationRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  app.get('/stations', { config: { roles: ALL_ROLES }, schema: { tags: ['stations'], response: { 200: Type.Object({ items: Type.Array(ContextSchema) }) } } }, async () => ({
    items: deps.ops.cfg.stations.map((s) => deps.ops.stationContext(s.id)),
  }));

  app.get<{ Params: { id: string } }>(
    '/stations/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['stations'], params: Params, response: { 200: ContextSchema, ...errorResponses } } },
    async (req) => deps.ops.stationContext(req.params.id),
  );

  app.put<{ Params: { id: string }; Body: Static<typeof ContextPut> }>(
    '/stations/:id/context',
    {
      config: { roles: FLOOR },
      schema: {
        tags: ['stations'],
        description: 'Select the active batch and/or the signed-in operator. Material lots are activated by scanning them (so they are always verified).',
        params: Params,
        body: ContextPut,
        response: { 200: Type.Object({ context: ContextSchema, records: Type.Array(RecordSchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const { reason, ...change } = req.body;
      const records = await deps.ops.setStationContext(req.params.id, change, actorOf(req), reason ?? null);
      return { context: deps.ops.stationContext(req.params.id), records };
    },
  );

  app.post<{ Params: { id: string }; Body: Static<typeof ScanBody> }>(
    '/stations/:id/scans',
    {
      config: { roles: FLOOR },
      schema: {
        tags: ['stations'],
        description:
          'Post a raw scan to a station (keyboard-wedge scanners, tests). Answered 201 once the record is durable, accepted or rejected — `record.status` and `record.errorCode` give the verdict.',
        params: Params,
        body: ScanBody,
        response: { 201: Type.Object({ record: RecordSchema, verdict: Type.Object({ accepted: Type.Boolean(), code: Type.Union([Type.String(), Type.Null()]), message: Type.Union([Type.String(), Type.Null()]) }) }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { data, encoding, device } = req.body;
      let raw: Buffer;
      if (encoding === 'base64') raw = Buffer.from(data, 'base64');
      else if (encoding === 'hex') {
        if (!/^([0-9a-fA-F]{2})+$/.test(data)) throw new LgError('LG_ERR_VALIDATION', { detail: 'data is not hex' });
        raw = Buffer.from(data, 'hex');
      } else raw = Buffer.from(data, 'latin1');
      if (encoding === 'text' && /[^\x00-\xff]/.test(data)) raw = Buffer.from(data, 'utf8');
      const record = await deps.ops.ingestScan(req.params.id, { raw, device: device ?? null }, actorOf(req));
      return reply.code(201).send({ record, verdict: { accepted: record.status === 'accepted', code: record.errorCode, message: record.message } });
    },
  );

  app.post<{ Params: { id: string }; Body: { quantity: string; unit: string; note?: string } }>(
    '/stations/:id/consumptions',
    {
      config: { roles: FLOOR },
      schema: {
        tags: ['stations'],
        description:
          'Enter a consumption by hand (no scale at the station, or a counted quantity): bound exactly like a weighed capture — to the active lot and batch, checked against the bill of materials (and honouring an override in force), the lot balance moved in the same transaction. The quantity must be positive: zero or below is a rejected record LG_ERR_QUANTITY_NOT_POSITIVE; a wrong consumption is corrected with POST /records/:id/correction.',
        params: Params,
        body: Type.Object(
          { quantity: Decimal('Quantity added'), unit: Code('Unit (kg, g, lb, oz, or the material unit)', 16), note: Type.Optional(Text('Why entered by hand')) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ record: RecordSchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const st = deps.ops.station(req.params.id);
      const by = actorOf(req);
      const reading: WeightReading = {
        kind: 'weight',
        deviceId: `manual:${by.id}`,
        receivedAt: new Date(),
        value: { net: req.body.quantity, tare: '0', gross: req.body.quantity, unit: req.body.unit, stable: true },
        raw: req.body.note ?? 'entered by hand',
      };
      const record = await deps.ops.ingestBound((_tx, env) => bindWeight(reading, deps.ops.stationContext(st.id), env, { tolerance: st.policies.tolerance, requireOperator: st.policies.requireOperator }), by.id);
      return reply.code(201).send({ record });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/stations/:id/events',
    {
      config: { roles: ALL_ROLES },
      schema: { tags: ['stations'], description: 'Server-Sent Events: every verdict and status change at this station, as it commits. Record events carry `id: <seq>`; reconnect with `Last-Event-ID` (or `?lastEventId=`) and the missed records of this station are replayed from the journal first.', params: Params, produces: ['text/event-stream'] },
    },
    async (req, reply) => {
      deps.ops.station(req.params.id);
      return streamStation(deps, req.params.id, req, reply, () => [{ event: 'context', data: { ...deps.ops.stationContext(req.params.id) } }]);
    },
  );
};

