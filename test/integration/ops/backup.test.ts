import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startDaemon, writeConfig } from '../../helpers/daemon.js';
import { baseConfig, seedReferenceLine, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { httpSinkConfig } from '../upstream/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function scratch(prefix: string): string {
  const d = tempDir(prefix);
  cleanups.push(d.cleanup);
  return d.path;
}

/** An ERP stand-in: answers 200 (or 503 while `down`), keeps every CloudEvent id it accepted. */
async function receiver(): Promise<{ url: string; ids: string[]; down: { v: boolean } }> {
  const ids: string[] = [];
  const down = { v: false };
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (down.v) return void res.writeHead(503).end();
      const parsed = JSON.parse(body) as Array<{ id: string }> | { id: string };
      for (const e of Array.isArray(parsed) ? parsed : [parsed]) ids.push(e.id);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/events`, ids, down };
}

describe('17 backup and restore', () => {
  it('17 backup: taken by `linegate backup` during a 1,000 readings/s ingest, it passes integrity_check and audit verify and holds every record acknowledged before it began', async () => {
    const state = scratch('linegate-bk-state-');
    const out = scratch('linegate-bk-out-');
    const t: TestGateway = await startTestGateway({}, { stateDir: state });
    cleanups.push(() => t.stop());
    await seedReferenceLine(t);
    let acked = 0;
    let stop = false;
    let n = 0;
    const inflight = new Set<Promise<unknown>>();
    // 10 readings every 10 ms: lot scans (accepted or refused) and unknown codes (rejected).
    const ingest = (async () => {
      while (!stop) {
        for (let i = 0; i < 10; i++) {
          const raw = Buffer.from(n % 3 === 0 ? 'L-1001-A' : n % 3 === 1 ? 'L-1001-HOLD' : `JUNK-${n}`);
          n++;
          const p = t.gw.ops.ingestScan('WEIGH-1', { raw, device: 'test.scanner' }).then((rec) => {
            acked = Math.max(acked, rec.seq);
          });
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor(() => acked > 2000, 30_000, 25, '2,000 records acknowledged');
    const ackedBefore = acked;
    const file = join(out, 'journal-backup.sqlite');
    const r = await runCli(['backup', file, '--db', join(state, 'journal.sqlite')]);
    stop = true;
    await ingest;
    await Promise.all(inflight);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('integrity_check ok');
    expect(n).toBeGreaterThan(ackedBefore);
    const seqAfter = (t.gw.db.prepare('SELECT max(seq) AS m FROM records').get() as { m: number }).m;
    expect(seqAfter, 'the ingest went on during the backup').toBeGreaterThan(ackedBefore);

    const b = new Database(file, { readonly: true });
    try {
      expect(b.pragma('integrity_check', { simple: true })).toBe('ok');
      const held = (b.prepare('SELECT count(*) AS n FROM records WHERE seq <= ?').get(ackedBefore) as { n: number }).n;
      const live = (t.gw.db.prepare('SELECT count(*) AS n FROM records WHERE seq <= ?').get(ackedBefore) as { n: number }).n;
      expect(held).toBe(live);
      expect(held).toBeGreaterThanOrEqual(2000);
      expect(b.pragma('journal_mode', { simple: true })).toBe('delete');
    } finally {
      b.close();
    }
    expect(existsSync(`${file}.partial`)).toBe(false);
    const v = await runCli(['audit', 'verify', '--db', file]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain('audit trail intact');
  }, 120_000);

  it('17 backup: scheduled backups (ops.backup) are taken, verified and pruned to `keep` files', async () => {
    const state = scratch('linegate-sb-state-');
    const dir = scratch('linegate-sb-out-');
    const t = await startTestGateway({ ops: { backup: { dir, intervalH: 0.0003, keep: 2 } } }, { stateDir: state });
    cleanups.push(() => t.stop());
    await seedReferenceLine(t);
    const taken = new Set<string>();
    await waitFor(() => {
      const last = t.gw.service?.lastBackup;
      if (last?.ok) taken.add(last.file);
      return taken.size >= 4;
    }, 60_000, 50, 'four scheduled backups');
    expect(t.gw.service!.lastBackup!.ok).toBe(true);
    await waitFor(() => readdirSync(dir).filter((f) => f.endsWith('.sqlite')).length === 2, 10_000, 50, 'two kept');
    const kept = readdirSync(dir).filter((f) => f.endsWith('.sqlite')).sort();
    expect(kept.every((f) => /^linegate-.*\.sqlite$/.test(f))).toBe(true);
    const h = await t.call('GET', '/health/ready', undefined, null);
    expect(h.body.subsystems.backup.state).toBe('online');
  }, 90_000);

  it('17 restore: refused while the daemon runs (LG_ERR_RESTORE_RUNNING); after it stops the journal is replaced and the old one kept', async () => {
    const dir = scratch('linegate-rs-');
    const state = join(dir, 'state');
    const cfg = writeConfig(dir, baseConfig(state));
    const d = await startDaemon(cfg, state);
    cleanups.push(() => void d.proc.kill('SIGKILL'));
    const backup = join(dir, 'b.sqlite');
    const b = await runCli(['backup', backup, '--config', cfg]);
    expect(b.code, b.stderr).toBe(0);
    const refused = await runCli(['restore', backup, '--config', cfg]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('LG_ERR_RESTORE_RUNNING');
    expect(refused.stderr).toContain(String(d.proc.pid));
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const ok = await runCli(['restore', backup, '--config', cfg]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(state).some((f) => f.startsWith('journal.sqlite.before-restore-'))).toBe(true);
    // A damaged file is refused before anything is replaced.
    const bad = join(dir, 'bad.sqlite');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, 'not a database');
    const r = await runCli(['restore', bad, '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LG_ERR_BACKUP_INVALID');
  }, 90_000);

  it('17 restore: records pending in the backup but delivered since are sent again with the same ids (receivers deduplicate by id)', async () => {
    const state = scratch('linegate-rd-state-');
    const out = scratch('linegate-rd-out-');
    const erp = await receiver();
    const extra = { upstream: { sinks: [httpSinkConfig(erp.url)] } };
    erp.down.v = true;
    let t: TestGateway = await startTestGateway(extra, { stateDir: state });
    await seedReferenceLine(t);
    for (let i = 0; i < 20; i++) await t.gw.ops.ingestScan('WEIGH-1', { raw: Buffer.from(`JUNK-${i}`), device: 'test.scanner' });
    const file = join(out, 'b.sqlite');
    expect((await runCli(['backup', file, '--db', join(state, 'journal.sqlite')])).code).toBe(0);
    const pendingInBackup = (() => {
      const b = new Database(file, { readonly: true });
      try {
        return (b.prepare("SELECT r.id FROM outbox o JOIN records r ON r.seq = o.seq WHERE o.sink = 'erp' AND o.state = 'pending' ORDER BY r.seq").all() as Array<{ id: string }>).map((x) => x.id);
      } finally {
        b.close();
      }
    })();
    expect(pendingInBackup.length).toBeGreaterThanOrEqual(20);
    erp.down.v = false;
    await waitFor(() => pendingInBackup.every((id) => erp.ids.includes(id)), 30_000, 25, 'first delivery');
    await t.stop();
    const firstDelivery = [...erp.ids];

    const r = await runCli(['restore', file, '--db', join(state, 'journal.sqlite')]);
    expect(r.code, r.stderr).toBe(0);
    t = await startTestGateway(extra, { stateDir: state });
    cleanups.push(() => t.stop());
    await waitFor(() => erp.ids.length >= firstDelivery.length + pendingInBackup.length, 30_000, 25, 'redelivery after restore');
    const again = erp.ids.slice(firstDelivery.length);
    // The same events again, by id: nothing new invented, nothing of the backup's backlog lost.
    expect(new Set(again)).toEqual(new Set(pendingInBackup));
    for (const id of again) expect(firstDelivery).toContain(id);
  }, 120_000);
});
