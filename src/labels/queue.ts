/**
 * The durable print queue and the label service.
 *
 * Guarantees (issue 6):
 * - A label's identity (serial or SSCC) is allocated from a `counters` row, its `label.queued`
 *   record appended and its print job inserted in ONE journal transaction: a label either exists
 *   completely (identity + record + job) or not at all, and an identity is never issued twice
 *   (counter + UNIQUE columns in `labels`).
 * - A job is written to the printer only from `queued`, and only after `sending` is COMMITTED.
 *   Once bytes may have reached the printer the job is never resent on its own: a failure then
 *   leaves it in `needs_confirmation` until an operator says `printed` or `reprint`. A job found
 *   in `sending` or `sent` at start-up (crash, kill -9, power cut) becomes `needs_confirmation`.
 * - Before sending, `~HS` must answer and report no fault; the job is HELD (stays `queued`, status
 *   text says why) while paper is out, the head is open, the printer is paused, its buffer is full
 *   or it does not answer at all. After sending, `~HS` asked ON THE JOB'S OWN CONNECTION must report
 *   an empty buffer → `confirmed` (an answer over any other connection proves nothing: issue 10.7).
 *
 * Records (all `status: accepted`, `device` = printer id, payload carries labelId, jobId,
 * template, printer, serial, sscc, and the GS1 element strings where relevant):
 *   label.queued             identity issued, job queued (links serial/SSCC to batch and lot)
 *   label.sent               every byte of the job handed to the printer connection
 *   label.printed            printer confirmed (payload.confirmedBy 'printer') or operator said printed ('operator')
 *   label.unconfirmed        needs_confirmation (errorCode LG_ERR_PRINTER_CONNECTION_LOST / LG_ERR_PRINTER_OFFLINE; payload.reason)
 *   label.reprint_requested  a reprint (its own job, marked on the label) with the operator's reason
 *   label.cancelled          an operator cancelled a job that had not printed
 * Operator decisions (printed, reprint, cancel) are also audit entries (TxContext.audit).
 */
import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.js';
import type { Journal, TxContext } from '../store/journal.js';
import type { JournalRecord } from '../binding/types.js';
import { LgError, formatMessage, type ErrorCode } from '../errors.js';
import { makeSscc } from '../gs1/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { uuidv7 } from '../util/ids.js';
import { Backoff, sleep as abortableSleep } from '../util/backoff.js';
import type { PrinterModel, PrinterTiming, LabelTemplate } from '../config/devices/zpl-printer.js';
import { renderLabelDetailed, type LabelFields } from './template.js';
import type { PrinterConnection, PrinterTransport } from './transport.js';
import { isIdle, readiness, type HostStatus, type PrinterCondition } from './host-status.js';

export type JobState = 'queued' | 'sending' | 'sent' | 'confirmed' | 'failed' | 'needs_confirmation';

export interface PrinterSetup {
  id: string;
  station?: string | null;
  model: Pick<PrinterModel, 'dpi' | 'maxPrintWidthDots' | 'hostStatus'> & { name?: string };
  transport: PrinterTransport;
  timing?: Partial<PrinterTiming>;
  /** Template per label kind for this printer; default `<kind>-4x6`. */
  templates?: Partial<Record<'case' | 'batch' | 'pallet', string>>;
}

export interface LabelServiceOptions {
  journal: Journal;
  db: Db;
  printers: PrinterSetup[];
  templates: Map<string, LabelTemplate> | LabelTemplate[];
  logger?: Logger;
  clock?: Clock;
  /** GS1 Company Prefix (site.gs1CompanyPrefix), for SSCCs. Without it SSCC labels are refused. */
  companyPrefix?: string | null;
  /** SSCC extension digit (labels.ssccExtension). Default '0'. */
  ssccExtension?: string;
  /** Text printed on reprints (labels.reprintMark). Default 'REPRINT'. */
  reprintMark?: string;
  /**
   * Prepended to every AI (21) serial. Serials must be unique per GTIN across the company; with one
   * gateway per line, give each line its own prefix (e.g. "L1-"). Default ''.
   */
  serialPrefix?: string;
}

export interface LabelRequest {
  /** Template name (`case-4x6`) or kind (`case`, resolved through the printer's templates). */
  template: string;
  printer: string;
  fields: LabelFields;
  batch?: string | null;
  lot?: string | null;
  station?: string | null;
  operator?: string | null;
  /** What caused the label (weight.captured record id, operator request…), for the record. */
  trigger?: { type: string; recordId?: string | null } | null;
}

export interface QueuedLabel {
  labelId: string;
  jobId: string;
  serial: string | null;
  sscc: string | null;
  record: JournalRecord;
  zpl: string;
}

export interface PrintJobView {
  id: string;
  labelId: string;
  printer: string;
  template: string;
  state: JobState;
  attempts: number;
  statusText: string | null;
  errorCode: string | null;
  reprintOf: string | null;
  reprintReason: string | null;
  decidedBy: string | null;
  serial: string | null;
  sscc: string | null;
  batch: string | null;
  lot: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  confirmedAt: string | null;
}

export interface PrinterStatusView {
  printer: string;
  station: string | null;
  transport: string;
  ready: boolean;
  condition: PrinterCondition;
  /** LG_ERR_PRINTER_… when not ready. */
  code: ErrorCode | null;
  message: string | null;
  faults: PrinterCondition[];
  since: string;
  lastCheckedAt: string | null;
  /** Jobs waiting (queued) and awaiting an operator (needs_confirmation) on this printer. */
  queued: number;
  needsConfirmation: number;
  /** The last parsed ~HS answer (null: none yet, or silent). */
  hostStatus: HostStatus | null;
}

/** A job awaiting an operator's decision, as /health/ready names it. */
export interface NeedsConfirmationView {
  job: string;
  labelId: string;
  printer: string;
  station: string | null;
  batch: string | null;
  serial: string | null;
  sscc: string | null;
  code: string | null;
  reason: string | null;
  since: string;
}

