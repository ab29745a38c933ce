/**
 * Identities and jobs survive a restart: serials and SSCCs never repeat across a reopen of the
 * database; a job caught in `sending` becomes needs_confirmation (never resent); queued jobs print.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../helpers/net.js';
import { isValidCheckDigit } from '../../../src/gs1/index.js';
import { openDatabase } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { LabelService } from '../../../src/labels/queue.js';
import { DeviceFilePrinterTransport } from '../../../src/labels/transport.js';
import { COMPANY_PREFIX, caseFields, models, recordTypes, rig, states, templates, type Rig } from './harness.js';
import { tempDir } from '../../helpers/tmp.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const palletFields = { companyName: 'ACME', productName: 'Widget A', contentGtin: '09506000134352', count: '48', batch: '20261122-001', expiry: '2027-05-22' };

describe('restart', () => {
  it('never repeats a serial or an SSCC across a reopen of the database; SSCC check digits are valid', async () => {
    r = await rig();
    const serials: string[] = [];
    const ssccs: string[] = [];
    for (let round = 0; round < 3; round++) {
      const made = await Promise.all([
        ...Array.from({ length: 4 }, () => r!.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() })),
        ...Array.from({ length: 3 }, () => r!.svc.createLabel({ template: 'pallet', printer: 'pack1.printer', fields: palletFields, batch: '20261122-001' })),
      ]);
      serials.push(...made.filter((m) => m.serial).map((m) => m.serial!));
      ssccs.push(...made.filter((m) => m.sscc).map((m) => m.sscc!));
      await r.restart();
    }
    expect(serials).toHaveLength(12);
    expect(new Set(serials).size).toBe(12);
    expect(serials.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(ssccs).toHaveLength(9);
    expect(new Set(ssccs).size).toBe(9);
    for (const s of ssccs) {
      expect(s).toMatch(new RegExp(`^3${COMPANY_PREFIX}\\d{10}$`));
      expect(isValidCheckDigit(s)).toBe(true);
    }
    // every pallet label record links its SSCC to the batch
    const recs = r.db.prepare(`SELECT batch, payload FROM records WHERE type='label.queued'`).all() as Array<{ batch: string | null; payload: string }>;
    const bySscc = recs.filter((x) => JSON.parse(x.payload).sscc);
    expect(bySscc.map((x) => JSON.parse(x.payload).sscc).sort()).toEqual([...ssccs].sort());
    expect(bySscc.every((x) => x.batch === '20261122-001')).toBe(true);
    // the database refuses a second label with the same serial even if a counter were rewound
    expect(() => r!.db.prepare(`INSERT INTO labels (id, kind, serial, template, fields, record_seq, created_at) VALUES ('x','case',?,'case-4x6','{}',1,'t')`).run(serials[0])).toThrow(/UNIQUE/);
  });

  it('a job caught in sending at start-up needs confirmation; queued jobs print once', async () => {
    r = await rig({ start: false });
    const a = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
    const b = await r.svc.createLabel({ template: 'case', printer: 'pack1.printer', fields: caseFields() });
    // What a kill -9 between "sending committed" and the write leaves behind.
    r.db.prepare(`UPDATE print_jobs SET state='sending', attempts=1 WHERE id=?`).run(a.jobId);
    await r.restart();
    await waitFor(() => r!.svc.getJob(b.jobId)?.state === 'confirmed', 5000, 10, 'queued job printed');
    expect(r.svc.getJob(a.jobId)).toMatchObject({ state: 'needs_confirmation', errorCode: 'LG_ERR_PRINTER_CONNECTION_LOST' });
    await new Promise((res) => setTimeout(res, 200));
    expect(r.sim.jobs.map((j) => j.zpl.includes(b.jobId))).toEqual([true]);
    const unconf = r.db.prepare(`SELECT payload FROM records WHERE type='label.unconfirmed'`).all() as Array<{ payload: string }>;
    expect(unconf.map((u) => JSON.parse(u.payload))).toMatchObject([{ jobId: a.jobId, reason: 'restart', fromState: 'sending' }]);
    expect(states(r.db)).toEqual({ confirmed: 1, needs_confirmation: 1 });
    // and once more: a second restart does not touch it again
    await r.restart();
    expect(recordTypes(r.db)['label.unconfirmed']).toBe(1);
  });
});

describe('device file printer (one-way)', () => {
  it('writes the job to the file and stops at sent', async () => {
    const tmp = tempDir();
    const db = openDatabase(join(tmp.path, 'j.db'), { synchronous: 'NORMAL' });
    const journal = new Journal(db, { site: 'S1', line: 'L1', sinks: [] });
    const out = join(tmp.path, 'lp0');
    const svc = new LabelService({
      journal,
      db,
      templates,
      companyPrefix: COMPANY_PREFIX,
      printers: [{ id: 'usb', model: models.get('generic-203dpi-oneway')!, transport: new DeviceFilePrinterTransport(out), timing: { idleStatusMs: 0, retryMaxMs: 100 } }],
    });
    try {
      await svc.start();
      const q = await svc.createLabel({ template: 'case', printer: 'usb', fields: caseFields() });
      await waitFor(() => svc.getJob(q.jobId)?.state === 'sent', 5000, 10, 'sent');
      expect(readFileSync(out, 'utf8')).toBe(q.zpl);
      expect(recordTypes(db)).toEqual({ 'label.queued': 1, 'label.sent': 1 });
    } finally {
      await svc.stop();
      await journal.close();
      db.close();
      tmp.cleanup();
    }
  });
});
