import type { Migration } from '../migrations.js';

/**
 * Deviations (SOP 5.2.2): numbered per site, linked to a batch (and optionally a lot, station and
 * the record that caused it), open → under_investigation → closed (closing is a QA signature).
 * `source` says who raised it: a person ('manual') or linegate itself ('auto:<trigger>'), in which
 * case `record_id` is the triggering record and (source, record_id) is unique — a trigger raises
 * exactly one deviation, even when the sweep runs again after a crash.
 */
export const m007: Migration = {
  version: 7,
  name: 'deviations',
  sql: `
CREATE TABLE deviations (
  number           TEXT PRIMARY KEY,
  batch            TEXT,
  lot              TEXT,
  material         TEXT,                   -- a BOM line the deviation covers (e.g. consumed outside tolerance)
  station          TEXT,
  record_id        TEXT,
  type             TEXT NOT NULL CHECK (type IN ('planned','unplanned')),
  category         TEXT NOT NULL CHECK (category IN ('minor','major','critical')),
  title            TEXT NOT NULL,
  description      TEXT NOT NULL,
  immediate_action TEXT,
  source           TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('open','under_investigation','closed')),
  root_cause       TEXT,
  impact           TEXT,
  capa_ref         TEXT,
  raised_by        TEXT NOT NULL,
  raised_at        TEXT NOT NULL,
  investigated_by  TEXT,
  closed_by        TEXT,
  closed_at        TEXT,
  closure_signature TEXT,
  updated_at       TEXT NOT NULL
);
CREATE INDEX deviations_batch ON deviations(batch, status);
CREATE INDEX deviations_status ON deviations(status);
CREATE UNIQUE INDEX deviations_trigger ON deviations(source, record_id) WHERE record_id IS NOT NULL AND source <> 'manual';
`,
};
