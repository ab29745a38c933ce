/** Brokers for the scale integration tests: the embedded aedes, and our own Mosquitto process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embedded.js';
import { freePort, waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const hasMosquitto = existsSync(MOSQUITTO);

export interface TestBroker {
  name: string;
  url: string;
  port: number;
  /** Stop the broker (the port goes dead). */
  stop(): Promise<void>;
  /** Start it again on the same port (aedes: a new, empty broker; mosquitto: a new process). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function aedesBroker(): Promise<TestBroker> {
  let b: EmbeddedBroker | null = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const port = b.port;
  return {
    name: 'aedes',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      await b?.close();
      b = null;
    },
    async restart() {
      b = await startEmbeddedBroker({ host: '127.0.0.1', port });
    },
    async close() {
      await b?.close();
      b = null;
    },
  };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Our own mosquitto on a free port (never the system one at 1883). */
export async function mosquittoBroker(): Promise<TestBroker> {
  const dir = tempDir('lg-mosq-');
  const port = await freePort();
  const conf = join(dir.path, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 10000\n`);
  let proc: ChildProcess | null = null;
  const startProc = async (): Promise<void> => {
    const p = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc = p;
    await waitFor(async () => (p.exitCode !== null ? Promise.reject(new Error(`mosquitto exited: ${err}`)) : portOpen(port)), 10_000, 25, `mosquitto on ${port}`);
  };
  const stopProc = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await startProc();
  return {
    name: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: stopProc,
    restart: startProc,
    async close() {
      await stopProc();
      dir.cleanup();
    },
  };
}
