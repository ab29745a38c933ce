import type { Migration } from '../migrations.js';

/**
 * Weekly reviews signed by QA (SOP 7.1 / 8; issue 14). A review is FROZEN when QA asks for it: the
 * weekly review of the period as it stood then (src/report/weekly.ts), stored as canonical JSON with
 * its SHA-256 and the journal cut it was made at (newest record and audit seq). QA signs exactly
 * that content (src/usecases/weekly-reviews.ts through the Part 11 signature use case), so a
 * signed review reads the same in ten years. Rows are never updated or deleted (triggers): a review
 * that needs changing is frozen again, as a new review of the same period.
 */
export const m014: Migration = {
  version: 14,
  name: 'weekly-reviews',
  sql: `
CREATE TABLE weekly_reviews (
  id            TEXT PRIMARY KEY,
  period_from   TEXT NOT NULL,          -- YYYY-MM-DD, first day (site time zone)
  period_to     TEXT NOT NULL,          -- YYYY-MM-DD, the day after the last
  time_zone     TEXT NOT NULL,
  as_of_record  INTEGER NOT NULL,       -- newest record seq when frozen
  as_of_audit   INTEGER NOT NULL,       -- newest audit seq when frozen
  content       TEXT NOT NULL,          -- canonical JSON of the review
  content_hash  TEXT NOT NULL,          -- SHA-256 of content
  frozen_by     TEXT NOT NULL,
  frozen_at     TEXT NOT NULL,
  record_seq    INTEGER NOT NULL        -- the report.weekly_review_frozen record
);
CREATE INDEX weekly_reviews_period ON weekly_reviews(period_from, period_to);
CREATE TRIGGER weekly_reviews_no_update BEFORE UPDATE ON weekly_reviews BEGIN SELECT RAISE(ABORT, 'weekly reviews are frozen: freeze a new one'); END;
CREATE TRIGGER weekly_reviews_no_delete BEFORE DELETE ON weekly_reviews BEGIN SELECT RAISE(ABORT, 'weekly reviews are frozen: freeze a new one'); END;
`,
};
