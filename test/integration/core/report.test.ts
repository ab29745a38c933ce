/**
 * Issue 14: the batch record report through the real gateway — a real OPC UA line (PackML states
 * and a link gap), a real TCP printer (a label and its reprint), weighings, a receiving QC result,
 * deviations closed with QA signatures, a review signature and the release — then the PDF read back
 * with poppler's `pdftotext`, the HTML, the JSON export, the CLI on a journal copy, verification of a
 * copy (and its failure after a direct SQLite edit), and the weekly review.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { PrinterSimulator } from '../../../simulators/printer/printer-sim.js';
import { runCli } from '../../helpers/daemon.js';
import { acknowledgeAllExceptions, seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { parseStamp } from '../../../src/report/format.js';
import { gatherReport } from '../../../src/report/data.js';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { decode } from '../labels/harness.js';

const DEV = 'fill.plc';
const pki = tempDir('lg-report-pki-');
const out = tempDir('lg-report-out-');
let line: OpcuaLineSimulator;
let printer: PrinterSimulator;
let t: TestGateway;
let batch: string;
const tokens: Record<string, string> = {};

const ok = (r: { status: number; body: any }, what: string): any => {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};
const states = async (): Promise<string[]> => (await t.call('GET', `/records?batch=${batch}&type=machine.state_changed&limit=100`)).body.items.map((r: any) => r.payload.to);

async function fetchRaw(path: string, token: string | undefined): Promise<{ status: number; type: string; body: Buffer; headers: Headers }> {
  const res = await fetch(t.url + path, { headers: { authorization: `Bearer ${token ?? ""}` } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}
function pdfPages(file: string): number {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return Number(/Pages:\s+(\d+)/.exec(info)![1]);
}

beforeAll(async () => {
  line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', initial: { state: 'Idle', good: 0, reject: 0 } });
  const endpoint = await line.start();
  printer = new PrinterSimulator({ port: 0 });
  const printerPort = await printer.start();
  t = await startTestGateway({
    devices: [
      { id: DEV, kind: 'opcua-machine', station: 'FILL-1', endpoint, securityMode: 'None', securityPolicy: 'None', nodeMap: 'packml-generic', samplingIntervalMs: 0, publishingIntervalMs: 50 },
      { id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in', transport: { type: 'tcp', host: '127.0.0.1', port: printerPort }, timing: { pollIntervalMs: 100, idleStatusMs: 500 } },
    ],
  });
  ({ batch } = await seedReferenceLine(t));
  for (const [id, name, role] of [['op1', 'Olga Operator', 'operator'], ['sup1', 'Sam Supervisor', 'supervisor'], ['qa1', 'Quinn QA', 'qa'], ['qa2', 'Rita QA', 'qa'], ['erp1', 'ERP link', 'erp']] as const) {
    tokens[id] = ok(await t.call('POST', '/users', { id, name, role }), `user ${id}`).token;
  }
  ok(await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1), 'qa1 secret');
  ok(await t.call('PUT', '/me/signing-secret', { kind: 'password', secret: 'correct horse battery' }, tokens.qa2), 'qa2 secret');

  // Citric acid: a lot received with a passed receiving inspection.
  ok(await t.call('POST', '/lots', { id: 'L-1002-A', material: 'RM-1002', supplier: 'Citrus Co', supplierLot: 'CIT-5521', expiry: '2099-06-30', status: 'released', quantity: '20.000' }), 'lot citric');
  ok(
    await t.call('PUT', '/inspection-plans/RCV-CITRIC', {
      scope: 'receiving', material: 'RM-1002', name: 'Citric acid goods receipt', sampleSize: 2, requiredForRelease: false,
      characteristics: [{ code: 'PURITY', name: 'Purity', kind: 'measurement', unit: '%', lower: '99.5' }, { code: 'SEAL', name: 'Bag seal intact', kind: 'attribute' }],
    }),
    'plan',
  );
  ok(await t.call('POST', '/qc/inspections', { plan: 'RCV-CITRIC', lot: 'L-1002-A', results: [{ code: 'PURITY', value: '99.8', unit: '%' }, { code: 'SEAL', conforms: true }] }, tokens.op1), 'qc');

  await waitFor(() => t.gw.drivers.get(DEV)?.health().state === 'online', 20_000, 50, 'PLC online');
  ok(await t.call('PUT', '/stations/FILL-1/context', { batch }), 'fill context');
  ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch, operator: 'op1' }, tokens.op1), 'weigh context');
  ok(await t.call('PUT', '/stations/PACK-1/context', { batch }), 'pack context');
  ok(await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' }, tokens.sup1), 'start');

  // The machine: Starting → Execute, a link gap, back in Execute, Complete.
  line.setState('Starting');
  await waitFor(async () => (await states()).includes('Starting'), 15_000, 50, 'Starting');
  line.setState('Execute');
  await waitFor(async () => (await states()).includes('Execute'), 15_000, 50, 'Execute');
  const port = Number(new URL(endpoint.replace('opc.tcp:', 'http:')).port);
  await line.stop();
  await waitFor(async () => (await t.call('GET', `/records?device=${DEV}&type=machine.link_lost`)).body.items.length > 0, 20_000, 100, 'link_lost');
  line = new OpcuaLineSimulator({ port, pkiDir: pki.path, opc30050: false, machine: 'FILL1', initial: { state: 'Execute', good: 0, reject: 0 } });
  await line.start();
  await waitFor(async () => (await t.call('GET', `/records?device=${DEV}&type=machine.link_restored`)).body.items.length > 0, 30_000, 100, 'link_restored');

  // Weighing: both BOM lines, by scan and hand entry at WEIGH-1.
  expect(ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }, tokens.op1), 'scan A').record.status).toBe('accepted');
  ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '50.000', unit: 'kg' }, tokens.op1), 'consume A');
  expect(ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A' }, tokens.op1), 'scan citric').record.status).toBe('accepted');
  ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.500', unit: 'kg' }, tokens.op1), 'consume citric');

  // A case label, printed, and reprinted with a reason.
  const lab = ok(await t.call('POST', '/stations/PACK-1/labels', { kind: 'case', netWeight: '6.100' }, tokens.op1), 'label');
  await waitFor(() => printer.jobs.length >= 1, 20_000, 50, 'label printed');
  const job = await waitFor(async () => (await t.call('GET', '/print-jobs?state=confirmed')).body.items[0], 20_000, 50, 'job confirmed');
  ok(await t.call('POST', `/print-jobs/${job.id}/reprint`, { reason: 'label smudged at the applicator' }, tokens.sup1), 'reprint');
  await waitFor(() => printer.jobs.length >= 2, 20_000, 50, 'reprint printed');
  expect(lab).toBeTruthy();

  line.setState('Completing');
  line.setState('Complete');
  await waitFor(async () => (await states()).includes('Complete'), 15_000, 50, 'Complete');

  // A manual deviation, plus whatever linegate raised by itself (the link gap, the reprint): all investigated and closed by QA.
  ok(await t.call('POST', '/deviations', { batch, type: 'unplanned', category: 'minor', title: 'Scale not levelled', description: 'Bubble off-centre at WEIGH-1' }, tokens.op1), 'deviation');
  await waitFor(async () => (await t.call('GET', `/deviations?batch=${batch}`)).body.items.length >= 2, 15_000, 100, 'automatic deviations');
  for (const d of (await t.call('GET', `/deviations?batch=${batch}`)).body.items as any[]) {
    ok(await t.call('PATCH', `/deviations/${d.number}`, { rootCause: `cause of ${d.title}`, impact: 'none on the product', capaRef: 'CAPA-7' }, tokens.sup1), `investigate ${d.number}`);
    ok(await t.call('POST', `/deviations/${d.number}/close`, { signature: { userId: 'qa1', secret: '482915', meaning: 'closed' } }, tokens.qa1), `close ${d.number}`);
  }
  // The simulated filler counted nothing good: the supervisor enters the production (recorded, audited).
  ok(await t.call('POST', `/batches/${batch}/production`, { good: '990', rejected: '10', reason: 'counted at packing' }, tokens.sup1), 'production');
  ok(await t.call('POST', `/batches/${batch}/transitions`, { to: 'completed' }, tokens.sup1), 'complete');
  ok(await t.call('POST', '/signatures', { entity: 'batch', entityId: batch, signature: { userId: 'qa2', secret: 'correct horse battery', meaning: 'reviewed' } }, tokens.qa2), 'review signature');
  await acknowledgeAllExceptions(t, batch, tokens.qa1!);
  ok(await t.call('POST', `/batches/${batch}/transitions`, { to: 'released', reason: 'record reviewed', signature: { userId: 'qa1', secret: '482915', meaning: 'released' } }, tokens.qa1), 'release');
  // The release signature triggers a signed audit checkpoint: wait for it to be on file.
  await waitFor(() => existsSync(join(t.stateDir, 'audit-checkpoints.jsonl')) && readFileSync(join(t.stateDir, 'audit-checkpoints.jsonl'), 'utf8').includes('"signature"'), 10_000, 50, 'checkpoint');
}, 180_000);

afterAll(async () => {
  await t?.stop();
  await line?.stop();
  await printer?.stop();
  pki.cleanup();
  out.cleanup();
});

describe('batch record report (issue 14)', () => {
  it('the PDF holds the batch, every lot, every signature with printed name and meaning, and "Page x of y" on each page', async () => {
    const r = await fetchRaw(`/batches/${batch}/report.pdf`, tokens.qa1);
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/pdf');
    expect(r.body.subarray(0, 5).toString()).toBe('%PDF-');
    const file = join(out.path, 'report.pdf');
    writeFileSync(file, r.body);
    // scripts/report-screenshot.sh keeps this PDF to draw the README picture from it
    if (process.env.LINEGATE_REPORT_PDF_OUT) writeFileSync(process.env.LINEGATE_REPORT_PDF_OUT, r.body);
    const text = pdfText(file);
    const pages = pdfPages(file);
    expect(pages).toBeGreaterThanOrEqual(2);
    for (let p = 1; p <= pages; p++) expect(text).toContain(`Page ${p} of ${pages}`);
    expect(text).toContain(`Batch record ${batch}`);
    for (const lot of ['L-1001-A', 'ACME-77', 'L-1002-A', 'CIT-5521']) expect(text, lot).toContain(lot);
    const sigs = (await t.call('GET', `/batches/${batch}/signatures`)).body.items as any[];
    const all = (await t.call('GET', `/records?batch=${batch}&type=signature.applied&limit=100`)).body.items as any[];
    expect(all.length).toBeGreaterThanOrEqual(4); // 1 review + 1 release + ≥2 deviation closures
    expect(sigs.map((s) => s.meaning).sort()).toEqual(['released', 'reviewed']);
    for (const name of ['Quinn QA', 'Rita QA']) expect(text).toContain(name);
    for (const meaning of ['released', 'reviewed', 'closed']) expect(text).toMatch(new RegExp(`\\b${meaning}\\b`));
    // site, line, time zone, the content hash and the checkpoint head are printed
    const report = JSON.parse((await fetchRaw(`/batches/${batch}/report.json`, tokens.qa1)).body.toString('utf8'));
    expect(text).toContain('PLANT1 / L1');
    expect(text).toContain('Europe/Berlin');
    expect(text.replace(/\s+/g, '')).toContain(report.report.contentHash);
    expect(report.checkpoint).toMatchObject({ seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(text).toContain(report.checkpoint.hash.slice(0, 16));
    // equipment: every configured device with its profile; the reprint with its reason
    for (const s of ['fill.plc', 'packml-generic', 'pack.printer', 'zebra-203dpi-4in', 'label smudged at the applicator', 'Olga Operator']) expect(text, s).toContain(s);
  });

  it('the HTML is self-contained, printable with page numbers, and draws the PackML strip with the link gap', async () => {
    const r = await fetchRaw(`/batches/${batch}/report.html`, tokens.sup1);
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/html');
    const html = r.body.toString('utf8');
    expect(html).toContain('counter(page)');
    expect(html).toContain('counter(pages)');
    // self-contained: no scripts, no external assets; the one picture per label kind is a data: URI
    expect(html).not.toMatch(/<script|<link|url\((?!#)/i);
    expect(html.match(/src="(?!data:image\/png;base64,)/g)).toBeNull();
    expect(html).toMatch(/<svg[^>]+class="strip"/);
    expect(html).toContain('data-state="Execute"');
    expect(html).toContain('data-state="NoLink"');
    for (const s of [batch, 'L-1001-A', 'L-1002-A', 'Quinn QA', 'Rita QA', 'RCV-CITRIC']) expect(html).toContain(s);
    const json = JSON.parse((await fetchRaw(`/batches/${batch}/report.json`, tokens.sup1)).body.toString('utf8'));
    expect(html).toContain(json.report.contentHash);
    expect(json.report.sections.machine.linkGaps).toBeGreaterThanOrEqual(1);
    expect(json.report.sections.materials.map((m: any) => [m.material, m.consumptions.map((c: any) => [c.lot, c.quantity, c.operator])])).toEqual([
      ['RM-1001', [['L-1001-A', '50.000', 'op1']]],
      ['RM-1002', [['L-1002-A', '1.500', 'op1']]],
    ]);
  });

  it('is for supervisors, QA and admins only', async () => {
    for (const who of ['op1', 'erp1']) {
      for (const p of [`/batches/${batch}/report.pdf`, `/batches/${batch}/report.html`, `/batches/${batch}/report.json`, '/reports/weekly?from=2026-01-01']) {
        const r = await t.call('GET', p, undefined, tokens[who]);
        expect(r.status, `${who} ${p}`).toBe(403);
        expect(r.body.code).toBe('LG_ERR_FORBIDDEN');
      }
    }
    expect((await t.call('GET', `/batches/${batch}/report.pdf`, undefined, null)).body.code).toBe('LG_ERR_AUTH_REQUIRED');
    expect((await t.call('GET', '/batches/NOPE/report.pdf', undefined, tokens.qa1)).body.code).toBe('LG_ERR_BATCH_NOT_FOUND');
  });

  it('a downloaded copy verifies against a journal copy offline, and no longer after a direct SQLite edit of a consumption', async () => {
    const pdf = join(out.path, 'copy.pdf');
    writeFileSync(pdf, (await fetchRaw(`/batches/${batch}/report.pdf`, tokens.qa1)).body);
    const html = join(out.path, 'copy.html');
    writeFileSync(html, (await fetchRaw(`/batches/${batch}/report.html`, tokens.qa1)).body);
    const dir = tempDir('lg-report-copy-');
    try {
      // A consistent copy of the live journal (SQLite backup), with the checkpoints and public key beside it.
      await (t.gw.db as any).backup(join(dir.path, 'journal.sqlite'));
      for (const f of ['audit-checkpoints.jsonl', 'audit-key.pem']) copyFileSync(join(t.stateDir, f), join(dir.path, f));
      const db = join(dir.path, 'journal.sqlite');
      for (const f of [pdf, html]) {
        const v = await runCli(['report', 'verify', f, '--db', db]);
        // without --config the config section cannot match: it says so and names only that section
        expect(v.code, v.stdout + v.stderr).toBe(1);
        expect(v.stdout).toContain('sections that differ: config');
        expect(v.stdout).not.toMatch(/differ: config,/);
      }
      // With the config the copy verifies, and the checkpoint printed on it is the gateway's signed one.
      const cfgFile = join(dir.path, 'linegate.yaml');
      writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(JSON.stringify(t.gw.cfg)), storage: { ...t.gw.cfg.storage, stateDir: dir.path } }));
      const good = await runCli(['report', 'verify', pdf, '--db', db, '--config', cfgFile]);
      expect(good.code, good.stdout + good.stderr).toBe(0);
      expect(good.stdout).toContain('VERIFIED');
      expect(good.stdout).toContain('signed by the gateway key');
      // A paper copy: the batch, as-of and hash typed from its footer.
      const st = parseStamp(readFileSync(pdf).toString('latin1'))!;
      const paper = await runCli(['report', 'verify', '--batch', batch, '--asof', `${st.asOf.recordSeq}.${st.asOf.auditSeq}`, '--sha256', st.sha256, '--db', db, '--config', cfgFile]);
      expect(paper.code, paper.stdout + paper.stderr).toBe(0);
      const typo = await runCli(['report', 'verify', '--batch', batch, '--asof', `${st.asOf.recordSeq}.${st.asOf.auditSeq}`, '--sha256', st.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')), '--db', db, '--config', cfgFile]);
      expect(typo.code).toBe(1);
      expect(typo.stdout).toContain('LG_ERR_REPORT_MISMATCH');
      // The CLI makes the same report offline from the copy.
      const made = join(dir.path, 'offline.pdf');
      const mk = await runCli(['report', 'batch', batch, '--pdf', made, '--db', db, '--config', cfgFile]);
      expect(mk.code, mk.stderr).toBe(0);
      const offline = pdfText(made);
      expect(offline).toContain(`Batch record ${batch}`);
      expect(offline).toMatch(/Page 1 of \d+/);
      // Edit a signed consumption behind linegate's back.
      const raw = new Database(db);
      raw.prepare(`UPDATE consumptions SET quantity = '5.000' WHERE batch = ? AND lot = 'L-1001-A'`).run(batch);
      raw.close();
      const bad = await runCli(['report', 'verify', pdf, '--db', db, '--config', cfgFile]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('LG_ERR_REPORT_MISMATCH');
      expect(bad.stdout).toMatch(/sections that differ: materials\b/);
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  it('the weekly review lists the batch by status, the lots with on-hand, deviations and QC failures (JSON and HTML)', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    // A failed receiving inspection of a lot in quarantine (not used by the batch).
    ok(await t.call('POST', '/lots', { id: 'L-1001-NEW', material: 'RM-1001', supplierLot: 'ACME-901', expiry: '2099-01-01', status: 'quarantine', quantity: '100' }), 'new lot');
    ok(
      await t.call('PUT', '/inspection-plans/RCV-SUGAR', { scope: 'receiving', material: 'RM-1001', name: 'Sugar goods receipt', sampleSize: 3, requiredForRelease: true, characteristics: [{ code: 'MOIST', name: 'Moisture', kind: 'measurement', unit: '%', upper: '0.5' }] }),
      'sugar plan',
    );
    const failed = ok(await t.call('POST', '/qc/inspections', { plan: 'RCV-SUGAR', lot: 'L-1001-NEW', results: [{ code: 'MOIST', value: '0.9', unit: '%' }] }, tokens.op1), 'failed qc');
    expect(failed.inspection.verdict).toBe('failed');
    const w = await t.call('GET', `/reports/weekly?from=${from}`, undefined, tokens.sup1);
    expect(w.body.qcFailures).toEqual([expect.objectContaining({ id: failed.inspection.id, lot: 'L-1001-NEW', failed: ['MOIST'], inspectedBy: 'op1', retake: null })]);
    expect(w.status).toBe(200);
    const b = w.body.batches.find((x: any) => x.number === batch);
    expect(b).toMatchObject({ status: 'released', openDeviations: 0 });
    expect(w.body.byStatus.released).toBeGreaterThanOrEqual(1);
    const lotA = w.body.inventory.find((l: any) => l.lot === 'L-1001-A');
    expect(lotA).toMatchObject({ status: 'released', quantity: '450.000', usedBy: [batch] });
    expect(w.body.deviations.closed).toBeGreaterThanOrEqual(2);
    expect(w.body.deviations.open).toBe(0);
    const h = await fetchRaw(`/reports/weekly?from=${from}&format=html`, tokens.qa1);
    expect(h.type).toContain('text/html');
    const html = h.body.toString('utf8');
    for (const s of [batch, 'L-1001-A', 'L-1002-A', 'released', failed.inspection.id]) expect(html).toContain(s);
    // a period that ends before it starts, and a date that does not exist, are refused
    expect((await t.call('GET', `/reports/weekly?from=${today}&to=${from}`, undefined, tokens.sup1)).body.code).toBe('LG_ERR_REPORT_RANGE');
    expect((await t.call('GET', '/reports/weekly?from=2026-02-30', undefined, tokens.sup1)).body.code).toBe('LG_ERR_REPORT_RANGE');
  });
  it('the PDF holds every part the issue lists (header, personnel, equipment, materials, timeline, counters, reconciliation, QC, deviations, labels, exceptions with acknowledgements, audit, signatures, zone, hash)', async () => {
    const file = join(out.path, 'checklist.pdf');
    writeFileSync(file, (await fetchRaw(`/batches/${batch}/report.pdf`, tokens.qa1)).body);
    const text = pdfText(file);
    const flat = text.replace(/\s+/g, ' ');
    const json = JSON.parse((await fetchRaw(`/batches/${batch}/report.json`, tokens.qa1)).body.toString('utf8')).report;
    const x = json.sections;
    // header
    for (const s of ['Batch number', batch, 'WIDGET-A', 'Widget A', '09506000134352', 'Planned quantity', '1000 pcs', 'Work order', 'WO-1', 'Site / line', 'PLANT1', 'Status', 'released', 'Planned start', 'Planned end', 'Actual start', 'Actual end (completed)'])
      expect(flat, s).toContain(s);
    // personnel with roles; equipment with id and profile
    for (const p of x.personnel as any[]) {
      expect(flat, p.id).toContain(p.name);
      if (p.role) expect(flat).toContain(p.role);
    }
    expect((x.personnel as any[]).map((p) => p.role)).toEqual(expect.arrayContaining(['operator', 'supervisor', 'qa']));
    for (const e of x.config.equipment as any[]) {
      expect(flat).toContain(e.id);
      if (e.profile) expect(flat).toContain(e.profile);
    }
    // materials: target, tolerance, each consumption with lot, supplier lot, expiry, quantity, device, operator
    for (const m of x.materials as any[]) {
      expect(flat).toContain(`target ${m.target} ${m.unit} ± ${m.tolerancePct} %`);
      for (const c of m.consumptions) for (const v of [c.lot, c.supplierLot, c.expiry, `${c.quantity} ${c.unit}`, c.device ?? c.station, c.operator]) expect(flat, String(v)).toContain(String(v));
    }
    // machine timeline (drawn; its table), counters and yield, reconciliation
    for (const s of ['Machine timeline (PackML)', 'no link (gap)', 'Execute', 'Counters and output', 'Reconciliation and yield', 'Produced good / rejected / total', '990 / 10 / 1000 pcs', 'Yield', '99.00 %', `printed ${x.reconciliation.labels.printed} = applied ${x.reconciliation.labels.applied} + destroyed ${x.reconciliation.labels.destroyed}`, 'balanced'])
      expect(flat, s).toContain(s);
    // QC, deviations with their investigation, labels with the reprint reason
    for (const s of ['QC results', 'RCV-CITRIC', 'Deviations', 'Scale not levelled', 'Root cause', 'cause of Scale not levelled', 'CAPA-7', 'Labels and print jobs', 'label smudged at the applicator', '(reprint)'])
      expect(flat, s).toContain(s);
    // every exception with QA's acknowledgement (printed name, comment)
    expect(flat).toContain('Exceptions (review by exception) and QA acknowledgements');
    expect((x.exceptions as any[]).length).toBeGreaterThanOrEqual(3);
    expect((x.exceptions as any[]).every((e) => e.acknowledged?.by === 'qa1')).toBe(true);
    for (const kind of new Set((x.exceptions as any[]).map((e) => e.kind))) expect(flat, kind).toContain(kind);
    expect(flat).toContain('Quinn QA (qa1)');
    expect(flat).toContain('reviewed in test');
    expect(flat).not.toContain('NOT acknowledged');
    // the audit excerpt, every signature manifestation, page x of y, the zone, the hash
    expect(flat).toContain('Audit trail excerpt');
    expect(flat).toContain('batch.exceptions_acknowledged');
    const t0 = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    for (const g of x.signatures as any[]) {
      expect(flat).toContain(g.printedName);
      expect(flat).toContain(t0.format(new Date(g.signedAt)));
      expect(flat).toMatch(new RegExp(`\\b${g.meaning}\\b`));
    }
    expect(flat).toMatch(/all times Europe\/Berlin \(UTC\+0[12]:00\)/);
    expect(flat).toMatch(/Page 1 of \d+/);
    expect(text.replace(/\s+/g, '')).toContain(`SHA-256${json.contentHash}`);
    // one label picture per label kind, drawn as an image in the PDF
    const images = execFileSync('pdfimages', ['-list', file], { encoding: 'utf8' }).trim().split('\n').slice(2);
    expect(images.length).toBe((x.labelSamples as any[]).length);
  }, 60_000);

  it('shows one label picture per label kind, rendered from the stored ZPL once and then served from the cache; the ZPL hash is content, the picture is not', async () => {
    const json = JSON.parse((await fetchRaw(`/batches/${batch}/report.json`, tokens.qa1)).body.toString('utf8')).report;
    const samples = json.sections.labelSamples as any[];
    // one per kind the batch printed (its batch label and its case label)
    expect(samples.map((s) => s.kind)).toEqual([...new Set((json.sections.labels as any[]).map((l) => l.kind))].sort());
    expect(samples.map((s) => s.kind)).toEqual(['batch', 'case']);
    for (const sm of samples) {
      const zpl = (t.gw.db.prepare('SELECT zpl FROM print_jobs WHERE id = ?').get(sm.job) as { zpl: string }).zpl;
      expect(sm.zplSha256).toBe(createHash('sha256').update(zpl).digest('hex'));
      // the printed original is the sample, not its reprint
      expect(json.sections.labels.find((l: any) => l.job === sm.job)).toMatchObject({ kind: sm.kind, reprint: false, state: 'confirmed' });
    }
    expect(JSON.stringify(json)).not.toContain('base64');
    const html = (await fetchRaw(`/batches/${batch}/report.html`, tokens.qa1)).body.toString('utf8');
    expect(html.match(/<figure class="labelpic"/g)).toHaveLength(samples.length);
    for (const sm of samples) {
      const m = new RegExp(`<figure class="labelpic" data-job="${sm.job}"><img class="label" alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">`).exec(html);
      expect(m, sm.kind).not.toBeNull();
      const png = Buffer.from(m![1]!, 'base64');
      expect(png.readUInt32BE(0)).toBe(0x89504e47);
      // IHDR: a 4x6 in label (101.6 × 152.4 mm) at 8 dots/mm
      expect(Math.abs(png.readUInt32BE(16) - 101.6 * 8)).toBeLessThan(1);
      expect(Math.abs(png.readUInt32BE(20) - 152.4 * 8)).toBeLessThan(1);
      // a real picture of that ZPL: its barcodes read back (zxing) carry the batch number (AI 10)
      const codes = await decode(png);
      expect(codes.length, sm.kind).toBeGreaterThan(0);
      expect(codes.map((c) => c.text).join(' '), sm.kind).toContain(batch);
    }
    // cached on disk by job id and ZPL hash: a second report renders nothing (no file is rewritten)
    const dir = join(t.stateDir, 'label-images');
    const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    expect(files).toEqual(samples.map((sm) => expect.stringContaining(`${sm.job}-${sm.zplSha256}`)).sort());
    const mtimes = files.map((f) => statSync(join(dir, f)).mtimeMs);
    const again = (await fetchRaw(`/batches/${batch}/report.pdf`, tokens.qa1)).body;
    expect(again.subarray(0, 5).toString()).toBe('%PDF-');
    expect(files.map((f) => statSync(join(dir, f)).mtimeMs)).toEqual(mtimes);
    expect(readdirSync(dir).filter((f) => f.endsWith('.png')).sort()).toEqual(files);
  }, 60_000);

  it('reconciliation and exceptions are report sections cut at the as-of point: later records and acknowledgements leave the old report unchanged, the new report shows them', async () => {
    const cfg = t.gw.cfg as any;
    const live = JSON.parse((await fetchRaw(`/batches/${batch}/report.json`, tokens.qa1)).body.toString('utf8')).report;
    // at the newest cut the sections say what the review API says now
    expect(live.sections.reconciliation).toEqual(ok(await t.call('GET', `/batches/${batch}/reconciliation`, undefined, tokens.qa1), 'reconciliation'));
    const api = ok(await t.call('GET', `/batches/${batch}/exceptions`, undefined, tokens.qa1), 'exceptions');
    expect(live.sections.exceptions).toEqual(api.items);
    const pdf = join(out.path, 'cut.pdf');
    writeFileSync(pdf, (await fetchRaw(`/batches/${batch}/report.pdf`, tokens.qa1)).body);
    const st = parseStamp(readFileSync(pdf).toString('latin1'))!;
    // later: a reprint of the case label (one more printed copy) and a new deviation, then QA acknowledges the new exceptions
    const job = live.sections.labelSamples.find((sm: any) => sm.kind === 'case').job;
    const rp = await t.call('POST', `/print-jobs/${job}/reprint`, { reason: 'second copy for the retained sample' }, tokens.sup1);
    const reprinted = rp.status < 300;
    const before = live.sections.reconciliation.labels;
    if (reprinted) await waitFor(async () => (await t.call('GET', `/batches/${batch}/reconciliation`, undefined, tokens.qa1)).body.labels.printed === before.printed + 1, 20_000, 50, 'late reprint confirmed');
    ok(await t.call('POST', '/deviations', { batch, type: 'unplanned', category: 'minor', title: 'Late finding', description: 'found after the report was printed' }, tokens.qa1), 'late deviation');
    // and a person joins the batch at its station after the cut (the batch row's personnel grows)
    ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch, operator: 'sup1' }, tokens.sup1), 'late sign-in');
    expect(ok(await t.call('GET', `/batches/${batch}`, undefined, tokens.qa1), 'batch').personnel).toContain('sup1');
    const open = (ok(await t.call('GET', `/batches/${batch}/exceptions`, undefined, tokens.qa1), 'exceptions').items as any[]).filter((e) => !e.acknowledged);
    expect(open.length).toBeGreaterThanOrEqual(1);
    ok(await t.call('POST', `/batches/${batch}/exceptions/acknowledge`, { all: true, comment: 'late items reviewed' }, tokens.qa1), 'ack late');
    // the report at the old cut: the same sections, the same hash
    const old = gatherReport(t.gw.db, batch, { cfg, asOf: st.asOf });
    expect(old.sections.exceptions).toEqual(live.sections.exceptions);
    expect(old.sections.reconciliation).toEqual(live.sections.reconciliation);
    expect(old.sections.labels).toEqual(live.sections.labels);
    expect(old.sections.personnel).toEqual(live.sections.personnel);
    expect(old.sectionHashes).toEqual(live.sectionHashes);
    expect(old.contentHash).toBe(st.sha256);
    const cfgFile = join(out.path, 'cut.yaml');
    writeFileSync(cfgFile, JSON.stringify(t.gw.cfg));
    const v = await runCli(['report', 'verify', pdf, '--db', join(t.stateDir, 'journal.sqlite'), '--config', cfgFile]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    // the report now shows them
    const now = JSON.parse((await fetchRaw(`/batches/${batch}/report.json`, tokens.qa1)).body.toString('utf8')).report;
    expect(now.contentHash).not.toBe(st.sha256);
    const late = (now.sections.exceptions as any[]).filter((e) => !live.sections.exceptions.some((o: any) => o.key === e.key));
    expect(late.map((e) => e.kind)).toEqual(expect.arrayContaining(['deviation', ...(reprinted ? ['reprint'] : [])]));
    expect(late.every((e) => e.acknowledged?.comment === 'late items reviewed')).toBe(true);
    if (reprinted) expect(now.sections.reconciliation.labels).toMatchObject({ printed: before.printed + 1, applied: before.applied, destroyed: before.destroyed + 1, reprints: before.reprints + 1, balanced: true });
    expect(reprinted, `reprint after release: ${JSON.stringify(rp.body)}`).toBe(true);
  }, 90_000);

  it('a copy stays verifiable after later records (the report is cut at its as-of seqs); a status that moved on since is named, not hidden', async () => {
    const pdf = join(out.path, 'before.pdf');
    writeFileSync(pdf, (await fetchRaw(`/batches/${batch}/report.pdf`, tokens.qa1)).body);
    const db = join(t.stateDir, 'journal.sqlite');
    const cfgFile = join(out.path, 'live.yaml');
    writeFileSync(cfgFile, JSON.stringify(t.gw.cfg));
    // Later records of the batch: a new deviation (raised after the copy was made) is not part of it.
    ok(await t.call('POST', '/deviations', { batch, type: 'unplanned', category: 'minor', title: 'Complaint received', description: 'Customer complaint CC-17' }, tokens.qa1), 'late deviation');
    const still = await runCli(['report', 'verify', pdf, '--db', db, '--config', cfgFile]);
    expect(still.code, still.stdout + still.stderr).toBe(0);
    // A recall hold changes the batch's current status: the copy no longer matches, and the header is the section named.
    ok(await t.call('POST', `/batches/${batch}/transitions`, { to: 'on_hold', reason: 'customer complaint CC-17' }, tokens.qa1), 'recall hold');
    const moved = await runCli(['report', 'verify', pdf, '--db', db, '--config', cfgFile]);
    expect(moved.code).toBe(1);
    expect(moved.stdout).toContain('sections that differ: header');
    expect(moved.stdout).toContain('current states');
    const now = JSON.parse((await fetchRaw(`/batches/${batch}/report.json`, tokens.qa1)).body.toString('utf8'));
    expect(now.report.sections.header.status).toBe('on_hold');
    expect(now.report.sections.deviations.map((d: any) => d.title)).toContain('Complaint received');
  }, 60_000);
});
