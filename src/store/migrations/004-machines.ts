import type { Migration } from '../migrations.js';

/** Reserved for: machine/OPC UA state beyond device_state (machines issue). Empty SQL = no-op. */
export const m004: Migration = {
  version: 4,
  name: 'machines',
  sql: ``,
};
