/**
 * Issue 15: answers that leave the gateway in standard forms.
 *
 * - `traceCustomers`: forward trace to customers (pure query in src/domain/genealogy.ts).
 * - `epcis`: a GS1 EPCIS 2.0 JSON-LD document (CBV 2.0 vocabulary, GS1 Digital Link URIs):
 *     commissioning  ObjectEvent ADD per case label (SGTIN as 01/…/21/…) and pallet label (00/SSCC);
 *     packing        AggregationEvent ADD per closed pallet (parent SSCC, child cases), DELETE per
 *                    case unpacked from a closed pallet;
 *     transforming   TransformationEvent per batch completed or later: consumed lots by quantity as
 *                    LGTIN classes (01/GTIN/10/lot) → the batch's cases and produced lots;
 *     shipping       ObjectEvent OBSERVE per shipped delivery: SSCCs, despatch advice (desadv)
 *                    as biz transaction, site → customer as source/destination.
 *   Event ids are UUIDs derived from the site and the fact (label id, record id, batch number),
 *   so the same fact gives the same event in every export.
 * - `b2mml`: ISA-95 B2MML ProductionPerformance of one batch (MaterialActual consumed/produced,
 *   EquipmentActual, PersonnelActual), XML.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { traceBackward, traceToCustomers, type CustomerTrace, type DispatchIO, type BackwardNode } from '../domain/genealogy.js';
import { LgError } from '../errors.js';
import type { Repo } from '../store/repo.js';

type Row = Record<string, unknown>;
type Json = Record<string, unknown>;

export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

const LABEL_SQL = "SELECT l.id, l.kind, l.serial, l.sscc, l.batch, l.created_at, l.fields, r.station FROM labels l LEFT JOIN records r ON r.seq = l.record_seq WHERE l.kind IN ('case','pallet')";
const RECORD_SQL = 'SELECT seq, id, type, status, received_at, station, batch, payload FROM records';
const BATCH_SQL = 'SELECT number, gtin, product, completed_at, updated_at FROM batches';

export class Exports {
  constructor(
    private readonly repo: Repo,
    private readonly cfg: Readonly<Config>,
    private readonly now: () => Date,
  ) {}

  private get db() {
    return this.repo.db;
  }

  dispatchIO(): DispatchIO {
    return dispatchIO(this.repo);
  }

  traceCustomers(q: { supplierLot?: string; supplier?: string; lot?: string; batch?: string; serial?: string; gtin?: string }): CustomerTrace {
    return traceCustomers(this.repo, q);
  }

  // ── EPCIS 2.0 ────────────────────────────────────────────────────────────────────────────

  epcis(q: { batch?: string; batches?: string[]; from?: string; to?: string }): Json {
    return this.epcisDocument(this.epcisEvents(q));
  }

  /** `batch`: that batch and everything that went into it; `batches`: exactly these (a recall's). */
  epcisEvents(q: { batch?: string; batches?: string[]; from?: string; to?: string }): Json[] {
    const from = q.from ?? '0000';
    const to = q.to ?? '9999';
    const inTime = (t: string | null | undefined) => !!t && t >= from && t < to;
    let batches: Set<string> | null = null;
    if (q.batch) {
      const tree = traceBackward(q.batch, this.repo.genealogyIO());
      if (!tree) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: q.batch });
      batches = new Set<string>();
      collectBackward(tree, batches);
    }
    if (q.batches) batches = new Set([...(batches ?? []), ...q.batches]);
    const wantBatch = (b: string | null | undefined) => !batches || (!!b && batches.has(b));
    const out: Array<{ t: string; k: string; e: Json }> = [];
    const push = (e: Json | null) => {
      if (e) out.push({ t: String(e.eventTime), k: String(e.eventID), e });
    };

    // commissioning: case and pallet labels (reprints are not new objects)
    for (const l of this.db.prepare(`${LABEL_SQL} ORDER BY l.created_at, l.id`).all() as Row[]) {
      if (!inTime(String(l.created_at))) continue;
      if (l.kind === 'case' ? !wantBatch(l.batch as string) : batches && !(l.sscc && this.palletHasBatch(String(l.sscc), batches))) continue;
      push(this.commissioningEvent(l));
    }
    // packing: closed pallets (content at the close), unpacking from a closed pallet
    for (const r of this.db.prepare(`${RECORD_SQL} WHERE type IN ('handling_unit.closed', 'handling_unit.unpacked') AND status = 'accepted' ORDER BY seq`).all() as Row[]) {
      if (!inTime(String(r.received_at)) || !wantBatch(r.batch as string)) continue;
      push(this.aggregationEvent(r));
    }
    // transforming: lots → batch (batches completed or later: their inputs are final)
    for (const b of this.db.prepare(`${BATCH_SQL} WHERE status IN ('completed','released','on_hold','rejected') ORDER BY number`).all() as Row[]) {
      if (!wantBatch(String(b.number)) || !inTime(String(b.completed_at ?? b.updated_at))) continue;
      push(this.transformationEvent(b));
    }
    // shipping: shipped deliveries
    for (const r of this.db.prepare(`${RECORD_SQL} WHERE type = 'delivery.shipped' AND status = 'accepted' ORDER BY seq`).all() as Row[]) {
      const p = JSON.parse(String(r.payload)) as { shippedAt?: string; pallets: Array<{ batches: string[] }> };
      if (!inTime(p.shippedAt ?? String(r.received_at))) continue;
      if (batches && !p.pallets.some((x) => x.batches.some((b) => batches!.has(b)))) continue;
      push(this.shippingEvent(r));
    }
    return out.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.k < b.k ? -1 : 1)).map((x) => x.e);
  }

  /**
   * The EPCIS events one journal record stands for (the EPCIS capture sink): a case or pallet label
   * issued → commissioning; a pallet closed / a case unpacked → aggregation; a batch completed →
   * its transformation (inputs are final then; outputs as known then); a delivery shipped →
   * shipping. Any other record stands for none. Ids are the export's, so a resend is the same event.
   */
  epcisEventsForRecord(seq: number): Json[] {
    const r = this.db.prepare(`${RECORD_SQL} WHERE seq = ?`).get(seq) as Row | undefined;
    if (!r || r.status !== 'accepted') return [];
    const ev: Array<Json | null> = [];
    if (r.type === 'label.queued') {
      for (const l of this.db.prepare(`${LABEL_SQL} AND l.record_seq = ?`).all(seq) as Row[]) ev.push(this.commissioningEvent(l));
    } else if (r.type === 'handling_unit.closed' || r.type === 'handling_unit.unpacked') {
      ev.push(this.aggregationEvent(r));
    } else if (r.type === 'batch.status_changed' && r.batch && (JSON.parse(String(r.payload)) as { to?: string }).to === 'completed') {
      const b = this.db.prepare(`${BATCH_SQL} WHERE number = ?`).get(r.batch) as Row | undefined;
      if (b) ev.push(this.transformationEvent(b));
    } else if (r.type === 'delivery.shipped') {
      ev.push(this.shippingEvent(r));
    }
    return ev.filter((e): e is Json => e !== null);
  }

  /** An EPCIS 2.0 document around events (the export's envelope). */
  epcisDocument(events: Json[]): Json {
    return { '@context': [EPCIS_CONTEXT], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: this.now().toISOString(), sender: this.siteParty() ?? undefined, epcisBody: { eventList: events } };
  }

  private commissioningEvent(l: Row): Json | null {
    const fields = JSON.parse(String(l.fields)) as Record<string, string>;
    let epc: string | null = null;
    if (l.kind === 'case' && l.serial && fields.gtin) epc = sgtin(fields.gtin, String(l.serial));
    if (l.kind === 'pallet' && l.sscc) epc = ssccUri(String(l.sscc));
    if (!epc) return null;
    return {
      type: 'ObjectEvent',
      eventTime: String(l.created_at),
      eventTimeZoneOffset: this.offset(String(l.created_at)),
      eventID: this.eventId('commissioning', String(l.id)),
      epcList: [epc],
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      readPoint: { id: this.readPoint((l.station as string | null) ?? null) },
      bizLocation: { id: this.bizLocation() },
    };
  }

  private aggregationEvent(r: Row): Json | null {
    const p = JSON.parse(String(r.payload)) as { sscc?: string | null; cases?: Array<{ serial: string; gtin: string }>; serial?: string; gtin?: string };
    if (!p.sscc) return null; // unpacked from a pallet that had no SSCC yet: no aggregation was declared
    const closed = r.type === 'handling_unit.closed';
    const children = closed ? (p.cases ?? []).map((c) => sgtin(c.gtin, c.serial)) : [sgtin(String(p.gtin), String(p.serial))];
    if (children.length === 0) return null;
    return {
      type: 'AggregationEvent',
      eventTime: String(r.received_at),
      eventTimeZoneOffset: this.offset(String(r.received_at)),
      eventID: this.eventId('aggregation', String(r.id)),
      parentID: ssccUri(p.sscc),
      childEPCs: children,
      action: closed ? 'ADD' : 'DELETE',
      bizStep: closed ? 'packing' : 'unpacking',
      disposition: closed ? 'in_progress' : 'container_open',
      readPoint: { id: this.readPoint((r.station as string | null) ?? null) },
      bizLocation: { id: this.bizLocation() },
    };
  }

  private transformationEvent(b: Row): Json | null {
    const number = String(b.number);
    const time = String(b.completed_at ?? b.updated_at);
    const io = this.repo.genealogyIO();
    const consumed = io.consumptionsOfBatch(number).filter((c) => Number(c.quantity) > 0);
    // A unit of a serial-tracked material is an instance (SGTIN), not a quantity of a class.
    const inputEPCs: string[] = [];
    const inputs: Json[] = [];
    for (const c of consumed) {
      const unit = this.serialUnit(c.lot);
      if (unit) inputEPCs.push(unit);
      else inputs.push(quantityElement(this.lotClass(c.lot), c.quantity, c.unit));
    }
    const outputEPCs = (this.db.prepare("SELECT serial, json_extract(fields, '$.gtin') AS gtin FROM labels WHERE batch = ? AND kind = 'case' AND serial IS NOT NULL ORDER BY created_at, id").all(number) as Row[]).map((r) => sgtin(String(r.gtin), String(r.serial)));
    const outputQ = io.lotsProducedBy(number).map((lot) => {
      const l = this.repo.lot(lot);
      return quantityElement(this.lotClass(lot), l ? String(l.quantity) : '0', l?.unit ?? 'pcs');
    });
    if (b.gtin && outputEPCs.length === 0 && outputQ.length === 0) outputQ.push({ epcClass: lgtin(String(b.gtin), number) });
    if ((inputs.length === 0 && inputEPCs.length === 0) || (outputEPCs.length === 0 && outputQ.length === 0)) return null;
    return {
      type: 'TransformationEvent',
      eventTime: time,
      eventTimeZoneOffset: this.offset(time),
      eventID: this.eventId('transformation', number),
      ...(inputEPCs.length ? { inputEPCList: inputEPCs } : {}),
      ...(inputs.length ? { inputQuantityList: inputs } : {}),
      ...(outputEPCs.length ? { outputEPCList: outputEPCs } : {}),
      ...(outputQ.length ? { outputQuantityList: outputQ } : {}),
      bizStep: 'commissioning',
      disposition: 'active',
      readPoint: { id: this.readPoint(null) },
      bizLocation: { id: this.bizLocation() },
      bizTransactionList: [{ type: 'prodorder', bizTransaction: `urn:x-linegate:prodorder:${enc(this.cfg.site.id)}:${enc(number)}` }],
    };
  }

  private shippingEvent(r: Row): Json {
    const p = JSON.parse(String(r.payload)) as { delivery: string; customerGln: string; shipToGln: string; shippedAt: string; pallets: Array<{ sscc: string; batches: string[] }> };
    const time = p.shippedAt ?? String(r.received_at);
    const site = this.siteParty();
    return {
      type: 'ObjectEvent',
      eventTime: time,
      eventTimeZoneOffset: this.offset(time),
      eventID: this.eventId('shipping', String(r.id)),
      epcList: p.pallets.map((x) => ssccUri(x.sscc)),
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      readPoint: { id: this.readPoint(null) },
      bizTransactionList: [{ type: 'desadv', bizTransaction: `urn:x-linegate:desadv:${enc(this.cfg.site.id)}:${enc(p.delivery)}` }],
      sourceList: [...(site ? [{ type: 'owning_party', source: site }] : []), { type: 'location', source: this.bizLocation() }],
      destinationList: [
        { type: 'owning_party', destination: `https://id.gs1.org/417/${p.customerGln}` },
        { type: 'location', destination: `https://id.gs1.org/414/${p.shipToGln}` },
      ],
    };
  }

  private palletHasBatch(sscc: string, batches: Set<string>): boolean {
    const rows = this.db.prepare('SELECT DISTINCT c.batch FROM pallet_cases c JOIN pallets p ON p.id = c.pallet WHERE p.sscc = ?').all(sscc) as Row[];
    return rows.some((r) => batches.has(String(r.batch)));
  }

  /** A unit of a serial-tracked material with a GTIN: its SGTIN (01/GTIN/21/serial); null otherwise. */
  private serialUnit(lotId: string): string | null {
    const lot = this.repo.genealogyIO().lot(lotId);
    if (!lot?.serial) return null;
    const gtin = this.repo.material(lot.material)?.gtins[0];
    return gtin ? sgtin(gtin, lot.serial) : null;
  }

  /** A lot as an LGTIN class: the material's GTIN with the lot as labelled (supplier lot, else the internal id). */
  private lotClass(lotId: string): string {
    const lot = this.repo.lot(lotId);
    const m = lot ? this.repo.material(lot.material) : undefined;
    const producer = lot?.producedBy ? this.repo.batch(lot.producedBy) : undefined;
    const gtin = m?.gtins[0] ?? producer?.gtin ?? null;
    if (gtin) return lgtin(gtin, lot?.supplierLot ?? lotId);
    // No GTIN in the master data: a private class URI (EPCIS allows any URI for an EPC class).
    return `urn:x-linegate:lot:${enc(this.cfg.site.id)}:${enc(lot?.material ?? 'unknown')}:${enc(lotId)}`;
  }

  private siteParty(): string | null {
    return this.cfg.site.gln ? `https://id.gs1.org/417/${this.cfg.site.gln}` : null;
  }

  private bizLocation(): string {
    return this.cfg.site.gln ? `https://id.gs1.org/414/${this.cfg.site.gln}` : `urn:x-linegate:location:${enc(this.cfg.site.id)}`;
  }

  /** The station as a sub-location of the site (GLN extension, AI 254). */
  private readPoint(station: string | null): string {
    const s = station ?? this.cfg.line.id;
    return this.cfg.site.gln ? `https://id.gs1.org/414/${this.cfg.site.gln}/254/${enc(s)}` : `urn:x-linegate:location:${enc(this.cfg.site.id)}:${enc(s)}`;
  }

  private eventId(kind: string, key: string): string {
    const h = createHash('sha256').update(`linegate|${this.cfg.site.id}|${kind}|${key}`).digest('hex');
    // RFC 4122 layout, version 5-style bits (name-based): stable for the same fact.
    return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
  }

  /** The site's UTC offset at that instant, "+01:00". */
  private offset(iso: string): string {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: this.cfg.site.timezone, timeZoneName: 'longOffset' }).formatToParts(new Date(iso)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name);
    return m ? `${m[1]}:${m[2] ?? '00'}` : '+00:00';
  }

  // ── B2MML ────────────────────────────────────────────────────────────────────────────────

  /** ISA-95 B2MML ProductionPerformance for a batch (element order as in the B2MML V0600 schemas). */
  b2mml(number: string): string {
    const b = this.repo.batch(number);
    if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
    const io = this.repo.genealogyIO();
    const consumed = io.consumptionsOfBatch(number);
    const produced = io.lotsProducedBy(number).map((id) => this.repo.lot(id)).filter((l): l is NonNullable<typeof l> => !!l);
    const equipment = (this.db.prepare('SELECT DISTINCT station FROM records WHERE batch = ? AND station IS NOT NULL ORDER BY station').all(number) as Row[]).map((r) => String(r.station));
    const cases = (this.db.prepare("SELECT COUNT(*) AS n FROM labels WHERE batch = ? AND kind = 'case'").get(number) as Row).n;
    const state = { planned: 'Ready', in_process: 'Running', completed: 'Completed', released: 'Completed', on_hold: 'Held', rejected: 'Aborted' }[b.status] ?? 'Completed';
    const qty = (value: string, unit: string) => `<Quantity><QuantityString>${x(value)}</QuantityString><DataType>decimal</DataType><UnitOfMeasure>${x(unit)}</UnitOfMeasure></Quantity>`;
    const lines: string[] = [];
    const add = (s: string) => lines.push(s);
    add('<?xml version="1.0" encoding="UTF-8"?>');
    add('<ProductionPerformance xmlns="http://www.mesa.org/xml/B2MML">');
    add(`  <ID>${x(`${this.cfg.site.id}-${number}`)}</ID>`);
    add(`  <Description>${x(`Production performance of batch ${number} (${b.productName ?? b.product}) from linegate`)}</Description>`);
    add(`  <Location><EquipmentID>${x(this.cfg.line.id)}</EquipmentID><EquipmentElementLevel>ProductionLine</EquipmentElementLevel></Location>`);
    add(`  <PublishedDate>${x(this.now().toISOString())}</PublishedDate>`);
    add('  <ProductionResponse>');
    add(`    <ID>${x(number)}</ID>`);
    if (b.workOrder) add(`    <ProductionRequestID>${x(b.workOrder)}</ProductionRequestID>`);
    if (b.startedAt) add(`    <StartTime>${x(b.startedAt)}</StartTime>`);
    if (b.completedAt) add(`    <EndTime>${x(b.completedAt)}</EndTime>`);
    add(`    <ResponseState>${state}</ResponseState>`);
    add('    <SegmentResponse>');
    add(`      <ID>${x(`${number}-1`)}</ID>`);
    add(`      <Description>${x(`linegate status ${b.status}; ${String(cases)} case labels`)}</Description>`);
    add('      <OperationsType>Production</OperationsType>');
    if (b.startedAt) add(`      <ActualStartTime>${x(b.startedAt)}</ActualStartTime>`);
    if (b.completedAt) add(`      <ActualEndTime>${x(b.completedAt)}</ActualEndTime>`);
    add(`      <SegmentState>${state}</SegmentState>`);
    for (const p of b.personnel) add(`      <PersonnelActual><PersonID>${x(p)}</PersonID><PersonnelUse>Used</PersonnelUse></PersonnelActual>`);
    for (const e of equipment) add(`      <EquipmentActual><EquipmentID>${x(e)}</EquipmentID><EquipmentUse>Used</EquipmentUse></EquipmentActual>`);
    for (const c of consumed) {
      const lot = this.repo.lot(c.lot);
      add(`      <MaterialActual><MaterialDefinitionID>${x(c.material)}</MaterialDefinitionID><MaterialLotID>${x(c.lot)}</MaterialLotID>${lot?.supplierLot ? `<Description>${x(`supplier lot ${lot.supplierLot}${lot.supplier ? ` of ${lot.supplier}` : ''}`)}</Description>` : ''}<MaterialUse>Consumed</MaterialUse>${qty(c.quantity, c.unit)}</MaterialActual>`);
    }
    for (const l of produced) add(`      <MaterialActual><MaterialDefinitionID>${x(l.material)}</MaterialDefinitionID><MaterialLotID>${x(l.id)}</MaterialLotID><MaterialUse>Produced</MaterialUse>${qty(String(l.quantity), l.unit)}</MaterialActual>`);
    if (b.producedQty) add(`      <MaterialActual><MaterialDefinitionID>${x(b.product)}</MaterialDefinitionID><MaterialLotID>${x(number)}</MaterialLotID><MaterialUse>Produced</MaterialUse>${qty(String(b.producedQty), b.unit)}</MaterialActual>`);
    add('    </SegmentResponse>');
    add('  </ProductionResponse>');
    add('</ProductionPerformance>');
    return lines.join('\n') + '\n';
  }
}

