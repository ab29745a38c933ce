import { Type, type TSchema } from '@sinclair/typebox';
import { ERRORS, type ErrorCode } from '../errors.js';

/** Request/response schemas shared by the routes (TypeBox → JSON Schema → fastify/ajv and OpenAPI). */

export const Decimal = (description: string) =>
  Type.String({ pattern: '^[+-]?\\d{1,15}(\\.\\d{1,9})?$', description: `${description} (exact decimal as text, e.g. "12.500")` });
export const IsoDate = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: `${description} (YYYY-MM-DD)` });
export const Code = (description: string, max = 64) => Type.String({ minLength: 1, maxLength: max, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$', description });
export const Text = (description: string, max = 500) => Type.String({ minLength: 1, maxLength: max, description });

export const ErrorBody = Type.Object(
  {
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: Object.keys(ERRORS), description: 'Stable error code from the error table (LG_ERR_…); see docs/errors.md.' }),
    message: Type.String({ description: 'What happened and what to do.' }),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'Error' },
);

export const Json = Type.Record(Type.String(), Type.Unknown());

export const RecordSchema = Type.Object(
  {
    seq: Type.Integer(),
    id: Type.String({ description: 'Stable unique id (UUIDv7); the idempotency key upstream.' }),
    type: Type.String(),
    status: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')]),
    errorCode: Type.Union([Type.String(), Type.Null()]),
    message: Type.Union([Type.String(), Type.Null()]),
    site: Type.String(),
    line: Type.Union([Type.String(), Type.Null()]),
    station: Type.Union([Type.String(), Type.Null()]),
    batch: Type.Union([Type.String(), Type.Null()]),
    lot: Type.Union([Type.String(), Type.Null()]),
    operator: Type.Union([Type.String(), Type.Null()]),
    device: Type.Union([Type.String(), Type.Null()]),
    payload: Json,
    sourceTime: Type.Union([Type.String(), Type.Null()]),
    receivedAt: Type.String(),
    clockSynced: Type.Boolean(),
  },
  { $id: 'Record' },
);

export const BomLineSchema = Type.Object(
  {
    material: Code('Material code'),
    quantity: Decimal('Planned quantity of the material'),
    unit: Code('Unit (must be the material unit)', 16),
    tolerancePct: Type.Optional(Decimal('Allowed deviation in percent')),
  },
  { additionalProperties: false },
);

export const BatchSchema = Type.Object(
  {
    number: Type.String(),
    product: Type.String(),
    productName: Type.Union([Type.String(), Type.Null()]),
    gtin: Type.Union([Type.String(), Type.Null()]),
    plannedQty: Type.String(),
    unit: Type.String(),
    line: Type.String(),
    status: Type.String(),
    heldFrom: Type.Union([Type.String(), Type.Null()]),
    workOrder: Type.Union([Type.String(), Type.Null()]),
    bom: Type.Array(Type.Object({ material: Type.String(), quantity: Type.String(), unit: Type.String(), tolerancePct: Type.String() })),
    personnel: Type.Array(Type.String()),
    producedQty: Type.String(),
    rejectedQty: Type.String(),
    plannedStart: Type.Union([Type.String(), Type.Null()]),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    completedAt: Type.Union([Type.String(), Type.Null()]),
    releasedAt: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Batch' },
);

export const LotSchema = Type.Object(
  {
    id: Type.String(),
    material: Type.String(),
    supplier: Type.Union([Type.String(), Type.Null()]),
    supplierLot: Type.Union([Type.String(), Type.Null()]),
    receiptDate: Type.Union([Type.String(), Type.Null()]),
    expiry: Type.Union([Type.String(), Type.Null()]),
    status: Type.String(),
    quantity: Type.String(),
    unit: Type.String(),
    producedBy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    createdAt: Type.Optional(Type.String()),
    updatedAt: Type.Optional(Type.String()),
  },
  { $id: 'Lot' },
);

export const MaterialSchema = Type.Object(
  {
    code: Type.String(),
    name: Type.String(),
    unit: Type.String(),
    tracking: Type.String(),
    gtins: Type.Array(Type.String()),
    shelfLifeDays: Type.Union([Type.Integer(), Type.Null()]),
  },
  { $id: 'Material' },
);

export const Page = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item), next: Type.Union([Type.Integer(), Type.String(), Type.Null()]) });

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
  503: ErrorBody,
};
