/**
 * The printer simulator parses a raw TCP byte stream like a printer: formats split at any byte
 * boundary, ~HS answered at once (also inside a format), every command recorded, files written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { extractFrames, parseHostStatus } from '../../../src/labels/host-status.js';

let sim: PrinterSimulator | undefined;
let sock: Socket | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  sock?.destroy();
  await sim?.stop();
  for (const c of cleanups.splice(0)) c();
});

async function open(s: PrinterSimulator): Promise<{ sock: Socket; replies: () => Buffer }> {
  const c = connect(s.port, '127.0.0.1');
  await new Promise<void>((res, rej) => c.once('connect', res).once('error', rej));
  let got = Buffer.alloc(0);
  c.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  return { sock: c, replies: () => got };
}

describe('printer simulator', () => {
  it('splits a stream cut at every byte into the right jobs and answers ~HS', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    sim = new PrinterSimulator({ outDir: tmp.path, renderPng: 'lazy' });
    await sim.start();
    const c = await open(sim);
    sock = c.sock;
    const job = (n: number): string => `^XA^CI28^FO10,10^A0N,30,30^FH^FDLabel ${n} Größe _5E^FS^XZ`;
    const stream = Buffer.from(`~HS\r\n${job(1)}\n${job(2)}~HS${job(3)}`, 'utf8');
    for (let i = 0; i < stream.length; i++) {
      sock.write(stream.subarray(i, i + 1));
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => sim!.jobs.length === 3 && extractFrames(c.replies()).frames.length === 6, 5000, 10, 'three jobs, two answers');
    expect(sim.jobs.map((j) => j.zpl)).toEqual([job(1), job(2), job(3)]);
    expect(parseHostStatus(extractFrames(c.replies()).frames.slice(0, 3))).not.toBeNull();
    expect(sim.commands.filter((x) => x.command === '~HS')).toHaveLength(2);
    expect(readFileSync(join(tmp.path, 'job-000002.zpl'), 'utf8')).toBe(job(2));
    expect(existsSync(join(tmp.path, 'job-000002.png'))).toBe(false); // lazy
    const png = await sim.renderPng(2);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(existsSync(join(tmp.path, 'job-000002.png'))).toBe(true);
  }, 20_000);

  it('holds jobs in the buffer while faulted and reports them in ~HS', async () => {
    sim = new PrinterSimulator({ state: 'paper_out' });
    await sim.start();
    const c = await open(sim);
    sock = c.sock;
    sock.write('^XA^FDa^FS^XZ^XA^FDb^FS^XZ~HS');
    await waitFor(() => extractFrames(c.replies()).frames.length === 3, 5000, 10, 'answer');
    const s = parseHostStatus(extractFrames(c.replies()).frames)!;
    expect(s).toMatchObject({ paperOut: true, formatsInBuffer: 2, labelsRemaining: 2 });
    expect(sim.jobs).toHaveLength(0);
    sim.setState('ok');
    expect(sim.jobs).toHaveLength(2);
  });

  it('notes injected commands and ETX it sees in the stream', async () => {
    sim = new PrinterSimulator();
    await sim.start();
    const c = await open(sim);
    sock = c.sock;
    sock.write('^XA^FDx^XZ^XA^FS~JA^FDy\x03^FS^XZ');
    await waitFor(() => sim!.jobs.length === 2, 5000, 10, 'jobs');
    const cmds = sim.commands.map((x) => x.command);
    expect(cmds).toContain('~JA');
    expect(cmds).toContain('ETX');
  });

  it('resets mid-job: the partial format is not printed', async () => {
    sim = new PrinterSimulator();
    await sim.start();
    sim.resetMidNextJob(8);
    const c = await open(sim);
    sock = c.sock;
    const closed = new Promise<string>((res) => c.sock.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? 'error')).once('close', () => res('close')));
    sock.write('^XA^FDhello^FS^XZ');
    expect(['ECONNRESET', 'close']).toContain(await closed);
    await waitFor(() => sim!.partialFormats === 1, 2000, 10, 'partial');
    expect(sim.jobs).toHaveLength(0);
  });
});
