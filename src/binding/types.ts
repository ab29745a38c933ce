/**
 * The binder's contract: (reading, station context, master data) → record draft + effects.
 * Binding functions are pure: they read master data through synchronous lookups and return
 * what should happen; the store applies the record and its effects in one transaction, so a
 * refused reading changes nothing but the journal.
 */
import type { ErrorCode } from '../errors.js';

export type RecordStatus = 'accepted' | 'rejected';

/** A record before the journal gives it seq, id, received_at and clock_synced. */
export interface RecordDraft {
  type: string;
  status: RecordStatus;
  errorCode?: ErrorCode | null;
  message?: string | null;
  station?: string | null;
  batch?: string | null;
  lot?: string | null;
  operator?: string | null;
  device?: string | null;
  payload: Record<string, unknown>;
  sourceTime?: Date | string | null;
  /** Gateway receive time; defaults to now. */
  receivedAt?: Date | string | null;
  /** Overrides the line from config (records of another line are not expected, but allowed). */
  line?: string | null;
}

/** A stored record, as the journal returns it. */
export interface JournalRecord {
  seq: number;
  id: string;
  type: string;
  status: RecordStatus;
  errorCode: string | null;
  message: string | null;
  site: string;
  line: string | null;
  station: string | null;
  batch: string | null;
  lot: string | null;
  operator: string | null;
  device: string | null;
  payload: Record<string, unknown>;
  sourceTime: string | null;
  receivedAt: string;
  clockSynced: boolean;
}

/** State changes a bound reading causes, applied in the record's transaction. */
export type Effect =
  | { type: 'station.set_batch'; station: string; batch: string | null }
  | { type: 'station.set_operator'; station: string; operator: string | null }
  | { type: 'station.set_lot'; station: string; material: string; lot: string | null }
  /** A supervisor override in force at the station for one material (set after its station.set_lot). */
  | { type: 'station.grant_override'; station: string; material: string; override: StationOverride }
  | { type: 'lot.consume'; lot: string; batch: string; material: string; quantity: string; unit: string }
  | { type: 'lot.register'; lot: { id: string; material: string; supplier?: string | null; supplierLot?: string | null; expiry?: string | null; unit: string } }
  | { type: 'batch.add_produced'; batch: string; good: string; rejected: string }
  | { type: 'batch.add_personnel'; batch: string; operator: string }
  | { type: 'batch.transition'; batch: string; to: BatchStatus; reason: string; actor: string }
  | { type: 'device.set_state'; device: string; key: string; value: unknown };

export interface BindResult {
  record: RecordDraft;
  effects: Effect[];
}

export type StationRole = 'weighing' | 'filling' | 'packing' | 'generic' | 'palletising' | 'dispatch';

export type BatchStatus = 'planned' | 'in_process' | 'completed' | 'released' | 'on_hold' | 'rejected';
export type LotStatus = 'quarantine' | 'released' | 'on_hold' | 'rejected' | 'depleted';

export interface BomLine {
  material: string;
  quantity: string;
  unit: string;
  /** Percent, exact decimal text ("2" = ±2 %). */
  tolerancePct: string;
}

export interface BatchView {
  number: string;
  product: string;
  productName: string | null;
  gtin: string | null;
  plannedQty: string;
  unit: string;
  line: string;
  status: BatchStatus;
  bom: BomLine[];
  producedQty: string;
  rejectedQty: string;
  startedAt: string | null;
}

export interface MaterialView {
  code: string;
  name: string;
  unit: string;
  tracking: 'lot' | 'serial' | 'none';
  gtins: string[];
  shelfLifeDays: number | null;
}

export interface LotView {
  id: string;
  material: string;
  supplier: string | null;
  supplierLot: string | null;
  receiptDate: string | null;
  expiry: string | null;
  status: LotStatus;
  quantity: string;
  unit: string;
}

export interface UserView {
  id: string;
  name: string;
  role: 'operator' | 'supervisor' | 'qa' | 'admin' | 'erp';
  badge: string | null;
}

/** Synchronous read-only lookups the binder may use (backed by SQLite, or a map in unit tests). */
export interface MasterData {
  batch(number: string): BatchView | undefined;
  material(code: string): MaterialView | undefined;
  materialByGtin(gtin: string): MaterialView | undefined;
  lot(id: string): LotView | undefined;
  lotBySupplierLot(material: string, supplierLot: string): LotView | undefined;
  userByBadge(badge: string): UserView | undefined;
  /** Consumed so far of `material` into `batch` (exact decimal text, in the BOM unit). */
  consumed(batch: string, material: string): string;
  /** Per-device persisted state (last counter values etc.). */
  deviceState(device: string, key: string): unknown;
}

export interface StationContext {
  station: string;
  role: StationRole;
  batch: string | null;
  operator: string | null;
  /** Active lot per material code. */
  lots: Record<string, string>;
  /**
   * Supervisor overrides in force, per material code: they cover exactly that lot in that batch at
   * this station, and only for the refusal codes granted; the store drops one as soon as the
   * material's lot or the station's batch changes. Absent = none.
   */
  overrides?: Record<string, StationOverride>;
}

/** One granted override (the `lot.override` record `record`), as the station context keeps it. */
export interface StationOverride {
  lot: string;
  batch: string;
  /** Id of the `lot.override` record. */
  record: string;
  /** The refusal codes the supervisor saw and let through (e.g. LG_ERR_LOT_EXPIRED). */
  codes: string[];
}

export interface BindEnv {
  site: string;
  line: string;
  now: Date;
  /**
   * IANA time zone of the site (config `site.timezone`): dates such as a lot's expiry are compared
   * with the site-local date. The gateway (Stations.bindEnv, src/usecases/stations.ts) always sets it; only pure unit tests may
   * leave it out, and then UTC is used.
   */
  timezone?: string;
  md: MasterData;
}
