/**
 * A dispatcher with a PostgreSQL sink in its own process, for crash tests (kill -9 mid-delivery) and the bench:
 *   node dist/bench/plant-worker.js --db state.sqlite --pg postgres://… [--schema linegate] [--sink plant]
 *     [--max-records 200] [--max-in-flight 2] [--exit-when-drained]
 * Prints `{"event":"started","pid":…}` then `{"event":"drained",…}` when the outbox of the sink is empty.
 */
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/db.js';
import { Dispatcher } from '../src/upstream/dispatcher.js';
import { PostgresSink } from '../src/upstream/sinks/postgres.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    pg: { type: 'string' },
    schema: { type: 'string', default: 'linegate' },
    sink: { type: 'string', default: 'plant' },
    'max-records': { type: 'string', default: '200' },
    'max-in-flight': { type: 'string', default: '2' },
    'exit-when-drained': { type: 'boolean', default: false },
  },
});
if (!values.db || !values.pg) {
  process.stderr.write('usage: plant-worker --db PATH --pg URL\n');
  process.exit(64);
}
const db = openDatabase(values.db, { synchronous: 'FULL' });
const d = new Dispatcher(
  db,
  [
    new PostgresSink({
      id: values.sink!,
      kind: 'postgres',
      url: values.pg,
      schema: values.schema!,
      timeoutMs: 10_000,
      batch: { maxRecords: Number(values['max-records']), maxBytes: 4_194_304, lingerMs: 5 },
      maxInFlight: Number(values['max-in-flight']),
      backoff: { baseMs: 20, maxMs: 300, probeMs: 0 },
    }),
  ],
  { gatewayId: 'worker', pollMs: 200 },
);
await d.start();
process.stdout.write(`${JSON.stringify({ event: 'started', pid: process.pid })}\n`);
const timer = setInterval(() => {
  const st = d.stats()[0]!;
  if (st.backlog === 0 && st.inFlightRequests === 0) {
    process.stdout.write(`${JSON.stringify({ event: 'drained', delivered: st.deliveredTotal })}\n`);
    if (values['exit-when-drained']) {
      clearInterval(timer);
      void d.stop().then(() => {
        db.close();
        process.exit(0);
      });
    }
  }
}, 100);
const shutdown = (): void => {
  clearInterval(timer);
  void d.stop().then(() => {
    db.close();
    process.exit(0);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