/** Pallets per batch with delivery and customer (SQL behind DispatchIO; indexed on pallet_cases.batch). */
export function dispatchIO(repo: Repo): DispatchIO {
  const q = repo.db.prepare(
    `SELECT p.id, p.sscc, p.status, p.on_hold, COUNT(c.serial) AS cases, d.number, d.status AS dstatus, d.shipped_at, d.ship_to_gln, cu.id AS cid, cu.name AS cname, cu.gln AS cgln
     FROM pallet_cases c JOIN pallets p ON p.id = c.pallet
     LEFT JOIN deliveries d ON d.number = p.delivery LEFT JOIN customers cu ON cu.id = d.customer
     WHERE c.batch = ? GROUP BY p.id ORDER BY p.opened_at, p.id`,
  );
  return {
    palletsOfBatch: (batch) =>
      (q.all(batch) as Row[]).map((r) => ({
        pallet: String(r.id),
        sscc: (r.sscc as string | null) ?? null,
        status: String(r.status),
        onHold: Boolean(r.on_hold),
        cases: Number(r.cases),
        delivery: (r.number as string | null) ?? null,
        deliveryStatus: (r.dstatus as string | null) ?? null,
        shippedAt: (r.shipped_at as string | null) ?? null,
        customer: (r.cid as string | null) ?? null,
        customerName: (r.cname as string | null) ?? null,
        customerGln: (r.cgln as string | null) ?? null,
        shipToGln: (r.ship_to_gln as string | null) ?? null,
      })),
  };
}

