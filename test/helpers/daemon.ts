import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');

/** Run the built CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Daemon {
  proc: ChildProcess;
  url: string;
  token: string;
  logs: string[];
  exited: Promise<number | null>;
}

/** Start `linegate run` as a child process and wait until it logs its URL. */
export async function startDaemon(configFile: string, stateDir: string, timeoutMs = 20_000): Promise<Daemon> {
  const proc = spawn(process.execPath, [MAIN, 'run', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, LINEGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs);
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const o = JSON.parse(line) as { msg?: string; url?: string };
          if (o.msg === 'linegate is running' && o.url) {
            clearTimeout(timer);
            resolve(o.url);
          }
        } catch {
          /* not JSON */
        }
      }
    });
    proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  const token = readFileSync(join(stateDir, 'admin.token'), 'utf8').trim();
  return { proc, url, token, logs, exited };
}

export function writeConfig(dir: string, cfg: Record<string, unknown>): string {
  const file = join(dir, 'linegate.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

/** Every port `linegate demo` (config/demo.yaml) listens on or connects to, as environment variables. */
export const DEMO_PORT_VARS = ['LINEGATE_PORT', 'LINEGATE_DEMO_METRICS_PORT', 'LINEGATE_DEMO_MQTT_PORT', 'LINEGATE_DEMO_OPCUA_PORT', 'LINEGATE_DEMO_SCANNER1_PORT', 'LINEGATE_DEMO_SCANNER2_PORT', 'LINEGATE_DEMO_PRINTER_PORT', 'LINEGATE_DEMO_ERP_PORT'] as const;

/** The environment of a demo that shares nothing with another: its own state folder, every port free. */
export async function demoEnv(stateDir: string, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const { freePort } = await import('./net.js');
  const env: NodeJS.ProcessEnv = { ...process.env, LINEGATE_DEMO_STATE: stateDir, LINEGATE_LOG_LEVEL: 'warn' };
  for (const n of DEMO_PORT_VARS) env[n] = String(await freePort());
  return { ...env, ...extra };
}