/** How many needs_confirmation jobs /health/ready names (the total is always given). */
const HEALTH_JOBS = 20;

export type OperatorDecision = 'printed' | 'reprint';

export interface LabelView {
  id: string;
  kind: string;
  serial: string | null;
  sscc: string | null;
  batch: string | null;
  lot: string | null;
  template: string;
  fields: Record<string, string | number | null>;
  /** seq of its label.queued record. */
  recordSeq: number;
  createdAt: string;
}

const DEFAULT_TIMING: PrinterTiming = {
  connectTimeoutMs: 3000,
  statusTimeoutMs: 1500,
  writeTimeoutMs: 10_000,
  confirmTimeoutMs: 15_000,
  pollIntervalMs: 500,
  idleStatusMs: 5000,
  retryMaxMs: 10_000,
};

interface JobRow {
  seq: number;
  id: string;
  label_id: string;
  record_seq: number;
  printer: string;
  template: string;
  zpl: string;
  state: JobState;
  attempts: number;
  status_text: string | null;
  error_code: string | null;
  reprint_of: string | null;
  reprint_reason: string | null;
  decided_by: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  confirmed_at: string | null;
  serial: string | null;
  sscc: string | null;
  batch: string | null;
  lot: string | null;
  fields: string;
  kind: string;
}

const JOB_SELECT = `SELECT j.*, l.serial, l.sscc, l.batch, l.lot, l.fields, l.kind FROM print_jobs j JOIN labels l ON l.id = j.label_id`;

function toView(r: JobRow): PrintJobView {
  return {
    id: r.id,
    labelId: r.label_id,
    printer: r.printer,
    template: r.template,
    state: r.state,
    attempts: r.attempts,
    statusText: r.status_text,
    errorCode: r.error_code,
    reprintOf: r.reprint_of,
    reprintReason: r.reprint_reason,
    decidedBy: r.decided_by,
    serial: r.serial,
    sscc: r.sscc,
    batch: r.batch,
    lot: r.lot,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sentAt: r.sent_at,
    confirmedAt: r.confirmed_at,
  };
}

/** Next value of a named counter (1, 2, …), inside the caller's transaction. */
export function nextCounter(db: Db, name: string): number {
  const row = db
    .prepare(`INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value`)
    .get(name) as { value: number };
  return Number(row.value);
}

export class LabelService extends EventEmitter {
  private readonly journal: Journal;
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly templates: Map<string, LabelTemplate>;
  private readonly workers = new Map<string, PrinterWorker>();
  private readonly companyPrefix: string | null;
  private readonly ssccExtension: string;
  private readonly reprintMark: string;
  private readonly serialPrefix: string;
  private started = false;

  constructor(opts: LabelServiceOptions) {
    super();
    this.journal = opts.journal;
    this.db = opts.db;
    this.logger = (opts.logger ?? silentLogger()).child({ component: 'labels' });
    this.clock = opts.clock ?? systemClock;
    this.templates = opts.templates instanceof Map ? opts.templates : new Map(opts.templates.map((t) => [t.name, t]));
    this.companyPrefix = opts.companyPrefix ?? null;
    if (this.companyPrefix !== null && !/^[0-9]{4,12}$/.test(this.companyPrefix)) {
      throw new LgError('LG_ERR_CONFIG_INVALID', { file: 'config', detail: `site.gs1CompanyPrefix ${JSON.stringify(this.companyPrefix)} must be 4 to 12 digits` });
    }
    if (!/^[0-9]$/.test(this.ssccExtensionOf(opts))) {
      throw new LgError('LG_ERR_CONFIG_INVALID', { file: 'config', detail: 'labels.ssccExtension must be one digit' });
    }
    this.ssccExtension = opts.ssccExtension ?? '0';
    this.reprintMark = opts.reprintMark ?? 'REPRINT';
    this.serialPrefix = opts.serialPrefix ?? '';
    for (const p of opts.printers) {
      this.workers.set(p.id, new PrinterWorker(this, p, { ...DEFAULT_TIMING, ...(p.timing ?? {}) }, this.logger.child({ deviceId: p.id })));
    }
  }

  private ssccExtensionOf(opts: LabelServiceOptions): string {
    return opts.ssccExtension ?? '0';
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────

  /**
   * Recover (jobs left in `sending`/`sent` → `needs_confirmation`, never resent), then start one
   * worker per printer. Resolves once recovery is committed; workers run in the background.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const recovered = await this.journal.submit((tx) => {
      const rows = tx.db.prepare(`${JOB_SELECT} WHERE j.state IN ('sending','sent')`).all() as JobRow[];
      for (const r of rows) {
        this.toNeedsConfirmation(tx, r, 'restart', 'LG_ERR_PRINTER_CONNECTION_LOST', `found in state ${r.state} at start-up: the printer may have received it`);
      }
      return rows.map((r) => r.id);
    });
    if (recovered.length) this.logger.error({ jobs: recovered }, 'print jobs interrupted by a restart need an operator decision (printed or reprint)');
    for (const id of recovered) this.emitJob(id);
    for (const w of this.workers.values()) w.start();
  }

  /** Stop the workers (bounded by the printers' timeouts). Stop this before closing the journal. */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
  }

  // ── creating labels ────────────────────────────────────────────────────────────────────────

  /** Resolve a template name or a kind for a printer. */
  template(nameOrKind: string, printer?: string): LabelTemplate {
    const direct = this.templates.get(nameOrKind);
    if (direct) return direct;
    const setup = printer ? this.workers.get(printer)?.setup : undefined;
    const mapped = setup?.templates?.[nameOrKind as 'case'] ?? `${nameOrKind}-4x6`;
    const t = this.templates.get(mapped);
    if (!t) throw new LgError('LG_ERR_LABEL_TEMPLATE', { template: nameOrKind, detail: 'no such template' });
    return t;
  }

