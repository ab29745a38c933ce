/**
 * Property: whatever mix of answers the receiver gives (accepted, failed, failed-after-storing = lost
 * reply, slow), with several requests in flight, every record arrives and the records of each batch
 * first arrive in seq order. The receiver here is a Sink written against our own interface (not a mock
 * of a library); the HTTP/MQTT transports are covered by the integration tests.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openDatabase } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import type { OutgoingRecord, SendResult, Sink } from '../../../src/upstream/sinks/sink.js';
import { countOutbox, seedRecords, waitUntil } from '../../integration/upstream/harness.js';

type Answer = 'ok' | 'fail' | 'lost' | 'slow';

class ScriptedSink implements Sink {
  readonly id = 'erp';
  readonly kind = 'http' as const;
  readonly backoff = { baseMs: 1, maxMs: 3 };
  readonly arrivals: OutgoingRecord[] = [];
  readonly seen = new Set<string>();
  private n = 0;
  constructor(
    readonly limits: { maxRecords: number; maxBytes: number; lingerMs: number; maxInFlight: number },
    private readonly answers: Answer[],
  ) {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  private store(records: OutgoingRecord[]): void {
    for (const r of records) {
      if (!this.seen.has(r.id)) {
        this.seen.add(r.id);
        this.arrivals.push(r);
      }
    }
  }
  async send(records: OutgoingRecord[]): Promise<SendResult> {
    const a = this.answers[this.n++ % this.answers.length]!;
    await new Promise((r) => setTimeout(r, a === 'slow' ? 5 : Math.random() * 2));
    if (a === 'fail') return { kind: 'all', outcome: 'retry', status: 503, detail: 'down' };
    this.store(records);
    if (a === 'lost') return { kind: 'all', outcome: 'retry', detail: 'timeout' };
    return { kind: 'all', outcome: 'delivered' };
  }
}

describe('dispatcher ordering under concurrency and faults', () => {
  it('every record arrives, first arrivals in seq order per batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Answer>('ok', 'ok', 'fail', 'lost', 'slow'), { minLength: 1, maxLength: 12 }).filter((a) => a.includes('ok') || a.includes('slow')),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        async (answers, batches, maxRecords, maxInFlight) => {
          const db = openDatabase(':memory:', { synchronous: 'OFF' });
          const sink = new ScriptedSink({ maxRecords, maxBytes: 1 << 20, lingerMs: 0, maxInFlight }, answers);
          const d = new Dispatcher(db, [sink], { gatewayId: 'g', pollMs: 50, windowRecords: 60 });
          try {
            seedRecords(db, 200, { sinks: ['erp'], batches, run: 3 });
            await d.start();
            await waitUntil(() => countOutbox(db, 'erp').delivered === 200, 20_000, 'all delivered', 5);
            expect(sink.seen.size).toBe(200);
            const last = new Map<string, number>();
            for (const r of sink.arrivals) {
              expect(r.seq).toBeGreaterThan(last.get(r.batch!) ?? 0);
              last.set(r.batch!, r.seq);
            }
          } finally {
            await d.stop({ timeoutMs: 100 });
            db.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);
});
