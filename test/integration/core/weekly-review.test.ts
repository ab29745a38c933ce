/**
 * Issue 14 / SOP 7.1, 8: the weekly review QA signs. Through the real gateway: a review frozen with
 * its SHA-256 and journal cut, unchanged by later records while the live review moves on; QA signs
 * it with Part 11 re-authentication (wrong secret, non-QA signer and caller, a content hash that is
 * not the one shown, signing twice and a content edited behind linegate's back are each refused
 * with their code); the signature's manifestation on the HTML and on the PDF (read back with
 * poppler's pdftotext); audited; verification fails after a direct SQLite edit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentHash } from '../../../src/domain/snapshot.js';
import { seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

let t: TestGateway;
let batch: string;
const tokens: Record<string, string> = {};
const out = tempDir('lg-weekly-out-');
const from = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
const QA1 = { userId: 'qa1', secret: '482915', meaning: 'reviewed' };

const ok = (r: { status: number; body: any }, what: string): any => {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};
async function raw(path: string, token: string | undefined): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(t.url + path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

beforeAll(async () => {
  t = await startTestGateway();
  ({ batch } = await seedReferenceLine(t));
  for (const [id, name, role] of [['op1', 'Olga Operator', 'operator'], ['sup1', 'Sam Supervisor', 'supervisor'], ['qa1', 'Quinn QA', 'qa'], ['qa2', 'Rita QA', 'qa']] as const) {
    tokens[id] = ok(await t.call('POST', '/users', { id, name, role }), `user ${id}`).token;
  }
  ok(await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '482915' }, tokens.qa1), 'qa1 secret');
  ok(await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '739164' }, tokens.qa2), 'qa2 secret');
  ok(await t.call('PUT', '/me/signing-secret', { kind: 'pin', secret: '615283' }, tokens.sup1), 'sup1 secret');
}, 60_000);

afterAll(async () => {
  await t?.stop();
  out.cleanup();
});

describe('weekly review signed by QA (issue 14, SOP 7.1/8)', () => {
  let id: string;
  let frozen: any;

  it('a frozen review keeps its content and SHA-256 while the live review moves on', async () => {
    const r = await t.call('POST', '/reports/weekly/reviews', { from }, tokens.sup1);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    frozen = r.body;
    id = frozen.review.id;
    expect(id).toMatch(/^WR-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}-1$/);
    expect(frozen.review).toMatchObject({ periodFrom: from, timeZone: 'Europe/Berlin', frozenBy: 'sup1', frozenByName: 'Sam Supervisor' });
    expect(frozen.review.contentHash).toBe(contentHash(frozen.content));
    expect(frozen.content.batches.find((b: any) => b.number === batch)).toMatchObject({ status: 'planned' });
    expect(frozen.signatures).toEqual([]);
    // later: the batch starts
    ok(await t.call('POST', `/batches/${batch}/transitions`, { to: 'in_process' }, tokens.sup1), 'start');
    const live = ok(await t.call('GET', `/reports/weekly?from=${from}`, undefined, tokens.sup1), 'live');
    expect(live.batches.find((b: any) => b.number === batch).status).toBe('in_process');
    const again = ok(await t.call('GET', `/reports/weekly/reviews/${id}`, undefined, tokens.sup1), 'frozen again');
    expect(again.content).toEqual(frozen.content);
    expect(again.review.contentHash).toBe(frozen.review.contentHash);
    // frozen: audited and recorded
    const audit = ok(await t.call('GET', `/audit?entity=weekly_review&entityId=${id}`, undefined, tokens.sup1), 'audit').items;
    expect(audit.map((a: any) => [a.action, a.actor])).toEqual([['weekly_review.frozen', 'sup1']]);
    const rec = ok(await t.call('GET', '/records?type=report.weekly_review_frozen'), 'records').items;
    expect(rec.map((x: any) => x.payload.contentHash)).toContain(frozen.review.contentHash);
    // a second freeze of the same period is another review, with the content as it is now
    const second = ok(await t.call('POST', '/reports/weekly/reviews', { from }, tokens.qa1), 'second');
    expect(second.review.id).toMatch(/-2$/);
    expect(second.review.contentHash).not.toBe(frozen.review.contentHash);
    const list = ok(await t.call('GET', '/reports/weekly/reviews', undefined, tokens.sup1), 'list').items;
    expect(list.map((x: any) => [x.id, x.signed]).sort()).toEqual([[id, false], [second.review.id, false]].sort());
  });

  it('only QA signs, with the right secret, the content hash it was shown', async () => {
    const body = (sig: unknown, hash = frozen.review.contentHash) => ({ contentSha256: hash, signature: sig });
    // the caller must be QA
    const sup = await t.call('POST', `/reports/weekly/reviews/${id}/signatures`, body({ userId: 'sup1', secret: '615283', meaning: 'reviewed' }), tokens.sup1);
    expect([sup.status, sup.body.code]).toEqual([403, 'LG_ERR_FORBIDDEN']);
    // and so must the signer (a QA desk cannot sign with a supervisor's credentials)
    const notQa = await t.call('POST', `/reports/weekly/reviews/${id}/signatures`, body({ userId: 'sup1', secret: '615283', meaning: 'reviewed' }), tokens.qa1);
    expect([notQa.status, notQa.body.code]).toEqual([403, 'LG_ERR_FORBIDDEN']);
    const wrong = await t.call('POST', `/reports/weekly/reviews/${id}/signatures`, body({ ...QA1, secret: '000111' }), tokens.qa1);
    expect(wrong.body.code).toBe('LG_ERR_SIGNATURE_INVALID');
    const meaning = await t.call('POST', `/reports/weekly/reviews/${id}/signatures`, body({ ...QA1, meaning: 'released' }), tokens.qa1);
    expect(meaning.body.code).toBe('LG_ERR_SIGNATURE_MEANING');
    const otherHash = await t.call('POST', `/reports/weekly/reviews/${id}/signatures`, body(QA1, 'a'.repeat(64)), tokens.qa1);
    expect([otherHash.status, otherHash.body.code]).toEqual([409, 'LG_ERR_WEEKLY_REVIEW_CHANGED']);
    const missing = await t.call('POST', '/reports/weekly/reviews/WR-NOPE/signatures', body(QA1), tokens.qa1);
    expect([missing.status, missing.body.code]).toEqual([404, 'LG_ERR_WEEKLY_REVIEW_NOT_FOUND']);
    // nothing was signed by any of these
    expect(ok(await t.call('GET', `/reports/weekly/reviews/${id}`, undefined, tokens.qa1), 'get').signatures).toEqual([]);

    const signed = await t.call('POST', `/reports/weekly/reviews/${id}/signatures`, body({ ...QA1, statement: 'week reviewed, no open items' }), tokens.qa1);
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    expect(signed.body.signature).toMatchObject({ entity: 'weekly_review', entityId: id, meaning: 'reviewed', signer: 'qa1', signerName: 'Quinn QA', action: 'weekly_review.sign' });
    expect(signed.body.review.signatures).toEqual([expect.objectContaining({ printedName: 'Quinn QA', role: 'qa', meaning: 'reviewed', statement: 'week reviewed, no open items' })]);
    // signing twice is refused, by anyone
    const twice = await t.call('POST', `/reports/weekly/reviews/${id}/signatures`, body({ userId: 'qa2', secret: '739164', meaning: 'approved' }), tokens.qa2);
    expect([twice.status, twice.body.code]).toEqual([409, 'LG_ERR_WEEKLY_REVIEW_SIGNED']);
    // audited: who signed what, when, meaning
    const audit = ok(await t.call('GET', `/audit?entity=weekly_review&entityId=${id}`, undefined, tokens.sup1), 'audit').items;
    expect(audit.map((a: any) => [a.action, a.actor])).toEqual([['weekly_review.frozen', 'sup1'], ['signature.applied', 'qa1']]);
    expect(audit[1].new).toMatchObject({ meaning: 'reviewed', signerName: 'Quinn QA' });
    const v = ok(await t.call('GET', `/reports/weekly/reviews/${id}/verify`, undefined, tokens.sup1), 'verify');
    expect(v.ok).toBe(true);
    expect(ok(await t.call('GET', '/reports/weekly/reviews', undefined, tokens.sup1), 'list').items.find((x: any) => x.id === id).signed).toBe(true);
  });

  it('the HTML and the PDF print the content SHA-256 and the signature manifestation (printed name, date/time, meaning)', async () => {
    const g = ok(await t.call('GET', `/reports/weekly/reviews/${id}`, undefined, tokens.sup1), 'get');
    const sig = g.signatures[0];
    const when = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(sig.signedAt));
    const h = await raw(`/reports/weekly/reviews/${id}?format=html`, tokens.sup1);
    expect(h.type).toContain('text/html');
    const html = h.body.toString('utf8');
    for (const s of [id, g.review.contentHash, 'Quinn QA', 'reviewed', when, batch, 'counter(pages)']) expect(html, s).toContain(s);
    const p = await raw(`/reports/weekly/reviews/${id}?format=pdf`, tokens.sup1);
    expect(p.type).toContain('application/pdf');
    const file = join(out.path, 'weekly.pdf');
    writeFileSync(file, p.body);
    // scripts/report-screenshot.sh keeps this PDF to draw the README picture from it
    if (process.env.LINEGATE_WEEKLY_PDF_OUT) writeFileSync(process.env.LINEGATE_WEEKLY_PDF_OUT, p.body);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    const flat = text.replace(/\s+/g, ' ');
    for (const s of ['Weekly review', id, 'Quinn QA', 'reviewed', when, batch, 'planned', 'Europe/Berlin', 'Review and signatures']) expect(flat, s).toContain(s);
    expect(text.replace(/\s+/g, '')).toContain(`SHA-256${g.review.contentHash}`);
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
    for (let n = 1; n <= pages; n++) expect(flat).toContain(`Page ${n} of ${pages}`);
    // the live review as PDF too, marked as not signable
    const lp = await raw(`/reports/weekly?from=${from}&format=pdf`, tokens.qa1);
    writeFileSync(join(out.path, 'live.pdf'), lp.body);
    expect(execFileSync('pdftotext', [join(out.path, 'live.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ')).toContain('cannot be signed');
  });

  it('a review edited behind linegate\'s back cannot be signed, and a signed one no longer verifies', async () => {
    // rows are frozen: an UPDATE through SQLite is refused by the triggers
    expect(() => t.gw.db.prepare(`UPDATE weekly_reviews SET content_hash = 'x' WHERE id = ?`).run(id)).toThrow(/frozen/);
    const list = ok(await t.call('GET', '/reports/weekly/reviews', undefined, tokens.qa1), 'list').items;
    const other = list.find((x: any) => x.id !== id);
    // someone drops the triggers and edits the stored content
    t.gw.db.exec('DROP TRIGGER weekly_reviews_no_update');
    try {
      const edit = t.gw.db.prepare(`UPDATE weekly_reviews SET content = json_set(content, '$.byStatus.released', 99) WHERE id = ?`);
      edit.run(other.id);
      const r = await t.call('POST', `/reports/weekly/reviews/${other.id}/signatures`, { contentSha256: other.contentHash, signature: { ...QA1, meaning: 'approved' } }, tokens.qa1);
      expect([r.status, r.body.code]).toEqual([409, 'LG_ERR_WEEKLY_REVIEW_CHANGED']);
      edit.run(id);
      const v = ok(await t.call('GET', `/reports/weekly/reviews/${id}/verify`, undefined, tokens.sup1), 'verify');
      expect(v.ok).toBe(false);
      expect(v.items[0].problem).toContain('changed');
    } finally {
      t.gw.db.exec(`CREATE TRIGGER IF NOT EXISTS weekly_reviews_no_update BEFORE UPDATE ON weekly_reviews BEGIN SELECT RAISE(ABORT, 'weekly reviews are frozen: freeze a new one'); END;`);
    }
  });

  it('operators and the ERP neither freeze nor read reviews; a missing review is 404', async () => {
    const erp = ok(await t.call('POST', '/users', { id: 'erp1', name: 'ERP', role: 'erp' }), 'erp').token;
    for (const tok of [tokens.op1, erp]) {
      expect((await t.call('POST', '/reports/weekly/reviews', { from }, tok)).body.code).toBe('LG_ERR_FORBIDDEN');
      expect((await t.call('GET', `/reports/weekly/reviews/${id}`, undefined, tok)).body.code).toBe('LG_ERR_FORBIDDEN');
      expect((await t.call('GET', '/reports/weekly/reviews', undefined, tok)).body.code).toBe('LG_ERR_FORBIDDEN');
    }
    expect((await t.call('GET', '/reports/weekly/reviews/WR-NOPE', undefined, tokens.qa1)).body.code).toBe('LG_ERR_WEEKLY_REVIEW_NOT_FOUND');
    expect((await t.call('POST', '/reports/weekly/reviews', { from: '2026-02-30' }, tokens.qa1)).body.code).toBe('LG_ERR_REPORT_RANGE');
  });
});
