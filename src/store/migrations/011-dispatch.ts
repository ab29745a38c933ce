import type { Migration } from '../migrations.js';

/**
 * Issue 15: handling units, dispatch and forward traceability to customers.
 *
 * - `pallets`: one row per pallet. A pallet is opened at a palletising station (status `open`,
 *   no SSCC yet), gets its SSCC when it is closed (the SSCC label is issued through the label
 *   service, whose `labels` row keeps the SSCC unique), is `loaded` onto a delivery at dispatch and
 *   `shipped` when the delivery closes. `on_hold` (with reason and who) refuses it at dispatch.
 * - `pallet_cases`: what is on a pallet NOW (a case is on at most one pallet: the primary key).
 *   Packing, unpacking and repacking are journal records (`handling_unit.packed` /
 *   `handling_unit.unpacked`); this table is their current state, never the history.
 * - `customers`, `deliveries`: master data the ERP pushes (idempotent PUTs).
 * - `delivery_units`: pallets loaded onto a delivery; a pallet is on at most one delivery.
 * - `station_handling`: the pallet open at a palletising station, the delivery selected at a dispatch station.
 * - An index on lots(supplier_lot) so the supplier-lot lookup of a forward trace is not a scan.
 */
export const m011: Migration = {
  version: 11,
  name: 'dispatch',
  sql: `
CREATE TABLE pallets (
  id           TEXT PRIMARY KEY,          -- UUIDv7, from opening
  sscc         TEXT UNIQUE,               -- AI (00), from closing
  station      TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('open','closing','closed','loaded','shipped')),
  on_hold      INTEGER NOT NULL DEFAULT 0,
  hold_reason  TEXT,
  hold_by      TEXT,
  label_id     TEXT,
  delivery     TEXT,
  opened_at    TEXT NOT NULL,
  closed_at    TEXT,
  opened_seq   INTEGER NOT NULL,
  closed_seq   INTEGER
);
CREATE INDEX pallets_delivery ON pallets(delivery) WHERE delivery IS NOT NULL;

CREATE TABLE pallet_cases (
  serial      TEXT PRIMARY KEY,            -- the case label's AI (21)
  gtin        TEXT NOT NULL,
  label_id    TEXT NOT NULL,
  batch       TEXT,
  pallet      TEXT NOT NULL REFERENCES pallets(id),
  packed_at   TEXT NOT NULL,
  record_seq  INTEGER NOT NULL
);
CREATE INDEX pallet_cases_pallet ON pallet_cases(pallet);
CREATE INDEX pallet_cases_batch ON pallet_cases(batch);

CREATE TABLE customers (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  gln         TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE deliveries (
  number        TEXT PRIMARY KEY,
  customer      TEXT NOT NULL REFERENCES customers(id),
  ship_to_gln   TEXT NOT NULL,
  ship_to_name  TEXT,
  planned       TEXT NOT NULL CHECK (json_valid(planned)),   -- [{gtin, quantity}]
  planned_date  TEXT,
  status        TEXT NOT NULL CHECK (status IN ('open','shipped')),
  shipped_at    TEXT,
  shipped_by    TEXT,
  shipped_source TEXT CHECK (shipped_source IN ('gateway','erp')),
  shipped_seq   INTEGER,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX deliveries_customer ON deliveries(customer);

CREATE TABLE delivery_units (
  pallet      TEXT PRIMARY KEY REFERENCES pallets(id),
  delivery    TEXT NOT NULL REFERENCES deliveries(number),
  sscc        TEXT NOT NULL,
  loaded_at   TEXT NOT NULL,
  loaded_by   TEXT,
  record_seq  INTEGER NOT NULL
);
CREATE INDEX delivery_units_delivery ON delivery_units(delivery);

CREATE TABLE station_handling (
  station     TEXT PRIMARY KEY,
  pallet      TEXT,                        -- palletising: the open pallet
  delivery    TEXT                         -- dispatch: the selected delivery
);

CREATE INDEX lots_supplier_lot_only ON lots(supplier_lot) WHERE supplier_lot IS NOT NULL;
`,
};
