import type { Migration } from '../migrations.js';

/**
 * Review by exception (issue 13): QA's acknowledgement of each exception of a batch record, with a
 * comment, before the release signature is possible. (batch, key) is unique: an exception is
 * acknowledged once; the key is the record id or `<kind>:<id>` (src/store/batch-review.ts).
 * Also: physical stock counts of lots (SOP 5.4), counted vs system with the variance, applied to
 * the lot only when a second person approves — never a silent overwrite of the quantity.
 */
export const m013: Migration = {
  version: 13,
  name: 'review',
  sql: `
CREATE TABLE exception_acks (
  batch            TEXT NOT NULL,
  key              TEXT NOT NULL,
  kind             TEXT NOT NULL,
  comment          TEXT NOT NULL,
  acknowledged_by  TEXT NOT NULL,
  acknowledged_at  TEXT NOT NULL,
  record_seq       INTEGER NOT NULL,
  PRIMARY KEY (batch, key)
) WITHOUT ROWID;

CREATE TABLE stock_counts (
  id           TEXT PRIMARY KEY,
  lot          TEXT NOT NULL REFERENCES lots(id),
  counted      TEXT NOT NULL,
  system       TEXT NOT NULL,
  variance     TEXT NOT NULL,
  unit         TEXT NOT NULL,
  reason       TEXT NOT NULL,
  counted_by   TEXT NOT NULL,
  counted_at   TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('pending','approved','rejected')),
  decided_by   TEXT,
  decided_at   TEXT,
  decision_note TEXT,
  record_seq   INTEGER NOT NULL
);
CREATE INDEX stock_counts_lot ON stock_counts(lot, counted_at);
`,
};
