/**
 * Plant-wide genealogy over the plant store (PostgreSQL): recursive CTEs over the edge table, so an
 * intermediate made on line 1 and consumed on line 3 is followed like any other lot.
 *
 *   forward  (recall): supplier lot / lot → every batch that consumed it, the lots those batches
 *            produced, the batches that consumed those, … and the cases/pallets packed for them.
 *   backward (what went in): batch → its consumed lots → the batches that produced them → …
 *
 * Cycles (a data error) cannot loop: a walk never revisits a node on its own path, and depth is
 * bounded (24). Read-only: these queries never write.
 */
import pg from 'pg';
import { quoteSchema } from './sinks/postgres-schema.js';

const MAX_DEPTH = 24;

export interface PlantBatch {
  line: string;
  number: string;
  product: string | null;
  productName: string | null;
  status: string | null;
  /** Edges from the start: 1 = consumed the starting lot directly. */
  depth: number;
  /** Node keys from the start to this batch (lot:…, batch:LINE/NUMBER, …). */
  path: string[];
}

export interface PlantLot {
  id: string;
  material: string | null;
  supplier: string | null;
  supplierLot: string | null;
  status: string | null;
  producedBy: { line: string; batch: string } | null;
  depth: number;
}

export interface PlantHandlingUnit {
  id: string;
  kind: string;
  line: string;
  batch: string | null;
  sscc: string | null;
  depth: number;
}

export interface ForwardTrace {
  start: string[];
  lots: PlantLot[];
  batches: PlantBatch[];
  handlingUnits: PlantHandlingUnit[];
}

export interface BackwardTrace {
  start: string;
  batches: PlantBatch[];
  lots: PlantLot[];
  /** Supplier lots reached (the raw materials at the end of the walk). */
  supplierLots: Array<{ supplier: string | null; supplierLot: string; lot: string; material: string | null }>;
}

type Queryable = Pick<pg.Pool, 'query'>;

interface Walked {
  node: string;
  depth: number;
  path: string[];
}

function parseBatchNode(n: string): { line: string; number: string } | null {
  if (!n.startsWith('batch:')) return null;
  const rest = n.slice(6);
  const i = rest.indexOf('/');
  return i < 0 ? null : { line: rest.slice(0, i), number: rest.slice(i + 1) };
}

export class PlantTrace {
  private readonly s: string;
  constructor(private readonly db: Queryable, schema: string, private readonly site: string | null = null) {
    this.s = quoteSchema(schema);
  }

  private async walk(start: string[], direction: 'forward' | 'backward'): Promise<Walked[]> {
    const [near, far] = direction === 'forward' ? ['from_node', 'to_node'] : ['to_node', 'from_node'];
    const { rows } = await this.db.query<Walked>(
      `WITH RECURSIVE walk(node, depth, path) AS (
         SELECT n, 0, ARRAY[n] FROM unnest($1::text[]) AS n
         UNION ALL
         SELECT e.${far}, w.depth + 1, w.path || e.${far}
         FROM walk w JOIN ${this.s}.edges e ON e.${near} = w.node AND ($2::text IS NULL OR e.site = $2)
         WHERE w.depth < ${MAX_DEPTH} AND NOT e.${far} = ANY (w.path)
       )
       SELECT DISTINCT ON (node) node, depth, path FROM walk ORDER BY node, depth`,
      [start, this.site],
    );
    return rows;
  }

  private async batches(walked: Walked[]): Promise<PlantBatch[]> {
    const keyed = walked.map((w) => ({ w, b: parseBatchNode(w.node) })).filter((x) => x.b !== null) as Array<{ w: Walked; b: { line: string; number: string } }>;
    if (keyed.length === 0) return [];
    const { rows } = await this.db.query<{ line: string; number: string; product: string | null; product_name: string | null; status: string | null }>(
      `SELECT b.line, b.number, b.product, b.product_name, b.status FROM ${this.s}.batches b
       JOIN unnest($1::text[], $2::text[]) AS k(line, number) ON b.line = k.line AND b.number = k.number
       WHERE ($3::text IS NULL OR b.site = $3)`,
      [keyed.map((k) => k.b.line), keyed.map((k) => k.b.number), this.site],
    );
    const info = new Map(rows.map((r) => [`${r.line}/${r.number}`, r]));
    return keyed
      .map(({ w, b }) => {
        const r = info.get(`${b.line}/${b.number}`);
        return { line: b.line, number: b.number, product: r?.product ?? null, productName: r?.product_name ?? null, status: r?.status ?? null, depth: w.depth, path: w.path };
      })
      .sort((a, b) => a.depth - b.depth || a.line.localeCompare(b.line) || a.number.localeCompare(b.number));
  }