/** Lots with a supplier lot (indexed: lots_supplier_lot_only, migration 011). */
export function lotsBySupplierLot(repo: Repo, supplierLot: string, supplier?: string): string[] {
  const rows = supplier
    ? repo.db.prepare('SELECT id FROM lots WHERE supplier_lot = ? AND supplier = ? ORDER BY id').all(supplierLot, supplier)
    : repo.db.prepare('SELECT id FROM lots WHERE supplier_lot = ? ORDER BY id').all(supplierLot);
  return (rows as Row[]).map((r) => String(r.id));
}

/**
 * The units of serial-tracked materials with this serial (AI 21): lots whose supplier's number or
 * id is the serial; `gtin` narrows it to the material carrying that GTIN (serials are unique per GTIN only).
 */
export function lotsBySerial(repo: Repo, serial: string, gtin?: string): string[] {
  const rows = repo.db
    .prepare(
      `SELECT l.id FROM lots l JOIN materials m ON m.code = l.material
       WHERE m.tracking = 'serial' AND (l.supplier_lot = @serial OR l.id = @serial)
         AND (@gtin IS NULL OR EXISTS (SELECT 1 FROM material_gtins g WHERE g.material = l.material AND g.gtin = @gtin))
       ORDER BY l.id`,
    )
    .all({ serial, gtin: gtin ?? null });
  return (rows as Row[]).map((r) => String(r.id));
}

