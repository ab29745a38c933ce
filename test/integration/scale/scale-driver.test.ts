/**
 * The MQTT scale driver against real brokers: the embedded aedes and (when installed) our own
 * Mosquitto. The simulator publishes faster than 10 Hz here (200 Hz) — timing is not the point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { spawn } from 'node:child_process';
import { MqttScaleDriver, loadScaleProfile } from '../../../src/drivers/mqtt-scale/index.js';
import type { WeightReading } from '../../../src/drivers/driver.js';
import type { MqttScaleConfig } from '../../../src/config/devices/mqtt-scale.js';
import { bindWeight } from '../../../src/binding/weight.js';
import { ScaleSimulator, type ScaleFormat } from '../../../simulators/scale/simulator.js';
import { silentLogger } from '../../../src/util/log.js';
import { add, sub, toString as d, parseDec, type Dec } from '../../../src/domain/decimal.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { referenceData } from '../../unit/scale/memory-md.js';
import { aedesBroker, hasMosquitto, mosquittoBroker, type TestBroker } from './brokers.js';

const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
const FAST = { settleMs: 25, holdMs: 30 };
const OFF = { settleMs: 15, holdMs: 20 };
let seq = 0;

interface Rig {
  driver: MqttScaleDriver;
  readings: WeightReading[];
  captures: () => WeightReading[];
  refusals: () => WeightReading[];
  stop: () => Promise<void>;
}

async function rig(broker: TestBroker, opts: { id?: string; profile?: string; stateDir?: string; silenceTimeoutMs?: number; clientId?: string; protocolVersion?: 4 | 5 } = {}): Promise<Rig> {
  const id = opts.id ?? `it.scale.${process.pid}.${++seq}`;
  const config: MqttScaleConfig = {
    kind: 'mqtt-scale', id, station: 'WEIGH-1', profile: opts.profile ?? 'json-generic',
    broker: { url: broker.url, ...(opts.clientId ? { clientId: opts.clientId } : {}), ...(opts.protocolVersion ? { protocolVersion: opts.protocolVersion } : {}) },
    silenceTimeoutMs: opts.silenceTimeoutMs ?? 5000,
  };
  const state = opts.stateDir ? null : tempDir('lg-scale-state-');
  // Built like mqttScaleKind.create does, with a short reconnect backoff for tests.
  const profile = loadScaleProfile(devicesDir, config.profile, { device: id });
  const driver = new MqttScaleDriver({ config, profile, logger: silentLogger(), stateDir: opts.stateDir ?? state!.path, backoff: { baseMs: 50, maxMs: 300 } });
  const readings: WeightReading[] = [];
  driver.on('reading', (r) => readings.push(r));
  const ac = new AbortController();
  await driver.start(ac.signal);
  await waitFor(() => driver.state === 'online', 10_000, 10, `${id} online`);
  return {
    driver,
    readings,
    captures: () => readings.filter((r) => !r.error),
    refusals: () => readings.filter((r) => r.error),
    async stop() {
      await driver.stop();
      state?.cleanup();
    },
  };
}

async function sim(broker: TestBroker, topic: string, format: ScaleFormat = 'json', extra: Partial<ConstructorParameters<typeof ScaleSimulator>[0]> = {}): Promise<ScaleSimulator> {
  const s = new ScaleSimulator({ url: broker.url, topic, format, rateHz: 200, capacityKg: 60, reconnectPeriodMs: 50, ...extra });
  await s.start();
  return s;
}

/** Deterministic weights with 3 decimals, 0.250 … 4.9xx kg. */
function weights(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (0.25 + ((i * 7919) % 4700) / 1000).toFixed(3));
}