  private async lots(walked: Walked[]): Promise<PlantLot[]> {
    const ids = walked.filter((w) => w.node.startsWith('lot:')).map((w) => ({ id: w.node.slice(4), depth: w.depth }));
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ id: string; material: string | null; supplier: string | null; supplier_lot: string | null; status: string | null; produced_by_line: string | null; produced_by_batch: string | null }>(
      `SELECT id, material, supplier, supplier_lot, status, produced_by_line, produced_by_batch FROM ${this.s}.lots WHERE id = ANY ($1::text[]) AND ($2::text IS NULL OR site = $2)`,
      [ids.map((i) => i.id), this.site],
    );
    const info = new Map(rows.map((r) => [r.id, r]));
    return ids
      .map(({ id, depth }) => {
        const r = info.get(id);
        return {
          id,
          material: r?.material ?? null,
          supplier: r?.supplier ?? null,
          supplierLot: r?.supplier_lot ?? null,
          status: r?.status ?? null,
          producedBy: r?.produced_by_batch ? { line: r.produced_by_line ?? '', batch: r.produced_by_batch } : null,
          depth,
        };
      })
      .sort((a, b) => a.depth - b.depth || a.id.localeCompare(b.id));
  }

  private async handlingUnits(walked: Walked[]): Promise<PlantHandlingUnit[]> {
    const ids = walked.filter((w) => w.node.startsWith('hu:')).map((w) => ({ id: w.node.slice(3), depth: w.depth }));
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ id: string; kind: string; line: string; batch: string | null; sscc: string | null }>(
      `SELECT id, kind, line, batch, sscc FROM ${this.s}.handling_units WHERE id = ANY ($1::text[]) AND ($2::text IS NULL OR site = $2)`,
      [ids.map((i) => i.id), this.site],
    );
    const depth = new Map(ids.map((i) => [i.id, i.depth]));
    return rows.map((r) => ({ id: r.id, kind: r.kind, line: r.line, batch: r.batch, sscc: r.sscc, depth: depth.get(r.id) ?? 0 })).sort((a, b) => a.depth - b.depth || a.id.localeCompare(b.id));
  }

  /** Lots carrying a supplier lot number (optionally of one supplier). */
  async lotsOfSupplierLot(supplierLot: string, supplier?: string | null): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM ${this.s}.lots WHERE supplier_lot = $1 AND ($2::text IS NULL OR supplier = $2) AND ($3::text IS NULL OR site = $3) ORDER BY id`,
      [supplierLot, supplier ?? null, this.site],
    );
    return rows.map((r) => r.id);
  }

  async forwardFromLots(lotIds: string[]): Promise<ForwardTrace> {
    const walked = await this.walk(lotIds.map((l) => `lot:${l}`), 'forward');
    const [lots, batches, handlingUnits] = await Promise.all([this.lots(walked), this.batches(walked), this.handlingUnits(walked)]);
    return { start: lotIds, lots, batches, handlingUnits };
  }

  /** The recall question: which batches, on which lines, consumed supplier lot X — directly or through intermediates. */
  async supplierLot(supplierLot: string, supplier?: string | null): Promise<ForwardTrace> {
    return this.forwardFromLots(await this.lotsOfSupplierLot(supplierLot, supplier));
  }

  async backwardFromBatch(line: string, number: string): Promise<BackwardTrace> {
    const start = `batch:${line}/${number}`;
    const walked = await this.walk([start], 'backward');
    const [lots, batches] = await Promise.all([this.lots(walked), this.batches(walked)]);
    const supplierLots = lots
      .filter((l) => l.supplierLot !== null && l.producedBy === null)
      .map((l) => ({ supplier: l.supplier, supplierLot: l.supplierLot!, lot: l.id, material: l.material }));
    return { start, batches: batches.filter((b) => b.depth > 0), lots, supplierLots };
  }

  /** Lines that have a batch with this number (batch numbers are per line). */
  async linesOfBatch(number: string): Promise<string[]> {
    const { rows } = await this.db.query<{ line: string }>(`SELECT line FROM ${this.s}.batches WHERE number = $1 AND ($2::text IS NULL OR site = $2) ORDER BY line`, [number, this.site]);
    return rows.map((r) => r.line);
  }
}

export function formatForward(t: ForwardTrace, title: string): string {
  let out = `${title}: ${t.start.length} lot(s) ${t.start.join(', ') || '(none found)'}\n`;
  const lines = new Set(t.batches.map((b) => b.line));
  out += `batches reached: ${t.batches.length} on ${lines.size} line(s)\n`;
  for (const b of t.batches) {
    out += `  ${b.line}/${b.number}  ${b.productName ?? b.product ?? ''} [${b.status ?? '?'}]  depth ${b.depth}  via ${b.path.join(' → ')}\n`;
  }
  const inter = t.lots.filter((l) => l.depth > 0);
  if (inter.length > 0) out += `lots made from it: ${inter.map((l) => `${l.id}${l.producedBy ? ` (made by ${l.producedBy.line}/${l.producedBy.batch})` : ''}`).join(', ')}\n`;
  if (t.handlingUnits.length > 0) out += `cases/pallets: ${t.handlingUnits.map((h) => `${h.kind} ${h.sscc ?? h.id} (${h.line}/${h.batch ?? '?'})`).join(', ')}\n`;
  return out;
}

export function formatBackwardPlant(t: BackwardTrace): string {
  let out = `${t.start}\n`;
  for (const b of t.batches) out += `  ← batch ${b.line}/${b.number} [${b.status ?? '?'}] depth ${b.depth}\n`;
  for (const l of t.lots) out += `  ← lot ${l.id} (${l.material ?? '?'}${l.supplier ? `, supplier ${l.supplier}` : ''}${l.supplierLot ? ` lot ${l.supplierLot}` : ''}${l.producedBy ? `, made by ${l.producedBy.line}/${l.producedBy.batch}` : ''}) depth ${l.depth}\n`;
  return out;
}
