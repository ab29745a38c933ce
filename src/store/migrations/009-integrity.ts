import type { Migration } from '../migrations.js';

/**
 * Consumption and override integrity (issue 10.1, 10.2).
 *
 * - `station_context.overrides`: the supervisor overrides in force at a station, per material
 *   (`{material: {lot, batch, record, codes}}`). Written with the override record, cleared when
 *   that material's lot or the station's batch changes — so an override covers exactly the lot,
 *   batch and station it was granted for, and the weight binder can honour it.
 * - `consumption_corrections`: one row per `material.consumption_corrected` record. UNIQUE
 *   `corrects_seq` makes "a consumption is corrected at most once" a database fact, not only a
 *   check in code; the net consumed of a batch is consumptions − corrections.
 */
export const m009: Migration = {
  version: 9,
  name: 'integrity',
  sql: `
ALTER TABLE station_context ADD COLUMN overrides TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(overrides));

CREATE TABLE consumption_corrections (
  record_seq   INTEGER PRIMARY KEY REFERENCES records(seq),
  corrects_seq INTEGER NOT NULL UNIQUE REFERENCES consumptions(record_seq),
  batch        TEXT NOT NULL,
  lot          TEXT NOT NULL,
  material     TEXT NOT NULL,
  quantity     TEXT NOT NULL,
  unit         TEXT NOT NULL,
  at           TEXT NOT NULL
);
CREATE INDEX consumption_corrections_batch ON consumption_corrections(batch, material);
CREATE INDEX consumption_corrections_lot ON consumption_corrections(lot);
`,
};