/** Forward trace to customers from a supplier lot (optionally of one supplier), a lot, a component serial or a batch. */
export function traceCustomers(repo: Repo, q: { supplierLot?: string; supplier?: string; lot?: string; batch?: string; serial?: string; gtin?: string }): CustomerTrace {
  if (!q.supplierLot && !q.lot && !q.batch && !q.serial) throw new LgError('LG_ERR_VALIDATION', { detail: 'name a supplierLot, a lot, a serial or a batch' });
  const lots = [...new Set([...(q.supplierLot ? lotsBySupplierLot(repo, q.supplierLot, q.supplier) : []), ...(q.lot ? [q.lot] : []), ...(q.serial ? lotsBySerial(repo, q.serial, q.gtin) : [])])];
  if (q.lot && !repo.lot(q.lot)) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: q.lot });
  if (q.batch && !repo.batch(q.batch)) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: q.batch });
  return traceToCustomers({ lots, batches: q.batch ? [q.batch] : [] }, { ...repo.genealogyIO(), ...dispatchIO(repo) });
}

function collectBackward(n: BackwardNode, acc: Set<string>): void {
  acc.add(n.batch.number);
  for (const i of n.inputs) if (i.producedBy && 'inputs' in i.producedBy) collectBackward(i.producedBy, acc);
}

const enc = (s: string) => encodeURIComponent(s);
export const sgtin = (gtin: string, serial: string) => `https://id.gs1.org/01/${gtin}/21/${enc(serial)}`;
export const ssccUri = (sscc: string) => `https://id.gs1.org/00/${sscc}`;
export const lgtin = (gtin: string, lot: string) => `https://id.gs1.org/01/${gtin}/10/${enc(lot)}`;

/** UN/ECE Recommendation 20 codes for the units linegate keeps; a count (pcs) has none. */
const UOM: Record<string, string> = { kg: 'KGM', g: 'GRM', mg: 'MGM', t: 'TNE', lb: 'LBR', oz: 'ONZ', l: 'LTR', ml: 'MLT' };

function quantityElement(epcClass: string, quantity: string, unit: string): Json {
  const uom = UOM[unit.toLowerCase()];
  return { epcClass, quantity: Number(quantity), ...(uom ? { uom } : {}) };
}

function x(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
