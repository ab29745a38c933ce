import type { Migration } from '../migrations.js';

/** Reserved for: delivery bookkeeping beyond the outbox (upstream issue). Empty SQL = no-op. */
export const m003: Migration = {
  version: 3,
  name: 'upstream',
  sql: ``,
};
