import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import type { JournalRecord } from '../../../src/binding/types.js';
import { CE_ATTRIBUTE_NAME, ceSource, ceType, toCloudEvent, validateCloudEvent } from '../../../src/upstream/cloudevents.js';
import { interpret } from '../../../src/upstream/sinks/http.js';
import { renderTopic } from '../../../src/upstream/sinks/mqtt.js';
import { parseRetryAfter, type OutgoingRecord } from '../../../src/upstream/sinks/sink.js';
import { UpstreamConfig } from '../../../src/config/upstream.js';

const rec = (over: Partial<JournalRecord> = {}): JournalRecord => ({
  seq: 42, id: '01890a5d-ac96-774b-bcce-b302099a8057', type: 'lot.scanned', status: 'accepted', errorCode: null, message: null,
  site: 'plant1', line: 'line1', station: 'weigh', batch: 'B-2026-001', lot: 'L77', operator: 'op1', device: 'scanner1',
  payload: { gtin: '09506000134352' }, sourceTime: null, receivedAt: '2026-11-22T04:00:00.123Z', clockSynced: true, ...over,
});

describe('CloudEvents envelope', () => {
  it('maps a record to a valid CloudEvent 1.0 with versioned type, batch subject and lg extensions', () => {
    const ev = toCloudEvent(rec(), { gatewayId: 'gw-1' });
    expect(validateCloudEvent(ev)).toEqual([]);
    expect(ev).toMatchObject({
      specversion: '1.0', id: rec().id, source: 'urn:linegate:plant1:line1:gw-1', type: 'com.linegate.lot.scanned.v1',
      subject: 'B-2026-001', time: '2026-11-22T04:00:00.123Z', datacontenttype: 'application/json', lgseq: 42, lglot: 'L77',
      lgstation: 'weigh', lgstatus: 'accepted', lgclocksynced: true,
    });
    expect(ev.data).toEqual(rec());
  });

  it('uses the source time when present, and leaves absent optional attributes out (never null)', () => {
    const ev = toCloudEvent(rec({ sourceTime: '2026-11-22T03:59:59+01:00', batch: null, lot: null, station: null, line: null, errorCode: 'LG_ERR_LOT_ON_HOLD', status: 'rejected' }), { gatewayId: 'g' });
    expect(ev.time).toBe('2026-11-22T02:59:59.000Z');
    expect('subject' in ev).toBe(false);
    expect('lglot' in ev).toBe(false);
    expect(ev.lgerror).toBe('LG_ERR_LOT_ON_HOLD');
    expect(ev.source).toBe('urn:linegate:plant1:_:g');
    expect(validateCloudEvent(ev)).toEqual([]);
  });

  it('every attribute name follows the spec naming rule, for any record', () => {
    const opt = fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: null });
    fc.assert(
      fc.property(fc.record({ site: fc.string({ minLength: 1 }), line: opt, batch: opt, lot: opt, station: opt, device: opt, errorCode: opt }), (r) => {
        const ev = toCloudEvent(rec(r), { gatewayId: 'gw:1/x' });
        for (const k of Object.keys(ev)) if (k !== 'data') expect(k).toMatch(CE_ATTRIBUTE_NAME);
        expect(validateCloudEvent(ev)).toEqual([]);
        expect(ev.source.split(':')).toHaveLength(5); // colons inside parts are escaped
      }),
      { numRuns: 200 },
    );
  });

  it('the validator catches spec violations', () => {
    expect(validateCloudEvent({ specversion: '1.0', id: 'a', source: 's', type: 't', lgLot: 'x' })).toHaveLength(1);
    expect(validateCloudEvent({ specversion: '1.0', id: 'a', source: 's', type: 't', lg_lot: 'x' })).toHaveLength(1);
    expect(validateCloudEvent({ specversion: '1.0', id: 'a', source: 's', type: 't', subject: null })).not.toEqual([]);
    expect(validateCloudEvent({ specversion: '0.3', id: '', source: 's', type: 't' })).toHaveLength(2);
    expect(validateCloudEvent({ specversion: '1.0', id: 'a', source: 's', type: 't', time: 'yesterday' })).toHaveLength(1);
  });

  it('source and type helpers', () => {
    expect(ceSource('a b', 'l:1', 'g')).toBe('urn:linegate:a%20b:l%3A1:g');
    expect(ceType('batch.status_changed')).toBe('com.linegate.batch.status_changed.v1');
  });
});

const out = (id: string): OutgoingRecord => ({ seq: 1, id, type: 't', site: 's', line: 'l', station: null, batch: null, lot: null, device: null, body: '{}', bytes: 2 });

