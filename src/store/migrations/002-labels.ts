import type { Migration } from '../migrations.js';

/**
 * Labels issue: issued label identities and the durable print queue.
 *
 * `labels` holds one row per label identity (case serial or pallet SSCC). The UNIQUE constraints
 * are the last line of defence behind the counters: an identity can never be issued twice, even
 * by a bug in the allocation code (the transaction that would do it fails instead).
 *
 * `print_jobs` is the queue. States:
 *   queued → sending → sent → confirmed
 *                  ↘ needs_confirmation (bytes may have reached the printer; an operator decides)
 *   failed (given up on: the operator chose "reprint" for it, or it could not be sent at all)
 * A job is only ever written to the printer from `queued`; `sending`/`sent` found at start-up
 * become `needs_confirmation`, never `queued` again, so a crash can not cause a duplicate.
 */
export const m002: Migration = {
  version: 2,
  name: 'labels',
  sql: `
CREATE TABLE labels (
  id          TEXT PRIMARY KEY,                 -- the label's identity: serial (cases) or SSCC (pallets) or batch label id
  kind        TEXT NOT NULL,                    -- template kind: case, batch, pallet
  serial      TEXT UNIQUE,                      -- AI (21) value, when the label carries one
  sscc        TEXT UNIQUE,                      -- AI (00) value, when the label carries one
  batch       TEXT,
  lot         TEXT,
  template    TEXT NOT NULL,
  fields      TEXT NOT NULL CHECK (json_valid(fields)),   -- the field values it was rendered from (reprints re-render them)
  record_seq  INTEGER NOT NULL,                 -- the label.queued record (no FK: retention may purge delivered records)
  created_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX labels_batch ON labels(batch) WHERE batch IS NOT NULL;

CREATE TABLE print_jobs (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,     -- queue order per printer
  id             TEXT NOT NULL UNIQUE,                  -- UUIDv7
  label_id       TEXT NOT NULL REFERENCES labels(id),
  record_seq     INTEGER NOT NULL,                      -- the record that created this job (label.queued or label.reprint_requested)
  printer        TEXT NOT NULL,
  template       TEXT NOT NULL,
  zpl            TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('queued','sending','sent','confirmed','failed','needs_confirmation')),
  attempts       INTEGER NOT NULL DEFAULT 0,            -- times bytes were started towards the printer
  status_text    TEXT,                                  -- last printer status / reason seen for this job
  error_code     TEXT,
  reprint_of     TEXT REFERENCES print_jobs(id),
  reprint_reason TEXT,
  decided_by     TEXT,                                  -- operator who resolved needs_confirmation
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  sent_at        TEXT,
  confirmed_at   TEXT
);
CREATE INDEX print_jobs_work ON print_jobs(printer, state, seq);
CREATE INDEX print_jobs_label ON print_jobs(label_id);
`,
};
