/**
 * The batch record report's content (issue 14): everything the HTML and PDF show for one batch,
 * gathered with read-only SQL in ONE read transaction, so every section describes the same moment
 * of the journal.
 *
 * Verifiability. A report is stamped with `asOf` — the newest record seq and audit seq it saw —
 * and every section that comes from the append-only journal (records, consumptions, corrections,
 * signatures, QC results, audit) is cut at those seqs. So `gatherReport(db, n, { asOf })` years
 * later yields the same section again, and `linegate report verify` can recompute what a printed
 * copy says. The reconciliation, the exceptions and the print job states are cut too: what the
 * tables hold only as a current state (produced quantity, job state, deviation status, completion)
 * is replayed from the records up to the cut (src/store/batch-asof.ts). Sections that still show a
 * *current* state (batch status in the header, a deviation's status and investigation, who decided
 * a print job) are read as they are now; when they moved on since printing, verification names
 * exactly those sections ("changed since printed") instead of one opaque mismatch. Each section has its own SHA-256; the report's content hash is the SHA-256 of the
 * canonical list of section hashes (src/domain/snapshot.ts canonical JSON).
 *
 * The config section (site, line, time zone, equipment) comes from the gateway's config, not the
 * journal; offline on a journal copy without `--config` it is what the journal knows (the device
 * ids seen in the batch's records), and verification says so.
 *
 * Label pictures are not content: `labelSamples` names one print job per label kind with the
 * SHA-256 of its stored ZPL, and the renderers draw the picture made from that ZPL
 * (src/report/images.ts) — rendering is not byte-stable across zpl-renderer-js versions, the ZPL is.
 *
 * Extension point: other parts (e.g. completion/release checks) add a section with `registerReportSection(name, provider)`: a provider reads the same db inside the
 * same transaction and returns plain JSON (or null for "not applicable"). Sections appear in the
 * JSON export and the hash at once; the HTML/PDF render unknown sections as a generic table.
 */
import { canonicalJson, contentHash } from '../domain/snapshot.js';
import { LgError } from '../errors.js';
import type { Db } from '../store/db.js';
import { batchExceptions, DEFAULT_YIELD_LIMITS, reconcile, type BatchException, type Reconciliation, type YieldLimits } from '../store/batch-review.js';
import { jobStatesAt } from '../store/batch-asof.js';
import { zplSha256 } from '../labels/images.js';

export const REPORT_VERSION = 1;

/** What the report covers: records up to `recordSeq`, audit entries up to `auditSeq`. */
export interface AsOf {
  recordSeq: number;
  auditSeq: number;
}

export interface ReportConfigInfo {
  site: { id: string; name: string | null; timezone: string };
  line: { id: string; name: string | null };
  /** Every device of the config: id, kind, station and profile (scale/scanner profile, OPC UA node map, printer model). */
  equipment: Array<{ id: string; kind: string; station: string | null; profile: string | null; enabled: boolean }>;
  /** Where this section came from: the gateway's config, or only the journal (offline, no --config). */
  source: 'config' | 'journal';
}

export interface Person {
  id: string;
  name: string;
  role: string | null;
  /** What they did in this batch: assigned, operated, consumed, signed (released), raised deviation… */
  activities: string[];
}

export interface Consumption {
  recordSeq: number;
  recordId: string;
  lot: string;
  supplier: string | null;
  supplierLot: string | null;
  expiry: string | null;
  quantity: string;
  unit: string;
  device: string | null;
  station: string | null;
  operator: string | null;
  at: string;
  /** Set when a correction (material.consumption_corrected) took this consumption back. */
  correctedBy: number | null;
}

export interface MaterialLine {
  material: string;
  name: string | null;
  target: string;
  unit: string;
  tolerancePct: string;
  consumptions: Consumption[];
}

export interface MachineSegment {
  device: string | null;
  state: string;
  from: string;
  to: string | null;
  /** true for a period without a link to the machine (no state known). */
  gap: boolean;
}

