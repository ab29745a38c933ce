/**
 * The plant store's schema in PostgreSQL: created and migrated by linegate (the sink on its first
 * delivery, or `linegate plant migrate`), versioned in `<schema>.schema_migrations`, one schema per
 * plant. Any number of gateways write into it: every row carries `site` and `line`, keys are
 * plant-wide where the thing is plant-wide (lots, materials, handling units) and per line where the
 * line owns the identity (batch numbers are issued per gateway, so two lines can both have
 * 20261201-001: a batch is (site, line, number)).
 *
 * Migrations run in one transaction under an advisory lock per schema, so gateways starting at the
 * same time do not race. A database migrated by a newer linegate (a version we do not know) is
 * refused with LG_ERR_PLANT_SCHEMA_NEWER rather than written with the wrong assumptions.
 *
 * Genealogy nodes are text keys: `lot:<id>`, `batch:<line>/<number>`, `hu:<id>` (a case or pallet:
 * its SSCC, else its serial, else its label id), `delivery:<id>`. Edges (kind):
 *   consumed   lot   → batch   quantity summed over the additions (in the lot's unit)
 *   produced   batch → lot     a lot whose record names `producedBy`
 *   packed     batch → hu      a case or pallet label printed for the batch
 *   palletised hu    → hu      case → pallet   } kinds reserved in the table: no linegate record
 *   shipped    hu    → delivery               } carries these relations yet (see README)
 */
import type { PoolClient } from 'pg';
import { LgError } from '../../errors.js';

/** A schema name we create and quote ourselves: lower-case identifier, no quoting surprises. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new LgError('LG_ERR_VALIDATION', { detail: `schema name ${JSON.stringify(schema)} must match ${SCHEMA_NAME}` });
  return `"${schema}"`;
}

/** Node keys of the edge table. */
export const node = {
  lot: (id: string): string => `lot:${id}`,
  batch: (line: string, number: string): string => `batch:${line}/${number}`,
  hu: (id: string): string => `hu:${id}`,
};

interface Migration {
  version: number;
  name: string;
  sql: (s: string) => string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'records, master data and state, genealogy edges',
    sql: (s) => `
      CREATE TABLE ${s}.records (
        id uuid PRIMARY KEY,
        plant_seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        site text NOT NULL,
        line text NOT NULL,
        gateway text NOT NULL,
        seq bigint NOT NULL,
        type text NOT NULL,
        status text NOT NULL,
        error_code text,
        message text,
        station text,
        batch text,
        lot text,
        operator text,
        device text,
        payload jsonb NOT NULL,
        event json NOT NULL,
        source_time timestamptz,
        received_at timestamptz NOT NULL,
        clock_synced boolean NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        projection_error text
      );
      CREATE INDEX records_batch ON ${s}.records (site, line, batch, seq);
      CREATE INDEX records_lot ON ${s}.records (site, lot);
      CREATE INDEX records_type_time ON ${s}.records (site, type, received_at);
      CREATE INDEX records_gateway_seq ON ${s}.records (gateway, seq);

      CREATE TABLE ${s}.materials (
        site text NOT NULL,
        code text NOT NULL,
        name text,
        unit text,
        tracking text,
        shelf_life_days integer,
        gtins jsonb NOT NULL DEFAULT '[]',
        line text NOT NULL,
        record_id uuid NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (site, code)
      );

      CREATE TABLE ${s}.lots (
        site text NOT NULL,
        id text NOT NULL,
        material text,
        supplier text,
        supplier_lot text,
        receipt_date text,
        expiry text,
        status text,
        unit text,
        produced_by_line text,
        produced_by_batch text,
        line text NOT NULL,
        record_id uuid NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (site, id)
      );
      CREATE INDEX lots_supplier_lot ON ${s}.lots (site, supplier_lot);

      CREATE TABLE ${s}.lot_balances (
        site text NOT NULL,
        line text NOT NULL,
        lot text NOT NULL,
        quantity numeric NOT NULL,
        unit text,
        consumed numeric NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (site, line, lot)
      );

      CREATE TABLE ${s}.batches (
        site text NOT NULL,
        line text NOT NULL,
        number text NOT NULL,
        product text,
        product_name text,
        gtin text,
        planned_qty numeric,
        unit text,
        work_order text,
        status text,
        produced_qty numeric NOT NULL DEFAULT 0,
        rejected_qty numeric NOT NULL DEFAULT 0,
        created_at timestamptz,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (site, line, number)
      );

      CREATE TABLE ${s}.handling_units (
        site text NOT NULL,
        id text NOT NULL,
        kind text NOT NULL,
        line text NOT NULL,
        batch text,
        lot text,
        sscc text,
        serial text,
        label_id text,
        template text,
        record_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (site, id)
      );

      CREATE TABLE ${s}.edges (
        site text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('consumed', 'produced', 'packed', 'palletised', 'shipped')),
        from_node text NOT NULL,
        to_node text NOT NULL,
        line text NOT NULL,
        quantity numeric,
        unit text,
        additions integer NOT NULL DEFAULT 1,
        first_record uuid NOT NULL,
        last_record uuid NOT NULL,
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        PRIMARY KEY (site, from_node, to_node, kind)
      );
      CREATE INDEX edges_to ON ${s}.edges (site, to_node);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Create the schema if needed and apply every missing migration, in one transaction under an
 * advisory lock. Returns the versions applied now (empty when up to date).
 */
export async function migrate(client: PoolClient | import('pg').Client, schema: string): Promise<number[]> {
  const s = quoteSchema(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`linegate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`);
    const current = rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) throw new LgError('LG_ERR_PLANT_SCHEMA_NEWER', { schema, version: current, known: SCHEMA_VERSION });
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
