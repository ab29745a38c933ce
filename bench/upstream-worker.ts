/**
 * A dispatcher in its own process, for crash tests (kill -9 mid-delivery) and benchmarks:
 *   node dist/bench/upstream-worker.js --db state.sqlite --url http://127.0.0.1:8088/events [--max-records 200]
 *     [--max-in-flight 4] [--timeout-ms 2000] [--exit-when-drained]
 * Prints `{"event":"started","pid":…}` then `{"event":"drained",…}` when the outbox of sink "erp" is empty.
 */
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/db.js';
import { Dispatcher } from '../src/upstream/dispatcher.js';
import { HttpSink } from '../src/upstream/sinks/http.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    url: { type: 'string' },
    sink: { type: 'string', default: 'erp' },
    'max-records': { type: 'string', default: '200' },
    'max-in-flight': { type: 'string', default: '4' },
    'timeout-ms': { type: 'string', default: '2000' },
    'exit-when-drained': { type: 'boolean', default: false },
  },
});
if (!values.db || !values.url) {
  process.stderr.write('usage: upstream-worker --db PATH --url URL\n');
  process.exit(64);
}
const db = openDatabase(values.db, { synchronous: 'FULL' });
const d = new Dispatcher(
  db,
  [
    new HttpSink({
      id: values.sink!,
      kind: 'http',
      url: values.url,
      timeoutMs: Number(values['timeout-ms']),
      batch: { maxRecords: Number(values['max-records']), maxBytes: 1_048_576, lingerMs: 5 },
      mode: 'batched',
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
