/**
 * Scanner simulator as a process (for `npm start`, integration tests that kill it, and people).
 *
 *   node dist/simulators/scanner/main.js --mode pty [--link /tmp/linegate/scanner-pack1]
 *   node dist/simulators/scanner/main.js --mode tcp --port 4001
 *   node dist/simulators/scanner/main.js --mode path --link /dev/ttyUSB1
 *   … [--aim ']C1'] [--suffix CR|LF|CRLF|none] [--script scans.txt] [--no-stdin] [--exit-after-script]
 *
 * Prints one JSON line `{"event":"ready",…}` with the gateway-side path or TCP port once usable,
 * then reads commands from the script and from stdin, one per line:
 *   scan <text>     a scan with the default AIM id and suffix; {GS}/{FNC1} = 0x1D, {CR}, {NUL}, {xHH}
 *   raw <text>      exactly these bytes (same escapes), no AIM id, no suffix
 *   hex <hex>       exactly these bytes, e.g. "hex 41 1d 42 0d"
 *   wait <ms>       pause (scripts)
 *   wait-client [ms] tcp mode: wait until the gateway is connected (default 30 s)
 *   unplug | replug simulate pulling / plugging the cable (pty: kill / respawn socat)
 *   received        print the bytes the gateway wrote back (beeps) as hex
 *   quit
 *   anything else   is scanned as typed
 * SIGTERM/SIGINT stop it cleanly (socat is killed, links removed).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ScannerSimulator, type ScannerSimulatorOptions, type Suffix } from './simulator.js';

function out(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'pty' },
      link: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      aim: { type: 'string' },
      suffix: { type: 'string', default: 'CR' },
      script: { type: 'string' },
      'no-stdin': { type: 'boolean', default: false },
      'exit-after-script': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: scanner-sim --mode pty|tcp|path [--link PATH] [--port N] [--aim ]C1] [--suffix CR|LF|CRLF|none] [--script FILE]\n');
    return 0;
  }
  const suffix = values.suffix as Suffix;
  if (!['CR', 'LF', 'CRLF', 'none'].includes(suffix)) {
    process.stderr.write(`--suffix must be CR, LF, CRLF or none\n`);
    return 64;
  }
  let opts: ScannerSimulatorOptions;
  if (values.mode === 'pty') opts = { mode: 'pty', ...(values.link ? { link: values.link } : {}) };
  else if (values.mode === 'tcp') opts = { mode: 'tcp', port: Number(values.port ?? 0), ...(values.host ? { host: values.host } : {}) };
  else if (values.mode === 'path') {
    if (!values.link) {
      process.stderr.write('--mode path needs --link /dev/…\n');
      return 64;
    }
    opts = { mode: 'path', path: values.link };
  } else {
    process.stderr.write(`unknown --mode ${values.mode}\n`);
    return 64;
  }

  const sim = new ScannerSimulator(opts);
  await sim.start();
  out(opts.mode === 'tcp' ? { event: 'ready', mode: 'tcp', port: sim.tcpPortNumber } : { event: 'ready', mode: opts.mode, path: sim.gatewayPath });

  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await sim.stop().catch(() => undefined);
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  // Commands run strictly one after another (a script's waits must hold back typed lines too).
  let chain: Promise<void> = Promise.resolve();
  const run = (line: string): Promise<void> => (chain = chain.then(() => command(sim, line, values.aim, suffix, stop)));

  if (values.script) {
    for (const line of readFileSync(values.script, 'utf8').split(/\r?\n/)) void run(line);
    if (values['exit-after-script']) {
      await chain;
      await stop(0);
    }
  }
  if (!values['no-stdin']) {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => void run(line));
  }
  return -1; // keep running until a signal or `quit`
}

async function command(sim: ScannerSimulator, raw: string, aim: string | undefined, suffix: Suffix, stop: (c: number) => Promise<never>): Promise<void> {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return;
  const [word, ...rest] = line.split(/\s+/);
  const arg = raw.trimStart().slice((word ?? '').length + 1);
  try {
    switch (word) {
      case 'wait':
      case 'sleep':
        await new Promise((r) => setTimeout(r, Number(rest[0] ?? 0)));
        return;
      case 'wait-client': {
        const deadline = Date.now() + Number(rest[0] ?? 30_000);
        while (sim.clients === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        out({ event: sim.clients > 0 ? 'client' : 'no-client' });
        return;
      }
      case 'scan':
        await sim.scan(arg, { ...(aim ? { aim } : {}), suffix });
        out({ event: 'sent', text: arg });
        return;
      case 'raw':
        await sim.sendRaw(arg);
        out({ event: 'sent', raw: arg });
        return;
      case 'hex':
        await sim.sendRaw(Buffer.from(rest.join(''), 'hex'));
        out({ event: 'sent', hex: rest.join('') });
        return;
      case 'unplug':
        await sim.unplug();
        out({ event: 'unplugged' });
        return;
      case 'replug':
        await sim.replug();
        out({ event: 'replugged' });
        return;
      case 'received':
        out({ event: 'received', hex: sim.received().toString('hex') });
        return;
      case 'quit':
      case 'exit':
        await stop(0);
        return;
      default:
        await sim.scan(line, { ...(aim ? { aim } : {}), suffix });
        out({ event: 'sent', text: line });
    }
  } catch (err) {
    out({ event: 'error', command: word, message: (err as Error).message });
  }
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`scanner simulator failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
