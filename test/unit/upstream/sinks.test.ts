import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { MqttSink } from '../../../src/upstream/sinks/mqtt.js';
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
