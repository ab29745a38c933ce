import type { Config } from './config/schema.js';
import type { CompiledPattern } from './domain/numbering.js';
import type { Journal } from './store/journal.js';
import type { Repo } from './store/repo.js';
import type { Clock } from './util/clock.js';
import { Batches } from './usecases/batches.js';
import { Deviations } from './usecases/deviations.js';
import { Lots } from './usecases/lots.js';
import { Quality } from './usecases/quality.js';
import { Review } from './usecases/review.js';
import { Signatures } from './usecases/signatures.js';
import { Stations, type ScanParser } from './usecases/stations.js';
import { Users } from './usecases/users.js';

export type { Actor } from './usecases/actor.js';
export type { BatchInput } from './usecases/batches.js';
export type { LotInput, MaterialInput } from './usecases/lots.js';
export type { ScanParser } from './usecases/stations.js';

/**
 * The use cases, composed. Each area lives in its own file under src/usecases/ (issue 13); this
 * facade builds them over one journal and repo and keeps the methods callers (API routes, the
 * gateway, the CLI, the demo, tests) have always called, as the area objects' own methods. New
 * code may call an area directly (`ops.batches.transitionBatch`, `ops.deviations.raise`).
 *
 * Each use case is ONE journal transaction holding the state change, the record that tells
 * upstream about it, and the audit entry — so they commit together or not at all, and the caller
 * (API, driver) is answered only after the commit.
 */
export class Ops {
  /** Electronic signatures (src/usecases/signatures.ts). */
  readonly signatures: Signatures;
  /** Deviations (src/usecases/deviations.ts). */
  readonly deviations: Deviations;
  /** QC inspections (src/usecases/quality.ts). */
  readonly quality: Quality;
  /** Review by exception, reconciliation, stock counts (src/usecases/review.ts). */
  readonly review: Review;
  /** Batch creation and lifecycle (src/usecases/batches.ts). */
  readonly batches: Batches;
  /** Materials, lots and work orders (src/usecases/lots.ts). */
  readonly lots: Lots;
  /** Readings, overrides, corrections and station context (src/usecases/stations.ts). */
  readonly stations: Stations;
  /** Users and tokens (src/usecases/users.ts). */
  readonly users: Users;

  readonly batchPattern: CompiledPattern;

  readonly station: Stations['station'];
  readonly stationContext: Stations['stationContext'];
  readonly ingestScan: Stations['ingestScan'];
  readonly ingestBound: Stations['ingestBound'];
  readonly overrideScan: Stations['overrideScan'];
  readonly correctConsumption: Stations['correctConsumption'];
  readonly setStationContext: Stations['setStationContext'];
  readonly createBatch: Batches['createBatch'];
  readonly transitionBatch: Batches['transitionBatch'];
  readonly upsertWorkOrder: Lots['upsertWorkOrder'];
  readonly upsertMaterial: Lots['upsertMaterial'];
  readonly upsertLot: Lots['upsertLot'];
  readonly createUser: Users['createUser'];
  readonly updateUser: Users['updateUser'];

  /** Scan binders by station role (palletising, dispatch: src/usecases/dispatch.ts). */
  get stationScanBinders(): Stations['stationScanBinders'] {
    return this.stations.stationScanBinders;
  }

  constructor(
    readonly cfg: Readonly<Config>,
    readonly journal: Journal,
    readonly repo: Repo,
    readonly clock: Clock,
    parseScan: ScanParser,
  ) {
    this.signatures = new Signatures(repo.db, journal, clock, cfg.signatures);
    this.deviations = new Deviations(repo.db, journal, this.signatures, cfg.line.id, cfg.deviations.auto);
    this.quality = new Quality(repo.db, journal, this.signatures, clock, cfg.line.id);
    repo.yieldLimits = { lowerPct: String(cfg.reconciliation.yieldLowerPct), upperPct: String(cfg.reconciliation.yieldUpperPct) };
    this.review = new Review(repo.db, journal, clock, repo.yieldLimits);
    this.batches = new Batches(cfg, journal, repo, this.signatures, this.deviations);
    this.batchPattern = this.batches.batchPattern;
    this.lots = new Lots(journal, repo, this.batches, this.quality);
    this.stations = new Stations(cfg, journal, repo, clock, parseScan, this.batchPattern);
    this.users = new Users(journal, repo);

    const s = this.stations;
    this.station = s.station.bind(s);
    this.stationContext = s.stationContext.bind(s);
    this.ingestScan = s.ingestScan.bind(s);
    this.ingestBound = s.ingestBound.bind(s);
    this.overrideScan = s.overrideScan.bind(s);
    this.correctConsumption = s.correctConsumption.bind(s);
    this.setStationContext = s.setStationContext.bind(s);
    this.createBatch = this.batches.createBatch.bind(this.batches);
    this.transitionBatch = this.batches.transitionBatch.bind(this.batches);
    this.upsertWorkOrder = this.lots.upsertWorkOrder.bind(this.lots);
    this.upsertMaterial = this.lots.upsertMaterial.bind(this.lots);
    this.upsertLot = this.lots.upsertLot.bind(this.lots);
    this.createUser = this.users.createUser.bind(this.users);
    this.updateUser = this.users.updateUser.bind(this.users);
  }
}
