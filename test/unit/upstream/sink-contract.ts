/**
 * The contract every sink passes (MQTT.js abstract_store pattern): `sinkContract(name, factory)`
 * registers the same tests against a real peer (HTTP receiver, MQTT broker).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutgoingRecord, Sink } from '../../../src/upstream/sinks/sink.js';
import { toCloudEvent } from '../../../src/upstream/cloudevents.js';
import { uuidv7 } from '../../../src/util/ids.js';

export interface SinkPeer {
  /** A sink pointed at the peer; timeoutMs small. */
  createSink(): Sink;
  /** A sink pointed at a port where nobody listens. */
  createUnreachableSink(): Sink;
  /** Ids the peer has received and accepted, in first-arrival order. */
  received(): Promise<string[]>;
  stopPeer(): Promise<void>;
  startPeer(): Promise<void>;
  dispose(): Promise<void>;
}

let seq = 0;
export function makeRecords(n: number, batch = 'B1'): OutgoingRecord[] {
  return Array.from({ length: n }, () => {
    seq++;
    const rec = {
      seq, id: uuidv7(), type: 'lot.scanned', status: 'accepted' as const, errorCode: null, message: null, site: 'plant1', line: 'line1',
      station: 'pack', batch, lot: 'L1', operator: 'op', device: 'scanner1', payload: { n: seq }, sourceTime: null,
      receivedAt: new Date().toISOString(), clockSynced: true,
    };
    const body = JSON.stringify(toCloudEvent(rec, { gatewayId: 'gw' }));
    return { seq, id: rec.id, type: rec.type, site: rec.site, line: rec.line, station: rec.station, batch, lot: rec.lot, device: rec.device, body, bytes: Buffer.byteLength(body) };
  });
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function sinkContract(name: string, factory: () => Promise<SinkPeer>): void {
  describe(`sink contract: ${name}`, () => {
    let peer: SinkPeer;
    const sinks: Sink[] = [];
    beforeEach(async () => {
      peer = await factory();
    });
    afterEach(async () => {
      for (const s of sinks.splice(0)) await s.close();
      await peer.dispose();
    });
    const make = async (unreachable = false): Promise<Sink> => {
      const s = unreachable ? peer.createUnreachableSink() : peer.createSink();
      sinks.push(s);
      await s.start();
      return s;
    };
    const ready = async (s: Sink): Promise<void> => {
      // MQTT connects asynchronously: retry a 1-record probe until delivered (bounded).
      await eventually(() => s.send(makeRecords(1, 'probe'), new AbortController().signal), (r) => r.kind === 'all' && r.outcome === 'delivered');
    };

    it('delivers a group in order and says so', async () => {
      const s = await make();
      await ready(s);
      const recs = makeRecords(25);
      const res = await s.send(recs, new AbortController().signal);
      expect(res).toEqual({ kind: 'all', outcome: 'delivered' });
      const got = await eventually(() => peer.received(), (ids) => recs.every((r) => ids.includes(r.id)));
      const mine = got.filter((id) => recs.some((r) => r.id === id));
      expect(mine).toEqual(recs.map((r) => r.id));
    });

    it('reports an unreachable peer as retry, without throwing, within its timeout', async () => {
      const s = await make(true);
      const t0 = Date.now();
      const res = await s.send(makeRecords(3), new AbortController().signal);
      expect(res.kind === 'all' && res.outcome === 'retry').toBe(true);
      expect(Date.now() - t0).toBeLessThan(3000);
    });

    it('recovers after the peer went away and came back', async () => {
      const s = await make();
      await ready(s);
      await peer.stopPeer();
      const during = await s.send(makeRecords(2), new AbortController().signal);
      expect(during.kind === 'each' ? during.results.every((r) => r.outcome === 'retry') : during.outcome === 'retry').toBe(true);
      await peer.startPeer();
      const recs = makeRecords(5);
      const res = await eventually(() => s.send(recs, new AbortController().signal), (r) => r.kind === 'all' && r.outcome === 'delivered', 8000);
      expect(res).toEqual({ kind: 'all', outcome: 'delivered' });
    });

    it('an aborted send resolves without claiming delivery', async () => {
      const s = await make();
      await ready(s);
      const ac = new AbortController();
      ac.abort();
      const res = await s.send(makeRecords(3), ac.signal);
      const delivered = res.kind === 'all' ? res.outcome === 'delivered' : res.results.every((r) => r.outcome === 'delivered');
      expect(delivered).toBe(false);
      expect(res.kind === 'all' && res.outcome === 'refused').toBe(false);
    });

    it('close is idempotent and a closed sink refuses nothing, it asks for a retry', async () => {
      const s = await make();
      await s.close();
      await s.close();
      const res = await s.send(makeRecords(1), new AbortController().signal);
      expect(res.kind === 'all' && res.outcome === 'retry').toBe(true);
    });

    it('can be started again after close (dispatcher stop/start)', async () => {
      const s = await make();
      await ready(s);
      await s.close();
      await s.start();
      await ready(s);
      const recs = makeRecords(3);
      expect(await s.send(recs, new AbortController().signal)).toEqual({ kind: 'all', outcome: 'delivered' });
    });
  });
}
