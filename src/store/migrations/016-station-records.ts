import type { Migration } from '../migrations.js';

/**
 * A station page's records without its process values (issue 18 × 12). A station with an
 * `mqtt-values` device or OPC UA `values:` journals up to 1,000 `process.value` records a second;
 * the page's "recent" list and its SSE replay leave them out (`type <> 'process.value'`). Through
 * `records_station(station, seq)` SQLite had to step over every process value since the last scan:
 * 234 ms with 500,000 of them (measured with bench `station-recent`). This partial index holds
 * only the rows a station page shows, so both stay a page's cost whatever the values do. Process
 * values themselves do not pay for it: a partial index is not written for rows outside its WHERE.
 * The WHERE must match the query's literal exactly (repo.recordsQuery writes `notType` as a
 * literal for that reason); test/unit/store/query-plans.test.ts checks the plan.
 */
export const m016: Migration = {
  version: 16,
  name: 'records of a station without process values (partial index)',
  sql: `
CREATE INDEX IF NOT EXISTS records_station_shown ON records(station, seq) WHERE type <> 'process.value';
`,
};
