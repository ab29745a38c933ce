import type { Migration } from '../migrations.js';

/** Reserved for: print queue, label serials (labels issue). Empty SQL = no-op. */
export const m002: Migration = {
  version: 2,
  name: 'labels',
  sql: ``,
};
