import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { make_warningLog } from 'node-opcua-debug';
import { PKCS1_ADVICE, routeConsoleToLogger } from '../../../src/service/console-log.js';
import { createLogger } from '../../../src/util/log.js';
import { runCli, MAIN, ROOT, writeConfig } from '../../helpers/daemon.js';
import { baseConfig } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';
import { spawn } from 'node:child_process';
import { waitFor } from '../../helpers/net.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('17 logs: everything on stdout is JSON', () => {
  it("17 logs: node-opcua's W27 warning becomes one JSON line without the --security-revert advice; console.* goes through pino", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const saved = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug, trace: console.trace };
    cleanups.push(() => Object.assign(console, saved));
    routeConsoleToLogger(createLogger({ level: 'debug', destination: sink }));
    // What node-opcua-secure-channel logs on a Node without PKCS#1 v1.5 decryption (verify_pcks1.js).
    const warningLog = make_warningLog('NODE-OPCUA-W27');
    warningLog('[NODE-OPCUA-W27]', 'node version', process.version);
    warningLog('  you need to use node flag --security-revert=CVE-2023-46809 if you have issue with RSA PKCS#1 v1.5');
    console.log('a library says %s', 'hello');
    console.error(new Error('boom'));
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; msg: string; component: string });
    expect(lines.join('\n')).not.toContain('security-revert');
    expect(parsed.filter((p) => p.msg === PKCS1_ADVICE)).toHaveLength(1);
    expect(parsed.find((p) => p.msg === PKCS1_ADVICE)!.level).toBe('warn');
    expect(parsed.find((p) => p.msg === 'a library says hello')).toMatchObject({ level: 'info', component: 'console' });
    expect(parsed.find((p) => p.msg.includes('boom'))).toMatchObject({ level: 'error', component: 'console' });
  });

  it('17 logs: `linegate run` with an OPC UA machine writes only JSON lines to stdout, none with --security-revert', async () => {
    const dir = tempDir('linegate-logs-');
    cleanups.push(dir.cleanup);
    const state = join(dir.path, 'state');
    const cfg = writeConfig(
      dir.path,
      baseConfig(state, {
        devices: [{ id: 'm1', kind: 'opcua-machine', station: 'FILL-1', endpoint: 'opc.tcp://127.0.0.1:9/none', securityMode: 'None', securityPolicy: 'None', nodeMap: 'packml-generic' }],
        log: { level: 'debug' },
      }),
    );
    const p = spawn(process.execPath, [MAIN, 'run', '--config', cfg], { cwd: ROOT, env: { ...process.env, LINEGATE_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void p.kill('SIGKILL'));
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    await waitFor(() => out.includes('"component":"node-opcua"'), 30_000, 50, `node-opcua output\n${out}`);
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(out).not.toContain('security-revert');
    // The CLI's own output (not the daemon's log) is plain text by design: `linegate version`.
    expect((await runCli(['version'])).stdout).toMatch(/^linegate /);
  }, 60_000);
});
