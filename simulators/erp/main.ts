/**
 * ERP simulator CLI: `node dist/simulators/erp/main.js --port 8088 --db erp.sqlite --fault-rate 0.1`
 * Prints one JSON line `{"event":"listening","port":…,"url":…}` on stdout when ready (spawners parse it).
 * Flags: --port N (0 = any) --host H --db PATH (':memory:' default) --seed N --token T
 *        --fault-rate P (spread evenly over 500, 429 and lost replies) --fail-rate P --throttle-rate P
 *        --drop-rate P --latency-rate P --latency-ms N --retry-after S --refuse-type T (repeatable)
 *        --refuse-id ID (repeatable)
 */
import { parseArgs } from 'node:util';
import { ErpSimulator, type ErpFaults } from './erp.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8088' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string', default: ':memory:' },
    seed: { type: 'string' },
    token: { type: 'string' },
    'fault-rate': { type: 'string' },
    'fail-rate': { type: 'string' },
    'throttle-rate': { type: 'string' },
    'drop-rate': { type: 'string' },
    'latency-rate': { type: 'string' },
    'latency-ms': { type: 'string' },
    'retry-after': { type: 'string' },
    'refuse-type': { type: 'string', multiple: true },
    'refuse-id': { type: 'string', multiple: true },
  },
});

const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
const faults: ErpFaults = {};
const fr = num(values['fault-rate']);
if (fr !== undefined) {
  faults.failRate = fr / 3;
  faults.throttleRate = fr / 3;
  faults.dropRate = fr / 3;
}
if (values['fail-rate']) faults.failRate = num(values['fail-rate']);
if (values['throttle-rate']) faults.throttleRate = num(values['throttle-rate']);
if (values['drop-rate']) faults.dropRate = num(values['drop-rate']);
if (values['latency-rate']) faults.latencyRate = num(values['latency-rate']);
if (values['latency-ms']) faults.latencyMs = num(values['latency-ms']);
if (values['retry-after']) faults.retryAfterS = num(values['retry-after']);
if (values['refuse-type']) faults.refuseTypes = values['refuse-type'];
if (values['refuse-id']) faults.refuseIds = values['refuse-id'];

const sim = new ErpSimulator({
  port: Number(values.port),
  host: values.host,
  db: values.db,
  faults,
  ...(values.seed ? { seed: Number(values.seed) } : {}),
  ...(values.token ? { token: values.token } : {}),
});
await sim.start();
process.stdout.write(`${JSON.stringify({ event: 'listening', port: sim.port, url: sim.url })}\n`);
const shutdown = (): void => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
