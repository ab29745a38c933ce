/**
 * The weekly review signed by QA (SOP 7.1 / 8; issue 14; 21 CFR Part 11).
 *
 * - `freeze(period)`: the weekly review of the period as it stands now (src/report/weekly.ts) is
 *   stored as canonical JSON with its SHA-256 and the journal cut it was made at — a
 *   `report.weekly_review_frozen` record, an audit entry and a row in `weekly_reviews` (never updated
 *   or deleted). The live review keeps changing as records arrive; the frozen one does not.
 * - `sign(id)`: QA signs the frozen review through the signature use case (user id + signing secret
 *   at every signing, meaning `reviewed` or `approved`), binding the SHA-256 of a snapshot of exactly
 *   the stored content. Refused: a signer or caller who is not QA (LG_ERR_FORBIDDEN), a review
 *   already signed (LG_ERR_WEEKLY_REVIEW_SIGNED), a content whose stored hash no longer matches it or
 *   that is not the content the signer was shown (`contentSha256`; LG_ERR_WEEKLY_REVIEW_CHANGED).
 * - A signed review whose row is edited afterwards no longer verifies (`verify`), like every signature.
 */
import type { JournalRecord } from '../binding/types.js';
import type { Role } from '../domain/batch.js';
import { canonicalJson, contentHash } from '../domain/snapshot.js';
import { LgError } from '../errors.js';
import { currentAsOf } from '../report/data.js';
import { gatherWeekly, type WeeklyReview } from '../report/weekly.js';
import type { FrozenReview, ReviewSignature } from '../report/weekly-document.js';
import type { Db } from '../store/db.js';
import type { Journal } from '../store/journal.js';
import type { Clock } from '../util/clock.js';
import type { SignatureCheck, SignatureInput, Signatures, SignatureView } from './signatures.js';

export const WEEKLY_REVIEW_ENTITY = 'weekly_review';
export const WEEKLY_REVIEW_ACTION = 'weekly_review.sign';
/** Who may freeze a review (prepare it for signing); only QA signs. */
const FREEZERS: readonly Role[] = ['supervisor', 'qa', 'admin'];

type Row = Record<string, unknown>;

export interface FrozenWeekly {
  review: FrozenReview;
  content: WeeklyReview;
  signatures: ReviewSignature[];
}

function toFrozen(r: Row, names: (id: string) => string | null): FrozenReview {
  return {
    id: String(r.id),
    periodFrom: String(r.period_from),
    periodTo: String(r.period_to),
    timeZone: String(r.time_zone),
    asOf: { recordSeq: Number(r.as_of_record), auditSeq: Number(r.as_of_audit) },
    contentHash: String(r.content_hash),
    frozenBy: String(r.frozen_by),
    frozenByName: names(String(r.frozen_by)),
    frozenAt: String(r.frozen_at),
  };
}

/** What a signature of a weekly review binds: the stored review, as stored. */
export function weeklyReviewSnapshot(db: Db, id: string): unknown {
  const r = db.prepare('SELECT * FROM weekly_reviews WHERE id = ?').get(id) as Row | undefined;
  if (!r) throw new LgError('LG_ERR_WEEKLY_REVIEW_NOT_FOUND', { id });
  return {
    kind: 'weekly-review',
    v: 1,
    id: r.id,
    period: { from: r.period_from, to: r.period_to, timeZone: r.time_zone },
    asOf: { recordSeq: r.as_of_record, auditSeq: r.as_of_audit },
    contentHash: r.content_hash,
    content: JSON.parse(String(r.content)) as unknown,
  };
}