  /**
   * Issue a label: in ONE transaction allocate its serial/SSCC, render it, append `label.queued`
   * and queue the print job. Throws (nothing committed, no number spent) on any bad field.
   */
  async createLabel(req: LabelRequest): Promise<QueuedLabel> {
    const worker = this.worker(req.printer);
    const t = this.template(req.template, req.printer);
    // Idle printer worker: the job is committed as `sending` in this same transaction (one commit
    // before the bytes instead of two) while the worker asks `~HS` meanwhile — see PrinterWorker.reserve.
    const reserved = worker.reserve();
    let res: QueuedLabel & { direct: boolean };
    try {
      res = await this.journal.submit((tx) => {
      const fields: LabelFields = { ...req.fields };
      let serial: string | null = null;
      let sscc: string | null = null;
      if (t.identity === 'serial') {
        serial = `${this.serialPrefix}${nextCounter(tx.db, 'labels.serial')}`;
        fields[fieldWithAi(t, '21')] = serial;
      } else if (t.identity === 'sscc') {
        if (!this.companyPrefix) {
          throw new LgError('LG_ERR_LABEL_TEMPLATE', { template: t.name, detail: 'an SSCC needs the GS1 company prefix (site.gs1CompanyPrefix in the config)' });
        }
        const counter = `labels.sscc.${this.ssccExtension}${this.companyPrefix}`;
        const n = nextCounter(tx.db, counter);
        const max = 10 ** (16 - this.companyPrefix.length) - 1;
        if (n > max) throw new LgError('LG_ERR_LABEL_SERIAL_EXHAUSTED', { counter, max });
        sscc = makeSscc(this.ssccExtension, this.companyPrefix, n);
        fields[fieldWithAi(t, '00')] = sscc;
      }
      const labelId = uuidv7(tx.now.getTime());
      const jobId = uuidv7(tx.now.getTime());
      const rendered = renderLabelDetailed(t, fields, {
        printer: worker.setup.model,
        comment: `linegate label ${labelId} job ${jobId}`,
        now: tx.now,
      });
      const record = tx.append({
        type: 'label.queued',
        status: 'accepted',
        station: req.station ?? worker.setup.station ?? null,
        batch: req.batch ?? null,
        lot: req.lot ?? null,
        operator: req.operator ?? null,
        device: worker.setup.id,
        payload: {
          labelId,
          jobId,
          kind: t.kind,
          template: t.name,
          printer: worker.setup.id,
          serial,
          sscc,
          gs1: rendered.symbols.map((s) => s.hri),
          fields: jsonFields(fields),
          trigger: req.trigger ?? null,
        },
      });
      const nowIso = tx.now.toISOString();
      tx.db
        .prepare(`INSERT INTO labels (id, kind, serial, sscc, batch, lot, template, fields, record_seq, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)`)
        .run(labelId, t.kind, serial, sscc, req.batch ?? null, req.lot ?? null, t.name, JSON.stringify(jsonFields(fields)), record.seq, nowIso);
      // Direct only when nothing else of this printer is waiting or under way (checked inside the
      // transaction, after any job inserted earlier in it): print order is queue order.
      const direct = reserved && !tx.db.prepare(`SELECT 1 FROM print_jobs WHERE printer = ? AND state IN ('queued','sending','sent') LIMIT 1`).get(worker.setup.id);
      insertJob(tx, { id: jobId, labelId, recordSeq: record.seq, printer: worker.setup.id, template: t.name, zpl: rendered.zpl, reprintOf: null, reprintReason: null, claimed: direct });
      return { labelId, jobId, serial, sscc, record, zpl: rendered.zpl, direct };
    });
    } catch (err) {
      if (reserved) worker.release(null);
      throw err;
    }
    const { direct, ...queued } = res;
    if (reserved) worker.release(direct ? res.jobId : null);
    this.emitJob(res.jobId);
    if (!direct) worker.kick();
    return queued;
  }

  // ── operator decisions ─────────────────────────────────────────────────────────────────────