export interface ReportSections {
  config: ReportConfigInfo;
  header: Record<string, unknown>;
  personnel: Person[];
  materials: MaterialLine[];
  /** Consumptions of materials not on the BOM (overrides), kept apart so nothing is hidden. */
  offBom: Consumption[];
  corrections: Array<Record<string, unknown>>;
  machine: { segments: MachineSegment[]; msInState: Record<string, number>; linkGaps: number };
  counters: { produced: string; rejected: string; updates: number; discontinuities: Array<Record<string, unknown>> };
  qc: Array<Record<string, unknown>>;
  deviations: Array<Record<string, unknown>>;
  labels: Array<Record<string, unknown>>;
  /**
   * One print job per label kind (the first printed one, else the first) whose picture the report
   * shows, with the SHA-256 of its stored ZPL. The picture itself is not content: it is rendered
   * from that ZPL by a library whose output may change between versions; the ZPL's hash does not.
   */
  labelSamples: Array<{ kind: string; label: string; job: string; printer: string; zplSha256: string }>;
  /** Material, production and label reconciliation at the cut (src/store/batch-review.ts). */
  reconciliation: Reconciliation;
  /** Review by exception at the cut: every exception with QA's acknowledgement (if given by then). */
  exceptions: BatchException[];
  signatures: Array<Record<string, unknown>>;
  rejectedRecords: Array<Record<string, unknown>>;
  audit: Array<Record<string, unknown>>;
  /** Sections registered by other parts (checks, reconciliation, yield, exceptions…). */
  extra: Record<string, unknown>;
}

export interface ReportData {
  kind: 'batch-record-report';
  v: number;
  batch: string;
  asOf: AsOf;
  sections: ReportSections;
  /** SHA-256 of each section's canonical JSON. */
  sectionHashes: Record<string, string>;
  /** SHA-256 of the canonical {kind, v, batch, asOf, sectionHashes}: printed on every page. */
  contentHash: string;
}

export type ReportSectionProvider = (db: Db, batch: string, asOf: AsOf) => unknown;
const providers = new Map<string, ReportSectionProvider>();

/** Add a section (e.g. `checks`, `reconciliation`, `yield`, `exceptions`) to every report. */
export function registerReportSection(name: string, provider: ReportSectionProvider): void {
  providers.set(name, provider);
}

/** Config facts the report prints (the gateway passes its config; the CLI may have none). */
export interface ReportConfigSource {
  site: { id: string; name?: string | null; timezone: string };
  line: { id: string; name?: string | null };
  devices: ReadonlyArray<{ id: string; kind: string; station?: string | null; enabled?: boolean; [k: string]: unknown }>;
  /** Yield limits of the reconciliation (config `reconciliation`); the defaults when absent. */
  reconciliation?: { yieldLowerPct: number | string; yieldUpperPct: number | string };
}

export function yieldLimitsOf(cfg: ReportConfigSource | null): YieldLimits {
  const r = cfg?.reconciliation;
  return r ? { lowerPct: String(r.yieldLowerPct), upperPct: String(r.yieldUpperPct) } : DEFAULT_YIELD_LIMITS;
}

export function configInfo(cfg: ReportConfigSource): ReportConfigInfo {
  return {
    site: { id: cfg.site.id, name: cfg.site.name ?? null, timezone: cfg.site.timezone },
    line: { id: cfg.line.id, name: cfg.line.name ?? null },
    equipment: cfg.devices
      .map((d) => {
        const p = d.profile ?? d.nodeMap ?? d.model ?? null;
        return { id: d.id, kind: d.kind, station: d.station ?? null, profile: typeof p === 'string' ? p : null, enabled: d.enabled !== false };
      })
      .sort((a, b) => a.id.localeCompare(b.id)),
    source: 'config',
  };
}

