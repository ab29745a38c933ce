/**
 * Issue 11.10: recovery after an ERP outage. Two defects: requests already in flight when the receiver
 * went away each counted as a failure (4 in flight → the backoff grew 4 steps per round), and recovery
 * was only noticed when the grown backoff ran out. Both through a real HTTP receiver on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src/store/db.js';
import { Dispatcher } from '../../../src/upstream/dispatcher.js';
import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { MqttSink } from '../../../src/upstream/sinks/mqtt.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { AedesBroker, countOutbox, httpSinkConfig, mqttSinkConfig, seedRecords, waitUntil } from './harness.js';

describe('11.10 upstream recovery after an outage', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  function db() {
    const dir = mkdtempSync(join(tmpdir(), 'lg-up-rec-'));
    const d = openDatabase(join(dir, 'j.sqlite'), { synchronous: 'NORMAL' });
    cleanups.push(() => {
      d.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return d;
  }
  async function downErp(): Promise<ErpSimulator> {
    const erp = new ErpSimulator();
    await erp.start();
    await erp.stop(); // keeps its port; nobody listens now
    cleanups.push(() => erp.close());
    return erp;
  }

  it('11.10 requests already in flight when the receiver went away count as ONE failure, not one each', async () => {
    const j = db();
    const erp = await downErp();
    seedRecords(j, 400, { sinks: ['erp'], batches: 4, run: 100 }); // 4 runs of 100 → 4 requests in flight at once
    // A long first backoff (jitter pinned near its ceiling) so that only the first round is observed.
    const d = new Dispatcher(j, [new HttpSink(httpSinkConfig(erp.url, { maxInFlight: 4, batch: { maxRecords: 100, maxBytes: 1_048_576, lingerMs: 0 }, backoff: { baseMs: 60_000, maxMs: 600_000, probeMs: 0 } }))], {
      gatewayId: 'gw1',
      random: () => 0.999,
    });
    cleanups.push(() => d.stop({ timeoutMs: 200 }));
    await d.start();
    const st = await waitUntil(() => {
      const s = d.stats()[0]!;
      return s.lastError && s.inFlightRequests === 0 ? s : undefined;
    }, 20_000, 'the first round failed');
    expect(st.lastError?.code).toBe('LG_ERR_SINK_UNREACHABLE');
    expect(st.state).toBe('backoff');
    // Before the fix: 4 (every in-flight request counted), so the next pause was 2^4 × base.
    expect(st.failuresSinceSuccess).toBe(1);
    const outbox = j.prepare(`SELECT MAX(attempts) AS a FROM outbox WHERE sink = 'erp'`).get() as { a: number };
    expect(outbox.a).toBe(1);
  }, 40_000);

  it('11.10 a receiver that answers again is noticed by a probe, long before the backoff runs out', async () => {
    const j = db();
    const erp = await downErp();
    seedRecords(j, 50, { sinks: ['erp'], batches: 2 });
    const d = new Dispatcher(j, [new HttpSink(httpSinkConfig(erp.url, { backoff: { baseMs: 120_000, maxMs: 600_000, probeMs: 100 } }))], {
      gatewayId: 'gw1',
      random: () => 0.999,
    });
    cleanups.push(() => d.stop({ timeoutMs: 200 }));
    await d.start();
    const paused = await waitUntil(() => {
      const s = d.stats()[0]!;
      return s.state === 'backoff' && s.resumeAt ? s : undefined;
    }, 20_000, 'backing off');
    const resumeAt = Date.parse(paused.resumeAt!);
    // Probes while the receiver is still down do not end the pause.
    await waitUntil(() => d.stats()[0]!.probesTotal >= 2, 20_000, 'probes while down');
    expect(d.stats()[0]!.state).toBe('backoff');
    expect(countOutbox(j, 'erp').delivered).toBe(0);
    await erp.start();
    await waitUntil(() => countOutbox(j, 'erp').delivered === 50, 30_000, 'all delivered after the receiver returned');
    // Without probes nothing could be delivered before resumeAt (about two minutes after the failure).
    expect(Date.now()).toBeLessThan(resumeAt);
    const rep = erp.report();
    expect(rep.unique).toBe(50);
    expect(rep.orderViolations).toBe(0);
    expect(d.stats()[0]!.failuresSinceSuccess).toBe(0);
  }, 60_000);

  it('11.10 a Retry-After from the receiver is waited out: probes never cut it short', async () => {
    const j = db();
    const erp = new ErpSimulator({ faults: { throttleRate: 1, retryAfterS: 3600 } });
    await erp.start();
    cleanups.push(() => erp.close());
    seedRecords(j, 10, { sinks: ['erp'], batches: 1 });
    const d = new Dispatcher(j, [new HttpSink(httpSinkConfig(erp.url, { backoff: { baseMs: 20, maxMs: 200, probeMs: 50 } }))], { gatewayId: 'gw1' });
    cleanups.push(() => d.stop({ timeoutMs: 200 }));
    await d.start();
    await waitUntil(() => d.stats()[0]!.lastError, 20_000, 'refused with Retry-After');
    erp.setFaults({});
    await new Promise((r) => setTimeout(r, 500));
    const s = d.stats()[0]!;
    expect(s.state).toBe('backoff');
    expect(s.probesTotal).toBe(0);
    expect(countOutbox(j, 'erp').delivered).toBe(0);
  }, 40_000);

  it('11.10 MQTT: the broker coming back ends the pause through the probe (client connected)', async () => {
    const j = db();
    const broker = new AedesBroker();
    await broker.start();
    cleanups.push(() => broker.stop());
    const port = broker.port;
    await broker.stop(); // keeps its port for the restart
    seedRecords(j, 30, { sinks: ['uns'], batches: 1 });
    const d = new Dispatcher(j, [new MqttSink(mqttSinkConfig(`mqtt://127.0.0.1:${port}`, { backoff: { baseMs: 120_000, maxMs: 600_000, probeMs: 100 } }))], {
      gatewayId: 'gw1',
      random: () => 0.999,
    });
    cleanups.push(() => d.stop({ timeoutMs: 200 }));
    await d.start();
    const paused = await waitUntil(() => {
      const s = d.stats()[0]!;
      return s.state === 'backoff' && s.resumeAt ? s : undefined;
    }, 20_000, 'backing off');
    await broker.start();
    await waitUntil(() => countOutbox(j, 'uns').delivered === 30, 30_000, 'delivered after the broker returned');
    expect(Date.now()).toBeLessThan(Date.parse(paused.resumeAt!));
  }, 60_000);
});
