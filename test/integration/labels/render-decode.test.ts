/**
 * The printed label is what the gateway meant: the demo case label goes through the real queue
 * to the simulated printer over TCP, is rendered to PNG (zpl-renderer-js) and decoded (zxing-wasm):
 * exactly the intended GS1 element strings, AIM identifiers and GS separators included. And text
 * typed by people prints literally: no command gets into the ZPL stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/net.js';
import { renderZplToPng, zplFieldData } from '../../../simulators/printer/printer-sim.js';
import { caseFields, decode, jobIdsOf, rig, type Rig } from './harness.js';

let r: Rig;
beforeAll(async () => {
  r = await rig();
});
afterAll(async () => {
  await r?.close();
});

const GS = '\x1d';

describe('demo case label', () => {
  it('decodes to exactly the GS1 element strings intended', async () => {
    const q = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields(), batch: '20261122-001', lot: 'RM-1001-L7' });
    await waitFor(() => r.svc.getJob(q.jobId)?.state === 'confirmed', 10_000, 20, 'job confirmed');
    expect(r.sim.jobs).toHaveLength(1);
    const job = r.sim.jobs[0]!;
    expect(jobIdsOf(job.zpl)).toEqual({ labelId: q.labelId, jobId: q.jobId });
    const serial = q.serial!;
    expect(serial).toMatch(/^\d+$/);
    const got = await decode(await r.sim.renderPng(1));
    const intended = [
      { format: 'Code128', aim: ']C1', text: `0109506000134352${'3103003250'}11261122${'17270522'}` },
      { format: 'Code128', aim: ']C1', text: `1020261122-001${GS}21${serial}` },
      { format: 'DataMatrix', aim: ']d2', text: `0109506000134352112611221727052231030032501020261122-001${GS}21${serial}` },
    ];
    expect(got.sort((a, b) => a.text.localeCompare(b.text))).toEqual(intended.sort((a, b) => a.text.localeCompare(b.text)));
    // the label.queued record carries the same element strings (human-readable form)
    const rec = r.db.prepare(`SELECT payload FROM records WHERE type='label.queued'`).get() as { payload: string };
    expect(JSON.parse(rec.payload).gs1).toEqual([
      '(01)09506000134352(3103)003250(11)261122(17)270522',
      `(10)20261122-001(21)${serial}`,
      `(01)09506000134352(11)261122(17)270522(3103)003250(10)20261122-001(21)${serial}`,
    ]);
  }, 60_000);
});

describe('hostile text prints literally', () => {
  const threeKb = Array.from({ length: 3000 }, (_, i) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ^~_\x03'[i % 30]).join('');
  const nasty = [
    'Widget ^XZ^XA^FO0,0^GB800,800,800^FS',
    'Widget ~JA cancel all',
    'Widget ^CC~ change caret',
    'Widget_with_underscores _5E_7E',
    'Widget \x03 ETX \x02 STX \r\n end',
    threeKb,
  ];

  it('keeps every command out of the stream and the data intact', async () => {
    const before = r.sim.jobs.length;
    const cmdBefore = r.sim.commands.length;
    const queued: Array<{ jobId: string }> = [];
    for (const [i, name] of nasty.entries()) {
      queued.push(await r.svc.createLabel({ template: 'case-4x6', printer: 'pack1.printer', fields: caseFields({ productName: name, lot: nasty[(i + 1) % 5]! }) }));
    }
    await waitFor(() => queued.every((q) => r.svc.getJob(q.jobId)?.state === 'confirmed'), 15_000, 20, 'all confirmed');
    const jobs = r.sim.jobs.slice(before);
    // exactly one format per label: nothing split a label in two or opened a second one
    expect(jobs).toHaveLength(nasty.length);
    const seen = r.sim.commands.slice(cmdBefore).map((c) => c.command);
    const allowed = new Set(['~HS', '^XA', '^CI', '^PW', '^LL', '^LH', '^FX', '^FS', '^FO', '^GB', '^A0', '^FB', '^FH', '^FD', '^BY', '^BC', '^BX', '^PQ', '^XZ']);
    expect([...new Set(seen)].filter((c) => !allowed.has(c))).toEqual([]);
    expect(seen.filter((c) => c === '^XA')).toHaveLength(nasty.length);
    expect(seen.filter((c) => c === '^XZ')).toHaveLength(nasty.length);
    for (const [i, job] of jobs.entries()) {
      const fields = zplFieldData(job.zpl);
      expect(fields).toContain(nasty[i]);
      expect(fields).toContain(`Lot ${nasty[(i + 1) % 5]}`);
      expect(job.zpl).not.toMatch(/[\x00-\x09\x0b-\x1f]/); // no raw control byte (the trailing \n is ours)
    }
  }, 60_000);

  it('renders the hostile text exactly like the same text sent fully hex-encoded', async () => {
    const text = 'Widget ^XZ^XA ~JA ^CC _ x';
    const hexAll = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => `_${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const ours = (await r.svc.createLabel({ template: 'case-4x6', printer: 'pack1.printer', fields: caseFields({ productName: text, lot: 'L' }) })).zpl;
    // Reference: the same label with the product name written byte by byte as ^FH escapes — a
    // second, trivially correct encoding of the same literal text.
    const m = /\^FH\^FD(Widget[^]*?)\^FS/.exec(ours)!;
    const reference = ours.replace(m[0], `^FH^FD${hexAll(text)}^FS`);
    expect(reference).not.toBe(ours);
    const other = ours.replace(m[0], `^FH^FD${hexAll('Widget XZXA JA CC x')}^FS`);
    const [a, b, c] = await Promise.all([renderZplToPng(ours), renderZplToPng(reference), renderZplToPng(other)]);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false); // the comparison can tell texts apart
  }, 60_000);
});
