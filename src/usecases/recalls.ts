/**
 * Issue 15: recall as an action.
 *
 * QA starts a recall for a supplier lot (optionally of one supplier), an internal lot or a batch,
 * with a reason and a Part 11 signature (user id + signing secret, re-authenticated; meaning
 * `approved`). In ONE journal transaction linegate then:
 *   - finds everything reached forward (src/domain/genealogy.ts `traceToCustomers`): the batches
 *     (through intermediates), the lots those batches produced, the pallets holding their cases,
 *     and the deliveries and customers those pallets went to;
 *   - puts on hold every affected batch by the batch lifecycle's own rules (a released batch goes
 *     to its recall hold, taking its released lots with it: src/usecases/batches.ts `holdTx`),
 *     every affected lot that is released or in quarantine, and every pallet still on site (open,
 *     closing, closed or loaded onto a delivery that has not shipped). Each hold is its own record
 *     and audit entry naming the recall; loose cases are held through their batch;
 *   - lists what already left the site: per delivery shipped, the customer, the SSCCs and batches;
 *   - records `recall.started` with the whole list, and signs that record.
 * The next scan of held stock is refused at the scan (lot at a weighing/filling station:
 * LG_ERR_LOT_ON_HOLD; case at palletising: LG_ERR_HU_CASE_ON_HOLD; pallet at dispatch:
 * LG_ERR_HU_ON_HOLD), and a delivery holding a held pallet does not ship.
 *
 * Decisions:
 *   - Starting a recall of a scope that has an open recall is refused (LG_ERR_RECALL_ALREADY_OPEN,
 *     naming it): one open recall per scope, so two lists never disagree about who holds what.
 *   - A recall that finds nothing (no lot of that supplier lot, unknown batch) is refused
 *     (LG_ERR_RECALL_NOTHING_FOUND) rather than recorded empty. Both refusals are rejected
 *     `recall.refused` records.
 *   - Closing a recall (QA, signed, with the outcome) lifts nothing: every hold is lifted only by
 *     that object's own QA disposition (lot status, batch release/rejection, pallet release-hold).
 *     The close record lists what is still on hold at that moment.
 */
import type { BatchStatus, LotStatus } from '../binding/types.js';
import type { Config } from '../config/schema.js';
import { localDate } from '../domain/numbering.js';
import type { CustomerTrace } from '../domain/genealogy.js';
import { LgError, type ErrorCode } from '../errors.js';
import { nextCounter } from '../store/counters.js';
import type { Journal, TxContext } from '../store/journal.js';
import type { Repo } from '../store/repo.js';
import type { Actor } from './actor.js';
import type { Batches } from './batches.js';
import { traceCustomers, type Exports } from './exports.js';
import type { SignatureInput, Signatures, VerifiedSigner } from './signatures.js';

type Row = Record<string, unknown>;

export interface RecallScope {
  supplierLot?: string;
  supplier?: string;
  lot?: string;
  batch?: string;
}

export interface RecallItem {
  kind: 'lot' | 'batch' | 'pallet' | 'delivery';
  ref: string;
  action: 'held' | 'already_held' | 'unchanged' | 'shipped';
  statusBefore: string | null;
  /** The object's state now (lots/batches: status; pallets: status and whether on hold). */
  now: { status: string | null; onHold?: boolean } | null;
  detail: Record<string, unknown>;
  recordSeq: number | null;
}

export interface RecallView {
  id: string;
  number: string;
  scope: { kind: 'supplier_lot' | 'lot' | 'batch'; value: string; supplier: string | null };
  reason: string;
  status: 'open' | 'closed';
  startedBy: string;
  startedAt: string;
  signature: string | null;
  closedBy: string | null;
  closedAt: string | null;
  outcome: string | null;
  closeReason: string | null;
  counts: { lotsHeld: number; batchesHeld: number; palletsHeld: number; alreadyHeld: number; deliveriesShipped: number; palletsShipped: number; stillOnHold: number };
  items: RecallItem[];
  /** What left the site: per delivery, the customer, SSCCs and batches (as found at the start). */
  shipped: Array<{ delivery: string; customer: string; customerName: string | null; customerGln: string | null; shipToGln: string | null; shippedAt: string | null; ssccs: string[]; batches: string[] }>;
}

