/**
 * Genealogy (traceability), pure: the queries walk an injected data-access interface, so they are
 * unit-tested on plain maps and answered from SQLite in production.
 *
 * - Backward ("what went into this batch?"): the batch's consumed lots with their suppliers; a lot
 *   produced by another batch (an intermediate) is followed into that batch, and so on.
 * - Forward ("where did this lot go?"): the batches that consumed the lot, the labels (cases,
 *   pallets/SSCCs) printed for them, and the lots those batches produced, followed onwards.
 *
 * Many-to-many all the way (one lot feeds many batches, one batch consumes many lots), with a
 * visited set so a data error can never loop.
 */

export interface GBatch {
  number: string;
  product: string;
  productName: string | null;
  status: string;
  line: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface GLot {
  id: string;
  material: string;
  supplier: string | null;
  supplierLot: string | null;
  expiry: string | null;
  status: string;
  producedBy: string | null;
  /** A unit of a serial-tracked material: its serial (AI 21). Absent for lot-tracked materials. */
  serial?: string | null;
}

export interface GLabel {
  id: string;
  kind: string;
  serial: string | null;
  sscc: string | null;
}

export interface GenealogyIO {
  batch(number: string): GBatch | undefined;
  lot(id: string): GLot | undefined;
  /**
   * Per lot, the net total consumed into the batch. `corrections`/`corrected`: how many
   * `material.consumption_corrected` records took how much back (absent when none).
   */
  consumptionsOfBatch(batch: string): Array<{ lot: string; material: string; quantity: string; unit: string; additions: number; corrections?: number; corrected?: string }>;
  /** Per batch, the net total consumed of the lot (corrections as above). */
  consumersOfLot(lot: string): Array<{ batch: string; quantity: string; unit: string; additions: number; corrections?: number; corrected?: string }>;
  lotsProducedBy(batch: string): string[];
  labelsOfBatch(batch: string): GLabel[];
}

export interface BackwardNode {
  batch: GBatch;
  inputs: Array<{ lot: GLot | { id: string; missing: true }; material: string; quantity: string; unit: string; additions: number; corrections?: number; corrected?: string; producedBy?: BackwardNode | { batch: string; cycle: true } }>;
}

export interface ForwardNode {
  lot: GLot;
  usedIn: Array<{
    batch: GBatch | { number: string; missing: true };
    quantity: string;
    unit: string;
    additions: number;
    corrections?: number;
    corrected?: string;
    labels: GLabel[];
    outputs: Array<ForwardNode | { lot: string; cycle: true }>;
  }>;
}

export function traceBackward(number: string, io: GenealogyIO, maxDepth = 12, seen = new Set<string>()): BackwardNode | undefined {
  const batch = io.batch(number);
  if (!batch) return undefined;
  seen.add(number);
  const inputs = io.consumptionsOfBatch(number).map((c) => {
    const lot = io.lot(c.lot);
    const entry: BackwardNode['inputs'][number] = { lot: lot ?? { id: c.lot, missing: true }, material: c.material, quantity: c.quantity, unit: c.unit, additions: c.additions };
    if (c.corrections) Object.assign(entry, { corrections: c.corrections, corrected: c.corrected });
    if (lot?.producedBy) {
      if (seen.has(lot.producedBy) || maxDepth <= 0) entry.producedBy = { batch: lot.producedBy, cycle: true };
      else {
        const up = traceBackward(lot.producedBy, io, maxDepth - 1, seen);
        if (up) entry.producedBy = up;
      }
    }
    return entry;
  });
  return { batch, inputs };
}

export function traceForward(lotId: string, io: GenealogyIO, maxDepth = 12, seen = new Set<string>()): ForwardNode | undefined {
  const lot = io.lot(lotId);
  if (!lot) return undefined;
  seen.add(lotId);
  const usedIn = io.consumersOfLot(lotId).map((c) => {
    const batch = io.batch(c.batch);
    const outputs = io.lotsProducedBy(c.batch).map((out) => {
      if (seen.has(out) || maxDepth <= 0) return { lot: out, cycle: true as const };
      return traceForward(out, io, maxDepth - 1, seen) ?? { lot: out, cycle: true as const };
    });
    return {
      batch: batch ?? { number: c.batch, missing: true as const },
      quantity: c.quantity,
      unit: c.unit,
      additions: c.additions,
      ...(c.corrections ? { corrections: c.corrections, corrected: c.corrected } : {}),
      labels: io.labelsOfBatch(c.batch),
      outputs,
    };
  });
  return { lot, usedIn };
}

/** Every batch reached forward from a lot (flattened), e.g. for a recall list. */
export function affectedBatches(node: ForwardNode, acc = new Set<string>()): Set<string> {
  for (const u of node.usedIn) {
    acc.add('number' in u.batch ? u.batch.number : '');
    for (const o of u.outputs) if ('usedIn' in o) affectedBatches(o, acc);
  }
  acc.delete('');
  return acc;
}

/** Human-readable tree for the CLI. */
export function formatBackward(n: BackwardNode, indent = ''): string {
  const b = n.batch;
  let out = `${indent}batch ${b.number} — ${b.productName ?? b.product} [${b.status}]${b.startedAt ? ` started ${b.startedAt}` : ''}\n`;
  for (const i of n.inputs) {
    const l = i.lot;
    const who = 'missing' in l ? '(lot not in the lot master)' : `${l.material}${l.serial ? `, serial ${l.serial}` : ''}${l.supplier ? `, supplier ${l.supplier}` : ''}${l.supplierLot && !l.serial ? ` lot ${l.supplierLot}` : ''}${l.expiry ? `, expiry ${l.expiry}` : ''}`;
    out += `${indent}  ← ${i.quantity} ${i.unit} of lot ${l.id} (${who}) in ${i.additions} addition${i.additions === 1 ? '' : 's'}${correctionText(i)}\n`;
    if (i.producedBy && 'inputs' in i.producedBy) out += formatBackward(i.producedBy, indent + '      ');
  }
  return out;
}

export function formatForward(n: ForwardNode, indent = ''): string {
  const l = n.lot;
  let out = `${indent}lot ${l.id} — ${l.material}${l.supplier ? `, supplier ${l.supplier}` : ''}${l.supplierLot ? ` lot ${l.supplierLot}` : ''} [${l.status}]\n`;
  for (const u of n.usedIn) {
    const b = u.batch;
    out += `${indent}  → ${u.quantity} ${u.unit} into batch ${b.number}${'missing' in b ? '' : ` (${b.productName ?? b.product}, ${b.status})`}${correctionText(u)}\n`;
    if (u.labels.length) {
      const ssccs = u.labels.filter((x) => x.sscc).map((x) => x.sscc);
      const serials = u.labels.filter((x) => x.serial).map((x) => x.serial);
      out += `${indent}      labels: ${u.labels.length}${serials.length ? `, serials ${serials.slice(0, 5).join(', ')}${serials.length > 5 ? '…' : ''}` : ''}${ssccs.length ? `, SSCCs ${ssccs.join(', ')}` : ''}\n`;
    }
    for (const o of u.outputs) if ('usedIn' in o) out += formatForward(o, indent + '      ');
  }
  return out;
}

/** ", net of 1 correction (5.000 kg taken back)" — a correction is shown, never folded in silently. */
function correctionText(x: { corrections?: number; corrected?: string; unit: string }): string {
  return x.corrections ? `, net of ${x.corrections} correction${x.corrections === 1 ? '' : 's'} (${x.corrected} ${x.unit} taken back)` : '';
}

// ── issue 15: forward trace to customers ─────────────────────────────────────────────────────

/** What a forward trace to customers needs beyond the batch/lot links: pallets and deliveries per batch. */
export interface DispatchIO {
  /** Pallets holding cases of the batch (on site or shipped), with their delivery and customer. */
  palletsOfBatch(batch: string): Array<{
    pallet: string;
    sscc: string | null;
    status: string;
    onHold: boolean;
    cases: number;
    delivery: string | null;
    deliveryStatus: string | null;
    shippedAt: string | null;
    customer: string | null;
    customerName: string | null;
    customerGln: string | null;
    shipToGln: string | null;
  }>;
}

export interface CustomerTrace {
  lots: string[];
  batches: string[];
  handlingUnits: Array<{ batch: string; pallet: string; sscc: string | null; status: string; onHold: boolean; cases: number; delivery: string | null }>;
  customers: Array<{ id: string; name: string | null; gln: string | null; deliveries: Array<{ number: string; status: string | null; shippedAt: string | null; shipToGln: string | null; ssccs: string[]; batches: string[] }> }>;
  /** Pallets not shipped yet (still on site): what a recall can still stop. */
  onSite: Array<{ pallet: string; sscc: string | null; status: string; batch: string }>;
}

/**
 * From lots (supplier or internal) and/or batches: every batch reached forward (through
 * intermediates), the pallets holding their cases, and the deliveries and customers those
 * pallets went to. Pure; `io` answers from indexed SQLite in production.
 */
export function traceToCustomers(start: { lots: string[]; batches: string[] }, io: GenealogyIO & DispatchIO): CustomerTrace {
  const batches = new Set<string>();
  for (const l of start.lots) {
    const t = traceForward(l, io);
    if (t) affectedBatches(t, batches);
  }
  for (const b of start.batches) {
    if (!io.batch(b)) continue;
    batches.add(b);
    for (const out of io.lotsProducedBy(b)) {
      const t = traceForward(out, io);
      if (t) affectedBatches(t, batches);
    }
  }
  const units: CustomerTrace['handlingUnits'] = [];
  const customers = new Map<string, CustomerTrace['customers'][number]>();
  const onSite: CustomerTrace['onSite'] = [];
  for (const b of [...batches].sort()) {
    for (const p of io.palletsOfBatch(b)) {
      units.push({ batch: b, pallet: p.pallet, sscc: p.sscc, status: p.status, onHold: p.onHold, cases: p.cases, delivery: p.delivery });
      if (p.status !== 'shipped') onSite.push({ pallet: p.pallet, sscc: p.sscc, status: p.status, batch: b });
      if (!p.delivery || !p.customer) continue;
      let c = customers.get(p.customer);
      if (!c) customers.set(p.customer, (c = { id: p.customer, name: p.customerName, gln: p.customerGln, deliveries: [] }));
      let d = c.deliveries.find((x) => x.number === p.delivery);
      if (!d) c.deliveries.push((d = { number: p.delivery, status: p.deliveryStatus, shippedAt: p.shippedAt, shipToGln: p.shipToGln, ssccs: [], batches: [] }));
      if (p.sscc && !d.ssccs.includes(p.sscc)) d.ssccs.push(p.sscc);
      if (!d.batches.includes(b)) d.batches.push(b);
    }
  }
  return { lots: [...start.lots], batches: [...batches].sort(), handlingUnits: units, customers: [...customers.values()].sort((a, b) => a.id.localeCompare(b.id)), onSite };
}

/** Human-readable answer for `linegate trace customers`. */
export function formatCustomerTrace(t: CustomerTrace): string {
  let out = `lots: ${t.lots.join(', ') || '(none found)'}\nbatches reached: ${t.batches.join(', ') || '(none)'}\n`;
  if (t.customers.length === 0) out += 'customers: none (nothing made from it was loaded onto a delivery)\n';
  for (const c of t.customers) {
    out += `customer ${c.id}${c.name ? ` — ${c.name}` : ''}${c.gln ? ` (GLN ${c.gln})` : ''}\n`;
    for (const d of c.deliveries) out += `  delivery ${d.number} [${d.status ?? '?'}${d.shippedAt ? ` ${d.shippedAt}` : ''}] ship-to ${d.shipToGln ?? '?'}: batches ${d.batches.join(', ')}; SSCCs ${d.ssccs.join(', ')}\n`;
  }
  if (t.onSite.length) out += `still on site: ${t.onSite.map((p) => `${p.sscc ?? `pallet ${p.pallet}`} (${p.status}, batch ${p.batch})`).join(', ')}\n`;
  return out;
}
