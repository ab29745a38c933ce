import type { Migration } from '../migrations.js';

/**
 * Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.200, §11.300): a signing secret per
 * user (argon2id, never the bearer token), failed-attempt counting and lock, and one row per
 * signature binding the SHA-256 of what was signed. The signature itself is also a journal record
 * (`signature.applied`) and an audit entry; this table is the index `verify batch` walks.
 */
export const m006: Migration = {
  version: 6,
  name: 'signatures',
  sql: `
CREATE TABLE signing_secrets (
  user_id         TEXT PRIMARY KEY REFERENCES users(id),
  kind            TEXT NOT NULL CHECK (kind IN ('password','pin')),
  hash            TEXT NOT NULL,             -- argon2id PHC string
  set_at          TEXT NOT NULL,
  set_by          TEXT NOT NULL,
  expires_at      TEXT,                      -- ageing; a secret set by an admin expires at once (must be changed)
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_at       TEXT,
  updated_at      TEXT NOT NULL
);

CREATE TABLE signatures (
  id            TEXT PRIMARY KEY,            -- the signature.applied record's id
  record_seq    INTEGER NOT NULL UNIQUE REFERENCES records(seq),
  entity        TEXT NOT NULL,               -- batch, record, deviation, qc_result, user…
  entity_id     TEXT NOT NULL,
  meaning       TEXT NOT NULL,               -- authored, reviewed, approved, released, closed…
  action        TEXT NOT NULL,               -- what the signature was given for (batch.release, …)
  signer        TEXT NOT NULL,
  signer_name   TEXT NOT NULL,
  signed_at     TEXT NOT NULL,
  covered_seq   INTEGER NOT NULL,            -- the snapshot covers records up to this seq
  content_hash  TEXT NOT NULL                -- SHA-256 of the canonical snapshot (src/domain/snapshot.ts)
);
CREATE INDEX signatures_entity ON signatures(entity, entity_id);
CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
`,
};
