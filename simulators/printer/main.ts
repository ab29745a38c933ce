/**
 * Printer simulator as a process: `node dist/simulators/printer/main.js --port 9100 --out /tmp/labels`.
 * Flags: --host H  --port N  --out DIR  --png (render every job to PNG)  --state ok|paper_out|head_open|paused|buffer_full|ribbon_out
 *        --silent  --refuse  --stall  --print-delay-ms N  --format-latency-ms N (stop reading a connection that long once a format begins)
 * Prints one JSON line `{"event":"listening","port":N}` when ready; later lines report printed jobs.
 * SIGUSR1 cycles the state ok → paper_out → head_open → paused → ok (for trying the queue by hand).
 */
import { parseArgs } from 'node:util';
import { PrinterSimulator, type SimState } from './printer-sim.js';

const STATES: SimState[] = ['ok', 'paper_out', 'head_open', 'paused', 'buffer_full', 'ribbon_out'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9100' },
      out: { type: 'string' },
      png: { type: 'boolean', default: false },
      state: { type: 'string', default: 'ok' },
      silent: { type: 'boolean', default: false },
      refuse: { type: 'boolean', default: false },
      stall: { type: 'boolean', default: false },
      'print-delay-ms': { type: 'string', default: '0' },
      'format-latency-ms': { type: 'string', default: '0' },
    },
  });
  const state = values.state as SimState;
  if (!STATES.includes(state)) {
    process.stderr.write(`--state must be one of ${STATES.join(', ')}\n`);
    process.exit(64);
  }
  const sim = new PrinterSimulator({
    host: values.host,
    port: Number(values.port),
    outDir: values.out,
    renderPng: values.png ? 'eager' : false,
    state,
    silent: values.silent,
    refuse: values.refuse,
    stall: values.stall,
    printDelayMs: Number(values['print-delay-ms']),
    formatLatencyMs: Number(values['format-latency-ms']),
  });
  sim.on('printed', (job: { n: number; bytes: number }) => {
    process.stdout.write(`${JSON.stringify({ event: 'printed', n: job.n, bytes: job.bytes })}\n`);
  });
  sim.on('error', (err: Error) => process.stderr.write(`${err.message}\n`));
  const port = await sim.start();
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
  const cycle: SimState[] = ['ok', 'paper_out', 'head_open', 'paused'];
  process.on('SIGUSR1', () => {
    const next = cycle[(cycle.indexOf(sim.state) + 1) % cycle.length]!;
    sim.setState(next);
    process.stdout.write(`${JSON.stringify({ event: 'state', state: next })}\n`);
  });
  const stop = (): void => {
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
