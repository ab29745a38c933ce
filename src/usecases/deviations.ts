/**
 * Deviations (SOP 5.2.2). A deviation is numbered `DEV-<line>-<year>-<nnnn>` (unique per site: one
 * gateway per line, each with its own counter), belongs to a batch (optionally a lot, a BOM
 * material, a station and the record that caused it), and moves open → under_investigation →
 * closed. Investigating (root cause, impact on the batch, CAPA reference) is a supervisor's or QA's
 * job; closing is a QA electronic signature (meaning "closed") and needs the investigation. Every
 * step is a journal record (`deviation.raised`, `deviation.updated`, `deviation.closed`) and an
 * audit entry with old and new values, in one transaction.
 *
 * Raised automatically (per site, `deviations.auto`): events that are deviations by nature — a
 * supervisor override of a refused lot, a weighing accepted over tolerance by policy, a counter
 * discontinuity, a machine link gap during Execute, a label reprint. A sweep reads the journal for
 * those records after every commit and at start, in its own transaction, remembering the last seq
 * it looked at; (source, record) is unique, so a trigger raises exactly one deviation even if the
 * sweep runs twice after a crash.
 */
import type { JournalRecord } from '../binding/types.js';
import type { Role } from '../domain/batch.js';
import { LgError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { Journal, TxContext } from '../store/journal.js';
import { nextCounter } from '../store/counters.js';
import type { Logger } from '../util/log.js';
import type { SignatureInput, Signatures } from './signatures.js';

export type DeviationStatus = 'open' | 'under_investigation' | 'closed';
export type DeviationCategory = 'minor' | 'major' | 'critical';

export interface DeviationView {
  number: string;
  batch: string | null;
  lot: string | null;
  material: string | null;
  station: string | null;
  recordId: string | null;
  type: 'planned' | 'unplanned';
  category: DeviationCategory;
  title: string;
  description: string;
  immediateAction: string | null;
  source: string;
  status: DeviationStatus;
  rootCause: string | null;
  impact: string | null;
  capaRef: string | null;
  raisedBy: string;
  raisedAt: string;
  investigatedBy: string | null;
  closedBy: string | null;
  closedAt: string | null;
  closureSignature: string | null;
  updatedAt: string;
}

export interface DeviationInput {
  batch?: string | null;
  lot?: string | null;
  material?: string | null;
  station?: string | null;
  recordId?: string | null;
  type: 'planned' | 'unplanned';
  category: DeviationCategory;
  title: string;
  description: string;
  immediateAction?: string | null;
}

export interface InvestigationInput {
  rootCause?: string | null;
  impact?: string | null;
  capaRef?: string | null;
  category?: DeviationCategory;
  immediateAction?: string | null;
}

/** Which triggers raise a deviation by themselves (config `deviations.auto`). */
export interface AutoRaiseConfig {
  override: boolean;
  toleranceAccepted: boolean;
  counterDiscontinuity: boolean;
  linkGapInExecute: boolean;
  reprint: boolean;
}

export const DEFAULT_AUTO_RAISE: AutoRaiseConfig = { override: true, toleranceAccepted: true, counterDiscontinuity: true, linkGapInExecute: true, reprint: true };

interface Trigger {
  key: keyof AutoRaiseConfig;
  type: string;
  category: DeviationCategory;
  /** null = this record does not raise one after all. */
  describe(r: TriggerRow, db: Db): { title: string; description: string; material?: string | null } | null;
}

interface TriggerRow {
  seq: number;
  id: string;
  type: string;
  batch: string | null;
  lot: string | null;
  station: string | null;
  device: string | null;
  operator: string | null;
  payload: string;
  received_at: string;
}

const TRIGGERS: Trigger[] = [
  {
    key: 'override',
    type: 'lot.override',
    category: 'minor',
    describe: (r) => {
      const p = JSON.parse(r.payload) as { code?: string; reason?: string; overriddenCode?: string; supervisor?: string; by?: string };
      const code = p.overriddenCode ?? p.code ?? 'a refusal';
      return { title: `Lot ${r.lot ?? '?'} used under supervisor override`, description: `A refused lot scan (${code}) was overridden at ${r.station ?? '?'}: ${p.reason ?? 'no reason recorded'}` };
    },
  },
  {
    key: 'toleranceAccepted',
    type: 'material.consumed',
    category: 'major',
    describe: (r) => {
      const p = JSON.parse(r.payload) as { flag?: string; material?: string; quantity?: string; quantityUnit?: string; planned?: string; tolerancePct?: string; consumedAfter?: string; max?: string };
      if (p.flag !== 'over_tolerance') return null;
      const u = p.quantityUnit ?? '';
      return {
        title: `${p.material ?? 'Material'} consumed over tolerance`,
        description: `${p.quantity ?? '?'} ${u} of ${p.material ?? '?'} from lot ${r.lot ?? '?'} brought the batch to ${p.consumedAfter ?? '?'} ${u}, over its planned ${p.planned ?? '?'} ${u} ± ${p.tolerancePct ?? '?'} % (max ${p.max ?? '?'} ${u}); accepted by the station's flag policy`,
        material: p.material ?? null,
      };
    },
  },
  {
    key: 'counterDiscontinuity',
    type: 'counter.discontinuity',
    category: 'minor',
    describe: (r) => {
      const p = JSON.parse(r.payload) as Record<string, unknown>;
      return { title: `Counter discontinuity on ${r.device ?? 'a machine'}`, description: `An implausible counter change was not booked as production: ${JSON.stringify(p)}` };
    },
  },
  {
    key: 'linkGapInExecute',
    type: 'machine.link_restored',
    category: 'minor',
    describe: (r, db) => {
      // Only a gap while the machine was producing: its last state before the gap was Execute.
      const last = db
        .prepare(`SELECT payload FROM records WHERE device IS ? AND type = 'machine.state_changed' AND seq < ? ORDER BY seq DESC LIMIT 1`)
        .get(r.device, r.seq) as { payload: string } | undefined;
      const state = last ? (JSON.parse(last.payload) as { state?: string; to?: string }) : null;
      if ((state?.state ?? state?.to) !== 'Execute') return null;
      const p = JSON.parse(r.payload) as { gapMs?: number; since?: string };
      return { title: `Machine link lost during Execute (${r.device ?? '?'})`, description: `No data from the machine for ${p.gapMs ?? '?'} ms from ${p.since ?? '?'} while it was executing; counts across the gap were booked on reconnect.` };
    },
  },
  {
    key: 'reprint',
    type: 'label.reprint_requested',
    category: 'minor',
    describe: (r) => {
      const p = JSON.parse(r.payload) as { reason?: string; reprintOf?: string };
      return { title: 'Label reprinted', description: `Print job ${p.reprintOf ?? '?'} was reprinted: ${p.reason ?? 'no reason'}` };
    },
  },
];

const SWEEP_COUNTER = 'deviations:sweep';

export class Deviations {
  private sweeping = false;
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly signatures: Signatures,
    private readonly line: string,
    private readonly auto: AutoRaiseConfig = DEFAULT_AUTO_RAISE,
    private readonly logger?: Logger,
  ) {
    signatures.registerSnapshot('deviation', (d, number) => {
      const row = d.prepare('SELECT * FROM deviations WHERE number = ?').get(number) as Record<string, unknown> | undefined;
      if (!row) throw new LgError('LG_ERR_DEVIATION_NOT_FOUND', { number });
      // What QA signs when closing: the deviation and its investigation (not the signature fields themselves).
      const { closed_by: _c, closed_at: _a, closure_signature: _s, status: _st, updated_at: _u, ...content } = row;
      return { kind: 'deviation', v: 1, deviation: content };
    });
  }

  get(number: string): DeviationView | null {
    const r = this.db.prepare('SELECT * FROM deviations WHERE number = ?').get(number) as Record<string, unknown> | undefined;
    return r ? view(r) : null;
  }

  list(f: { batch?: string; status?: DeviationStatus; limit?: number } = {}): DeviationView[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.batch) (where.push('batch = ?'), args.push(f.batch));
    if (f.status) (where.push('status = ?'), args.push(f.status));
    const rows = this.db.prepare(`SELECT * FROM deviations ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY raised_at, number LIMIT ?`).all(...args, f.limit ?? 1000);
    return (rows as Array<Record<string, unknown>>).map(view);
  }

  /** Deviations of a batch that are not closed (they block its release). */
  openFor(batch: string): DeviationView[] {
    return (this.db.prepare(`SELECT * FROM deviations WHERE batch = ? AND status <> 'closed' ORDER BY number`).all(batch) as Array<Record<string, unknown>>).map(view);
  }

  /** Deviations (any status) covering one BOM material of a batch: the completion check's justification seam. */
  forMaterial(batch: string, material: string): DeviationView[] {
    return (this.db.prepare(`SELECT * FROM deviations WHERE batch = ? AND material = ? ORDER BY number`).all(batch, material) as Array<Record<string, unknown>>).map(view);
  }

  private nextNumber(tx: TxContext): string {
    const year = tx.now.getUTCFullYear();
    return `DEV-${this.line}-${year}-${String(nextCounter(this.db, `deviation:${this.line}:${year}`)).padStart(4, '0')}`;
  }

  /** Raise inside the caller's transaction (a completion justification, the sweep). */
  raiseTx(tx: TxContext, d: DeviationInput, source: string, by: string): { number: string; record: JournalRecord } {
    if (d.batch && !this.db.prepare('SELECT 1 FROM batches WHERE number = ?').get(d.batch)) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: d.batch });
    const number = this.nextNumber(tx);
    const now = tx.now.toISOString();
    this.db
      .prepare(
        `INSERT INTO deviations (number, batch, lot, material, station, record_id, type, category, title, description, immediate_action, source, status, raised_by, raised_at, updated_at)
         VALUES (@number, @batch, @lot, @material, @station, @recordId, @type, @category, @title, @description, @immediateAction, @source, 'open', @by, @now, @now)`,
      )
      .run({
        number, batch: d.batch ?? null, lot: d.lot ?? null, material: d.material ?? null, station: d.station ?? null, recordId: d.recordId ?? null,
        type: d.type, category: d.category, title: d.title, description: d.description, immediateAction: d.immediateAction ?? null, source, by, now,
      });
    const dev = this.get(number)!;
    tx.audit({ actor: by, action: 'deviation.raised', entity: 'deviation', entityId: number, reason: d.title, new: dev });
    const record = tx.append({ type: 'deviation.raised', status: 'accepted', batch: d.batch ?? null, lot: d.lot ?? null, station: d.station ?? null, operator: by, payload: { ...dev } });
    return { number, record };
  }

  async raise(d: DeviationInput, by: { id: string; role: Role }): Promise<{ deviation: DeviationView; record: JournalRecord }> {
    if (!d.title.trim() || !d.description.trim()) throw new LgError('LG_ERR_VALIDATION', { detail: 'a deviation needs a title and a description' });
    return this.journal.submit((tx) => {
      const { number, record } = this.raiseTx(tx, d, 'manual', by.id);
      return { deviation: this.get(number)!, record };
    });
  }

  /** Record the investigation (or correct it); the first time moves open → under_investigation. */
  async investigate(number: string, inv: InvestigationInput, by: { id: string; role: Role }): Promise<{ deviation: DeviationView; record: JournalRecord }> {
    if (!['supervisor', 'qa', 'admin'].includes(by.role)) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'investigate a deviation', allowed: 'supervisor, qa, admin' });
    return this.journal.submit((tx) => {
      const old = this.get(number);
      if (!old) throw new LgError('LG_ERR_DEVIATION_NOT_FOUND', { number });
      if (old.status === 'closed') throw new LgError('LG_ERR_DEVIATION_CLOSED', { number });
      const next = {
        root_cause: inv.rootCause !== undefined ? inv.rootCause : old.rootCause,
        impact: inv.impact !== undefined ? inv.impact : old.impact,
        capa_ref: inv.capaRef !== undefined ? inv.capaRef : old.capaRef,
        category: inv.category ?? old.category,
        immediate_action: inv.immediateAction !== undefined ? inv.immediateAction : old.immediateAction,
      };
      this.db
        .prepare(
          `UPDATE deviations SET root_cause = @root_cause, impact = @impact, capa_ref = @capa_ref, category = @category, immediate_action = @immediate_action,
             status = 'under_investigation', investigated_by = @by, updated_at = @now WHERE number = @number`,
        )
        .run({ ...next, by: by.id, now: tx.now.toISOString(), number });
      const dev = this.get(number)!;
      tx.audit({ actor: by.id, action: 'deviation.investigated', entity: 'deviation', entityId: number, reason: null, old, new: dev });
      const record = tx.append({ type: 'deviation.updated', status: 'accepted', batch: dev.batch, lot: dev.lot, station: dev.station, operator: by.id, payload: { number, from: old.status, to: dev.status, changes: diff(old, dev) } });
      return { deviation: dev, record };
    });
  }

  /** Close with a QA signature (meaning "closed" or "approved"); needs root cause and impact. */
  async close(number: string, signature: SignatureInput, by: { id: string; role: Role }): Promise<{ deviation: DeviationView; record: JournalRecord }> {
    const pre = this.get(number);
    if (!pre) throw new LgError('LG_ERR_DEVIATION_NOT_FOUND', { number });
    if (pre.status === 'closed') throw new LgError('LG_ERR_DEVIATION_CLOSED', { number });
    if (pre.status !== 'under_investigation') throw new LgError('LG_ERR_DEVIATION_INVALID_TRANSITION', { number, from: pre.status, to: 'closed' });
    const missing = [!pre.rootCause?.trim() && 'root cause', !pre.impact?.trim() && 'impact on the batch'].filter(Boolean);
    if (missing.length) throw new LgError('LG_ERR_DEVIATION_NOT_INVESTIGATED', { number, missing: missing.join(', ') });
    const signer = await this.signatures.authenticate(signature, 'deviation.close', by.id);
    if (signer.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: 'sign the closure of a deviation', allowed: 'qa' });
    return this.journal.submit((tx) => {
      const old = this.get(number)!;
      if (old.status !== 'under_investigation') throw new LgError('LG_ERR_DEVIATION_INVALID_TRANSITION', { number, from: old.status, to: 'closed' });
      const { record: sigRec } = this.signatures.signTx(tx, signer, {
        action: 'deviation.close', meaning: signature.meaning, entity: 'deviation', entityId: number, requestedBy: by.id, statement: signature.statement ?? null, batch: old.batch,
      });
      const now = tx.now.toISOString();
      this.db.prepare(`UPDATE deviations SET status = 'closed', closed_by = ?, closed_at = ?, closure_signature = ?, updated_at = ? WHERE number = ?`).run(signer.id, now, sigRec.id, now, number);
      const dev = this.get(number)!;
      tx.audit({ actor: signer.id, action: 'deviation.closed', entity: 'deviation', entityId: number, reason: signature.statement ?? null, old: { status: old.status }, new: { status: 'closed', signature: sigRec.id } });
      const record = tx.append({ type: 'deviation.closed', status: 'accepted', batch: dev.batch, lot: dev.lot, station: dev.station, operator: signer.id, payload: { number, signature: sigRec.id, closedBy: signer.id, closedByName: signer.name } });
      return { deviation: dev, record };
    });
  }

  /** Start the sweep cursor at the journal's head the first time (no deviations for history before the upgrade). */
  initSweep(): void {
    const has = this.db.prepare('SELECT 1 FROM counters WHERE name = ?').get(SWEEP_COUNTER);
    if (has) return;
    const max = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM records').get() as { n: number }).n;
    this.db.prepare('INSERT INTO counters (name, value) VALUES (?, ?)').run(SWEEP_COUNTER, max);
  }

  /** Raise deviations for trigger records committed since the last sweep. Coalesces concurrent calls. */
  async sweep(): Promise<number> {
    if (this.sweeping) {
      this.again = true;
      return 0;
    }
    this.sweeping = true;
    let raised = 0;
    try {
      do {
        this.again = false;
        const n = await this.journal.submit((tx) => this.sweepTx(tx));
        raised += n.raised;
        if (n.more) this.again = true;
      } while (this.again);
    } catch (err) {
      this.logger?.error({ err }, 'deviation sweep failed; it runs again on the next commit');
    } finally {
      this.sweeping = false;
    }
    return raised;
  }

  private sweepTx(tx: TxContext): { raised: number; more: boolean } {
    const enabled = TRIGGERS.filter((t) => this.auto[t.key]);
    const cur = this.db.prepare('SELECT value FROM counters WHERE name = ?').get(SWEEP_COUNTER) as { value: number } | undefined;
    const from = cur ? Number(cur.value) : 0;
    if (enabled.length === 0) return { raised: 0, more: false };
    const types = [...new Set(enabled.map((t) => t.type))];
    const limit = 500;
    const rows = this.db
      .prepare(`SELECT seq, id, type, batch, lot, station, device, operator, payload, received_at FROM records WHERE seq > ? AND status = 'accepted' AND type IN (${types.map(() => '?').join(',')}) ORDER BY seq LIMIT ?`)
      .all(from, ...types, limit) as TriggerRow[];
    let raised = 0;
    let last = from;
    for (const r of rows) {
      last = r.seq;
      for (const t of enabled) {
        if (t.type !== r.type) continue;
        const d = t.describe(r, this.db);
        if (!d) continue;
        const source = `auto:${t.key}`;
        if (this.db.prepare('SELECT 1 FROM deviations WHERE source = ? AND record_id = ?').get(source, r.id)) continue;
        const batchKnown = r.batch ? !!this.db.prepare('SELECT 1 FROM batches WHERE number = ?').get(r.batch) : false;
        this.raiseTx(tx, { batch: batchKnown ? r.batch : null, lot: r.lot, station: r.station, recordId: r.id, material: d.material ?? null, type: 'unplanned', category: t.category, title: d.title, description: d.description }, source, 'system');
        raised++;
      }
    }
    // The cursor moves to the journal's head whenever the query was not cut by its limit, also when
    // it found nothing: this runs inside the journal's transaction, so every record up to the head
    // was visible to the query. (It used to move only when an accepted trigger was found, so
    // rejected records of the trigger types — a capture with no batch — were read again by every
    // later sweep, a cost that grew with the journal.)
    const head = rows.length === limit ? last : Math.max(last, (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM records').get() as { n: number }).n);
    if (head > from) {
      this.db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value').run(SWEEP_COUNTER, head);
    }
    return { raised, more: rows.length === limit };
  }
}

function diff(a: DeviationView, b: DeviationView): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const k of Object.keys(b) as Array<keyof DeviationView>) if (a[k] !== b[k] && k !== 'updatedAt') out[k] = { from: a[k], to: b[k] };
  return out;
}

function view(r: Record<string, unknown>): DeviationView {
  const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    number: String(r.number),
    batch: s(r.batch),
    lot: s(r.lot),
    material: s(r.material),
    station: s(r.station),
    recordId: s(r.record_id),
    type: r.type as DeviationView['type'],
    category: r.category as DeviationCategory,
    title: String(r.title),
    description: String(r.description),
    immediateAction: s(r.immediate_action),
    source: String(r.source),
    status: r.status as DeviationStatus,
    rootCause: s(r.root_cause),
    impact: s(r.impact),
    capaRef: s(r.capa_ref),
    raisedBy: String(r.raised_by),
    raisedAt: String(r.raised_at),
    investigatedBy: s(r.investigated_by),
    closedBy: s(r.closed_by),
    closedAt: s(r.closed_at),
    closureSignature: s(r.closure_signature),
    updatedAt: String(r.updated_at),
  };
}