  /**
   * Resolve a `needs_confirmation` job: `printed` (the label is there: confirmed) or `reprint`
   * (it is not, or not usable: a new job with the reprint mark; needs a reason).
   */
  async decide(jobId: string, decision: OperatorDecision, by: { actor: string; reason?: string | null; printer?: string }): Promise<PrintJobView> {
    if (decision !== 'printed' && decision !== 'reprint') {
      throw new LgError('LG_ERR_VALIDATION', { detail: `decision must be printed or reprint, not ${String(decision)}` });
    }
    if (decision === 'reprint' && !by.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'reprint a label' });
    const result = await this.journal.submit((tx) => {
      const r = this.jobRow(tx.db, jobId);
      if (r.state !== 'needs_confirmation') {
        throw new LgError('LG_ERR_PRINT_JOB_STATE', { job: jobId, state: r.state, action: decision });
      }
      const now = tx.now.toISOString();
      if (decision === 'printed') {
        tx.db
          .prepare(`UPDATE print_jobs SET state='confirmed', decided_by=?, confirmed_at=?, updated_at=?, status_text=? WHERE id=?`)
          .run(by.actor, now, now, `confirmed printed by ${by.actor}`, jobId);
        this.appendJobRecord(tx, r, 'label.printed', { confirmedBy: 'operator', decision: 'printed', reason: by.reason ?? null }, by.actor);
        tx.audit({ actor: by.actor, action: 'label.confirm_printed', entity: 'print_job', entityId: jobId, reason: by.reason ?? null, old: { state: r.state }, new: { state: 'confirmed' } });
        return { newJob: null as string | null };
      }
      const newJob = this.reprintInTx(tx, r, by.actor, by.reason!, by.printer);
      tx.db
        .prepare(`UPDATE print_jobs SET state='failed', decided_by=?, updated_at=?, status_text=? WHERE id=?`)
        .run(by.actor, now, `not printed per ${by.actor}; reprinted as job ${newJob}`, jobId);
      tx.audit({ actor: by.actor, action: 'label.reprint', entity: 'print_job', entityId: jobId, reason: by.reason!, old: { state: r.state }, new: { state: 'failed', reprint: newJob } });
      return { newJob };
    });
    this.emitJob(jobId);
    if (result.newJob) {
      this.emitJob(result.newJob);
      this.kickFor(result.newJob);
    }
    return this.getJob(jobId)!;
  }

  /** Reprint a label whose job ended (confirmed, sent, failed), e.g. a damaged label. Needs a reason. */
  async reprint(jobId: string, by: { actor: string; reason: string; printer?: string }): Promise<PrintJobView> {
    if (!by.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'reprint a label' });
    const newJob = await this.journal.submit((tx) => {
      const r = this.jobRow(tx.db, jobId);
      if (!['confirmed', 'sent', 'failed'].includes(r.state)) {
        throw new LgError('LG_ERR_PRINT_JOB_STATE', { job: jobId, state: r.state, action: 'reprint' });
      }
      const id = this.reprintInTx(tx, r, by.actor, by.reason, by.printer);
      tx.audit({ actor: by.actor, action: 'label.reprint', entity: 'print_job', entityId: jobId, reason: by.reason, old: { state: r.state }, new: { reprint: id } });
      return id;
    });
    this.emitJob(newJob);
    this.kickFor(newJob);
    return this.getJob(newJob)!;
  }

  /** Cancel a job that has not printed (queued or needs_confirmation). Needs a reason. */
  async cancel(jobId: string, by: { actor: string; reason: string }): Promise<PrintJobView> {
    if (!by.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'cancel a print job' });
    await this.journal.submit((tx) => {
      const r = this.jobRow(tx.db, jobId);
      if (r.state !== 'queued' && r.state !== 'needs_confirmation') {
        throw new LgError('LG_ERR_PRINT_JOB_STATE', { job: jobId, state: r.state, action: 'cancel' });
      }
      const now = tx.now.toISOString();
      tx.db
        .prepare(`UPDATE print_jobs SET state='failed', decided_by=?, updated_at=?, status_text=? WHERE id=? AND state=?`)
        .run(by.actor, now, `cancelled by ${by.actor}: ${by.reason}`, jobId, r.state);
      this.appendJobRecord(tx, r, 'label.cancelled', { reason: by.reason, fromState: r.state }, by.actor);
      tx.audit({ actor: by.actor, action: 'label.cancel', entity: 'print_job', entityId: jobId, reason: by.reason, old: { state: r.state }, new: { state: 'failed' } });
    });
    this.emitJob(jobId);
    return this.getJob(jobId)!;
  }

  // ── queries ────────────────────────────────────────────────────────────────────────────────

  getJob(id: string): PrintJobView | undefined {
    const r = this.db.prepare(`${JOB_SELECT} WHERE j.id = ?`).get(id) as JobRow | undefined;
    return r ? toView(r) : undefined;
  }

  listJobs(filter: { printer?: string; state?: JobState; labelId?: string; limit?: number } = {}): PrintJobView[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.printer) (where.push('j.printer = ?'), args.push(filter.printer));
    if (filter.state) (where.push('j.state = ?'), args.push(filter.state));
    if (filter.labelId) (where.push('j.label_id = ?'), args.push(filter.labelId));
    const sql = `${JOB_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY j.seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 100) as JobRow[]).map(toView);
  }

  /** Labels issued (newest first), e.g. every case label of a batch — for genealogy and the UI. */
  listLabels(filter: { batch?: string; kind?: string; limit?: number } = {}): LabelView[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.batch) (where.push('batch = ?'), args.push(filter.batch));
    if (filter.kind) (where.push('kind = ?'), args.push(filter.kind));
    const rows = this.db
      .prepare(`SELECT * FROM labels${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, record_seq DESC LIMIT ?`)
      .all(...args, filter.limit ?? 1000) as Array<{ id: string; kind: string; serial: string | null; sscc: string | null; batch: string | null; lot: string | null; template: string; fields: string; record_seq: number; created_at: string }>;
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      serial: r.serial,
      sscc: r.sscc,
      batch: r.batch,
      lot: r.lot,
      template: r.template,
      fields: JSON.parse(r.fields) as Record<string, string | number | null>,
      recordSeq: r.record_seq,
      createdAt: r.created_at,
    }));
  }

  printerStatus(id: string): PrinterStatusView {
    return this.worker(id).statusView();
  }

  printerStatuses(): PrinterStatusView[] {
    return [...this.workers.values()].map((w) => w.statusView());
  }

  /**
   * The labels part of /health/ready (issue 11.11). `degraded` while a printer is not ready OR a
   * job waits in `needs_confirmation`: until an operator says printed or reprint, a case may be
   * without its label and the batch cannot be called complete. Those jobs are named (oldest first,
   * at most HEALTH_JOBS of them; `needsConfirmationTotal` counts all) so the page can link to them.
   */
  health(): { state: 'online' | 'degraded'; printers: PrinterStatusView[]; needsConfirmation: NeedsConfirmationView[]; needsConfirmationTotal: number } {
    const printers = this.printerStatuses();
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM print_jobs WHERE state = 'needs_confirmation'`).get() as { n: number }).n;
    const rows = total
      ? (this.db.prepare(`${JOB_SELECT} WHERE j.state = 'needs_confirmation' ORDER BY j.updated_at, j.seq LIMIT ?`).all(HEALTH_JOBS) as JobRow[])
      : [];
    const needsConfirmation = rows.map((r) => ({
      job: r.id,
      labelId: r.label_id,
      printer: r.printer,
      station: this.workers.get(r.printer)?.setup.station ?? null,
      batch: r.batch,
      serial: r.serial,
      sscc: r.sscc,
      code: r.error_code,
      reason: r.status_text,
      since: r.updated_at,
    }));
    return { state: printers.every((p) => p.ready) && total === 0 ? 'online' : 'degraded', printers, needsConfirmation, needsConfirmationTotal: total };
  }

  /** Ask every worker to look at its queue now (after an external change). */
  kick(): void {
    for (const w of this.workers.values()) w.kick();
  }

  // ── internals used by the workers ──────────────────────────────────────────────────────────

  /** @internal */
  get jdb(): Db {
    return this.db;
  }
  /** @internal */
  get jnl(): Journal {
    return this.journal;
  }
  /** @internal */
  get clk(): Clock {
    return this.clock;
  }

  /** @internal */
  nextQueued(printer: string): JobRow | undefined {
    return this.db.prepare(`${JOB_SELECT} WHERE j.printer = ? AND j.state = 'queued' ORDER BY j.seq LIMIT 1`).get(printer) as JobRow | undefined;
  }

  /** @internal */
  counts(printer: string): { queued: number; needsConfirmation: number } {
    const rows = this.db
      .prepare(`SELECT state, COUNT(*) AS n FROM print_jobs WHERE printer = ? AND state IN ('queued','needs_confirmation') GROUP BY state`)
      .all(printer) as Array<{ state: string; n: number }>;
    return {
      queued: rows.find((r) => r.state === 'queued')?.n ?? 0,
      needsConfirmation: rows.find((r) => r.state === 'needs_confirmation')?.n ?? 0,
    };
  }

  /** @internal */
  jobRow(db: Db, id: string): JobRow {
    const r = db.prepare(`${JOB_SELECT} WHERE j.id = ?`).get(id) as JobRow | undefined;
    if (!r) throw new LgError('LG_ERR_PRINT_JOB_NOT_FOUND', { job: id });
    return r;
  }

  /** @internal */
  appendJobRecord(tx: TxContext, r: JobRow, type: string, extra: Record<string, unknown>, operator: string | null = null, errorCode: ErrorCode | null = null): JournalRecord {
    return tx.append({
      type,
      status: 'accepted',
      errorCode,
      message: errorCode ? formatMessage(errorCode, { printer: r.printer, job: r.id, bytes: 'some' }) : null,
      station: this.workers.get(r.printer)?.setup.station ?? null,
      batch: r.batch,
      lot: r.lot,
      operator,
      device: r.printer,
      payload: { labelId: r.label_id, jobId: r.id, template: r.template, printer: r.printer, serial: r.serial, sscc: r.sscc, reprintOf: r.reprint_of, attempts: r.attempts, ...extra },
    });
  }

  /** @internal */
  toNeedsConfirmation(tx: TxContext, r: JobRow, reason: 'connection_lost' | 'no_confirmation' | 'restart' | 'write_timeout', code: ErrorCode, detail: string): boolean {
    const now = tx.now.toISOString();
    const info = tx.db
      .prepare(`UPDATE print_jobs SET state='needs_confirmation', status_text=?, error_code=?, updated_at=? WHERE id=? AND state IN ('sending','sent')`)
      .run(detail, code, now, r.id);
    if (info.changes !== 1) return false;
    this.appendJobRecord(tx, r, 'label.unconfirmed', { reason, detail, fromState: r.state }, null, code);
    return true;
  }

  /** @internal */
  emitJob(id: string): void {
    const v = this.getJob(id);
    if (v) this.emit('job', v);
  }

  /** @internal */
  emitStatus(v: PrinterStatusView): void {
    this.emit('printer-status', v);
  }

  private reprintInTx(tx: TxContext, r: JobRow, actor: string, reason: string, printer?: string): string {
    const target = this.worker(printer ?? r.printer);
    const t = this.templates.get(r.template);
    if (!t) throw new LgError('LG_ERR_LABEL_TEMPLATE', { template: r.template, detail: 'template no longer exists' });
    const fields = JSON.parse(r.fields) as LabelFields;
    const jobId = uuidv7(tx.now.getTime());
    const rendered = renderLabelDetailed(t, fields, {
      printer: target.setup.model,
      reprintMark: this.reprintMark,
      comment: `linegate label ${r.label_id} job ${jobId} reprint-of ${r.id}`,
      now: tx.now,
    });
    const rec = this.appendJobRecord(tx, { ...r, printer: target.setup.id }, 'label.reprint_requested', { newJobId: jobId, reprintOf: r.id, reason, gs1: rendered.symbols.map((s) => s.hri) }, actor);
    insertJob(tx, { id: jobId, labelId: r.label_id, recordSeq: rec.seq, printer: target.setup.id, template: r.template, zpl: rendered.zpl, reprintOf: r.id, reprintReason: reason });
    return jobId;
  }

  private kickFor(jobId: string): void {
    const j = this.getJob(jobId);
    if (j) this.workers.get(j.printer)?.kick();
  }

  private worker(id: string): PrinterWorker {
    const w = this.workers.get(id);
    if (!w) throw new LgError('LG_ERR_PRINTER_NOT_FOUND', { printer: id });
    return w;
  }
}

