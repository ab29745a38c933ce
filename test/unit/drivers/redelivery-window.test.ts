import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { PubackQueue } from '../../../src/drivers/puback-queue.js';
import { RedeliveryWindow, THROUGH_MAX_AGE_MS, identity, parseIdentity, payloadHash, recentThroughs, type MessageIdentity } from '../../../src/drivers/redelivery-window.js';

/**
 * The window's own rules (src/drivers/redelivery-window.ts), with a recording packet writer in
 * place of a connection; the same window runs against real aedes and Mosquitto in
 * test/integration/scale/redelivery-window.test.ts and test/integration/values/values-redelivery.test.ts.
 */
function rig(throughs: MessageIdentity[], o: { maxHeld?: number; windowMs?: number } = {}) {
  const sent: number[] = [];
  const client = { connected: true, _sendPacket: (p: { messageId: number }, cb: () => void) => (sent.push(p.messageId), cb()) };
  const acks = new PubackQueue<string | null>({ maxInFlight: 100, client: () => client as unknown as MqttClient, acknowledged: () => undefined, failed: () => undefined });
  acks.connected();
  const applied: string[] = [];
  const closes: Array<{ held: number; skipped: number }> = [];
  const w = new RedeliveryWindow<string | null, string>({
    acks,
    throughs,
    none: null,
    maxHeld: o.maxHeld ?? 50,
    windowMs: o.windowMs ?? 60_000,
    apply: (h) => (applied.push(h.message), { held: undefined, tag: h.message }),
    closed: (held, skipped) => closes.push({ held, skipped }),
  });
  const offer = (id: number, payload: string, dup = true) => w.offer({ message: `${id}:${payload}`, payload: Buffer.from(payload), messageId: id, dup });
  return { w, acks, sent, applied, closes, offer };
}
const tick = () => new Promise((r) => setImmediate(r));
const t = (id: number, payload: string): MessageIdentity => ({ id, hash: payloadHash(payload), at: 0 });

