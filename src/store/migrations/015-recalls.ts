import type { Migration } from '../migrations.js';

/**
 * Issue 15: recall as an action (src/usecases/recalls.ts).
 *
 * - `recalls`: one row per recall, numbered `RC-<year>-<nnnn>` from the journal's counter. The
 *   scope is what QA named (a supplier lot with or without its supplier, an internal lot, a batch);
 *   `scope_key` is that scope normalised, and at most one recall per scope is open at a time (the
 *   partial unique index): starting the same recall twice is refused, naming the open one.
 * - `recall_items`: what the recall found and did when it started, one row per object: lots,
 *   batches and pallets put on hold (`held`), found on hold already (`already_held`), left as they
 *   were (`unchanged`: rejected or depleted), and what had left the site (`shipped`: pallets and
 *   deliveries). It is the recall's list, never the objects' current state (which the lots,
 *   batches and pallets tables keep, and only their own QA disposition changes).
 *
 * Numbered 015: 014 belongs to other work merged in parallel; the runner applies pending
 * migrations in array order.
 */
export const m015: Migration = {
  version: 15,
  name: 'recalls',
  sql: `
CREATE TABLE recalls (
  id           TEXT PRIMARY KEY,          -- the recall.started record id (UUIDv7)
  number       TEXT NOT NULL UNIQUE,      -- RC-2026-0001
  scope_kind   TEXT NOT NULL CHECK (scope_kind IN ('supplier_lot','lot','batch')),
  scope_value  TEXT NOT NULL,
  supplier     TEXT,
  scope_key    TEXT NOT NULL,
  reason       TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('open','closed')),
  started_by   TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  started_seq  INTEGER NOT NULL,
  signature    TEXT,                      -- signature.applied record id
  closed_by    TEXT,
  closed_at    TEXT,
  closed_seq   INTEGER,
  outcome      TEXT,
  close_reason TEXT
);
CREATE UNIQUE INDEX recalls_open_scope ON recalls(scope_key) WHERE status = 'open';
CREATE INDEX recalls_started ON recalls(started_seq);

CREATE TABLE recall_items (
  recall     TEXT NOT NULL REFERENCES recalls(id),
  kind       TEXT NOT NULL CHECK (kind IN ('lot','batch','pallet','delivery')),
  ref        TEXT NOT NULL,               -- lot id, batch number, pallet id, delivery number
  action     TEXT NOT NULL CHECK (action IN ('held','already_held','unchanged','shipped')),
  status_before TEXT,
  detail     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
  record_seq INTEGER,                     -- the hold's record, when the recall put it on hold
  PRIMARY KEY (recall, kind, ref)
);
CREATE INDEX recall_items_ref ON recall_items(kind, ref);
`,
};