type Row = Record<string, unknown>;
const parse = (s: unknown): Record<string, unknown> => {
  try {
    return typeof s === 'string' ? (JSON.parse(s) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The newest record and audit seqs: what a report made now covers. */
export function currentAsOf(db: Db): AsOf {
  const r = db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM records').get() as { n: number };
  const a = db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM audit').get() as { n: number };
  return { recordSeq: Number(r.n), auditSeq: Number(a.n) };
}

/**
 * Gather the report of batch `number`. `cfg` null = offline without a config (the config section is
 * then what the journal knows). `asOf` absent = now. One read transaction.
 */
export function gatherReport(db: Db, number: string, opts: { cfg: ReportConfigSource | null; asOf?: AsOf }): ReportData {
  const read = db.transaction(() => {
    const asOf = opts.asOf ?? currentAsOf(db);
    const sections = gatherSections(db, number, opts.cfg, asOf);
    return finish(number, asOf, sections);
  });
  return read.deferred();
}

export function finish(number: string, asOf: AsOf, sections: ReportSections): ReportData {
  const sectionHashes: Record<string, string> = {};
  for (const [k, v] of Object.entries(sections)) {
    if (k === 'extra') for (const [ek, ev] of Object.entries(v as Record<string, unknown>)) sectionHashes[`extra.${ek}`] = contentHash(ev);
    else sectionHashes[k] = contentHash(v);
  }
  const hash = contentHash({ kind: 'batch-record-report', v: REPORT_VERSION, batch: number, asOf, sectionHashes });
  return { kind: 'batch-record-report', v: REPORT_VERSION, batch: number, asOf, sections, sectionHashes, contentHash: hash };
}

/** The canonical JSON export (what the hash is computed over, plus the sections themselves). */
export function reportJson(d: ReportData): string {
  return canonicalJson(d);
}

function gatherSections(db: Db, number: string, cfg: ReportConfigSource | null, asOf: AsOf): ReportSections {
  const b = db.prepare('SELECT * FROM batches WHERE number = ?').get(number) as Row | undefined;
  if (!b) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
  const S = asOf.recordSeq;
  const users = new Map<string, { name: string; role: string }>();
  for (const u of db.prepare('SELECT id, name, role FROM users').all() as Array<{ id: string; name: string; role: string }>) users.set(u.id, { name: u.name, role: u.role });

  // Every record of the batch up to asOf: the spine of most sections.
  const records = db
    .prepare(`SELECT seq, id, type, status, error_code, message, station, lot, operator, device, payload, source_time, received_at, clock_synced FROM records WHERE batch = ? AND seq <= ? ORDER BY seq`)
    .all(number, S) as Row[];

  // --- config -----------------------------------------------------------------------------------
  let config: ReportConfigInfo;
  if (cfg) config = configInfo(cfg);
  else {
    const site = (db.prepare('SELECT site FROM records WHERE batch = ? ORDER BY seq LIMIT 1').get(number) as { site?: string } | undefined)?.site ?? 'unknown';
    const devs = [...new Set(records.map((r) => r.device).filter((d): d is string => typeof d === 'string'))].sort();
    config = {
      site: { id: site, name: null, timezone: 'UTC' },
      line: { id: String(b.line), name: null },
      equipment: devs.map((id) => ({ id, kind: 'unknown', station: null, profile: null, enabled: true })),
      source: 'journal',
    };
  }

  // --- header -----------------------------------------------------------------------------------
  const statusChanges = records.filter((r) => r.type === 'batch.status_changed').map((r) => ({ seq: r.seq, at: r.received_at, ...pick(parse(r.payload), ['from', 'to', 'by', 'reason']) }));
  const header = {
    number: b.number,
    product: b.product,
    productName: b.product_name ?? null,
    gtin: b.gtin ?? null,
    plannedQty: b.planned_qty,
    unit: b.unit,
    line: b.line,
    workOrder: b.work_order ?? null,
    status: b.status,
    heldFrom: b.held_from ?? null,
    plannedStart: b.planned_start ?? null,
    startedAt: b.started_at ?? null,
    completedAt: b.completed_at ?? null,
    releasedAt: b.released_at ?? null,
    createdAt: b.created_at,
    producedQty: b.produced_qty,
    rejectedQty: b.rejected_qty,
    recordCount: records.length,
    rejectedCount: records.filter((r) => r.status === 'rejected').length,
    statusHistory: statusChanges,
  };

  // --- materials and consumptions -----------------------------------------------------------------
  const bom = db
    .prepare(`SELECT bb.material, m.name, bb.quantity, bb.unit, bb.tolerance_pct FROM batch_bom bb LEFT JOIN materials m ON m.code = bb.material WHERE bb.batch = ? ORDER BY bb.material`)
    .all(number) as Row[];
  const cons = db
    .prepare(
      `SELECT c.record_seq, c.lot, c.material, c.quantity, c.unit, c.at, r.id AS record_id, r.device, r.station, r.operator,
              l.supplier, l.supplier_lot, l.expiry,
              (SELECT cc.record_seq FROM consumption_corrections cc WHERE cc.corrects_seq = c.record_seq AND cc.record_seq <= @S) AS corrected_by
         FROM consumptions c JOIN records r ON r.seq = c.record_seq LEFT JOIN lots l ON l.id = c.lot
        WHERE c.batch = @n AND c.record_seq <= @S ORDER BY c.record_seq`,
    )
    .all({ n: number, S }) as Row[];
  const toConsumption = (c: Row): Consumption => ({
    recordSeq: Number(c.record_seq),
    recordId: String(c.record_id),
    lot: String(c.lot),
    supplier: str(c.supplier),
    supplierLot: str(c.supplier_lot),
    expiry: str(c.expiry),
    quantity: String(c.quantity),
    unit: String(c.unit),
    device: str(c.device),
    station: str(c.station),
    operator: str(c.operator),
    at: String(c.at),
    correctedBy: c.corrected_by === null || c.corrected_by === undefined ? null : Number(c.corrected_by),
  });
  const bomCodes = new Set(bom.map((l) => String(l.material)));
  const materials: MaterialLine[] = bom.map((l) => ({
    material: String(l.material),
    name: str(l.name),
    target: String(l.quantity),
    unit: String(l.unit),
    tolerancePct: String(l.tolerance_pct),
    consumptions: cons.filter((c) => c.material === l.material).map(toConsumption),
  }));
  const offBom = cons.filter((c) => !bomCodes.has(String(c.material))).map(toConsumption);
  const corrections = (
    db
      .prepare(
        `SELECT cc.record_seq, cc.corrects_seq, cc.lot, cc.material, cc.quantity, cc.unit, cc.at, r.operator, r.payload
           FROM consumption_corrections cc JOIN records r ON r.seq = cc.record_seq WHERE cc.batch = ? AND cc.record_seq <= ? ORDER BY cc.record_seq`,
      )
      .all(number, S) as Row[]
  ).map((c) => {
    const p = parse(c.payload);
    return { recordSeq: c.record_seq, correctsSeq: c.corrects_seq, lot: c.lot, material: c.material, quantity: c.quantity, unit: c.unit, at: c.at, by: c.operator ?? p.by ?? null, reason: p.reason ?? null };
  });

  // --- machine timeline and counters --------------------------------------------------------------
  const machineRecs = records.filter((r) => String(r.type).startsWith('machine.'));
  const machine = machineTimeline(machineRecs.map((r) => ({ type: String(r.type), device: str(r.device), payload: parse(r.payload), receivedAt: String(r.received_at) })), str(b.completed_at));
  const counterRecs = records.filter((r) => r.type === 'counter.updated' || r.type === 'counter.discontinuity');
  const counters = {
    produced: String(b.produced_qty),
    rejected: String(b.rejected_qty),
    updates: counterRecs.filter((r) => r.type === 'counter.updated' && r.status === 'accepted').length,
    discontinuities: counterRecs
      .filter((r) => r.type === 'counter.discontinuity')
      .map((r) => ({ seq: r.seq, at: r.received_at, device: r.device, code: r.error_code, ...pick(parse(r.payload), ['counter', 'previous', 'value', 'delta']) })),
  };

  // --- QC: in-process results of the batch and receiving results of every lot it consumed ---------
  const qc = (
    db
      .prepare(
        `SELECT q.id, q.plan, q.plan_version, p.scope, q.lot, q.batch, q.station, q.verdict, q.results, q.sample_size, q.retake_of, q.inspected_by, q.inspected_at, q.approved_by, q.approval
           FROM qc_inspections q LEFT JOIN inspection_plans p ON p.id = q.plan
          WHERE q.record_seq <= @S AND (q.batch = @n OR q.lot IN (SELECT lot FROM consumptions WHERE batch = @n AND record_seq <= @S))
          ORDER BY q.inspected_at, q.id`,
      )
      .all({ n: number, S }) as Row[]
  ).map((q) => ({
    id: q.id,
    plan: q.plan,
    planVersion: q.plan_version,
    scope: q.scope ?? null,
    lot: q.lot ?? null,
    station: q.station ?? null,
    verdict: q.verdict,
    results: JSON.parse(String(q.results)) as unknown,
    sampleSize: q.sample_size,
    retakeOf: q.retake_of ?? null,
    inspectedBy: q.inspected_by,
    inspectedAt: q.inspected_at,
    approvedBy: q.approved_by ?? null,
  }));

  // --- deviations (current status; raised up to asOf) --------------------------------------------
  const raisedAfter = new Set(
    (db.prepare(`SELECT json_extract(payload, '$.number') AS n FROM records WHERE type = 'deviation.raised' AND batch = ? AND seq > ?`).all(number, S) as Array<{ n: string }>).map((r) => r.n),
  );
  const deviations = (db.prepare('SELECT * FROM deviations WHERE batch = ? ORDER BY number').all(number) as Row[])
    .filter((d) => !raisedAfter.has(String(d.number)))
    .map((d) => ({
      number: d.number,
      type: d.type,
      category: d.category,
      title: d.title,
      description: d.description,
      lot: d.lot ?? null,
      material: d.material ?? null,
      station: d.station ?? null,
      source: d.source,
      status: d.status,
      raisedBy: d.raised_by,
      raisedAt: d.raised_at,
      immediateAction: d.immediate_action ?? null,
      rootCause: d.root_cause ?? null,
      impact: d.impact ?? null,
      capaRef: d.capa_ref ?? null,
      investigatedBy: d.investigated_by ?? null,
      closedBy: d.closed_by ?? null,
      closedAt: d.closed_at ?? null,
    }));

  // --- labels and print jobs ----------------------------------------------------------------------
  const labelRows = (
    db
      .prepare(
        `SELECT l.id, l.kind, l.serial, l.sscc, l.lot, l.template, l.created_at,
                j.id AS job, j.printer, j.state, j.zpl, j.reprint_of, j.reprint_reason, j.decided_by, j.created_at AS job_at, j.confirmed_at, j.error_code
           FROM labels l LEFT JOIN print_jobs j ON j.label_id = l.id
          WHERE l.batch = ? AND l.record_seq <= ? AND (j.record_seq IS NULL OR j.record_seq <= ?)
          ORDER BY l.created_at, l.id, j.seq`,
      )
      .all(number, S, S) as Row[]
  );
  // A job's state as it stood at the cut (replayed from its records), not as it is now.
  const jobAt = jobStatesAt(db, number, asOf);
  const labels = labelRows.map((l) => ({
    label: l.id,
    kind: l.kind,
    serial: l.serial ?? null,
    sscc: l.sscc ?? null,
    lot: l.lot ?? null,
    template: l.template,
    job: l.job ?? null,
    printer: l.printer ?? null,
    state: l.job ? (jobAt.get(String(l.job))?.state ?? null) : null,
    zplSha256: typeof l.zpl === 'string' ? zplSha256(l.zpl) : null,
    reprint: l.reprint_of ? true : false,
    reprintReason: l.reprint_reason ?? null,
    decidedBy: l.decided_by ?? null,
    at: l.job_at ?? l.created_at,
  }));
  const labelSamples: ReportSections['labelSamples'] = [];
  for (const kind of [...new Set(labels.map((l) => String(l.kind)))].sort()) {
    const ofKind = labels.filter((l) => l.kind === kind && l.job && l.zplSha256);
    const pick1 = ofKind.find((l) => l.state === 'confirmed') ?? ofKind[0];
    if (pick1) labelSamples.push({ kind, label: String(pick1.label), job: String(pick1.job), printer: String(pick1.printer ?? ''), zplSha256: String(pick1.zplSha256) });
  }
  const limits = yieldLimitsOf(cfg);
  const reconciliation = reconcile(db, number, limits, asOf)!;
  const exceptions = batchExceptions(db, number, { limits, asOf });

  // --- signatures: of the batch and of everything of it (deviations, QC results…) ------------------
  const devNumbers = deviations.map((d) => String(d.number));
  const qcIds = qc.map((q) => String(q.id));
  const sigRows = db
    .prepare(
      `SELECT s.id, s.entity, s.entity_id, s.meaning, s.action, s.signer, s.signer_name, s.signed_at, s.covered_seq, s.content_hash, r.payload
         FROM signatures s JOIN records r ON r.seq = s.record_seq
        WHERE s.record_seq <= ? AND ((s.entity = 'batch' AND s.entity_id = ?) OR r.batch = ?
              OR (s.entity = 'deviation' AND s.entity_id IN (SELECT value FROM json_each(?)))
              OR (s.entity IN ('qc_result','qc_inspection') AND s.entity_id IN (SELECT value FROM json_each(?))))
        ORDER BY s.record_seq`,
    )
    .all(S, number, number, JSON.stringify(devNumbers), JSON.stringify(qcIds)) as Row[];
  const signatures = sigRows.map((s) => {
    const p = parse(s.payload);
    const inner = (p.signature ?? p) as Record<string, unknown>;
    return {
      id: s.id,
      entity: s.entity,
      entityId: s.entity_id,
      meaning: s.meaning,
      action: s.action,
      signer: s.signer,
      printedName: s.signer_name,
      role: users.get(String(s.signer))?.role ?? null,
      signedAt: s.signed_at,
      statement: (inner.statement as string | undefined) ?? (p.statement as string | undefined) ?? null,
      coveredSeq: s.covered_seq,
      contentHash: s.content_hash,
    };
  });

  // --- records refused or flagged (every exception stays visible) --------------------------------
  const rejectedRecords = records
    .filter((r) => r.status === 'rejected' || (r.error_code !== null && r.error_code !== undefined))
    .map((r) => ({ seq: r.seq, at: r.received_at, type: r.type, status: r.status, code: r.error_code, station: r.station, device: r.device, operator: r.operator, message: r.message, clockSynced: r.clock_synced === 1 }));

  // --- audit excerpt: the batch and what belongs to it --------------------------------------------
  const labelIds = [...new Set(labels.map((l) => String(l.label)))];
  const jobIds = labels.map((l) => l.job).filter((j): j is string => typeof j === 'string');
  const audit = (
    db
      .prepare(
        `SELECT seq, at, actor, action, entity, entity_id, reason, hash FROM audit
          WHERE seq <= @A AND ((entity = 'batch' AND entity_id = @n)
             OR (entity = 'deviation' AND entity_id IN (SELECT value FROM json_each(@devs)))
             OR (entity = 'qc_inspection' AND entity_id IN (SELECT value FROM json_each(@qc)))
             OR (entity = 'print_job' AND entity_id IN (SELECT value FROM json_each(@jobs)))
             OR (entity = 'label' AND entity_id IN (SELECT value FROM json_each(@labels)))
             OR (entity = 'record' AND entity_id IN (SELECT id FROM records WHERE batch = @n AND seq <= @S))
             OR (entity = 'lot' AND action LIKE 'qc.%' AND entity_id IN (SELECT lot FROM consumptions WHERE batch = @n AND record_seq <= @S)))
          ORDER BY seq`,
      )
      .all({ A: asOf.auditSeq, S, n: number, devs: JSON.stringify(devNumbers), qc: JSON.stringify(qcIds), jobs: JSON.stringify(jobIds), labels: JSON.stringify(labelIds) }) as Row[]
  ).map((a) => ({ seq: a.seq, at: a.at, actor: a.actor, action: a.action, entity: a.entity, entityId: a.entity_id, reason: a.reason ?? null, hash: a.hash }));

  // --- personnel: assigned, and everyone who did something in this record -------------------------
  const acts = new Map<string, Set<string>>();
  const did = (id: unknown, what: string): void => {
    if (typeof id !== 'string' || id === '' || id === 'system') return;
    if (!acts.has(id)) acts.set(id, new Set());
    acts.get(id)!.add(what);
  };
  // "Assigned" as of the cut: the people named when the batch was created (its batch.created record)
  // and whoever joined it by signing in at its station or selecting it there (the records whose
  // effects add to batches.personnel). Not the batch row's list: it grows after the cut, and the
  // report at a cut must hash the same later (the demo's shift showed it: NOT VERIFIED, personnel).
  const createdRec = records.find((r) => r.type === 'batch.created');
  const named = createdRec ? (parse(String(createdRec.payload)).personnel as unknown) : parse(`{"p":${String(b.personnel ?? '[]')}}`).p;
  for (const id of Array.isArray(named) ? named : []) did(id, 'assigned');
  for (const r of records) {
    if (r.status === 'accepted' && (r.type === 'operator.signed_in' || r.type === 'batch.selected')) did(r.operator, 'assigned');
  }
  // Signatures, deviations and QC results are named below from their own rows; every other record
  // names what the person did by its type.
  for (const r of records) {
    const type = String(r.type);
    if (!r.operator || /^(signature|deviation|qc)\./.test(type)) continue;
    did(r.operator, ACTIVITY[type] ?? type);
  }
  for (const s of signatures) did(s.signer, `signed (${String(s.meaning)})`);
  for (const d of deviations) {
    did(d.raisedBy, 'raised deviation');
    did(d.investigatedBy, 'investigated deviation');
    did(d.closedBy, 'closed deviation');
  }
  for (const q of qc) did(q.inspectedBy, 'QC inspection');
  for (const c of corrections) did(c.by, 'corrected consumption');
  for (const l of labels) did(l.decidedBy, 'print decision');
  const personnel: Person[] = [...acts.entries()]
    .map(([id, s]) => ({ id, name: users.get(id)?.name ?? id, role: users.get(id)?.role ?? null, activities: [...s].sort() }))
    .sort((a, b2) => a.id.localeCompare(b2.id));

  const extra: Record<string, unknown> = {};
  for (const [name, fn] of [...providers.entries()].sort(([a], [b2]) => a.localeCompare(b2))) {
    const v = fn(db, number, asOf);
    if (v !== null && v !== undefined) extra[name] = v;
  }

  return { config, header, personnel, materials, offBom, corrections, machine, counters, qc, deviations, labels, labelSamples, reconciliation, exceptions, signatures, rejectedRecords, audit, extra };
}

const ACTIVITY: Record<string, string> = {
  'material.consumed': 'weighed/consumed',
  'lot.scanned': 'scanned lots',
  'lot.override': 'override',
  'batch.status_changed': 'changed batch status',
  'batch.created': 'created batch',
  'station.batch_selected': 'selected batch',
  'batch.selected': 'selected batch',
  'operator.signed_in': 'signed in at station',
  'label.reprint_requested': 'requested reprint',
  'material.consumption_corrected': 'corrected consumption',
};

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

export const LINK_GAP = 'NoLink';

/**
 * PackML state segments from machine.* records (same timing rules as binding/machine.ts
 * stateDurations: a state starts at its enteredAt, a link gap runs from `since` for `gapMs`).
 */
export function machineTimeline(recs: Array<{ type: string; device: string | null; payload: Record<string, unknown>; receivedAt: string }>, until: string | null): ReportSections['machine'] {
  const t = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : NaN);
  const ev = recs
    .map((r) => {
      const p = r.payload;
      const at =
        r.type === 'machine.state_changed' ? t(p.enteredAt) : r.type === 'machine.link_lost' ? t(p.since) : r.type === 'machine.link_restored' ? t(p.since) + Number(p.gapMs ?? 0) : NaN;
      return { r, at: Number.isFinite(at) ? at : t(r.receivedAt) };
    })
    .filter((x) => ['machine.state_changed', 'machine.link_lost', 'machine.link_restored'].includes(x.r.type) && Number.isFinite(x.at))
    .sort((a, b) => a.at - b.at);
  const segments: MachineSegment[] = [];
  const open = new Map<string, MachineSegment>(); // per device
  const before = new Map<string, string>();
  const close = (dev: string, at: number): void => {
    const s = open.get(dev);
    if (s) {
      s.to = new Date(Math.max(at, Date.parse(s.from))).toISOString();
      open.delete(dev);
    }
  };
  let linkGaps = 0;
  for (const { r, at } of ev) {
    const dev = r.device ?? '';
    const iso = new Date(at).toISOString();
    if (r.type === 'machine.state_changed') {
      close(dev, at);
      const s: MachineSegment = { device: r.device, state: String(r.payload.to), from: iso, to: null, gap: false };
      segments.push(s);
      open.set(dev, s);
    } else if (r.type === 'machine.link_lost') {
      const cur = open.get(dev);
      if (cur?.gap) continue;
      if (cur) before.set(dev, cur.state);
      close(dev, at);
      const s: MachineSegment = { device: r.device, state: LINK_GAP, from: new Date(t(r.payload.since) || at).toISOString(), to: null, gap: true };
      segments.push(s);
      open.set(dev, s);
      linkGaps++;
    } else {
      const cur = open.get(dev);
      if (!cur?.gap) {
        // a restore without a recorded loss (the loss fell outside the batch): book the gap alone
        const since = t(r.payload.since);
        if (Number.isFinite(since)) {
          segments.push({ device: r.device, state: LINK_GAP, from: new Date(since).toISOString(), to: iso, gap: true });
          linkGaps++;
        }
        continue;
      }
      close(dev, at);
      const prev = before.get(dev);
      if (prev) {
        const s: MachineSegment = { device: r.device, state: prev, from: iso, to: null, gap: false };
        segments.push(s);
        open.set(dev, s);
      }
    }
  }
  if (until) for (const dev of [...open.keys()]) close(dev, Date.parse(until));
  const msInState: Record<string, number> = {};
  for (const s of segments) {
    if (!s.to) continue;
    msInState[s.state] = (msInState[s.state] ?? 0) + (Date.parse(s.to) - Date.parse(s.from));
  }
  return { segments, msInState, linkGaps };
}

// The reconciliation and the exceptions are sections cut at the report's as-of point: they read
// consumptions, corrections, acknowledgements, QC results and deviations up to the cut and replay
// production, print job states and deviation statuses from the records (src/store/batch-asof.ts),
// so a report made at a cut hashes the same however many records arrive later.