const HOLDABLE_BATCH: readonly BatchStatus[] = ['planned', 'in_process', 'completed', 'released'];
const HOLDABLE_LOT: readonly LotStatus[] = ['released', 'quarantine'];

/** The read side of recalls (also for the read-only journal CLI). */
export class RecallQueries {
  constructor(protected readonly repo: Repo) {}

  protected get db() {
    return this.repo.db;
  }

  // ── queries ──────────────────────────────────────────────────────────────────────────────

  list(q: { status?: 'open' | 'closed' } = {}): Array<Omit<RecallView, 'items' | 'shipped'>> {
    const rows = (q.status ? this.db.prepare('SELECT * FROM recalls WHERE status = ? ORDER BY started_seq DESC').all(q.status) : this.db.prepare('SELECT * FROM recalls ORDER BY started_seq DESC').all()) as Row[];
    return rows.map((r) => {
      const { items: _i, shipped: _s, ...rest } = this.view(r);
      return rest;
    });
  }

  /** By id or number. */
  get(key: string): RecallView | null {
    const r = this.db.prepare('SELECT * FROM recalls WHERE id = ? OR number = ?').get(key, key) as Row | undefined;
    return r ? this.view(r) : null;
  }

  protected view(r: Row): RecallView {
    const lotQ = this.db.prepare('SELECT status FROM lots WHERE id = ?');
    const batchQ = this.db.prepare('SELECT status FROM batches WHERE number = ?');
    const palletQ = this.db.prepare('SELECT status, on_hold FROM pallets WHERE id = ?');
    const items = (this.db.prepare('SELECT * FROM recall_items WHERE recall = ? ORDER BY kind, ref').all(r.id) as Row[]).map((i): RecallItem => {
      const kind = i.kind as RecallItem['kind'];
      let now: RecallItem['now'] = null;
      if (kind === 'lot') now = { status: ((lotQ.get(i.ref) as Row | undefined)?.status as string | undefined) ?? null };
      if (kind === 'batch') now = { status: ((batchQ.get(i.ref) as Row | undefined)?.status as string | undefined) ?? null };
      if (kind === 'pallet') {
        const p = palletQ.get(i.ref) as Row | undefined;
        now = p ? { status: String(p.status), onHold: Boolean(p.on_hold) } : null;
      }
      return { kind, ref: String(i.ref), action: i.action as RecallItem['action'], statusBefore: (i.status_before as string | null) ?? null, now, detail: JSON.parse(String(i.detail)) as Record<string, unknown>, recordSeq: (i.record_seq as number | null) ?? null };
    });
    const shipped = items.filter((i) => i.kind === 'delivery').map((i) => i.detail as unknown as RecallView['shipped'][number]);
    const n = (kind: RecallItem['kind'], action: RecallItem['action']) => items.filter((i) => i.kind === kind && i.action === action).length;
    return {
      id: String(r.id),
      number: String(r.number),
      scope: { kind: r.scope_kind as RecallView['scope']['kind'], value: String(r.scope_value), supplier: (r.supplier as string | null) ?? null },
      reason: String(r.reason),
      status: r.status as RecallView['status'],
      startedBy: String(r.started_by),
      startedAt: String(r.started_at),
      signature: (r.signature as string | null) ?? null,
      closedBy: (r.closed_by as string | null) ?? null,
      closedAt: (r.closed_at as string | null) ?? null,
      outcome: (r.outcome as string | null) ?? null,
      closeReason: (r.close_reason as string | null) ?? null,
      counts: {
        lotsHeld: n('lot', 'held'),
        batchesHeld: n('batch', 'held'),
        palletsHeld: n('pallet', 'held'),
        alreadyHeld: items.filter((i) => i.action === 'already_held').length,
        deliveriesShipped: n('delivery', 'shipped'),
        palletsShipped: n('pallet', 'shipped'),
        stillOnHold: items.filter((i) => i.kind !== 'delivery' && isOnHold(i)).length,
      },
      items,
      shipped,
    };
  }

