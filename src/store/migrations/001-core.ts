import type { Migration } from '../migrations.js';

export const m001: Migration = {
  version: 1,
  name: 'journal, outbox, audit, master data, batches, stations, users, device state',
  sql: `
-- The journal: every record, accepted or rejected. Append-only.
CREATE TABLE records (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,   -- gateway-wide monotonic sequence, never reused
  id           TEXT NOT NULL UNIQUE,                -- UUIDv7: the idempotency key upstream
  type         TEXT NOT NULL,                       -- lot.scanned, material.consumed, batch.status_changed, ...
  status       TEXT NOT NULL CHECK (status IN ('accepted','rejected')),
  error_code   TEXT,                                -- LG_ERR_… when rejected (or flagged)
  message      TEXT,
  site         TEXT NOT NULL,
  line         TEXT,
  station      TEXT,
  batch        TEXT,
  lot          TEXT,
  operator     TEXT,
  device       TEXT,
  payload      TEXT NOT NULL CHECK (json_valid(payload)),
  source_time  TEXT,                                -- the device's own timestamp, when it has one
  received_at  TEXT NOT NULL,                       -- the gateway's receive time
  clock_synced INTEGER NOT NULL CHECK (clock_synced IN (0,1))
);
CREATE INDEX records_batch   ON records(batch, seq) WHERE batch IS NOT NULL;
CREATE INDEX records_lot     ON records(lot, seq) WHERE lot IS NOT NULL;
CREATE INDEX records_station ON records(station, seq);
CREATE INDEX records_type    ON records(type, seq);
CREATE INDEX records_time    ON records(received_at);

CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;

-- Outbox: one row per (configured sink, record), written in the same transaction as the record.
-- state: pending → delivered | quarantined. Delivery (dispatcher) is in src/upstream.
CREATE TABLE outbox (
  sink            TEXT NOT NULL,
  seq             INTEGER NOT NULL REFERENCES records(seq) ON DELETE CASCADE,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','quarantined')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error      TEXT,
  delivered_at    TEXT,
  PRIMARY KEY (sink, seq)
) WITHOUT ROWID;
CREATE INDEX outbox_pending ON outbox(sink, state, seq);

-- A record still owed to a sink can never be deleted (retention purges delivered ones only).
CREATE TRIGGER records_no_delete_undelivered BEFORE DELETE ON records
WHEN EXISTS (SELECT 1 FROM outbox WHERE outbox.seq = OLD.seq AND outbox.state <> 'delivered')
BEGIN SELECT RAISE(ABORT, 'record not yet delivered upstream'); END;

-- Named counters: batch numbers per day/pattern, SSCC serial references, label serials.
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

-- Audit trail: append-only, each entry hashes the one before it.
CREATE TABLE audit (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  entity     TEXT NOT NULL,
  entity_id  TEXT NOT NULL,
  reason     TEXT,
  old_value  TEXT CHECK (old_value IS NULL OR json_valid(old_value)),
  new_value  TEXT CHECK (new_value IS NULL OR json_valid(new_value)),
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('operator','supervisor','qa','admin','erp')),
  token_hash  TEXT UNIQUE,               -- sha256 of the bearer token; the token itself is never stored
  badge       TEXT UNIQUE,               -- badge barcode, for sign-in at stations
  disabled    INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE materials (
  code           TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  unit           TEXT NOT NULL,
  tracking       TEXT NOT NULL CHECK (tracking IN ('lot','serial','none')),
  shelf_life_days INTEGER,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE TABLE material_gtins (
  gtin     TEXT PRIMARY KEY,
  material TEXT NOT NULL REFERENCES materials(code)
) WITHOUT ROWID;

CREATE TABLE lots (
  id           TEXT PRIMARY KEY,          -- internal lot id
  material     TEXT NOT NULL REFERENCES materials(code),
  supplier     TEXT,
  supplier_lot TEXT,
  receipt_date TEXT,
  expiry       TEXT,                      -- YYYY-MM-DD, last day the lot may be used
  status       TEXT NOT NULL CHECK (status IN ('quarantine','released','on_hold','rejected','depleted')),
  quantity     TEXT NOT NULL,             -- on hand, exact decimal
  unit         TEXT NOT NULL,
  produced_by  TEXT,                      -- the batch that made this lot (intermediates, finished goods): genealogy link
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX lots_produced_by ON lots(produced_by) WHERE produced_by IS NOT NULL;
CREATE UNIQUE INDEX lots_supplier_lot ON lots(material, supplier_lot) WHERE supplier_lot IS NOT NULL;

CREATE TABLE batches (
  number        TEXT PRIMARY KEY,
  product       TEXT NOT NULL,
  product_name  TEXT,
  gtin          TEXT,
  planned_qty   TEXT NOT NULL,
  unit          TEXT NOT NULL,
  line          TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('planned','in_process','completed','released','on_hold','rejected')),
  held_from     TEXT,                     -- the state an on_hold batch returns to
  work_order    TEXT,
  personnel     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(personnel)),
  produced_qty  TEXT NOT NULL DEFAULT '0',
  rejected_qty  TEXT NOT NULL DEFAULT '0',
  planned_start TEXT,
  started_at    TEXT,
  completed_at  TEXT,
  released_at   TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX batches_work_order ON batches(work_order) WHERE work_order IS NOT NULL;

CREATE TABLE batch_bom (
  batch     TEXT NOT NULL REFERENCES batches(number),
  material  TEXT NOT NULL REFERENCES materials(code),
  quantity  TEXT NOT NULL,
  unit      TEXT NOT NULL,
  tolerance_pct TEXT NOT NULL DEFAULT '0',
  PRIMARY KEY (batch, material)
) WITHOUT ROWID;

-- Consumption per (batch, lot): the allocation log of SOP 5.3 (each consumption is also a record).
CREATE TABLE consumptions (
  record_seq INTEGER PRIMARY KEY REFERENCES records(seq),
  batch      TEXT NOT NULL,
  lot        TEXT NOT NULL,
  material   TEXT NOT NULL,
  quantity   TEXT NOT NULL,
  unit       TEXT NOT NULL,
  at         TEXT NOT NULL
);
CREATE INDEX consumptions_lot ON consumptions(lot);
CREATE INDEX consumptions_batch ON consumptions(batch);

-- Station context: what is active at each station right now (state, not config).
CREATE TABLE station_context (
  station    TEXT PRIMARY KEY,
  batch      TEXT,
  operator   TEXT,
  lots       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(lots)),   -- {material: lot}
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Small per-device state that must survive a restart (last counter values, last PackML state, …).
CREATE TABLE device_state (
  device     TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL CHECK (json_valid(value)),
  updated_at TEXT NOT NULL,
  PRIMARY KEY (device, key)
) WITHOUT ROWID;
`,
};