describe('redelivery window', () => {
  it('holds until the state\'s message comes back; everything up to it is acknowledged without replay, in order', async () => {
    const { w, sent, applied, closes, offer } = rig([t(12, 'zero')]);
    expect(offer(10, 'load')).not.toBeNull();
    expect(offer(11, 'load')).not.toBeNull();
    await tick();
    expect(sent).toEqual([]); // held: not acknowledged yet
    expect(offer(12, 'zero')).not.toBeNull();
    expect(w.isOpen).toBe(false);
    await tick();
    expect(sent).toEqual([10, 11, 12]);
    expect(applied).toEqual([]);
    expect(closes).toEqual([{ held: 3, skipped: 3 }]);
    // After the window: the caller processes.
    expect(offer(13, 'load', false)).toBeNull();
  });

  it('the same packet id with other payload bytes is not the state\'s message', async () => {
    const { w, offer } = rig([t(12, 'zero')]);
    offer(12, 'load');
    expect(w.isOpen).toBe(true);
  });

  it('a message without DUP ends the redelivery: the held ones are processed, in order', async () => {
    const { w, sent, applied, closes, offer } = rig([t(99, 'zero')]);
    offer(10, 'a');
    offer(11, 'b');
    expect(offer(12, 'c', false)).toBeNull();
    expect(w.isOpen).toBe(false);
    expect(applied).toEqual(['10:a', '11:b']);
    expect(closes).toEqual([{ held: 2, skipped: 0 }]);
    await tick();
    expect(sent).toEqual([10, 11]);
  });

  it('without DUP flags (aedes re-sends without them, interleaved with new messages) nothing is held or skipped, even the state\'s own id and bytes', async () => {
    const { w, applied, closes, offer } = rig([t(12, 'zero')]);
    expect(offer(12, 'zero', false)).toBeNull();
    expect(w.isOpen).toBe(false);
    expect(applied).toEqual([]);
    expect(closes).toEqual([{ held: 0, skipped: 0 }]);
  });

  it('holds DUP messages until the time runs out when nothing else comes, then processes them', async () => {
    const { w, applied, offer } = rig([t(99, 'zero')], { windowMs: 50 });
    offer(10, 'a');
    offer(11, 'b');
    expect(w.isOpen).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(w.isOpen).toBe(false);
    expect(applied).toEqual(['10:a', '11:b']);
  });

  it('closes when maxHeld messages are held', () => {
    const { w, applied, offer } = rig([t(99, 'zero')], { maxHeld: 3 });
    offer(1, 'a');
    offer(2, 'b');
    expect(w.isOpen).toBe(true);
    offer(3, 'c');
    expect(w.isOpen).toBe(false);
    expect(applied).toEqual(['1:a', '2:b', '3:c']);
  });

  it('several throughs (a value driver): skips up to the LAST one seen, processes what follows it', async () => {
    const { w, applied, closes, offer } = rig([t(11, 'x=2'), t(13, 'y=5'), t(40, 'z=1')], { windowMs: 50 });
    offer(10, 'x=1');
    offer(11, 'x=2');
    offer(12, 'x=3');
    offer(13, 'y=5');
    offer(14, 'y=6');
    // z's message was acknowledged long ago: never comes; the window ends on time.
    await new Promise((r) => setTimeout(r, 200));
    expect(w.isOpen).toBe(false);
    expect(closes).toEqual([{ held: 5, skipped: 4 }]);
    expect(applied).toEqual(['14:y=6']);
  });

  it('closes at once when every through has been seen', () => {
    const { w, closes, offer } = rig([t(11, 'x=2'), t(13, 'y=5')]);
    offer(11, 'x=2');
    offer(12, 'x=3');
    offer(13, 'y=5');
    expect(w.isOpen).toBe(false);
    expect(closes).toEqual([{ held: 3, skipped: 3 }]);
  });

  it('drop: nothing held is processed or acknowledged (the broker redelivers it)', async () => {
    const { w, sent, applied, closes, offer } = rig([t(99, 'zero')]);
    offer(1, 'a');
    offer(2, 'b');
    w.drop();
    await tick();
    expect(sent).toEqual([]);
    expect(applied).toEqual([]);
    expect(closes).toEqual([]);
    expect(offer(3, 'c')).toBeNull();
  });

  it('payload hash: the same bytes give the same hash (string or Buffer); 100,000 near-identical payloads give 100,000 hashes', () => {
    expect(payloadHash('{"weight":{"gross":0}}')).toBe(payloadHash(Buffer.from('{"weight":{"gross":0}}')));
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(payloadHash(`{"weight":{"gross":${(i / 1000).toFixed(3)},"unit":"kg"}}`));
    expect(seen.size).toBe(100_000);
    expect(payloadHash('')).not.toBe(payloadHash(Buffer.from([0])));
  });

  it('identities: only messages with a packet id; stored ones are checked; old ones are not looked for', () => {
    expect(identity(null, 'x', 0)).toBeNull();
    const i = identity(7, 'x', 1000)!;
    expect(i).toEqual({ id: 7, hash: payloadHash('x'), at: 1000 });
    expect(parseIdentity(JSON.parse(JSON.stringify(i)))).toEqual(i);
    for (const bad of [null, undefined, {}, { id: 0, hash: 'h', at: 1 }, { id: 70_000, hash: 'h', at: 1 }, { id: 1.5, hash: 'h', at: 1 }, { id: 1, hash: '', at: 1 }, { id: 1, hash: 'h' }, 'x']) {
      expect(parseIdentity(bad)).toBeNull();
    }
    const now = 10 * THROUGH_MAX_AGE_MS;
    const fresh = { id: 1, hash: 'h', at: now - 5000 };
    const old = { id: 2, hash: 'h', at: now - THROUGH_MAX_AGE_MS - 1 };
    const future = { id: 3, hash: 'h', at: now + THROUGH_MAX_AGE_MS + 1 };
    expect(recentThroughs([fresh, old, future, null], now)).toEqual([fresh]);
  });
});
