import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { DEFER_ACK, PubackQueue } from '../../../src/drivers/puback-queue.js';

/**
 * The queue's own rules, with a recording packet writer in place of a connection (the same queue
 * runs against real Mosquitto and aedes in test/integration/scale/pipelined-gate.test.ts and
 * test/integration/values/values-gate.test.ts).
 */
function rig(maxInFlight = 10) {
  const sent: number[] = [];
  const client = { connected: true, _sendPacket: (p: { messageId: number }, cb: () => void) => (sent.push(p.messageId), cb()) };
  const acked: string[] = [];
  const failures: Array<{ err: unknown; dropped: number }> = [];
  let flushes = 0;
  const q = new PubackQueue<string>({
    maxInFlight,
    client: () => client as unknown as MqttClient,
    acknowledged: (t) => acked.push(t),
    flushed: () => void flushes++,
    failed: (err, dropped) => failures.push({ err, dropped }),
  });
  q.connected();
  return { q, sent, acked, failures, client, flushes: () => flushes };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const p = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { p, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PUBACK queue', () => {
  it('acknowledges in arrival order, whatever order the commits finish in', async () => {
    const { q, sent, acked } = rig();
    const a = deferred();
    const b = deferred();
    q.push(a.p, 1, 'a');
    q.push(b.p, 2, 'b');
    q.push(undefined, 3, 'c'); // nothing to commit, but behind two that wait
    b.resolve();
    await tick();
    expect(sent).toEqual([]);
    a.resolve();
    await tick();
    expect(sent).toEqual([1, 2, 3]);
    expect(acked).toEqual(['a', 'b', 'c']);
    expect(q.length).toBe(0);
  });

  it('acknowledges at once when nothing waits (and sends no PUBACK itself: MQTT.js does)', () => {
    const { q, sent, acked } = rig();
    expect(q.push(undefined, 7, 'x')).toBeNull();
    expect(acked).toEqual(['x']);
    expect(sent).toEqual([]);
  });

  it('never sends a PUBACK on a later connection for a packet id of an earlier one', async () => {
    const { q, sent, acked } = rig();
    const a = deferred();
    q.push(a.p, 1, 'a');
    q.closed();
    q.connected();
    a.resolve();
    await tick();
    expect(sent).toEqual([]);
    // The entry still leaves the queue (the broker redelivers the message on the new connection).
    expect(acked).toEqual(['a']);
    expect(q.length).toBe(0);
  });

  it('a failed commit drops the queue, acknowledges nothing more until the next connection', async () => {
    const { q, sent, acked, failures } = rig();
    const a = deferred();
    const b = deferred();
    const ea = q.push(a.p, 1, 'a')!;
    q.push(b.p, 2, 'b');
    let released = 0;
    ea.waiters.push(() => released++);
    a.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }));
    await tick();
    expect(failures).toHaveLength(1);
    expect(failures[0]!.dropped).toBe(2);
    expect(released).toBe(1);
    expect(q.ackFailed).toBe(true);
    b.resolve();
    await tick();
    const c = deferred();
    q.push(c.p, 3, 'c');
    c.resolve();
    await tick();
    // No PUBACK on the failed connection, even for a later commit that succeeded (the drivers
    // also stop feeding the queue while ackFailed; the broker redelivers all of it).
    expect(sent).toEqual([]);
    expect(acked).not.toContain('a');
    q.connected();
    expect(q.ackFailed).toBe(false);
    const d = deferred();
    q.push(d.p, 4, 'd');
    d.resolve();
    await tick();
    expect(sent).toEqual([4]);
  });

  it('holds the pump while the window is full and lets it go as acknowledgements free it', async () => {
    const { q } = rig(2);
    const pumped: Array<Error | undefined> = [];
    const cb = (e?: Error) => void pumped.push(e);
    const a = deferred();
    q.push(a.p, 1, 'a');
    q.deferred(cb);
    q.push(deferred().p, 2, 'b');
    q.deferred(cb); // window full: held
    expect(pumped).toEqual([DEFER_ACK]);
    a.resolve();
    await tick();
    expect(pumped).toEqual([DEFER_ACK, DEFER_ACK]);
  });

  it('a closed connection releases a held pump', () => {
    const { q } = rig(1);
    const pumped: Array<Error | undefined> = [];
    q.push(deferred().p, 1, 'a');
    q.deferred((e) => void pumped.push(e));
    expect(pumped).toEqual([]);
    q.closed();
    expect(pumped).toEqual([DEFER_ACK]);
  });
});
