import type { Migration } from '../migrations.js';

/**
 * Queries that stay flat (issue 18). Measured before: the recall by supplier lot scanned the whole
 * lots table (the only supplier-lot index starts with material), and `status=`, `errorCode=`,
 * `device=` and rare `type=` filters on GET /records walked the records table in seq order until
 * they had a page. Each documented filter now has an index whose leading column is the filter and
 * whose next column is the order of the page, so a page costs its own size, not the journal's.
 * test/unit/store/query-plans.test.ts checks every documented filter's EXPLAIN QUERY PLAN.
 *
 * Numbered 012: 011 is taken by other work being merged in parallel. The runner applies pending
 * migrations in array order, so a gap is harmless once both are merged.
 */
export const m012: Migration = {
  version: 12,
  name: 'query indexes: recall by supplier lot, record status/error/device, lots by status/material, audit by entity',
  sql: `
CREATE INDEX IF NOT EXISTS lots_by_supplier_lot ON lots(supplier_lot, supplier) WHERE supplier_lot IS NOT NULL;
CREATE INDEX IF NOT EXISTS lots_status          ON lots(status, id);
CREATE INDEX IF NOT EXISTS lots_material        ON lots(material, id);
CREATE INDEX IF NOT EXISTS records_status       ON records(status, seq);
CREATE INDEX IF NOT EXISTS records_error        ON records(error_code, seq) WHERE error_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_device       ON records(device, seq) WHERE device IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_entity         ON audit(entity, entity_id, seq);
CREATE INDEX IF NOT EXISTS audit_entity_id      ON audit(entity_id, seq);
`,
};