describe('HTTP reply contract', () => {
  const recs = [out('a'), out('b'), out('c')];
  it('2xx without results = all delivered; 207 results = per record', () => {
    expect(interpret(200, undefined, '{"accepted":3}', recs)).toEqual({ kind: 'all', outcome: 'delivered' });
    expect(interpret(204, undefined, '', recs)).toEqual({ kind: 'all', outcome: 'delivered' });
    const r = interpret(207, undefined, JSON.stringify({ results: [{ id: 'a', status: 200 }, { id: 'b', status: 422, error: 'bad lot' }, { id: 'c', status: 503 }] }), recs);
    expect(r).toEqual({
      kind: 'each',
      results: [{ outcome: 'delivered' }, { outcome: 'refused', status: 422, detail: 'bad lot' }, { outcome: 'retry', status: 503, detail: 'status 503' }],
    });
    const missing = interpret(207, undefined, JSON.stringify({ results: [{ id: 'a', status: 201 }] }), recs);
    expect(missing.kind === 'each' && missing.results.map((x) => x.outcome)).toEqual(['delivered', 'retry', 'retry']);
  });
  it('408/429/5xx/3xx and misconfiguration (401/403/404) are retried; other 4xx refuse the request', () => {
    for (const s of [408, 429, 500, 502, 503, 301, 401, 403, 404]) expect(interpret(s, undefined, '', recs)).toMatchObject({ kind: 'all', outcome: 'retry', status: s });
    for (const s of [400, 409, 413, 422]) expect(interpret(s, undefined, 'nope', recs)).toMatchObject({ kind: 'all', outcome: 'refused', status: s });
    expect(interpret(429, '3', '', recs)).toMatchObject({ retryAfterMs: 3000 });
  });
  it('Retry-After in seconds or as an HTTP date, capped at one hour', () => {
    const now = Date.parse('2026-11-22T04:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 04:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 03:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('MQTT topic template', () => {
  it('fills fields and neutralises separators and wildcards', () => {
    const r = { site: 'p1', line: 'l/1', station: null, batch: 'B#1', lot: 'L+', type: 'lot.scanned', device: 'd' };
    expect(renderTopic('linegate/{site}/{line}/{type}', r)).toBe('linegate/p1/l_1/lot.scanned');
    expect(renderTopic('x/{station}/{batch}/{lot}/{unknown}', r)).toBe('x/_/B_1/L_/{unknown}');
  });
});

describe('UpstreamConfig schema', () => {
  const http = {
    id: 'erp', kind: 'http', url: 'https://erp.example/events', timeoutMs: 5000, batch: { maxRecords: 500, maxBytes: 1_048_576, lingerMs: 50 },
    mode: 'batched', maxInFlight: 4, backoff: { baseMs: 500, maxMs: 10_000, probeMs: 2000 }, token: 'abc',
  };
  const mq = {
    id: 'uns', kind: 'mqtt', url: 'mqtt://broker:1883', clientId: 'linegate-l1', protocolVersion: 4, topic: 'linegate/{site}/{line}/{type}', qos: 1,
    keepaliveS: 30, timeoutMs: 5000, batch: { maxRecords: 100, maxBytes: 1_048_576, lingerMs: 20 }, maxInFlight: 2, backoff: { baseMs: 500, maxMs: 30_000, probeMs: 0 },
  };
  it('accepts both sink kinds and retention', () => {
    expect(Value.Check(UpstreamConfig, { sinks: [http, mq], retention: { deliveredDays: 90 } })).toBe(true);
  });
  it('rejects unknown kinds, bad URLs, QoS 0 and unknown properties', () => {
    expect(Value.Check(UpstreamConfig, { sinks: [{ ...http, kind: 'ftp' }] })).toBe(false);
    expect(Value.Check(UpstreamConfig, { sinks: [{ ...http, url: 'ftp://x' }] })).toBe(false);
    expect(Value.Check(UpstreamConfig, { sinks: [{ ...mq, qos: 0 }] })).toBe(false);
    expect(Value.Check(UpstreamConfig, { sinks: [{ ...http, surprise: 1 }] })).toBe(false);
  });
  it('has a description on every field', () => {
    const walk = (s: Record<string, unknown>, path: string): string[] => {
      const missing: string[] = [];
      const props = s.properties as Record<string, Record<string, unknown>> | undefined;
      if (props) {
        for (const [k, v] of Object.entries(props)) {
          if (typeof v.description !== 'string') missing.push(`${path}.${k}`);
          missing.push(...walk(v, `${path}.${k}`));
        }
      }
      for (const key of ['anyOf', 'items'] as const) {
        const sub = s[key];
        if (Array.isArray(sub)) sub.forEach((x, i) => missing.push(...walk(x as Record<string, unknown>, `${path}[${i}]`)));
        else if (sub && typeof sub === 'object') missing.push(...walk(sub as Record<string, unknown>, `${path}[]`));
      }
      return missing;
    };
    expect(walk(UpstreamConfig as unknown as Record<string, unknown>, 'upstream')).toEqual([]);
  });
});