  // ── exports ──────────────────────────────────────────────────────────────────────────────

  /** One line per object (and per SSCC of a shipped delivery), RFC 4180, with a header. */
  csv(key: string): string {
    const r = this.get(key);
    if (!r) throw new LgError('LG_ERR_RECALL_NOT_FOUND', { recall: key });
    const head = ['recall', 'kind', 'ref', 'action', 'status_before', 'status_now', 'on_hold_now', 'sscc', 'delivery', 'customer', 'customer_name', 'customer_gln', 'ship_to_gln', 'shipped_at', 'batches', 'detail'];
    const lines = [head];
    for (const i of r.items) {
      if (i.kind === 'delivery') {
        const d = i.detail as unknown as RecallView['shipped'][number];
        for (const sscc of d.ssccs.length ? d.ssccs : ['']) lines.push([r.number, 'delivery', d.delivery, i.action, 'shipped', 'shipped', '', sscc, d.delivery, d.customer, d.customerName ?? '', d.customerGln ?? '', d.shipToGln ?? '', d.shippedAt ?? '', d.batches.join(' '), '']);
        continue;
      }
      const det = i.detail;
      const batches = i.kind === 'batch' ? i.ref : i.kind === 'pallet' ? ((det.batches as string[] | undefined) ?? []).join(' ') : String(det.producedBy ?? '');
      const text = i.kind === 'lot' ? [det.material, det.supplier && `supplier ${det.supplier}`, det.supplierLot && `supplier lot ${det.supplierLot}`, det.quantity && `${det.quantity} ${det.unit}`].filter(Boolean).join('; ') : i.kind === 'batch' ? String(det.product ?? '') : `${det.cases ?? ''} cases`;
      lines.push([r.number, i.kind, i.ref, i.action, i.statusBefore ?? '', i.now?.status ?? '', i.now?.onHold === undefined ? '' : String(i.now.onHold), i.kind === 'pallet' ? String(det.sscc ?? '') : '', i.kind === 'pallet' ? String(det.delivery ?? '') : '', '', '', '', '', '', batches, text]);
    }
    return lines.map((l) => l.map(csvCell).join(',')).join('\r\n') + '\r\n';
  }
}

/** Human-readable recall for the CLI. */
export function formatRecall(r: RecallView): string {
  const scope = r.scope.kind === 'supplier_lot' ? `supplier lot ${r.scope.value}${r.scope.supplier ? ` of ${r.scope.supplier}` : ''}` : `${r.scope.kind} ${r.scope.value}`;
  let out = `recall ${r.number} [${r.status}] of ${scope}: ${r.reason}\n  started ${r.startedAt} by ${r.startedBy}${r.closedAt ? `; closed ${r.closedAt} by ${r.closedBy}: ${r.outcome}` : ''}\n`;
  const c = r.counts;
  out += `  held by this recall: ${c.batchesHeld} batches, ${c.lotsHeld} lots, ${c.palletsHeld} pallets; already on hold: ${c.alreadyHeld}; still on hold now: ${c.stillOnHold}\n`;
  for (const i of r.items.filter((x) => x.kind !== 'delivery')) {
    const ref = i.kind === 'pallet' ? `${(i.detail.sscc as string | null) ?? i.ref}` : i.ref;
    out += `  ${i.kind} ${ref}: ${i.action}${i.statusBefore ? ` (was ${i.statusBefore})` : ''}; now ${i.now?.status ?? '?'}${i.now?.onHold ? ', on hold' : ''}\n`;
  }
  if (r.shipped.length === 0) out += '  nothing had left the site\n';
  for (const d of r.shipped) out += `  shipped: delivery ${d.delivery} to customer ${d.customer}${d.customerName ? ` — ${d.customerName}` : ''}${d.customerGln ? ` (GLN ${d.customerGln})` : ''} ${d.shippedAt ?? ''}: batches ${d.batches.join(', ')}; SSCCs ${d.ssccs.join(', ')}\n`;
  return out;
}

