/**
 * CloudEvents 1.0.2 structured JSON envelope for a journal record.
 *
 *   specversion     '1.0'
 *   id              the record's UUIDv7, minted when the event happened: the idempotency key
 *   source          urn:linegate:{site}:{line}:{gatewayId}   (each part percent-encoded; line '_' when absent)
 *   type            com.linegate.{record.type}.v1            (the version is bumped when `data` changes shape)
 *   subject         the production batch number (absent when the record has no batch)
 *   time            source (device) time when known, else the gateway's receive time
 *   datacontenttype application/json
 *   data            the record itself (JournalRecord shape: seq, id, type, status, …, payload)
 *   extensions      lgseq (Integer: the gateway sequence), lglot, lgstation, lgstatus, lgerror, lgdevice,
 *                   lgclocksynced (Boolean). Names are lowercase a–z0–9 only, ≤ 20 chars (spec §3.1.1);
 *                   null values are left out rather than sent as null (the JSON format treats them as absent).
 *
 * Batched mode wraps events in a JSON array, Content-Type application/cloudevents-batch+json.
 */
import type { JournalRecord } from '../binding/types.js';

export const CE_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
export const CE_BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json; charset=utf-8';
/** Version suffix of every event type; bump it (and document it) when `data` changes incompatibly. */
export const CE_TYPE_VERSION = 'v1';

export interface CloudEvent<D = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  data?: D;
  [extension: string]: unknown;
}

export interface EnvelopeContext {
  /** Gateway id; part of `source`. */
  gatewayId: string;
}

/** Spec §3.1.1: attribute names consist of lower-case letters a–z or digits 0–9, ≤ 20 characters recommended. */
export const CE_ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;

export function ceSource(site: string, line: string | null, gatewayId: string): string {
  const part = (s: string): string => encodeURIComponent(s).replace(/:/g, '%3A');
  return `urn:linegate:${part(site)}:${part(line ?? '_')}:${part(gatewayId)}`;
}

export function ceType(recordType: string): string {
  return `com.linegate.${recordType}.${CE_TYPE_VERSION}`;
}

function rfc3339(t: string | null): string | undefined {
  if (!t) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Build the CloudEvent for one record. Pure. */
export function toCloudEvent(rec: JournalRecord, ctx: EnvelopeContext): CloudEvent<JournalRecord> {
  const ev: CloudEvent<JournalRecord> = {
    specversion: '1.0',
    id: rec.id,
    source: ceSource(rec.site, rec.line, ctx.gatewayId),
    type: ceType(rec.type),
  };
  if (rec.batch) ev.subject = rec.batch;
  const time = rfc3339(rec.sourceTime) ?? rfc3339(rec.receivedAt);
  if (time) ev.time = time;
  ev.datacontenttype = 'application/json';
  ev.lgseq = rec.seq;
  if (rec.lot) ev.lglot = rec.lot;
  if (rec.station) ev.lgstation = rec.station;
  ev.lgstatus = rec.status;
  if (rec.errorCode) ev.lgerror = rec.errorCode;
  if (rec.device) ev.lgdevice = rec.device;
  ev.lgclocksynced = rec.clockSynced;
  ev.data = rec;
  return ev;
}

/** Problems with an event against the spec's required attributes and naming rules (empty = valid). */
export function validateCloudEvent(ev: Record<string, unknown>): string[] {
  const errs: string[] = [];
  if (ev.specversion !== '1.0') errs.push('specversion must be "1.0"');
  for (const k of ['id', 'source', 'type'] as const) {
    if (typeof ev[k] !== 'string' || (ev[k] as string).length === 0) errs.push(`${k} must be a non-empty string`);
  }
  for (const [k, v] of Object.entries(ev)) {
    if (k === 'data' || k === 'data_base64') continue;
    if (!CE_ATTRIBUTE_NAME.test(k)) errs.push(`attribute name ${k} is not lowercase alphanumeric (≤ 20)`);
    if (v === null) errs.push(`attribute ${k} is null`);
    if (v !== undefined && v !== null && typeof v === 'object') errs.push(`attribute ${k} must be a scalar`);
  }
  if (ev.time !== undefined && (typeof ev.time !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(ev.time))) {
    errs.push('time must be RFC 3339');
  }
  if (ev.subject !== undefined && (typeof ev.subject !== 'string' || ev.subject === '')) errs.push('subject must be a non-empty string');
  return errs;
}
