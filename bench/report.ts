import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase, type Db } from '../src/store/db.js';
import { Journal } from '../src/store/journal.js';
import { gatherReport, renderHtml, renderPdf, reportLabelImages } from '../src/report/index.js';
import { gatherWeekly, renderWeeklyHtml, renderWeeklyPdf } from '../src/report/weekly.js';
import { forgetInMemory, renderCount } from '../src/labels/images.js';

/**
 * Report figures (issue 14): the batch record report of a batch with 10,000 records as HTML
 * (target ≤ 1 s) and PDF (≤ 3 s), gather included; the weekly review over 100 batches (≤ 2 s).
 * The batch's records are a realistic mix written through the journal: weighings with their
 * consumption rows (several lots), PackML state changes with link gaps, counter updates, scans,
 * and a case and a pallet label. Also: the label pictures of a report rendered cold (zpl-renderer-js)
 * against the same pictures from the disk cache (what the next report's worker sees) and from
 * memory — the cache effect as a ratio measured in the same run.
 */
const now = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;
const cfg = {
  site: { id: 'PLANT1', name: 'Bench plant', timezone: 'Europe/Berlin' },
  line: { id: 'L1', name: 'Line 1' },
  devices: [
    { id: 'fill.plc', kind: 'opcua-machine', station: 'FILL-1', nodeMap: 'packml-generic' },
    { id: 'weigh.scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic' },
    { id: 'pack.printer', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4in' },
  ],
};

function seed(db: Db, batches: number): void {
  const at = '2026-11-24T08:00:00.000Z';
  db.prepare(`INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('op1','Olga Operator','operator',?,?), ('qa1','Quinn QA','qa',?,?)`).run(at, at, at, at);
  for (const [code, name] of [['RM-1001', 'Sugar'], ['RM-1002', 'Citric acid']]) {
    db.prepare(`INSERT INTO materials (code, name, unit, tracking, created_at, updated_at) VALUES (?,?, 'kg', 'lot', ?, ?)`).run(code, name, at, at);
  }
  for (let l = 0; l < 40; l++) {
    db.prepare(`INSERT INTO lots (id, material, supplier, supplier_lot, expiry, status, quantity, unit, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)`).run(
      `L-${l}`, l % 2 ? 'RM-1002' : 'RM-1001', 'Acme', `ACME-${l}`, '2099-12-31', 'released', '10000.000', 'kg', at, at,
    );
  }
  for (let b = 0; b < batches; b++) {
    const n = `20261124-${String(b + 1).padStart(3, '0')}`;
    const day = new Date(Date.parse(at) + (b % 7) * 86_400_000).toISOString();
    db.prepare(
      `INSERT INTO batches (number, product, product_name, planned_qty, unit, line, status, personnel, produced_qty, started_at, completed_at, created_at, updated_at)
       VALUES (?, 'WIDGET-A', 'Widget A', '1000', 'pcs', 'L1', ?, '["op1"]', '980', ?, ?, ?, ?)`,
    ).run(n, b % 3 === 0 ? 'released' : b % 3 === 1 ? 'completed' : 'in_process', day, b % 3 === 2 ? null : day, day, day);
    db.prepare(`INSERT INTO batch_bom (batch, material, quantity, unit, tolerance_pct) VALUES (?, 'RM-1001', '50.000', 'kg', '2'), (?, 'RM-1002', '1.500', 'kg', '5')`).run(n, n);
  }
}

async function fillBatch(journal: Journal, db: Db, batch: string, n: number): Promise<void> {
  const states = ['Idle', 'Starting', 'Execute', 'Held', 'Execute', 'Suspended', 'Execute'];
  const t0 = Date.parse('2026-11-24T08:00:00.000Z');
  const insertCons = db.prepare(`INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?,?,?,?,?,?,?)`);
  for (let i = 0; i < n; i += 500) {
    await journal.submit((tx) => {
      for (let k = i; k < Math.min(n, i + 500); k++) {
        const at = new Date(t0 + k * 1000).toISOString();
        const kind = k % 10;
        if (kind === 0) {
          const lot = `L-${k % 40}`;
          const r = tx.append({ type: 'material.consumed', status: 'accepted', station: 'WEIGH-1', batch, lot, operator: 'op1', device: 'weigh.scale', payload: { net: '0.005', unit: 'kg', material: k % 40 % 2 ? 'RM-1002' : 'RM-1001' } });
          insertCons.run(r.seq, batch, lot, k % 40 % 2 ? 'RM-1002' : 'RM-1001', '0.005', 'kg', at);
        } else if (kind === 1 && k % 100 === 1) {
          const to = states[(k / 100) % states.length]!;
          tx.append({ type: 'machine.state_changed', status: 'accepted', station: 'FILL-1', batch, device: 'fill.plc', payload: { to, enteredAt: at } });
        } else if (kind === 1 && k % 1000 === 501) {
          tx.append({ type: 'machine.link_lost', status: 'accepted', station: 'FILL-1', batch, device: 'fill.plc', payload: { since: at } });
        } else if (kind === 1 && k % 1000 === 511) {
          tx.append({ type: 'machine.link_restored', status: 'accepted', station: 'FILL-1', batch, device: 'fill.plc', payload: { since: new Date(t0 + (k - 10) * 1000).toISOString(), gapMs: 10_000 } });
        } else if (kind < 5) {
          tx.append({ type: 'counter.updated', status: 'accepted', station: 'FILL-1', batch, device: 'fill.plc', payload: { counter: 'good', value: String(k), delta: '1' } });
        } else {
          tx.append({ type: 'lot.scanned', status: k % 97 === 0 ? 'rejected' : 'accepted', errorCode: k % 97 === 0 ? 'LG_ERR_LOT_ON_HOLD' : null, station: 'WEIGH-1', batch, lot: `L-${k % 40}`, operator: 'op1', device: 'weigh.scanner', payload: { raw: `L-${k % 40}` } });
        }
      }
      return null;
    });
  }
}

/** A case and a pallet label of the batch, each with a confirmed print job holding realistic ZPL. */
function addLabels(db: Db, batch: string): void {
  const at = '2026-11-24T10:00:00.000Z';
  const zpl = (kind: string, serial: string): string =>
    `^XA^CI28^PW812^LL1218^FO40,40^A0N,48,48^FD${kind.toUpperCase()} WIDGET-A Widget A^FS^FO40,110^A0N,32,32^FDBatch ${batch}  Serial ${serial}^FS` +
    `^FO40,170^BY3^BCN,160,Y,N,N^FD>;0109506000134352^FS^FO40,400^BY3^BCN,160,Y,N,N^FD>;10${batch.replace(/-/g, '')}^FS` +
    `^FO40,650^BQN,2,8^FDQA,https://id.example.com/01/09506000134352/10/${batch}/21/${serial}^FS^FO40,1000^GB730,3,3^FS^FO40,1030^A0N,28,28^FDNet 6.100 kg  Best before 2027-11-24^FS^XZ`;
  ['case', 'pallet'].forEach((kind, i) => {
    const label = `LBL-${kind}`;
    db.prepare(`INSERT INTO labels (id, kind, batch, serial, template, fields, record_seq, created_at) VALUES (?,?,?,?,?,'{}',1,?)`).run(label, kind, batch, `S${i + 1}`, `${kind}-4x6`, at);
    db.prepare(
      `INSERT INTO print_jobs (id, label_id, record_seq, printer, template, zpl, state, attempts, created_at, updated_at, confirmed_at) VALUES (?,?,1,'pack.printer',?,?, 'confirmed', 1, ?, ?, ?)`,
    ).run(`JOB-${kind}`, label, `${kind}-4x6`, zpl(kind, `S${i + 1}`), at, at, at);
  });
}

export async function benchReport(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(resolve('.'), '.bench-report-'));
  const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'NORMAL' });
  const journal = new Journal(db, { site: 'PLANT1', line: 'L1', sinks: [] });
  try {
    seed(db, 100);
    const big = '20261124-001';
    await fillBatch(journal, db, big, 10_000);
    for (let b = 2; b <= 100; b++) await fillBatch(journal, db, `20261124-${String(b).padStart(3, '0')}`, 50);
    addLabels(db, big);
    const stamp = { generatedAt: new Date().toISOString(), generatedBy: 'bench', checkpoint: null };
    const runs = (fn: () => unknown | Promise<unknown>) => async (): Promise<number> => {
      const a = now();
      await fn();
      return now() - a;
    };
    const best = async (fn: () => Promise<number>, times = 3): Promise<number> => {
      let m = Infinity;
      for (let i = 0; i < times; i++) m = Math.min(m, await fn());
      return m;
    };
    // label pictures: cold (rendered), then from the disk cache with an empty memory (a new worker), then from memory
    const sample = gatherReport(db, big, { cfg });
    const r0 = renderCount();
    const cold = await runs(() => reportLabelImages(db, sample, { stateDir: dir }))();
    const rendered = renderCount() - r0;
    const disk = await best(
      runs(async () => {
        forgetInMemory();
        await reportLabelImages(db, sample, { stateDir: dir });
      }),
    );
    const memory = await best(runs(() => reportLabelImages(db, sample, { stateDir: dir })));
    if (renderCount() - r0 !== rendered) throw new Error('the label picture cache missed');
    const images = await reportLabelImages(db, sample, { stateDir: dir });
    const html = await best(runs(async () => renderHtml(gatherReport(db, big, { cfg }), stamp, await reportLabelImages(db, sample, { stateDir: dir }))));
    let pages = 0;
    const pdf = await best(
      runs(async () => {
        const buf = await renderPdf(gatherReport(db, big, { cfg }), stamp, images);
        pages = (buf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
      }),
    );
    const week = { from: '2026-11-23', timeZone: 'Europe/Berlin', site: 'PLANT1', line: 'L1', now: new Date() };
    const weekly = await best(runs(() => gatherWeekly(db, week)));
    const weeklyHtml = await best(runs(() => renderWeeklyHtml(gatherWeekly(db, week))));
    const weeklyPdf = await best(runs(() => renderWeeklyPdf(gatherWeekly(db, week))));
    const records = (db.prepare('SELECT COUNT(*) AS n FROM records WHERE batch = ?').get(big) as { n: number }).n;
    return {
      'batch records': records,
      'report HTML ms (target ≤ 1000)': html,
      'report PDF ms (target ≤ 3000)': pdf,
      'PDF pages': pages,
      'weekly review, 100 batches ms (≤ 2000)': weekly,
      'weekly review HTML ms': weeklyHtml,
      'weekly review PDF ms': weeklyPdf,
      [`label pictures cold: ${rendered} rendered, ms`]: cold,
      'label pictures from disk cache ms': disk,
      'label pictures from memory ms': memory,
      'cold / disk cache (×)': cold / disk,
    };
  } finally {
    await journal.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  benchReport().then((r) => {
    for (const [k, v] of Object.entries(r)) process.stdout.write(`  ${k.padEnd(44)} ${Number.isInteger(v) ? v : v.toFixed(1)}\n`);
  });
}