export class WeeklyReviews {
  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly clock: Clock,
    private readonly signatures: Signatures,
    private readonly where: { site: string; line: string; timeZone: string },
  ) {
    signatures.registerSnapshot(WEEKLY_REVIEW_ENTITY, (d, id) => weeklyReviewSnapshot(d, id));
  }

  private name = (id: string): string | null => (this.db.prepare('SELECT name FROM users WHERE id = ?').get(id) as { name: string } | undefined)?.name ?? null;

  /** Freeze the weekly review of a period (from, to: YYYY-MM-DD in the site's zone; to defaults to from + 7 days). */
  async freeze(period: { from: string; to?: string }, by: { id: string; role: Role }): Promise<{ review: FrozenWeekly; record: JournalRecord }> {
    if (!FREEZERS.includes(by.role)) throw new LgError('LG_ERR_FORBIDDEN', { role: by.role, action: 'freeze a weekly review', allowed: FREEZERS.join(', ') });
    return this.journal.submit((tx) => {
      const asOf = currentAsOf(this.db);
      const content = gatherWeekly(this.db, { from: period.from, to: period.to, timeZone: this.where.timeZone, site: this.where.site, line: this.where.line, now: tx.now });
      const hash = contentHash(content);
      const n = (this.db.prepare('SELECT COUNT(*) AS n FROM weekly_reviews WHERE period_from = ? AND period_to = ?').get(content.period.fromDate, content.period.toDate) as { n: number }).n;
      const id = `WR-${content.period.fromDate}-${content.period.toDate}-${n + 1}`;
      const record = tx.append({
        type: 'report.weekly_review_frozen',
        status: 'accepted',
        operator: by.id,
        payload: { id, from: content.period.fromDate, to: content.period.toDate, timeZone: this.where.timeZone, asOf, contentHash: hash, batches: content.batches.length },
      });
      this.db
        .prepare(
          `INSERT INTO weekly_reviews (id, period_from, period_to, time_zone, as_of_record, as_of_audit, content, content_hash, frozen_by, frozen_at, record_seq)
           VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
        )
        .run(id, content.period.fromDate, content.period.toDate, this.where.timeZone, asOf.recordSeq, asOf.auditSeq, canonicalJson(content), hash, by.id, tx.now.toISOString(), record.seq);
      tx.audit({ actor: by.id, action: 'weekly_review.frozen', entity: WEEKLY_REVIEW_ENTITY, entityId: id, reason: `weekly review ${content.period.fromDate} – ${content.period.toDate}`, new: { contentHash: hash, asOf, record: record.id } });
      return { review: this.get(id), record };
    });
  }

  get(id: string): FrozenWeekly {
    const r = this.db.prepare('SELECT * FROM weekly_reviews WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new LgError('LG_ERR_WEEKLY_REVIEW_NOT_FOUND', { id });
    return { review: toFrozen(r, this.name), content: JSON.parse(String(r.content)) as WeeklyReview, signatures: this.signaturesOf(id) };
  }

  list(q: { from?: string; to?: string } = {}): Array<FrozenReview & { signed: boolean }> {
    const rows = this.db
      .prepare(`SELECT * FROM weekly_reviews WHERE (@from IS NULL OR period_from >= @from) AND (@to IS NULL OR period_to <= @to) ORDER BY period_from DESC, frozen_at DESC LIMIT 500`)
      .all({ from: q.from ?? null, to: q.to ?? null }) as Row[];
    const signed = this.db.prepare('SELECT 1 FROM signatures WHERE entity = ? AND entity_id = ? LIMIT 1');
    return rows.map((r) => ({ ...toFrozen(r, this.name), signed: Boolean(signed.get(WEEKLY_REVIEW_ENTITY, String(r.id))) }));
  }

  private signaturesOf(id: string): ReviewSignature[] {
    const rows = this.db
      .prepare(
        `SELECT s.id, s.signer, s.signer_name, s.signed_at, s.meaning, s.content_hash, u.role, json_extract(r.payload, '$.statement') AS statement
           FROM signatures s LEFT JOIN users u ON u.id = s.signer LEFT JOIN records r ON r.seq = s.record_seq
          WHERE s.entity = ? AND s.entity_id = ? ORDER BY s.record_seq`,
      )
      .all(WEEKLY_REVIEW_ENTITY, id) as Row[];
    return rows.map((g) => ({
      id: String(g.id),
      signer: String(g.signer),
      printedName: String(g.signer_name),
      role: g.role === null || g.role === undefined ? null : String(g.role),
      signedAt: String(g.signed_at),
      meaning: String(g.meaning),
      statement: g.statement === null || g.statement === undefined ? null : String(g.statement),
      contentHash: String(g.content_hash),
    }));
  }

  /** The stored content still hashes to its stored SHA-256 (a direct edit of the row is caught). */
  private checkIntact(id: string, r: Row): void {
    const now = contentHash(JSON.parse(String(r.content)) as unknown);
    if (now !== r.content_hash) throw new LgError('LG_ERR_WEEKLY_REVIEW_CHANGED', { id, detail: `its content hashes to ${now}, not to the frozen ${String(r.content_hash)}` });
  }

  /** QA signs a frozen review. `contentSha256` is the content hash the signer was shown (printed on the review). */
  async sign(id: string, input: SignatureInput, contentSha256: string, caller: { id: string; role: Role }): Promise<{ record: JournalRecord; signature: SignatureView; review: FrozenWeekly }> {
    if (caller.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: caller.role, action: 'sign a weekly review', allowed: 'qa' });
    const pre = this.db.prepare('SELECT * FROM weekly_reviews WHERE id = ?').get(id) as Row | undefined;
    if (!pre) throw new LgError('LG_ERR_WEEKLY_REVIEW_NOT_FOUND', { id });
    this.refuseSigned(id);
    const signer = await this.signatures.authenticate(input, WEEKLY_REVIEW_ACTION, caller.id);
    if (signer.role !== 'qa') throw new LgError('LG_ERR_FORBIDDEN', { role: signer.role, action: 'sign a weekly review', allowed: 'qa' });
    return this.journal.submit((tx) => {
      const r = this.db.prepare('SELECT * FROM weekly_reviews WHERE id = ?').get(id) as Row;
      this.refuseSigned(id); // again, inside the transaction: two QA desks at once sign once
      this.checkIntact(id, r);
      if (contentSha256 !== r.content_hash) {
        throw new LgError('LG_ERR_WEEKLY_REVIEW_CHANGED', { id, detail: `the signer was shown content SHA-256 ${contentSha256}, the frozen review has ${String(r.content_hash)}` });
      }
      const out = this.signatures.signTx(tx, signer, {
        action: WEEKLY_REVIEW_ACTION,
        meaning: input.meaning,
        entity: WEEKLY_REVIEW_ENTITY,
        entityId: id,
        requestedBy: caller.id,
        statement: input.statement ?? `weekly review ${String(r.period_from)} – ${String(r.period_to)} (content SHA-256 ${String(r.content_hash)})`,
      });
      return { ...out, review: this.get(id) };
    });
  }

  private refuseSigned(id: string): void {
    const s = this.db.prepare('SELECT signer_name, meaning, signed_at FROM signatures WHERE entity = ? AND entity_id = ? ORDER BY record_seq LIMIT 1').get(WEEKLY_REVIEW_ENTITY, id) as Row | undefined;
    if (s) throw new LgError('LG_ERR_WEEKLY_REVIEW_SIGNED', { id, meaning: String(s.meaning), by: String(s.signer_name), at: String(s.signed_at) });
  }

  verify(id: string): SignatureCheck[] {
    if (!this.db.prepare('SELECT 1 FROM weekly_reviews WHERE id = ?').get(id)) throw new LgError('LG_ERR_WEEKLY_REVIEW_NOT_FOUND', { id });
    return this.signatures.verify(WEEKLY_REVIEW_ENTITY, id);
  }

  now(): Date {
    return this.clock.now();
  }
}
