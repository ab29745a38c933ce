/**
 * The simulator as a child process (dist/simulators/printer/main.js, built by the global setup):
 * the printer process is killed with SIGKILL while a job waits for paper, and started again on the
 * same port; the job prints exactly once on the new "printer".
 */
import { afterEach, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { openDatabase } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { LabelService } from '../../../src/labels/queue.js';
import { TcpPrinterTransport } from '../../../src/labels/transport.js';
import { COMPANY_PREFIX, FAST, caseFields, models, root, templates } from './harness.js';

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startSim(args: string[]): Promise<{ child: ChildProcess; port: number; printed: () => number }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'simulators', 'printer', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let printed = 0;
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const ev = JSON.parse(line) as { event: string; port?: number };
      if (ev.event === 'listening') resolve({ child, port: ev.port!, printed: () => printed });
      if (ev.event === 'printed') printed++;
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
}

it('a job held by a printer that is killed and restarted prints once on the new process', async () => {
  const first = await startSim(['--port', '0', '--state', 'paper_out']);
  const tmp = tempDir();
  const db = openDatabase(join(tmp.path, 'j.db'), { synchronous: 'NORMAL' });
  const journal = new Journal(db, { site: 'S1', line: 'L1', sinks: [] });
  const svc = new LabelService({
    journal,
    db,
    templates,
    companyPrefix: COMPANY_PREFIX,
    printers: [{ id: 'p', station: 'PACK-1', model: models.get('zebra-203dpi-4in')!, transport: new TcpPrinterTransport('127.0.0.1', first.port), timing: FAST }],
  });
  cleanups.push(async () => {
    await svc.stop();
    await journal.close();
    db.close();
    tmp.cleanup();
  });
  await svc.start();
  const q = await svc.createLabel({ template: 'case', printer: 'p', fields: caseFields() });
  await waitFor(() => svc.printerStatus('p').condition === 'paper_out', 10_000, 20, 'paper out seen');
  first.child.kill('SIGKILL');
  await waitFor(() => ['offline', 'no_answer'].includes(svc.printerStatus('p').condition), 10_000, 20, 'printer gone');
  expect(svc.getJob(q.jobId)!.state).toBe('queued');
  const second = await startSim(['--port', String(first.port), '--state', 'ok']);
  await waitFor(() => svc.getJob(q.jobId)?.state === 'confirmed', 10_000, 20, 'confirmed on the new process');
  await waitFor(() => second.printed() === 1, 5000, 20, 'printed line');
  await new Promise((r) => setTimeout(r, 200));
  expect(second.printed()).toBe(1);
  expect(first.printed()).toBe(0);
}, 30_000);
