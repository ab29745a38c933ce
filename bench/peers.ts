import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/store/db.js';
import { Journal } from '../src/store/journal.js';
import { Repo } from '../src/store/repo.js';
import type { RecordDraft } from '../src/binding/types.js';

/**
 * Issue 18: figures as ratios against a peer measured in the same run, on the same disk.
 *
 * journal-peers — the Journal (group commit, synchronous=FULL) against raw better-sqlite3 doing the
 * same work with no journal code: the same schema (record + outbox row per reading, in
 * transactions of the group size the Journal actually formed), and a minimal table (id, payload).
 *
 * queries — recall by supplier lot and `status=` / `errorCode=` / `type=prefix*` pages at scale
 * (1M records / 100k lots; --quick: 200k / 20k), p50/p99 over 1,000 queries each, against the
 * peer "primary-key lookup of one record" in the same database.
 */
function draft(i: number): RecordDraft {
  return {
    type: 'lot.scanned', status: 'accepted', station: 'WEIGH-1', batch: '20261122-001', lot: 'L-1001-A', operator: 'op-anna', device: 'line1.weigh.scanner',
    payload: { raw: `]C10109506000134369` + `10ACME-2611<GS>17271101`, bytes: 38, material: 'RM-1001', lotCode: 'ACME-2611', expiry: '2027-11-01', i },
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchJournalPeers(opts: { n?: number } = {}): Promise<Record<string, number>> {
  const n = opts.n ?? 50_000;
  const dir = mkdtempSync(join(resolve('var'), 'bench-peers-'));
  const out: Record<string, number> = {};
  try {
    const db = openDatabase(join(dir, 'journal.sqlite'), { synchronous: 'FULL' });
    const journal = new Journal(db, { site: 'S', line: 'L1', sinks: ['erp'] });
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 2000 }, async () => {
      while (next < n) await journal.append(draft(next++));
    }));
    out.journal_appends_per_s = n / ((performance.now() - t0) / 1000);
    const group = Math.max(1, Math.round(journal.stats.items / journal.stats.groups));
    out.journal_avg_group = group;
    db.close();

    // Raw better-sqlite3, same schema (migrations applied), same group size, no Journal code.
    const raw = openDatabase(join(dir, 'raw.sqlite'), { synchronous: 'FULL' });
    const ins = raw.prepare(`INSERT INTO records (id,type,status,error_code,message,site,line,station,batch,lot,operator,device,payload,source_time,received_at,clock_synced) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
    const box = raw.prepare(`INSERT INTO outbox (sink, seq) VALUES (?, ?)`);
    const tx = raw.transaction((from: number, to: number) => {
      const now = new Date().toISOString();
      for (let i = from; i < to; i++) {
        const d = draft(i);
        const info = ins.run(`id-${i}`, d.type, d.status, null, null, 'S', 'L1', d.station, d.batch, d.lot, d.operator, d.device, JSON.stringify(d.payload), null, now, 1);
        box.run('erp', Number(info.lastInsertRowid));
      }
    });
    const t1 = performance.now();
    for (let i = 0; i < n; i += group) tx.immediate(i, Math.min(n, i + group));
    out.raw_same_schema_per_s = n / ((performance.now() - t1) / 1000);
    raw.close();

    const min = new Database(join(dir, 'min.sqlite'));
    min.pragma('journal_mode = WAL');
    min.pragma('synchronous = FULL');
    min.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    const insMin = min.prepare('INSERT INTO t (payload) VALUES (?)');
    const txMin = min.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insMin.run(JSON.stringify(draft(i).payload));
    });
    const t2 = performance.now();
    for (let i = 0; i < n; i += group) txMin.immediate(i, Math.min(n, i + group));
    out.raw_minimal_per_s = n / ((performance.now() - t2) / 1000);
    min.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  out.ratio_journal_vs_raw_same_schema = out.journal_appends_per_s! / out.raw_same_schema_per_s!;
  out.ratio_journal_vs_raw_minimal = out.journal_appends_per_s! / out.raw_minimal_per_s!;
  return out;
}

export async function benchQueries(opts: { records?: number; lots?: number; rounds?: number } = {}): Promise<Record<string, number>> {
  const nRec = opts.records ?? 1_000_000;
  const nLots = opts.lots ?? 100_000;
  const rounds = opts.rounds ?? 1000;
  const dir = mkdtempSync(join(resolve('var'), 'bench-queries-'));
  const out: Record<string, number> = { records: nRec, lots: nLots };
  try {
    // Built with synchronous=OFF (loading is not what is measured), queried as the gateway would.
    const db = openDatabase(join(dir, 'q.sqlite'), { synchronous: 'OFF' });
    const now = new Date().toISOString();
    db.prepare(`INSERT INTO materials (code,name,unit,tracking,created_at,updated_at) VALUES ('RM-1','m','kg','lot',?,?)`).run(now, now);
    const lot = db.prepare(`INSERT INTO lots (id,material,supplier,supplier_lot,status,quantity,unit,created_at,updated_at) VALUES (?,?,?,?,?,?,?,?,?)`);
    db.transaction(() => {
      for (let i = 0; i < nLots; i++) lot.run(`L-${i}`, 'RM-1', `SUP-${i % 50}`, `SL-${i}`, i % 100 === 0 ? 'on_hold' : 'released', '10', 'kg', now, now);
    })();
    const rec = db.prepare(`INSERT INTO records (id,type,status,error_code,site,line,station,batch,lot,device,payload,received_at,clock_synced) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1)`);
    const types = ['lot.scanned', 'weight.captured', 'machine.counter', 'machine.state_changed', 'label.printed'];
    db.transaction(() => {
      for (let i = 0; i < nRec; i++) {
        const rejected = i % 1000 === 0;
        // A rare type: one in 10,000.
        const type = i % 10_000 === 5 ? 'deviation.raised' : types[i % types.length]!;
        rec.run(`r-${i}`, type, rejected ? 'rejected' : 'accepted', rejected ? 'LG_ERR_LOT_EXPIRED' : null, 'S', 'L1', `ST-${i % 8}`, `B-${Math.floor(i / 5000)}`, `L-${i % nLots}`, `dev-${i % 8}`, '{}', now);
      }
    })();
    const repo = new Repo(db);
    // Wall time per query, and the process's CPU time per query: on a shared, loaded machine the
    // wall p99 is mostly time spent waiting for a core; the CPU p99 is what the query itself costs.
    const time = (fn: (i: number) => unknown): { p50: number; p99: number; cpuP99: number } => {
      const lat: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const c = process.cpuUsage();
        const t = performance.now();
        fn(i);
        lat.push(performance.now() - t);
        const d = process.cpuUsage(c);
        cpu.push((d.user + d.system) / 1000);
      }
      lat.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      return { p50: pct(lat, 50), p99: pct(lat, 99), cpuP99: pct(cpu, 99) };
    };
    const peer = time((i) => repo.record(String(1 + ((i * 7919) % nRec))));
    const cases: Array<[string, (i: number) => unknown]> = [
      ['recall_supplier_lot', (i) => repo.lotIdsBySupplierLot({ supplierLot: `SL-${(i * 7919) % nLots}` })],
      ['records_status_rejected', () => repo.listRecords({ status: 'rejected', limit: 100, order: 'desc' })],
      ['records_error_code', () => repo.listRecords({ errorCode: 'LG_ERR_LOT_EXPIRED', limit: 100 })],
      ['records_rare_type_prefix', () => repo.listRecords({ type: 'deviation.*', limit: 100 })],
      ['lots_status_on_hold', () => repo.listLots({ status: 'on_hold', limit: 100 })],
    ];
    out.peer_pk_lookup_p99_ms = peer.p99;
    for (const [name, fn] of cases) {
      const r = time(fn);
      out[`${name}_p50_ms`] = r.p50;
      out[`${name}_p99_ms`] = r.p99;
      out[`${name}_cpu_p99_ms`] = r.cpuP99;
      out[`ratio_${name}_p99_vs_pk_lookup`] = r.p99 / peer.p99;
    }
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const quick = process.argv.includes('--quick');
  (async () => {
    console.log(await benchJournalPeers({ n: quick ? 20_000 : 50_000 }));
    console.log(await benchQueries(quick ? { records: 200_000, lots: 20_000 } : {}));
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