function suite(name: string, make: () => Promise<TestBroker>, skip: boolean) {
  describe.skipIf(skip)(`MQTT scale driver against ${name}`, () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await make();
    });
    afterAll(async () => {
      await broker?.close();
    });

    it('100 placements → exactly 100 captures → 100 consumptions summing to the placed total, to the gram', async () => {
      const r = await rig(broker);
      const s = await sim(broker, r.driver.topic);
      const placed = weights(100);
      try {
        for (const w of placed) {
          await s.place(w, FAST);
          await s.remove(OFF);
        }
        await waitFor(() => r.captures().length >= 100, 10_000, 20, '100 captures');
        await new Promise((res) => setTimeout(res, 100));
      } finally {
        await s.stop();
        await r.stop();
      }
      const caps = r.captures();
      expect(caps.map((c) => c.value!.net)).toEqual(placed);
      expect(r.refusals()).toEqual([]);

      const total = placed.reduce<Dec>((a, w) => add(a, w), parseDec('0'));
      const md = referenceData({ bomQty: d(total), tolerancePct: '1', lotQty: '1000.000' });
      const ctx = { station: 'WEIGH-1', role: 'weighing' as const, batch: '20261122-001', operator: 'u1', lots: { 'RM-1001': 'L-RM1001-A' } };
      let sum: Dec = parseDec('0');
      let records = 0;
      for (const c of caps) {
        const b = bindWeight(c, ctx, { site: 'S', line: 'L1', now: new Date('2026-11-22T06:00:00Z'), md }, { tolerance: 'refuse' });
        expect(b.record.type).toBe('material.consumed');
        expect(b.record.status).toBe('accepted');
        md.apply(b.effects);
        sum = add(sum, b.record.payload.quantity as string);
        records++;
      }
      expect(records).toBe(100);
      expect(d(sum)).toBe(d(total));
      expect(md.lot('L-RM1001-A')!.quantity).toBe(d(sub('1000.000', total)));
    });

    it('broker stopped and restarted: offline → reconnects → resubscribes → later placements captured', async () => {
      const r = await rig(broker);
      const s = await sim(broker, r.driver.topic);
      try {
        await s.place('1.111', FAST);
        await s.remove(OFF);
        await waitFor(() => r.captures().length === 1, 5000, 10, 'first capture');
        const connectsBefore = r.driver.health().details.connects as number;
        await broker.stop();
        await waitFor(() => r.driver.state === 'offline', 5000, 10, 'driver offline');
        expect(r.driver.health().lastError?.code).toBe('LG_ERR_DEVICE_DISCONNECTED');
        await new Promise((res) => setTimeout(res, 200));
        await broker.restart();
        await waitFor(() => r.driver.state === 'online' && (r.driver.health().details.connects as number) > connectsBefore, 10_000, 10, 'driver back online');
        // The restarted broker lost every session: only our explicit resubscribe makes this work.
        expect(r.driver.health().details.subscribed).toBe(true);
        await waitFor(() => s['client']?.connected, 5000, 10, 'simulator reconnected');
        for (const w of ['2.222', '3.333']) {
          await s.place(w, FAST);
          await s.remove(OFF);
        }
        await waitFor(() => r.captures().length === 3, 5000, 10, 'captures after restart');
        expect(r.captures().map((c) => c.value!.net)).toEqual(['1.111', '2.222', '3.333']);
      } finally {
        await s.stop();
        await r.stop();
      }
    });

    it('bad payloads become refusal readings with codes; the driver keeps running', async () => {
      const r = await rig(broker);
      const s = await sim(broker, r.driver.topic, 'json', { continuous: false });
      try {
        const bad: Array<[string | Buffer, string]> = [
          ['{"weight":{"gross":1.2', 'LG_ERR_WEIGHT_PAYLOAD'],
          ['{"weight":{"gross":true,"stable":true}}', 'LG_ERR_WEIGHT_PAYLOAD'],
          ['{"weight":{"gross":1,"unit":"stone","stable":true}}', 'LG_ERR_WEIGHT_UNIT'],
          [`{"weight":{"gross":1},"pad":"${'x'.repeat(100_000)}"}`, 'LG_ERR_WEIGHT_PAYLOAD'],
          ['{"weight":{"gross":"NaN","stable":true}}', 'LG_ERR_WEIGHT_PAYLOAD'],
          ['{"weight":{"gross":"Infinity","stable":true}}', 'LG_ERR_WEIGHT_PAYLOAD'],
          ['{"weight":{"gross":-0.5,"unit":"kg","stable":true}}', 'LG_ERR_WEIGHT_NEGATIVE'],
          ['{"weight":{"gross":99,"stable":true},"status":{"overload":true}}', 'LG_ERR_WEIGHT_OVERLOAD'],
          ['{"weight":{"gross":75,"unit":"kg","stable":true}}', 'LG_ERR_WEIGHT_OVERLOAD'], // over the 60 kg capacity
          [Buffer.from([0xc3, 0x28, 0xff]), 'LG_ERR_WEIGHT_PAYLOAD'],
        ];
        for (const [p] of bad) await s.sendRaw(p);
        await s.sendRaw('{"weight":{"gross":0,"unit":"kg","stable":true}}');
        await s.sendRaw('{"weight":{"gross":1.5,"unit":"kg","stable":false}}');
        await s.sendRaw('{"weight":{"gross":1.5,"unit":"kg","stable":true}}');
        await waitFor(() => r.captures().length === 1, 5000, 10, 'capture after garbage');
        const codes = r.refusals().map((x) => x.error!.code);
        // Consecutive identical codes collapse into one episode (+ its summary); distinct ones each appear.
        expect(codes).toEqual([
          'LG_ERR_WEIGHT_PAYLOAD', 'LG_ERR_WEIGHT_PAYLOAD', // first + summary (1 repeat)
          'LG_ERR_WEIGHT_UNIT',
          'LG_ERR_WEIGHT_PAYLOAD', 'LG_ERR_WEIGHT_PAYLOAD', // huge, NaN, Infinity: first + summary (2 repeats)
          'LG_ERR_WEIGHT_NEGATIVE',
          'LG_ERR_WEIGHT_OVERLOAD', 'LG_ERR_WEIGHT_OVERLOAD', // flag + capacity: first + summary
          'LG_ERR_WEIGHT_PAYLOAD',
        ]);
        const huge = r.refusals()[3]!;
        expect(huge.raw!.length).toBeLessThanOrEqual(1024);
        expect(huge.error!.details).toMatchObject({ bytes: expect.any(Number), truncated: true });
        expect(r.refusals().every((x) => typeof x.raw === 'string')).toBe(true);
        expect(r.captures()[0]!.value).toMatchObject({ net: '1.500', stable: true });
        expect(r.driver.state).toBe('online');
        expect(r.driver.trace().length).toBeGreaterThan(10);
      } finally {
        await s.stop();
        await r.stop();
      }
    });

    it('a scale that stops publishing is degraded (silence timeout), and online again when it speaks', async () => {
      const r = await rig(broker, { silenceTimeoutMs: 300 });
      const s = await sim(broker, r.driver.topic);
      try {
        await s.place('0.800', FAST);
        await s.stop();
        await waitFor(() => r.driver.state === 'degraded', 5000, 10, 'degraded');
        expect(r.driver.health().lastError?.code).toBe('LG_ERR_SCALE_SILENT');
        const s2 = await sim(broker, r.driver.topic);
        await waitFor(() => r.driver.state === 'online', 5000, 10, 'online again');
        await s2.stop();
      } finally {
        await r.stop();
      }
    });

    it('ASCII indicator lines (ST,GS / US,NT / OL) over MQTT', async () => {
      const r = await rig(broker, { profile: 'ascii-st-gs' });
      const s = await sim(broker, r.driver.topic, 'ascii');
      try {
        await s.place('2.500', FAST);
        await s.remove(OFF);
        await s.place('0.400', FAST); // a container
        s.tare();
        await s.place('1.650', FAST); // 1.250 net
        await s.remove({ settleMs: 15, holdMs: 20 }); // net −0.400 stable: negative (re-tare)
        s.clearTare();
        await s.remove(OFF);
        await s.place('75', FAST); // over capacity → OL
        await s.remove(OFF);
        await waitFor(() => r.readings.some((x) => x.error?.code === 'LG_ERR_WEIGHT_OVERLOAD'), 5000, 10, 'overload');
        const caps = r.captures().map((c) => `${c.value!.net}/${c.value!.tare}`);
        expect(caps).toEqual(['2.500/0.000', '0.400/0.000', '1.250/0.000']);
        const codes = new Set(r.refusals().map((x) => x.error!.code));
        expect(codes).toEqual(new Set(['LG_ERR_WEIGHT_NEGATIVE', 'LG_ERR_WEIGHT_OVERLOAD']));
      } finally {
        await s.stop();
        await r.stop();
      }
    });

    it('commit gate: the PUBACK waits for the journal; a crash before the commit means redelivery, not loss', async () => {
      const st = tempDir('lg-scale-gate-');
      const clientId = `lg-gate-${process.pid}-${name}`.replace(/[^A-Za-z0-9-]/g, '');
      const id = `it.gate.${process.pid}.${name.length}`;
      try {
        const r1 = await rig(broker, { id, clientId, stateDir: st.path });
        const gated: WeightReading[] = [];
        // A journal that never commits: the gateway "crashes" before the capture is durable.
        r1.driver.setCommitGate((r) => {
          gated.push(r);
          return new Promise(() => undefined);
        });
        const s = await sim(broker, r1.driver.topic, 'json', { continuous: false });
        await s.sendRaw('{"weight":{"gross":0,"unit":"kg","stable":true}}');
        await s.sendRaw('{"weight":{"gross":2.468,"unit":"kg","stable":true}}');
        await s.sendRaw('{"weight":{"gross":2.468,"unit":"kg","stable":true}}');
        await waitFor(() => gated.length === 1, 5000, 10, 'capture handed to the gate');
        await new Promise((res) => setTimeout(res, 150));
        expect(r1.readings).toEqual([]); // delivered to the gate, not as an event
        // Issue 18: the pump reads on while the commit is pending (the next message is processed),
        // but neither PUBACK goes out: the third message waits in order behind the second.
        expect(r1.driver.health().details.messages).toBe(3);
        expect(r1.driver.health().lastReadingAt).not.toBeNull();
        await r1.stop();
        await s.stop();
        const r2 = await rig(broker, { id, clientId, stateDir: st.path });
        try {
          await waitFor(() => r2.captures().length === 1, 5000, 10, 'capture after redelivery');
          expect(r2.captures()[0]!.value!.net).toBe('2.468');
        } finally {
          await r2.stop();
        }
      } finally {
        st.cleanup();
      }
    });

    it('persistent session: weights published while the driver was down are captured after it reconnects', async () => {
      const st = tempDir('lg-scale-persist-');
      const clientId = `lg-persist-${process.pid}-${name}`;
      const id = `it.persist.${process.pid}.${name}`;
      const r1 = await rig(broker, { id, clientId, stateDir: st.path });
      const s = await sim(broker, r1.driver.topic);
      try {
        await s.place('1.234', FAST);
        await s.remove(OFF);
        await waitFor(() => r1.captures().length === 1, 5000, 10, 'capture before the stop');
        await r1.stop(); // clean DISCONNECT, session kept by the broker (clean: false)
        await s.place('4.321', FAST); // published (QoS 1) while nobody is connected
        await s.remove(OFF);
        await s.stop();
        const r2 = await rig(broker, { id, clientId, stateDir: st.path });
        try {
          await waitFor(() => r2.captures().length >= 1, 5000, 10, 'queued capture delivered');
          expect(r2.driver.health().details.sessionPresent).toBe(true);
          expect(r2.captures().map((c) => c.value!.net)).toEqual(['4.321']);
        } finally {
          await r2.stop();
        }
      } finally {
        st.cleanup();
      }
    });
  });
}

