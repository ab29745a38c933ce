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
    const who = 'missing' in l ? '(lot not in the lot master)' : `${l.material}${l.supplier ? `, supplier ${l.supplier}` : ''}${l.supplierLot ? ` lot ${l.supplierLot}` : ''}${l.expiry ? `, expiry ${l.expiry}` : ''}`;
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
