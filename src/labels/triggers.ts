import type { JournalRecord } from '../binding/types.js';
import type { Config } from '../config/schema.js';
import { localDate } from '../domain/numbering.js';
import { LgError, isLgError, type ErrorCode } from '../errors.js';
import type { Ops } from '../ops.js';
import type { Journal } from '../store/journal.js';
import type { Repo } from '../store/repo.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { convertMassExact, type MassUnit } from '../readings/units.js';
import { parseDec, toString as decToString } from '../domain/decimal.js';
import type { LabelService, QueuedLabel } from './queue.js';

/**
 * What prints a label, and with which data:
 * - a stable case weight captured at a packing station → a case label (GTIN, batch, production
 *   date, expiry from the product's shelf life, net weight 3103, serial 21);
 * - a batch moving from planned to in_process → a batch label;
 * - an operator's request (API) → a case, batch or pallet (SSCC) label.
 *
 * A trigger that cannot produce a label (no printer, no GTIN, a field out of range) becomes a
 * rejected `label.failed` record with the code — a case without a label is never silent.
 * After a crash between a capture and its label, `recover()` queues what is missing.
 */
export class LabelTriggers {
  constructor(
    private readonly d: { cfg: Readonly<Config>; ops: Ops; repo: Repo; journal: Journal; labels: LabelService; clock: Clock; logger: Logger },
  ) {}

  private get log(): Logger {
    return this.d.logger;
  }

  printerFor(station: string): string | null {
    const printers = this.d.cfg.devices.filter((x) => x.kind === 'zpl-printer' && x.enabled !== false);
    return (printers.find((p) => p.station === station) ?? printers[0])?.id ?? null;
  }

  onCommitted(records: readonly JournalRecord[]): void {
    for (const r of records) {
      if (r.status !== 'accepted') continue;
      if (r.type === 'weight.captured' && r.station && this.stationRole(r.station) === 'packing') void this.caseFromWeight(r);
      // A start from the API carries no station: the label goes to the line's first printer.
      else if (r.type === 'batch.status_changed' && r.payload.from === 'planned' && r.payload.to === 'in_process' && r.batch) void this.batchLabel(r.batch, r.station, r.operator, r);
    }
  }

  private stationRole(station: string): string | undefined {
    return this.d.cfg.stations.find((s) => s.id === station)?.role;
  }

  async caseFromWeight(rec: JournalRecord): Promise<QueuedLabel | null> {
    const p = rec.payload as { net?: string; unit?: string };
    return this.guard(rec, async () => {
      if (!rec.batch) throw new LgError('LG_ERR_NO_ACTIVE_BATCH', { station: rec.station });
      if (!p.net || !p.unit) throw new LgError('LG_ERR_READING_INVALID', { device: rec.device, detail: 'weight capture without net weight' });
      const netKg = p.unit === 'kg' ? p.net : decToString(convertMassExact(parseDec(p.net), p.unit as MassUnit, 'kg', 3));
      return this.caseLabel(rec.station!, rec.batch, netKg, rec.operator, { type: rec.type, recordId: rec.id });
    });
  }

  async caseLabel(station: string, batchNo: string, netKg: string, operator: string | null, trigger: { type: string; recordId?: string | null }): Promise<QueuedLabel> {
    const printer = this.requirePrinter(station);
    const { batch, fields } = this.productFields(batchNo);
    const lots = this.d.repo.genealogyIO().consumptionsOfBatch(batchNo).map((c) => c.lot);
    return this.d.labels.createLabel({
      template: 'case',
      printer,
      fields: { ...fields, netWeight: netKg, lot: lots.join(', ') || undefined },
      batch: batch.number,
      station,
      operator,
      trigger,
    });
  }

  async batchLabel(batchNo: string, station: string | null, operator: string | null, rec?: JournalRecord): Promise<QueuedLabel | null> {
    const run = async () => {
      const printer = this.requirePrinter(station);
      const { batch, fields } = this.productFields(batchNo);
      return this.d.labels.createLabel({
        template: 'batch',
        printer,
        fields: { ...fields, plannedQty: batch.plannedQty, unit: batch.unit },
        batch: batch.number,
        station,
        operator,
        trigger: rec ? { type: rec.type, recordId: rec.id } : { type: 'operator.request' },
      });
    };
    return rec ? this.guard(rec, run) : run();
  }