describe.skipIf(!hasMosquitto)('MQTT 5 against Mosquitto', () => {
  it('protocolVersion 5 with a persistent session (session expiry) captures queued weights', async () => {
    const broker = await mosquittoBroker();
    const st = tempDir('lg-scale-v5-');
    try {
      const id = `it.v5.${process.pid}`;
      const r1 = await rig(broker, { id, clientId: `lg-v5-${process.pid}`, stateDir: st.path, protocolVersion: 5 });
      const s = await sim(broker, r1.driver.topic);
      await s.place('0.750', FAST);
      await s.remove(OFF);
      await waitFor(() => r1.captures().length === 1, 5000, 10, 'v5 capture');
      await r1.stop();
      await s.place('0.900', FAST);
      await s.remove(OFF);
      await s.stop();
      const r2 = await rig(broker, { id, clientId: `lg-v5-${process.pid}`, stateDir: st.path, protocolVersion: 5 });
      try {
        await waitFor(() => r2.captures().length === 1, 5000, 10, 'v5 queued capture');
        expect(r2.captures()[0]!.value!.net).toBe('0.900');
        expect(r2.driver.health().details.sessionPresent).toBe(true);
      } finally {
        await r2.stop();
      }
    } finally {
      st.cleanup();
      await broker.close();
    }
  });
});

