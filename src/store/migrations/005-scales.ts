import type { Migration } from '../migrations.js';

/** Reserved for: scale state (scales issue). Empty SQL = no-op. */
export const m005: Migration = {
  version: 5,
  name: 'scales',
  sql: ``,
};
