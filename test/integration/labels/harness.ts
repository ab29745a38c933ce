/** Shared set-up for the labels integration tests: a real journal on a temp SQLite file, the
 * shipped templates and printer models, a simulated printer on a real TCP socket. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { openDatabase, type Db } from '../../../src/store/db.js';
import { Journal } from '../../../src/store/journal.js';
import { LabelService, type PrinterSetup } from '../../../src/labels/queue.js';
import { loadPrinterModels, loadTemplates } from '../../../src/labels/template.js';
import { TcpPrinterTransport } from '../../../src/labels/transport.js';
import { PrinterSimulator, type PrinterSimOptions } from '../../../simulators/printer/printer-sim.js';
import { tempDir } from '../../helpers/tmp.js';
import type { PrinterTiming } from '../../../src/config/devices/zpl-printer.js';

export const root = join(import.meta.dirname, '..', '..', '..');
export const templates = loadTemplates(join(root, 'devices', 'labels'));
export const models = loadPrinterModels(join(root, 'devices', 'printers'));
export const COMPANY_PREFIX = '9506000';

export const FAST: Partial<PrinterTiming> = {
  connectTimeoutMs: 500,
  statusTimeoutMs: 300,
  writeTimeoutMs: 2000,
  confirmTimeoutMs: 1500,
  pollIntervalMs: 15,
  idleStatusMs: 0,
  retryMaxMs: 100,
};

export function caseFields(extra: Record<string, string> = {}): Record<string, string> {
  return {
    productName: 'Widget A',
    lot: 'RM-1001-L7',
    gtin: '09506000134352',
    batch: '20261122-001',
    productionDate: '2026-11-22',
    expiry: '2027-05-22',
    netWeight: '3.25',
    ...extra,
  };
}

export interface Rig {
  dir: string;
  dbPath: string;
  db: Db;
  journal: Journal;
  sim: PrinterSimulator;
  svc: LabelService;
  /** Reopen db + journal + service (same file, same simulator): a restart. */
  restart(opts?: { start?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function rig(opts: { sim?: PrinterSimOptions; timing?: Partial<PrinterTiming>; synchronous?: 'FULL' | 'NORMAL'; start?: boolean } = {}): Promise<Rig> {
  const tmp = tempDir('linegate-labels-');
  const sim = new PrinterSimulator({ ...opts.sim });
  const port = await sim.start();
  const dbPath = join(tmp.path, 'journal.db');
  const make = (): { db: Db; journal: Journal; svc: LabelService } => {
    const db = openDatabase(dbPath, { synchronous: opts.synchronous ?? 'NORMAL' });
    const journal = new Journal(db, { site: 'S1', line: 'L1', sinks: ['erp'] });
    const printer: PrinterSetup = {
      id: 'pack1.printer',
      station: 'PACK-1',
      model: models.get('zebra-203dpi-4in')!,
      transport: new TcpPrinterTransport('127.0.0.1', port),
      timing: { ...FAST, ...(opts.timing ?? {}) },
    };
    const svc = new LabelService({ journal, db, printers: [printer], templates, companyPrefix: COMPANY_PREFIX, ssccExtension: '3', reprintMark: 'REPRINT' });
    return { db, journal, svc };
  };
  const r = make();
  const out: Rig = {
    dir: tmp.path,
    dbPath,
    ...r,
    sim,
    async restart(o = {}) {
      await out.svc.stop();
      await out.journal.close();
      out.db.close();
      Object.assign(out, make());
      if (o.start !== false) await out.svc.start();
    },
    async close() {
      await out.svc.stop();
      await out.journal.close();
      out.db.close();
      await sim.stop();
      tmp.cleanup();
    },
  };
  if (opts.start !== false) await out.svc.start();
  return out;
}

/** `linegate label <labelId> job <jobId>` from a job's ^FX comment. */
export function jobIdsOf(zpl: string): { labelId: string; jobId: string } {
  const m = /\^FXlinegate label ([0-9a-f-]+) job ([0-9a-f-]+)/.exec(zpl);
  if (!m) throw new Error('no linegate comment in job');
  return { labelId: m[1]!, jobId: m[2]! };
}

let zxingReady = false;
export async function decode(png: Buffer): Promise<Array<{ format: string; aim: string; text: string }>> {
  const z = await import('zxing-wasm/reader');
  if (!zxingReady) {
    const require = createRequire(import.meta.url);
    // The bundled wasm: zxing-wasm would otherwise fetch it from a CDN (offline here).
    const wasmBinary = readFileSync(require.resolve('zxing-wasm/reader/zxing_reader.wasm'));
    z.prepareZXingModule({ overrides: { wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer }, fireImmediately: true });
    zxingReady = true;
  }
  const res = await z.readBarcodes(new Blob([new Uint8Array(png)], { type: 'image/png' }), { textMode: 'Plain', formats: [], maxNumberOfSymbols: 10 });
  return res.map((r) => ({ format: r.format, aim: r.symbologyIdentifier, text: r.text }));
}

export function states(db: Db): Record<string, number> {
  const rows = db.prepare(`SELECT state, COUNT(*) AS n FROM print_jobs GROUP BY state`).all() as Array<{ state: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

export function recordTypes(db: Db): Record<string, number> {
  const rows = db.prepare(`SELECT type, COUNT(*) AS n FROM records GROUP BY type`).all() as Array<{ type: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}