export class Recalls extends RecallQueries {
  constructor(
    private readonly cfg: Readonly<Config>,
    private readonly journal: Journal,
    repo: Repo,
    private readonly batches: Batches,
    private readonly signatures: Signatures,
    private readonly exports: () => Exports,
  ) {
    super(repo);
  }

  /** The scope as stored, and its key (one open recall per key). Throws LG_ERR_VALIDATION. */
  static scopeOf(s: RecallScope): { kind: 'supplier_lot' | 'lot' | 'batch'; value: string; supplier: string | null; key: string; label: string } {
    const named = [s.supplierLot, s.lot, s.batch].filter((x) => typeof x === 'string' && x.trim() !== '');
    if (named.length !== 1) throw new LgError('LG_ERR_VALIDATION', { detail: 'name exactly one of supplierLot (with an optional supplier), lot or batch' });
    if (s.supplier && !s.supplierLot) throw new LgError('LG_ERR_VALIDATION', { detail: 'supplier is only given with supplierLot' });
    if (s.supplierLot) {
      const supplier = s.supplier?.trim() || null;
      return { kind: 'supplier_lot', value: s.supplierLot, supplier, key: `supplier_lot\u0000${supplier ?? '*'}\u0000${s.supplierLot}`, label: `supplier lot ${s.supplierLot}${supplier ? ` of ${supplier}` : ''}` };
    }
    if (s.lot) return { kind: 'lot', value: s.lot, supplier: null, key: `lot\u0000${s.lot}`, label: `lot ${s.lot}` };
    return { kind: 'batch', value: s.batch!, supplier: null, key: `batch\u0000${s.batch}`, label: `batch ${s.batch}` };
  }

  /** What a recall of this scope would reach now (read-only; the same query the start runs in its transaction). */
  private reach(scope: ReturnType<typeof Recalls.scopeOf>): { trace: CustomerTrace; lots: string[] } {
    const q: RecallScope = scope.kind === 'supplier_lot' ? { supplierLot: scope.value, ...(scope.supplier ? { supplier: scope.supplier } : {}) } : scope.kind === 'lot' ? { lot: scope.value } : { batch: scope.value };
    let trace: CustomerTrace;
    try {
      trace = traceCustomers(this.repo, q);
    } catch (err) {
      // An unknown lot or batch is a recall that finds nothing.
      if (err instanceof LgError && (err.code === 'LG_ERR_LOT_NOT_FOUND' || err.code === 'LG_ERR_BATCH_NOT_FOUND')) return { trace: { lots: [], batches: [], handlingUnits: [], customers: [], onSite: [] }, lots: [] };
      throw err;
    }
    const io = this.repo.genealogyIO();
    const lots = new Set(trace.lots);
    for (const b of trace.batches) for (const l of io.lotsProducedBy(b)) lots.add(l);
    return { trace, lots: [...lots].sort() };
  }

  private openRecallOf(key: string): { id: string; number: string } | undefined {
    const r = this.db.prepare("SELECT id, number FROM recalls WHERE scope_key = ? AND status = 'open'").get(key) as Row | undefined;
    return r ? { id: String(r.id), number: String(r.number) } : undefined;
  }

  /** A refusal that is also a record: appended in its own transaction, then thrown. */
  private async refuse(code: ErrorCode, details: Record<string, unknown>, by: Actor, payload: Record<string, unknown>): Promise<never> {
    const err = new LgError(code, details);
    await this.journal.append({ type: 'recall.refused', status: 'rejected', errorCode: code, message: err.message, operator: by.id, payload: { ...payload, details } });
    throw err;
  }