describe('simulator as a child process', () => {
  it('main.ts places loads that the driver captures one by one, and stops on SIGTERM', async () => {
    const broker = await aedesBroker();
    const r = await rig(broker);
    const main = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'dist', 'simulators', 'scale', 'main.js');
    const child = spawn(process.execPath, [main, '--url', broker.url, '--topic', r.driver.topic, '--rate', '100', '--count', '0', '--settle', '150', '--hold', '150', '--pause', '100', '--min', '1', '--max', '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const placed: string[] = [];
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as { event: string; kg?: string };
        buf = buf.slice(nl + 1);
        if (line.event === 'placed') placed.push(line.kg!);
      }
    });
    try {
      await waitFor(() => placed.length >= 3, 15_000, 20, '3 placements by the child simulator');
      const exit = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      await waitFor(() => r.captures().length >= placed.length, 3000, 10, 'captures of the child placements');
      expect(r.captures().slice(0, placed.length).map((c) => c.value!.net)).toEqual(placed);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await r.stop();
      await broker.close();
    }
  });
});

suite('the embedded aedes broker', aedesBroker, false);
if (!hasMosquitto) console.warn('[scale] /usr/sbin/mosquitto not found: the Mosquitto suite is skipped');
suite('Mosquitto (own process)', mosquittoBroker, !hasMosquitto);

describe('embedded broker facts', () => {
  it('refuses an MQTT 5 client (aedes speaks 3.1.1 only)', async () => {
    const b = await aedesBroker();
    try {
      const c = mqtt.connect(b.url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2000 });
      const outcome = await new Promise<string>((resolve) => {
        c.once('connect', () => resolve('connected'));
        c.once('error', (e) => resolve(`error: ${e.message}`));
        c.once('close', () => resolve('closed'));
      });
      c.end(true);
      expect(outcome).not.toBe('connected');
    } finally {
      await b.close();
    }
  });
});
