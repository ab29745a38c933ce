import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { MqttSink } from '../../../src/upstream/sinks/mqtt.js';
import { EpcisSink } from '../../../src/upstream/sinks/epcis.js';
import { EpcisSinkConfig } from '../../../src/config/upstream.js';
import { Value } from '@sinclair/typebox/value';
import { CaptureServer } from '../../helpers/epcis-capture.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { AedesBroker, freePort, httpSinkConfig, mqttSinkConfig } from '../../integration/upstream/harness.js';
import { sinkContract } from './sink-contract.js';

sinkContract('http → ERP simulator', async () => {
  const erp = new ErpSimulator();
  await erp.start();
  const dead = await freePort();
  return {
    createSink: () => new HttpSink(httpSinkConfig(erp.url, { timeoutMs: 1000 })),
    createUnreachableSink: () => new HttpSink(httpSinkConfig(`http://127.0.0.1:${dead}/events`, { timeoutMs: 1000 })),
    received: async () => erp.events({ limit: 100_000 }).map((e) => e.id),
    stopPeer: () => erp.stop(),
    startPeer: () => erp.start(),
    dispose: () => erp.close(),
  };
});

sinkContract('mqtt → aedes', async () => {
  const broker = new AedesBroker();
  await broker.start();
  const dead = await freePort();
  return {
    createSink: () => new MqttSink(mqttSinkConfig(broker.url, { timeoutMs: 1000 })),
    createUnreachableSink: () => new MqttSink(mqttSinkConfig(`mqtt://127.0.0.1:${dead}`, { timeoutMs: 1000 })),
    received: async () => broker.arrivals.map((a) => a.id),
    stopPeer: () => broker.stop(),
    startPeer: () => broker.start(),
    dispose: () => broker.stop(),
  };
});

/** EPCIS: each record stands for one ObjectEvent whose eventID is the record id (so arrivals map back to records). */
sinkContract('epcis → capture interface (schema-validating)', async () => {
  const capture = new CaptureServer();
  await capture.start();
  const dead = await freePort();
  const source = {
    events: (r: { id: string; seq: number }) => [
      { type: 'ObjectEvent', eventTime: new Date().toISOString(), eventTimeZoneOffset: '+00:00', eventID: `urn:uuid:${r.id}`, epcList: [`https://id.gs1.org/01/09506000134352/21/${r.seq}`], action: 'OBSERVE', bizStep: 'inspecting' },
    ],
    document: (events: unknown[]) => ({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: events } }),
  };
  const cfg = (url: string) => Value.Default(EpcisSinkConfig, { id: 'epcis', kind: 'epcis', url, timeoutMs: 1000, captureJob: { pollMs: 10 }, batch: {}, backoff: {} }) as never;
  return {
    createSink: () => new EpcisSink(cfg(capture.url), source),
    createUnreachableSink: () => new EpcisSink(cfg(`http://127.0.0.1:${dead}/epcis`), source),
    received: async () => {
      if (capture.invalid.length) throw new Error(`invalid documents: ${JSON.stringify(capture.invalid[0])}`);
      return [...capture.events.keys()].map((k) => k.replace(/^urn:uuid:/, ''));
    },
    stopPeer: () => capture.stop(),
    startPeer: async () => void (await capture.start(capture.port)),
    dispose: () => capture.stop(),
  };
});