  async start(input: RecallScope & { reason: string; signature: SignatureInput }, by: Actor): Promise<RecallView> {
    const scope = Recalls.scopeOf(input);
    const reason = input.reason?.trim();
    if (!reason) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'start a recall' });
    if (by.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'start a recall', allowed: 'qa' });
    const signer = await this.signatures.authenticate(input.signature, 'recall.start', by.id);
    if (signer.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: 'sign a recall', allowed: 'qa' });
    const asked = { scope: { kind: scope.kind, value: scope.value, supplier: scope.supplier }, reason, by: by.id };
    const open = this.openRecallOf(scope.key);
    if (open) await this.refuse('LG_ERR_RECALL_ALREADY_OPEN', { recall: open.number, scope: scope.label }, by, asked);
    const pre = this.reach(scope);
    if (pre.lots.length === 0 && pre.trace.batches.length === 0) await this.refuse('LG_ERR_RECALL_NOTHING_FOUND', { scope: scope.label }, by, asked);
    const id = await this.journal.submit((tx) => this.startTx(tx, scope, reason, signer, input.signature, by));
    return this.get(id)!;
  }

  private startTx(tx: TxContext, scope: ReturnType<typeof Recalls.scopeOf>, reason: string, signer: VerifiedSigner, signature: SignatureInput, by: Actor): string {
    const db = tx.db;
    // Checked again inside the transaction: what was read before it may have changed.
    const open = this.openRecallOf(scope.key);
    if (open) throw new LgError('LG_ERR_RECALL_ALREADY_OPEN', { recall: open.number, scope: scope.label });
    const { trace, lots } = this.reach(scope);
    if (lots.length === 0 && trace.batches.length === 0) throw new LgError('LG_ERR_RECALL_NOTHING_FOUND', { scope: scope.label });
    const year = localDate(tx.now, this.cfg.site.timezone).slice(0, 4);
    const number = `RC-${year}-${String(nextCounter(db, `recall:${year}`)).padStart(4, '0')}`;
    const why = `recall ${number}: ${reason}`;
    const actor: Actor = { id: signer.id, role: 'qa' };
    const now = tx.now.toISOString();
    const items: Array<Omit<RecallItem, 'now'>> = [];

    // Batches first: a released batch's hold takes its released lots with it (lotsHeld), which a
    // later signed re-release gives back exactly.
    const heldByBatch = new Map<string, number>();
    for (const b of trace.batches) {
      const row = this.repo.batch(b);
      if (!row) continue;
      if (HOLDABLE_BATCH.includes(row.status)) {
        const h = this.batches.holdTx(tx, b, actor, why, { recall: number });
        for (const l of h.lotsHeld) heldByBatch.set(l, h.record.seq);
        items.push({ kind: 'batch', ref: b, action: 'held', statusBefore: h.from, detail: { product: row.product, lotsHeld: h.lotsHeld }, recordSeq: h.record.seq });
      } else {
        items.push({ kind: 'batch', ref: b, action: row.status === 'on_hold' ? 'already_held' : 'unchanged', statusBefore: row.status, detail: { product: row.product }, recordSeq: null });
      }
    }

    for (const id of lots) {
      const lot = this.repo.lot(id);
      if (!lot) continue;
      const detail = { material: lot.material, supplier: lot.supplier, supplierLot: lot.supplierLot, producedBy: lot.producedBy, quantity: lot.quantity, unit: lot.unit };
      const viaBatch = heldByBatch.get(id);
      if (viaBatch !== undefined) {
        items.push({ kind: 'lot', ref: id, action: 'held', statusBefore: 'released', detail: { ...detail, heldWithBatch: lot.producedBy }, recordSeq: viaBatch });
        continue;
      }
      if (!HOLDABLE_LOT.includes(lot.status)) {
        items.push({ kind: 'lot', ref: id, action: lot.status === 'on_hold' ? 'already_held' : 'unchanged', statusBefore: lot.status, detail, recordSeq: null });
        continue;
      }
      db.prepare("UPDATE lots SET status = 'on_hold', updated_at = ? WHERE id = ?").run(now, id);
      tx.audit({ actor: actor.id, action: 'lot.status_changed', entity: 'lot', entityId: id, reason: why, old: { status: lot.status }, new: { status: 'on_hold' } });
      const rec = tx.append({ type: 'lot.status_changed', status: 'accepted', lot: id, operator: actor.id, payload: { from: lot.status, to: 'on_hold', reason: why, recall: number } });
      items.push({ kind: 'lot', ref: id, action: 'held', statusBefore: lot.status, detail, recordSeq: rec.seq });
    }

    const seenPallets = new Set<string>();
    for (const u of trace.handlingUnits) {
      if (seenPallets.has(u.pallet)) continue;
      seenPallets.add(u.pallet);
      const p = db.prepare('SELECT * FROM pallets WHERE id = ?').get(u.pallet) as Row;
      const detail = { sscc: (p.sscc as string | null) ?? null, batches: trace.handlingUnits.filter((x) => x.pallet === u.pallet).map((x) => x.batch), cases: u.cases, delivery: (p.delivery as string | null) ?? null };
      if (p.status === 'shipped') {
        items.push({ kind: 'pallet', ref: u.pallet, action: 'shipped', statusBefore: 'shipped', detail, recordSeq: null });
        continue;
      }
      if (p.on_hold) {
        items.push({ kind: 'pallet', ref: u.pallet, action: 'already_held', statusBefore: String(p.status), detail: { ...detail, holdReason: p.hold_reason }, recordSeq: null });
        continue;
      }
      db.prepare('UPDATE pallets SET on_hold = 1, hold_reason = ?, hold_by = ? WHERE id = ?').run(why, actor.id, u.pallet);
      const rec = tx.append({ type: 'handling_unit.held', status: 'accepted', operator: actor.id, payload: { pallet: u.pallet, sscc: detail.sscc, reason: why, recall: number } });
      tx.audit({ actor: actor.id, action: 'pallet.held', entity: 'pallet', entityId: detail.sscc ?? u.pallet, reason: why, old: { onHold: false }, new: { onHold: true, recall: number } });
      items.push({ kind: 'pallet', ref: u.pallet, action: 'held', statusBefore: String(p.status), detail, recordSeq: rec.seq });
    }

    const shipped: RecallView['shipped'] = [];
    for (const c of trace.customers) {
      for (const d of c.deliveries) {
        if (d.status !== 'shipped') continue;
        shipped.push({ delivery: d.number, customer: c.id, customerName: c.name, customerGln: c.gln, shipToGln: d.shipToGln, shippedAt: d.shippedAt, ssccs: [...d.ssccs].sort(), batches: [...d.batches].sort() });
        items.push({ kind: 'delivery', ref: d.number, action: 'shipped', statusBefore: 'shipped', detail: shipped.at(-1)!, recordSeq: null });
      }
    }

    // Cases of the affected batches: on site (held through their batch) or gone with a shipped pallet.
    const cases = trace.batches.length
      ? (db
          .prepare(
            `SELECT COALESCE(SUM(CASE WHEN p.status = 'shipped' THEN 1 ELSE 0 END), 0) AS gone, COUNT(*) AS n
             FROM labels l LEFT JOIN pallet_cases c ON c.serial = l.serial LEFT JOIN pallets p ON p.id = c.pallet
             WHERE l.kind = 'case' AND l.batch IN (${trace.batches.map(() => '?').join(',')})`,
          )
          .get(...trace.batches) as Row)
      : { gone: 0, n: 0 };
    const count = (kind: RecallItem['kind'], action: RecallItem['action']) => items.filter((i) => i.kind === kind && i.action === action).map((i) => i.ref);
    const summary = {
      recall: number,
      scope: { kind: scope.kind, value: scope.value, supplier: scope.supplier },
      reason,
      held: { lots: count('lot', 'held'), batches: count('batch', 'held'), pallets: items.filter((i) => i.kind === 'pallet' && i.action === 'held').map((i) => i.detail.sscc ?? i.ref) },
      alreadyHeld: items.filter((i) => i.action === 'already_held').map((i) => `${i.kind} ${i.ref}`),
      unchanged: items.filter((i) => i.action === 'unchanged').map((i) => `${i.kind} ${i.ref} (${i.statusBefore})`),
      shipped,
      cases: { total: Number(cases.n), onSite: Number(cases.n) - Number(cases.gone), shipped: Number(cases.gone) },
      startedBy: by.id,
    };
    const started = tx.append({ type: 'recall.started', status: 'accepted', operator: signer.id, payload: summary });
    db.prepare(
      `INSERT INTO recalls (id, number, scope_kind, scope_value, supplier, scope_key, reason, status, started_by, started_at, started_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
    ).run(started.id, number, scope.kind, scope.value, scope.supplier, scope.key, reason, signer.id, now, started.seq);
    const ins = db.prepare('INSERT INTO recall_items (recall, kind, ref, action, status_before, detail, record_seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const i of items) ins.run(started.id, i.kind, i.ref, i.action, i.statusBefore, JSON.stringify(i.detail), i.recordSeq);
    tx.audit({ actor: signer.id, action: 'recall.started', entity: 'recall', entityId: number, reason, new: { ...summary, record: started.id } });
    const { record: sig } = this.signatures.signTx(tx, signer, { action: 'recall.start', meaning: signature.meaning, entity: 'record', entityId: started.id, requestedBy: by.id, statement: signature.statement ?? `recall ${number} of ${scope.label}: ${reason}` });
    db.prepare('UPDATE recalls SET signature = ? WHERE id = ?').run(sig.id, started.id);
    return started.id;
  }

  async close(key: string, input: { outcome: string; reason?: string | null; signature: SignatureInput }, by: Actor): Promise<RecallView> {
    const outcome = input.outcome?.trim();
    if (!outcome) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'close a recall (the outcome)' });
    if (by.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'close a recall', allowed: 'qa' });
    const before = this.get(key);
    if (!before) throw new LgError('LG_ERR_RECALL_NOT_FOUND', { recall: key });
    if (before.status !== 'open') await this.refuse('LG_ERR_RECALL_STATE', { recall: before.number, status: before.status, detail: 'it was closed already' }, by, { recall: before.number, outcome });
    const signer = await this.signatures.authenticate(input.signature, 'recall.close', by.id);
    if (signer.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: 'sign a recall', allowed: 'qa' });
    await this.journal.submit((tx) => {
      const cur = this.get(before.id)!;
      if (cur.status !== 'open') throw new LgError('LG_ERR_RECALL_STATE', { recall: cur.number, status: cur.status, detail: 'it was closed already' });
      const stillOnHold = cur.items.filter((i) => i.kind !== 'delivery' && isOnHold(i)).map((i) => `${i.kind} ${i.kind === 'pallet' ? (i.detail.sscc ?? i.ref) : i.ref}`);
      const rec = tx.append({ type: 'recall.closed', status: 'accepted', operator: signer.id, payload: { recall: cur.number, outcome, reason: input.reason?.trim() || null, stillOnHold, by: by.id } });
      tx.db.prepare("UPDATE recalls SET status = 'closed', closed_by = ?, closed_at = ?, closed_seq = ?, outcome = ?, close_reason = ? WHERE id = ?").run(signer.id, tx.now.toISOString(), rec.seq, outcome, input.reason?.trim() || null, cur.id);
      tx.audit({ actor: signer.id, action: 'recall.closed', entity: 'recall', entityId: cur.number, reason: input.reason?.trim() || outcome, old: { status: 'open' }, new: { status: 'closed', outcome, stillOnHold } });
      this.signatures.signTx(tx, signer, { action: 'recall.close', meaning: input.signature.meaning, entity: 'record', entityId: rec.id, requestedBy: by.id, statement: input.signature.statement ?? `recall ${cur.number} closed: ${outcome}` });
    });
    return this.get(before.id)!;
  }

  /** EPCIS 2.0 document of the affected objects: the events of every batch the recall reached. */
  epcis(key: string): Record<string, unknown> {
    const r = this.get(key);
    if (!r) throw new LgError('LG_ERR_RECALL_NOT_FOUND', { recall: key });
    return this.exports().epcis({ batches: r.items.filter((i) => i.kind === 'batch').map((i) => i.ref) });
  }
}

function isOnHold(i: RecallItem): boolean {
  if (i.kind === 'pallet') return i.now?.onHold === true && i.now.status !== 'shipped';
  return i.now?.status === 'on_hold';
}

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula is prefixed with an apostrophe. */
function csvCell(v: string): string {
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

