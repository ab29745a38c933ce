/**
 * Versioned schema migrations. Each runs once, in order, inside a transaction; the version is
 * kept in `PRAGMA user_version`. Never edit a released migration: add the next one.
 *
 * Conventions: times are ISO-8601 UTC text; quantities are exact decimal text (src/domain/decimal);
 * JSON columns are text checked with json_valid.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

import { m001 } from './migrations/001-core.js';
import { m002 } from './migrations/002-labels.js';
import { m003 } from './migrations/003-upstream.js';
import { m004 } from './migrations/004-machines.js';
import { m005 } from './migrations/005-scales.js';
import { m006 } from './migrations/006-signatures.js';
import { m007 } from './migrations/007-deviations.js';
import { m008 } from './migrations/008-quality.js';
import { m009 } from './migrations/009-integrity.js';
import { m010 } from './migrations/010-retention.js';
import { m011 } from './migrations/011-dispatch.js';
import { m012 } from './migrations/012-query-indexes.js';
import { m013 } from './migrations/013-review.js';
import { m014 } from './migrations/014-weekly-reviews.js';
import { m015 } from './migrations/015-recalls.js';
import { m016 } from './migrations/016-station-records.js';

/**
 * One file per migration under migrations/, numbered. 002–005 were reserved up front for the
 * labels, upstream, machines and scales work so that it could proceed in parallel; a reserved
 * migration with no SQL is a no-op that only advances the version.
 */
export const MIGRATIONS: Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011, m012, m013, m014, m015, m016];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
