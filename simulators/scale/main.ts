/**
 * Scale simulator as a process (the demo and integration tests that kill it):
 *   node dist/simulators/scale/main.js --url mqtt://127.0.0.1:1883 --topic linegate/scales/line1.weigh1.scale/weight \
 *     [--format json|value|ascii] [--rate 10] [--min 0.5] [--max 5] [--hold 3000] [--faults] [--count N] [--seed 1]
 * Loops: place a random load (settle curve), hold it, remove it, pause. With --faults, now and
 * then an overload, a malformed payload or a NaN. Prints one JSON line per placed load to stdout
 * (so a test can sum what was placed). SIGTERM/SIGINT stop it cleanly.
 */
import { parseArgs } from 'node:util';
import { ScaleSimulator, type ScaleFormat } from './simulator.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    topic: { type: 'string', default: 'linegate/scales/line1.weigh1.scale/weight' },
    format: { type: 'string', default: 'json' },
    rate: { type: 'string', default: '10' },
    min: { type: 'string', default: '0.5' },
    max: { type: 'string', default: '5' },
    capacity: { type: 'string', default: '60' },
    hold: { type: 'string', default: '3000' },
    pause: { type: 'string', default: '2000' },
    settle: { type: 'string', default: '1200' },
    count: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    faults: { type: 'boolean', default: false },
  },
});

const sim = new ScaleSimulator({
  url: values.url!,
  topic: values.topic!,
  format: values.format as ScaleFormat,
  rateHz: Number(values.rate),
  capacityKg: Number(values.capacity),
  seed: Number(values.seed),
});
let running = true;
const stop = async (): Promise<void> => {
  running = false;
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

await sim.start();
process.stdout.write(`${JSON.stringify({ event: 'started', url: values.url, topic: values.topic, format: values.format })}\n`);
const min = Number(values.min);
const max = Number(values.max);
const count = Number(values.count);
let n = 0;
let seed = Number(values.seed) || 1;
const rnd = (): number => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};
while (running && (count === 0 || n < count)) {
  if (values.faults && rnd() < 0.15) {
    const f = rnd();
    if (f < 0.4) await sim.place(Number(values.capacity) * 1.2, { settleMs: 500, holdMs: 1000 });
    else if (f < 0.7) await sim.sendRaw('{"weight":{"gross":1.2');
    else await sim.sendRaw('{"weight":{"gross":"NaN","unit":"kg"}}');
    await sim.remove({ settleMs: 500, holdMs: Number(values.pause) });
    continue;
  }
  const kg = (min + rnd() * (max - min)).toFixed(3);
  await sim.place(kg, { settleMs: Number(values.settle), holdMs: Number(values.hold) });
  n++;
  process.stdout.write(`${JSON.stringify({ event: 'placed', kg, n })}\n`);
  await sim.remove({ settleMs: 600, holdMs: Number(values.pause) });
}
await sim.stop();