  async palletLabel(station: string, batchNo: string, count: number, operator: string | null): Promise<QueuedLabel> {
    const printer = this.requirePrinter(station);
    const { batch, fields } = this.productFields(batchNo);
    return this.d.labels.createLabel({
      template: 'pallet',
      printer,
      fields: { productName: fields.productName, contentGtin: fields.gtin, count: String(count), batch: batch.number, expiry: fields.expiry },
      batch: batch.number,
      station,
      operator,
      trigger: { type: 'operator.request' },
    });
  }

  private requirePrinter(station: string | null): string {
    const printer = this.printerFor(station ?? '');
    if (!printer) throw new LgError('LG_ERR_PRINTER_NOT_FOUND', { printer: `(none configured for ${station ?? 'the line'})` });
    return printer;
  }

  /** GTIN, product name, production date (site-local) and expiry (shelf life) of a batch. */
  private productFields(batchNo: string) {
    const batch = this.d.repo.batch(batchNo);
    if (!batch) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: batchNo });
    const product = this.d.repo.material(batch.product);
    const gtin = batch.gtin ?? product?.gtins[0];
    if (!gtin) throw new LgError('LG_ERR_LABEL_FIELD_MISSING', { field: 'gtin', template: 'case', detail: `batch ${batchNo} and product ${batch.product} have no GTIN` });
    const now = this.d.clock.now();
    const productionDate = localDate(now, this.d.cfg.site.timezone);
    let expiry: string | undefined;
    if (product?.shelfLifeDays) expiry = new Date(Date.parse(`${productionDate}T00:00:00Z`) + product.shelfLifeDays * 86_400_000).toISOString().slice(0, 10);
    return { batch, fields: { productName: batch.productName ?? product?.name ?? batch.product, gtin, batch: batch.number, productionDate, expiry } };
  }

  /** Run a trigger; a failure becomes a rejected `label.failed` record, never only a log line. */
  private async guard(rec: JournalRecord, fn: () => Promise<QueuedLabel>): Promise<QueuedLabel | null> {
    try {
      return await fn();
    } catch (err) {
      const code: ErrorCode = isLgError(err) ? err.code : 'LG_ERR_INTERNAL';
      this.log.error({ err, trigger: rec.id }, 'a label could not be queued');
      await this.d.journal
        .append({
          type: 'label.failed',
          status: 'rejected',
          errorCode: code,
          message: (err as Error).message,
          station: rec.station,
          batch: rec.batch,
          operator: rec.operator,
          payload: { trigger: { type: rec.type, recordId: rec.id }, details: isLgError(err) ? err.details : {} },
        })
        .catch((e: unknown) => this.log.error({ err: e }, 'label.failed record could not be journaled'));
      return null;
    }
  }

  /**
   * After a crash: accepted packing captures of the last day with neither a label nor a
   * label.failed record get their label now (each capture at most once).
   */
  async recover(): Promise<number> {
    const packing = this.d.cfg.stations.filter((s) => s.role === 'packing').map((s) => s.id);
    if (packing.length === 0 || !this.printerFor(packing[0]!)) return 0;
    const since = new Date(this.d.clock.now().getTime() - 86_400_000).toISOString();
    const rows = this.d.repo.db
      .prepare(
        `SELECT r.seq FROM records r
         WHERE r.type = 'weight.captured' AND r.status = 'accepted' AND r.received_at >= ?
           AND r.station IN (${packing.map(() => '?').join(',')})
           AND NOT EXISTS (SELECT 1 FROM records q WHERE q.type IN ('label.queued', 'label.failed') AND q.seq > r.seq
                           AND json_extract(q.payload, '$.trigger.recordId') = r.id)
         ORDER BY r.seq`,
      )
      .all(since, ...packing) as Array<{ seq: number }>;
    for (const { seq } of rows) {
      const rec = this.d.repo.record(String(seq));
      if (rec) await this.caseFromWeight(rec);
    }
    if (rows.length) this.log.warn({ labels: rows.length }, 'queued labels for captures that had none (crash before printing)');
    return rows.length;
  }
}