function fieldWithAi(t: LabelTemplate, ai: string): string {
  const e = Object.entries(t.fields).find(([, f]) => f.ai === ai);
  if (!e) throw new LgError('LG_ERR_LABEL_TEMPLATE', { template: t.name, detail: `no field with ai ${ai}` });
  return e[0];
}

function jsonFields(fields: LabelFields): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = v instanceof Date ? v.toISOString().slice(0, 10) : v;
  }
  return out;
}

function insertJob(
  tx: TxContext,
  j: { id: string; labelId: string; recordSeq: number; printer: string; template: string; zpl: string; reprintOf: string | null; reprintReason: string | null; claimed?: boolean },
): void {
  const now = tx.now.toISOString();
  // `claimed`: inserted already in `sending` for the printer's worker (the same guarantee as
  // committing `sending` in a transaction of its own: committed before any byte is written).
  tx.db
    .prepare(
      `INSERT INTO print_jobs (id, label_id, record_seq, printer, template, zpl, state, attempts, status_text, reprint_of, reprint_reason, created_at, updated_at)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    )
    .run(j.id, j.labelId, j.recordSeq, j.printer, j.template, j.zpl, j.claimed ? 'sending' : 'queued', j.claimed ? 1 : 0, j.claimed ? 'sending' : null, j.reprintOf, j.reprintReason, now, now);
}

// ── one worker per printer ───────────────────────────────────────────────────────────────────

class PrinterWorker {
  private conn: PrinterConnection | null = null;
  private stopped = true;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private kicked = false;
  private readonly backoff: Backoff;
  private status: Omit<PrinterStatusView, 'queued' | 'needsConfirmation'>;
  private abort = new AbortController();
  /** In the idle wait of the loop (no job found): a new label may be handed over directly. */
  private idle = false;
  /** A reservation by createLabel: resolves with the job it committed in `sending`, or null. */
  private direct: { promise: Promise<string | null>; resolve: (jobId: string | null) => void } | null = null;

  constructor(
    private readonly svc: LabelService,
    readonly setup: PrinterSetup,
    private readonly timing: PrinterTiming,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff({ baseMs: Math.min(250, timing.retryMaxMs), maxMs: timing.retryMaxMs });
    this.status = {
      printer: setup.id,
      station: setup.station ?? null,
      transport: setup.transport.describe(),
      ready: false,
      condition: 'unknown',
      code: null,
      message: null,
      faults: [],
      since: svc.clk.now().toISOString(),
      lastCheckedAt: null,
      hostStatus: null,
    };
  }

  private get canAsk(): boolean {
    return this.setup.transport.supportsStatus && this.setup.model.hostStatus;
  }

  statusView(): PrinterStatusView {
    return { ...this.status, faults: [...this.status.faults], ...this.svc.counts(this.setup.id) };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.abort = new AbortController();
    this.loop = this.run().catch((err) => this.log.error({ err }, 'print worker crashed; restart the gateway'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.kick();
    await this.loop;
    this.loop = null;
    this.dropConnection();
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * Direct hand-over (issue 18: the trigger → printer path under load). When the worker is idle —
   * waiting with no job and no kick pending — createLabel may insert its job already in `sending`
   * in its own transaction: one commit before the bytes instead of two (queued, then sending). The
   * worker wakes at once and asks `~HS` while that commit runs; it writes only after the commit
   * returned AND the printer answered ready. Not ready, no connection, or stopping: the job goes
   * back to `queued` (nothing was written, attempts restored) and takes the ordinary path. A crash
   * between the commit and the write leaves `sending`, which start-up turns into
   * needs_confirmation — exactly as after the ordinary claim. Returns whether it reserved; the
   * caller must then call release() with the job id it committed as `sending`, or null.
   */
  reserve(): boolean {
    if (this.stopped || !this.idle || this.kicked || this.direct) return false;
    let resolve!: (jobId: string | null) => void;
    const promise = new Promise<string | null>((r) => (resolve = r));
    this.direct = { promise, resolve };
    this.kick();
    return true;
  }

  release(jobId: string | null): void {
    this.direct?.resolve(jobId);
  }

  private async pause(ms: number): Promise<void> {
    if (this.kicked || this.stopped) {
      this.kicked = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
    this.wake = null;
    this.kicked = false;
  }

  private setCondition(condition: PrinterCondition, detail: string | null, hs: HostStatus | null): void {
    const now = this.svc.clk.now().toISOString();
    let code: ErrorCode | null = null;
    let faults: PrinterCondition[] = [];
    let ready = false;
    if (condition === 'ready' || hs) {
      const r = hs ? readiness(hs) : { ready: true, condition: 'ready' as const, code: null, faults: [] };
      ready = r.ready;
      code = r.code;
      faults = r.faults;
      condition = r.condition;
    } else {
      code = condition === 'unknown' ? null : 'LG_ERR_PRINTER_OFFLINE';
      faults = [condition];
    }
    const message = code ? `${formatMessage(code, { printer: this.setup.id })}${detail ? ` (${detail})` : ''}` : null;
    const changed = condition !== this.status.condition || faults.join() !== this.status.faults.join();
    this.status = { ...this.status, ready, condition, code, faults, message, lastCheckedAt: now, hostStatus: hs, ...(changed ? { since: now } : {}) };
    if (changed) {
      const lvl = ready ? 'info' : 'warn';
      this.log[lvl]({ condition, faults, code }, ready ? 'printer ready' : `printer not ready: ${condition}`);
      this.svc.emitStatus(this.statusView());
    }
  }

  private dropConnection(): void {
    this.conn?.close();
    this.conn = null;
  }

  private async ensureConnection(): Promise<PrinterConnection | null> {
    if (this.conn && !this.conn.closed) return this.conn;
    this.conn = null;
    try {
      this.conn = await this.setup.transport.connect(this.timing.connectTimeoutMs);
      return this.conn;
    } catch (err) {
      this.setCondition('offline', (err as Error).message, null);
      return null;
    }
  }

  /** Ask ~HS; null = no usable answer (the connection is dropped then, so a late answer cannot confuse the next one). */
  private async askStatus(conn: PrinterConnection): Promise<HostStatus | null> {
    try {
      const hs = await conn.queryStatus(this.timing.statusTimeoutMs);
      if (!hs) {
        this.dropConnection();
        this.setCondition('no_answer', 'no answer to ~HS', null);
      } else this.setCondition('ready', null, hs);
      return hs;
    } catch (err) {
      this.dropConnection();
      this.setCondition('offline', (err as Error).message, null);
      return null;
    }
  }

  private async holdJob(job: JobRow): Promise<void> {
    const text = `held: ${this.status.message ?? this.status.condition}`;
    if (job.status_text === text) return;
    await this.svc.jnl
      .submit((tx) => {
        tx.db.prepare(`UPDATE print_jobs SET status_text=?, error_code=?, updated_at=? WHERE id=? AND state='queued'`).run(text, this.status.code, tx.now.toISOString(), job.id);
      })
      .catch((err) => this.log.error({ err }, 'could not record the hold reason'));
    this.svc.emitJob(job.id);
  }

  private async run(): Promise<void> {
    let lastIdleCheck = 0;
    while (!this.stopped || this.direct) {
      if (this.direct) {
        const direct = this.direct;
        try {
          await this.processDirect(direct.promise);
        } catch (err) {
          this.log.error({ err }, 'print job step failed');
          await this.pause(this.backoff.next());
        } finally {
          this.direct = null;
        }
        continue;
      }
      const job = this.svc.nextQueued(this.setup.id);
      if (!job) {
        if (this.canAsk && this.timing.idleStatusMs > 0 && Date.now() - lastIdleCheck >= this.timing.idleStatusMs) {
          lastIdleCheck = Date.now();
          const conn = await this.ensureConnection();
          if (conn) await this.askStatus(conn);
        }
        if (this.stopped) break;
        this.idle = true;
        try {
          await this.pause(this.timing.idleStatusMs > 0 ? this.timing.idleStatusMs : 60_000);
        } finally {
          this.idle = false;
        }
        continue;
      }
      try {
        await this.process(job);
      } catch (err) {
        // Only store failures get here (the journal could not commit): wait and look again.
        this.log.error({ err, job: job.id }, 'print job step failed');
        await this.pause(this.backoff.next());
      }
    }
  }

  /** The connection and, where the printer can answer, its `~HS` (null: no usable answer). */
  private async preflight(): Promise<{ conn: PrinterConnection | null; hs: HostStatus | null }> {
    const conn = await this.ensureConnection();
    if (!conn || !this.canAsk) return { conn, hs: null };
    return { conn, hs: await this.askStatus(conn) };
  }

  /** The connection to send `job` on, or null: the job is held (reason recorded) and the worker paused. */
  private async readyToSend(job: JobRow, pre: { conn: PrinterConnection | null; hs: HostStatus | null }): Promise<PrinterConnection | null> {
    const { conn, hs } = pre;
    if (!conn) {
      await this.holdJob(job);
      await this.pause(this.backoff.next());
      return null;
    }
    if (this.canAsk) {
      if (!hs || !readiness(hs).ready) {
        await this.holdJob(job);
        await this.pause(hs ? this.timing.pollIntervalMs : Math.max(this.timing.pollIntervalMs, this.backoff.next()));
        return null;
      }
    } else {
      this.setCondition('ready', 'one-way transport: status unknown', null);
    }
    this.backoff.reset();
    return conn;
  }

  private async process(job: JobRow): Promise<void> {
    const conn = await this.readyToSend(job, await this.preflight());
    if (!conn) return;

    // Commit `sending` BEFORE the first byte: a crash from here on leaves the job in `sending`,
    // which start-up turns into needs_confirmation instead of a second print.
    const claimed = await this.svc.jnl.submit((tx) => {
      const info = tx.db
        .prepare(`UPDATE print_jobs SET state='sending', attempts=attempts+1, status_text='sending', error_code=NULL, updated_at=? WHERE id=? AND state='queued'`)
        .run(tx.now.toISOString(), job.id);
      return info.changes === 1;
    });
    if (!claimed) return; // cancelled meanwhile
    this.svc.emitJob(job.id);
    await this.send(conn, { ...job, state: 'sending', attempts: job.attempts + 1 });
  }

  /**
   * A job createLabel committed directly in `sending` (see reserve): `~HS` runs while that commit
   * does; bytes go out only once both are done and the printer is ready. Otherwise the job goes
   * back to `queued` — nothing was written — with the hold reason, and the ordinary loop takes it.
   */
  private async processDirect(claim: Promise<string | null>): Promise<void> {
    const pre = this.preflight();
    const jobId = await claim;
    const status = await pre;
    if (!jobId) return;
    const row = this.svc.jobRow(this.svc.jdb, jobId);
    if (row.state !== 'sending') return;
    const ready = !this.stopped && status.conn !== null && (!this.canAsk || (status.hs !== null && readiness(status.hs).ready));
    if (!ready) {
      const text = this.stopped ? 'not sent: the gateway stopped' : `held: ${this.status.message ?? this.status.condition}`;
      const code = this.stopped ? null : this.status.code;
      await this.svc.jnl.submit((tx) => {
        tx.db
          .prepare(`UPDATE print_jobs SET state='queued', attempts=attempts-1, status_text=?, error_code=?, updated_at=? WHERE id=? AND state='sending'`)
          .run(text, code, tx.now.toISOString(), jobId);
      });
      this.svc.emitJob(jobId);
      if (this.stopped) return;
      await this.readyToSend({ ...row, state: 'queued', attempts: row.attempts - 1, status_text: text }, status);
      return;
    }
    const conn = await this.readyToSend(row, status);
    if (!conn) return; // cannot happen: ready was checked above
    await this.send(conn, row);
  }

  /** Write a job committed in `sending`, then record `sent` and wait for the printer's confirmation. */
  private async send(conn: PrinterConnection, job: JobRow): Promise<void> {
    const res = await conn.write(Buffer.from(job.zpl, 'utf8'), this.timing.writeTimeoutMs);
    if (!res.ok) {
      this.dropConnection();
      if (res.bytesOut === 0) {
        // Nothing left this host: safe to send again later.
        await this.svc.jnl.submit((tx) => {
          tx.db
            .prepare(`UPDATE print_jobs SET state='queued', status_text=?, updated_at=? WHERE id=? AND state='sending'`)
            .run(`not sent: ${res.error.message}`, tx.now.toISOString(), job.id);
        });
        this.setCondition('offline', res.error.message, null);
      } else {
        await this.svc.jnl.submit((tx) =>
          this.svc.toNeedsConfirmation(
            tx,
            job,
            'connection_lost',
            'LG_ERR_PRINTER_CONNECTION_LOST',
            `connection lost while sending (${res.error.message}); not resent — confirm printed or reprint`,
          ),
        );
        this.setCondition('offline', res.error.message, null);
        this.log.error({ job: job.id, err: res.error.message }, 'connection lost while sending: job needs an operator decision (printed or reprint)');
      }
      this.svc.emitJob(job.id);
      return;
    }

    // All bytes out. `sent` (+ record) is committed in the background; the journal keeps order.
    const sentCommit = this.svc.jnl
      .submit((tx) => {
        const now = tx.now.toISOString();
        tx.db.prepare(`UPDATE print_jobs SET state='sent', sent_at=?, status_text='sent', updated_at=? WHERE id=? AND state='sending'`).run(now, now, job.id);
        this.svc.appendJobRecord(tx, { ...job, sent_at: now }, 'label.sent', { bytes: res.bytes });
      })
      .then(() => this.svc.emitJob(job.id));

    if (!this.canAsk) {
      // One-way printer: `sent` is as far as we can honestly go.
      await sentCommit;
      return;
    }
    await this.confirm({ ...job, state: 'sent' }, sentCommit, conn);
  }

  /**
   * Poll ~HS until the buffer is empty → confirmed. A connection that breaks → needs_confirmation
   * at once (bytes went out; we never resend). While the printer reports a fault (paper out…) with
   * our job still in its buffer, the wait goes on: the job prints once the fault is fixed.
   *
   * Issue 10.7: only an answer on the connection that CARRIED the job proves anything. A printer
   * works through its input in order, so a ~HS sent after the job's bytes on the same connection is
   * answered only once the printer has taken the format (it is then counted in the buffer, or has
   * printed). An answer on any other connection describes a printer that may not have read our
   * bytes yet — they may still be in flight, or be lost when that connection is reset — so an
   * "empty buffer" there is no confirmation. Hence: silence (a slow or silent printer) never drops
   * or replaces the job's connection here; we ask again on it until confirmTimeoutMs, then
   * needs_confirmation. A connection left with a ~HS unanswered is not reused for the next job (a
   * late answer to it would be taken for the next job's confirmation).
   */
  private async confirm(job: JobRow, sentCommit: Promise<void>, conn: PrinterConnection): Promise<void> {
    let deadline = performance.now() + this.timing.confirmTimeoutMs;
    let first = true;
    let unanswered = 0;
    const needsConfirmation = async (reason: 'connection_lost' | 'no_confirmation', code: ErrorCode, detail: string): Promise<void> => {
      await sentCommit.catch(() => undefined);
      await this.svc.jnl.submit((tx) => this.svc.toNeedsConfirmation(tx, job, reason, code, detail));
      this.log.error({ job: job.id, reason }, 'print job needs an operator decision (printed or reprint)');
      this.svc.emitJob(job.id);
    };
    const lost = (detail: string): Promise<void> => {
      if (this.conn === conn) this.dropConnection();
      else conn.close();
      this.setCondition('offline', detail, null);
      return needsConfirmation('connection_lost', 'LG_ERR_PRINTER_CONNECTION_LOST', `connection lost before the printer confirmed (${detail}); not resent — confirm printed or reprint`);
    };
    for (;;) {
      if (this.stopped) {
        // Leave it in `sent`: the next start turns it into needs_confirmation (honest, no resend).
        await sentCommit.catch(() => undefined);
        return;
      }
      if (!first) await abortableSleep(this.timing.pollIntervalMs, this.abort.signal);
      first = false;
      if (conn.closed || this.conn !== conn) return lost('connection closed');
      let hs: HostStatus | null = null;
      try {
        // Every ~HS on this connection since the job was written is answered after the job: a late
        // answer to an earlier one is as good (and under load it may arrive between two asks).
        hs = await conn.queryStatus(this.timing.statusTimeoutMs, { acceptEarlier: unanswered > 0 });
      } catch (err) {
        return lost((err as Error).message);
      }
      if (!hs) {
        unanswered++;
        this.setCondition('no_answer', 'no answer to ~HS after sending (still waiting on the job\'s connection)', null);
      } else {
        this.setCondition('ready', null, hs);
        if (isIdle(hs)) {
          // A later answer to an earlier, unanswered ~HS could still arrive: start the next job on a new connection.
          if (unanswered > 0) this.dropConnection();
          await sentCommit.catch(() => undefined);
          await this.svc.jnl.submit((tx) => {
            const now = tx.now.toISOString();
            const info = tx.db
              .prepare(`UPDATE print_jobs SET state='confirmed', confirmed_at=?, status_text='printed', updated_at=? WHERE id=? AND state IN ('sending','sent')`)
              .run(now, now, job.id);
            if (info.changes === 1) this.svc.appendJobRecord(tx, job, 'label.printed', { confirmedBy: 'printer' });
          });
          this.svc.emitJob(job.id);
          return;
        }
        if (!readiness(hs).ready) deadline = performance.now() + this.timing.confirmTimeoutMs;
      }
      if (performance.now() >= deadline) {
        // The job's connection is not used again: an answer to one of our queries may still come.
        this.dropConnection();
        return needsConfirmation(
          'no_confirmation',
          'LG_ERR_PRINTER_OFFLINE',
          `the printer did not confirm within ${this.timing.confirmTimeoutMs} ms (${this.status.message ?? this.status.condition}); not resent — confirm printed or reprint`,
        );
      }
    }
  }
}
