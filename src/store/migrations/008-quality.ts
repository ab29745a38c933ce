import type { Migration } from '../migrations.js';

/**
 * QC inspections (article 003): inspection plans as master data (per material at receiving, per
 * product in process) and results recorded against a lot or a batch. A result's pass/fail is
 * computed from the plan's specification when it is recorded and stored with the plan version it
 * was judged against; it is never typed in.
 */
export const m008: Migration = {
  version: 8,
  name: 'quality',
  sql: `
CREATE TABLE inspection_plans (
  id          TEXT PRIMARY KEY,
  scope       TEXT NOT NULL CHECK (scope IN ('receiving','in_process')),
  material    TEXT,                           -- receiving: the material inspected
  product     TEXT,                           -- in process: the product made
  body        TEXT NOT NULL CHECK (json_valid(body)),   -- characteristics, sample size, frequency, rules
  version     INTEGER NOT NULL,
  active      INTEGER NOT NULL DEFAULT 1,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX inspection_plans_material ON inspection_plans(material) WHERE material IS NOT NULL;
CREATE INDEX inspection_plans_product ON inspection_plans(product) WHERE product IS NOT NULL;

CREATE TABLE qc_inspections (
  id            TEXT PRIMARY KEY,
  record_seq    INTEGER NOT NULL REFERENCES records(seq),
  plan          TEXT NOT NULL REFERENCES inspection_plans(id),
  plan_version  INTEGER NOT NULL,
  lot           TEXT,
  batch         TEXT,
  station       TEXT,
  verdict       TEXT NOT NULL CHECK (verdict IN ('passed','failed')),
  results       TEXT NOT NULL CHECK (json_valid(results)),
  sample_size   INTEGER NOT NULL,
  retake_of     TEXT,
  inspected_by  TEXT NOT NULL,
  inspected_at  TEXT NOT NULL,
  approved_by   TEXT,
  approval      TEXT                             -- the approval's signature record id
);
CREATE INDEX qc_inspections_lot ON qc_inspections(lot, inspected_at) WHERE lot IS NOT NULL;
CREATE INDEX qc_inspections_batch ON qc_inspections(batch, inspected_at) WHERE batch IS NOT NULL;
`,
};
