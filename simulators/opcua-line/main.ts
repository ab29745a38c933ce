/**
 * The opcua-line simulator as a process (tests kill it with SIGKILL and start a new one).
 *
 *   node dist/simulators/opcua-line/main.js --port 4840 --pki ./state/sim-pki [--host 127.0.0.1]
 *        [--machine FILL1] [--user name:password] [--state Idle] [--good N] [--reject N]
 *        [--script file] [--demo] [--no-opc30050]
 *
 * Prints `ready <endpoint>` on stdout once listening. Reads commands, one per line, on stdin and
 * from --script (same syntax), answering `ok <cmd>` or `error <message>`:
 *   state <Name> | produce <good> [reject] | reset | counters <good> <reject> | speed <n>
 *   mode <n> | stop-reason <id> [message] | run <perSecond> [rejectEvery] | wait <ms> | status | quit
 *   blast <ms> [changesPerTick]  (bench: change counters and speed as fast as possible for <ms>)
 * --demo loops a batch-like cycle forever (Idle → Starting → Execute with production → Held →
 * Execute → Completing → Complete → Resetting → Idle) for `npm start`.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { OpcuaLineSimulator } from './line.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const users = process.argv
    .flatMap((a, i) => (a === '--user' ? [process.argv[i + 1] ?? ''] : []))
    .filter(Boolean)
    .map((u) => {
      const k = u.indexOf(':');
      return { username: u.slice(0, k), password: u.slice(k + 1) };
    });
  const sim = new OpcuaLineSimulator({
    port: Number(flag('port') ?? 0),
    host: flag('host') ?? '127.0.0.1',
    pkiDir: flag('pki') ?? './opcua-sim-pki',
    machine: flag('machine') ?? 'FILL1',
    users,
    opc30050: !process.argv.includes('--no-opc30050'),
    initial: {
      state: flag('state') ?? 'Stopped',
      good: Number(flag('good') ?? 0),
      reject: Number(flag('reject') ?? 0),
    },
  });
  const endpoint = await sim.start();
  process.stdout.write(`ready ${endpoint}\n`);

  let quitting = false;
  const quit = async (code = 0): Promise<void> => {
    if (quitting) return;
    quitting = true;
    await sim.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void quit(0));
  process.on('SIGINT', () => void quit(0));

  const exec = async (line: string): Promise<void> => {
    const [cmd, ...args] = line.trim().split(/\s+/);
    if (!cmd || cmd.startsWith('#')) return;
    const n = (i: number, d = 0): number => (args[i] === undefined ? d : Number(args[i]));
    try {
      switch (cmd) {
        case 'state': sim.setState(args[0] ?? ''); break;
        case 'produce': sim.produce(n(0), n(1)); break;
        case 'reset': sim.resetCounters(); break;
        case 'counters': sim.setCounters(n(0), n(1)); break;
        case 'speed': sim.setSpeed(n(0)); break;
        case 'mode': sim.setUnitMode(n(0)); break;
        case 'stop-reason': sim.setStopReason(n(0), args.slice(1).join(' ')); break;
        case 'run': sim.run(n(0), n(1)); break;
        case 'wait': await new Promise((r) => setTimeout(r, n(0))); break;
        case 'blast': {
          const changes = await sim.blast(n(0), n(1, 20));
          process.stdout.write(`blasted ${changes}\n`);
          break;
        }
        case 'status':
          process.stdout.write(`status ${JSON.stringify({ state: sim.state, good: sim.good, reject: sim.reject })}\n`);
          break;
        case 'quit': await quit(0); return;
        default: throw new Error(`unknown command ${cmd}`);
      }
      process.stdout.write(`ok ${line.trim()}\n`);
    } catch (err) {
      process.stdout.write(`error ${(err as Error).message}\n`);
    }
  };

  // Commands run strictly in order (a `wait` delays the ones after it).
  let chain = Promise.resolve();
  const enqueue = (line: string): void => {
    chain = chain.then(() => exec(line));
  };
  const script = flag('script');
  if (script) for (const l of readFileSync(script, 'utf8').split('\n')) enqueue(l);
  createInterface({ input: process.stdin }).on('line', enqueue);

  if (process.argv.includes('--demo')) {
    const cycle = async (): Promise<void> => {
      const steps: [string, number][] = [['Resetting', 1000], ['Idle', 3000], ['Starting', 1500], ['Execute', 20000], ['Holding', 500], ['Held', 4000], ['Unholding', 500], ['Execute', 20000], ['Completing', 1500], ['Complete', 5000]];
      sim.run(5, 25);
      for (;;) {
        for (const [s, ms] of steps) {
          sim.setState(s);
          if (s === 'Held') sim.setStopReason(12, 'Infeed starved');
          await new Promise((r) => setTimeout(r, ms));
        }
      }
    };
    void cycle();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`opcua-line simulator failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
