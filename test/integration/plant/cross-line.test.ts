import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { runCli } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/net.js';
import { PlantTrace } from '../../../src/upstream/plant-trace.js';
import { plantServer } from '../../../src/upstream/plant-cli.js';
import { createTestDatabase, type TestDatabase } from './pg.js';

/**
 * Three line gateways (three Gateway instances, one per line) feed one plant store. Line 1 makes
 * syrup from Acme's sugar lot ACME-77; line 2 makes widgets from that syrup; line 3 uses the sugar
 * directly. Each gateway issues its own batch numbers, so the same number can exist on every line.
 */
describe('plant store: several lines, one database, cross-line genealogy', () => {
  let pgdb: TestDatabase;
  const gws: TestGateway[] = [];
  const batch: Record<string, string> = {};

  const ok = async (p: Promise<{ status: number; body: any }>) => {
    const r = await p;
    if (r.status >= 300) throw new Error(JSON.stringify(r.body));
    return r.body;
  };

  beforeAll(async () => {
    pgdb = await createTestDatabase();
    for (const line of ['L1', 'L2', 'L3']) {
      gws.push(
        await startTestGateway({
          line: { id: line, name: `Line ${line}` },
          upstream: { sinks: [{ id: 'plant', kind: 'postgres', url: pgdb.url, schema: 'plant1', batch: { lingerMs: 5 }, backoff: { baseMs: 20, maxMs: 300, probeMs: 0 } }] },
        }),
      );
    }
    const [l1, l2, l3] = gws as [TestGateway, TestGateway, TestGateway];
    for (const t of gws) {
      await ok(t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg' }));
      await ok(t.call('POST', '/lots', { id: 'SUG-1', material: 'RM-1001', supplier: 'Acme', supplierLot: 'ACME-77', expiry: '2099-01-01', status: 'released', quantity: '100' }));
    }
    // Line 1: syrup from sugar; the syrup lot records the batch that made it.
    await ok(l1.call('PUT', '/materials/SYRUP', { name: 'Syrup (intermediate)', unit: 'kg' }));
    batch.L1 = (await ok(l1.call('POST', '/batches', { product: 'SYRUP', plannedQty: '20', unit: 'kg', bom: [{ material: 'RM-1001', quantity: '20', unit: 'kg', tolerancePct: '0' }] }))).number;
    await ok(l1.call('PUT', '/stations/WEIGH-1/context', { batch: batch.L1 }));
    await ok(l1.call('POST', '/stations/WEIGH-1/scans', { data: 'SUG-1' }));
    for (const q of ['12.500', '7.500']) await ok(l1.call('POST', '/stations/WEIGH-1/consumptions', { quantity: q, unit: 'kg' }));
    await ok(l1.call('POST', '/lots', { id: 'SYR-1', material: 'SYRUP', status: 'released', quantity: '20', producedBy: batch.L1 }));
    // Line 2: the ERP pushes the syrup lot (it cannot name line 1's batch there); widgets consume it.
    await ok(l2.call('PUT', '/materials/SYRUP', { name: 'Syrup (intermediate)', unit: 'kg' }));
    await ok(l2.call('POST', '/lots', { id: 'SYR-1', material: 'SYRUP', status: 'released', quantity: '20' }));
    batch.L2 = (await ok(l2.call('POST', '/batches', { product: 'WIDGET-A', plannedQty: '100', unit: 'pcs', bom: [{ material: 'SYRUP', quantity: '20', unit: 'kg', tolerancePct: '1' }] }))).number;
    await ok(l2.call('PUT', '/stations/WEIGH-1/context', { batch: batch.L2 }));
    await ok(l2.call('POST', '/stations/WEIGH-1/scans', { data: 'SYR-1' }));
    await ok(l2.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '20000', unit: 'g' }));
    // Line 3: candy straight from the sugar.
    batch.L3 = (await ok(l3.call('POST', '/batches', { product: 'CANDY', plannedQty: '10', unit: 'kg', bom: [{ material: 'RM-1001', quantity: '10', unit: 'kg', tolerancePct: '1' }] }))).number;
    await ok(l3.call('PUT', '/stations/WEIGH-1/context', { batch: batch.L3 }));
    await ok(l3.call('POST', '/stations/WEIGH-1/scans', { data: 'SUG-1' }));
    await ok(l3.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '10', unit: 'kg' }));
    await ok(l3.call('POST', `/batches/${batch.L3}/transitions`, { to: 'in_process' }));
    await waitFor(
      () => gws.every((t) => t.gw.dispatcher!.stats().every((s) => s.backlog === 0 && s.inFlightRequests === 0 && s.deliveredTotal > 0)),
      30_000,
      50,
      'every line delivered to the plant store',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(gws.map((t) => t.gw.dispatcher!.stats()))}`);
    });
  }, 120_000);

  afterAll(async () => {
    for (const t of gws) await t.stop();
    await pgdb?.drop();
  });

  it('16.2 every line writes into one database, site and line on every row, batches keyed per line', async () => {
    const perLine = await pgdb.query<{ line: string; n: string }>(`SELECT line, COUNT(*) AS n FROM plant1.records GROUP BY line ORDER BY line`);
    expect(perLine.map((r) => r.line)).toEqual(['L1', 'L2', 'L3']);
    for (const t of gws) {
      const local = (await t.call('GET', '/records?limit=1000')).body.items.length;
      expect(Number(perLine.find((r) => r.line === t.gw.cfg.line.id)!.n)).toBe(local);
    }
    const batches = await pgdb.query<{ line: string; number: string; status: string; product: string }>(`SELECT line, number, status, product FROM plant1.batches ORDER BY line`);
    expect(batches).toEqual([
      { line: 'L1', number: batch.L1, status: 'planned', product: 'SYRUP' },
      { line: 'L2', number: batch.L2, status: 'planned', product: 'WIDGET-A' },
      { line: 'L3', number: batch.L3, status: 'in_process', product: 'CANDY' },
    ]);
  });

  it('16.1 lots, balances per line and genealogy edges as the records imply them', async () => {
    const lots = await pgdb.query<{ id: string; supplier_lot: string | null; produced_by_line: string | null; produced_by_batch: string | null; status: string }>(
      `SELECT id, supplier_lot, produced_by_line, produced_by_batch, status FROM plant1.lots ORDER BY id`,
    );
    expect(lots).toEqual([
      { id: 'SUG-1', supplier_lot: 'ACME-77', produced_by_line: null, produced_by_batch: null, status: 'released' },
      // Line 2's copy of the lot could not name the batch; line 1's record did, and that is kept.
      { id: 'SYR-1', supplier_lot: null, produced_by_line: 'L1', produced_by_batch: batch.L1, status: 'released' },
    ]);
    const bal = await pgdb.query<{ line: string; lot: string; quantity: string; consumed: string }>(
      `SELECT line, lot, quantity::float8::text AS quantity, consumed::float8::text AS consumed FROM plant1.lot_balances ORDER BY lot, line`,
    );
    expect(bal).toEqual([
      { line: 'L1', lot: 'SUG-1', quantity: '80', consumed: '20' },
      { line: 'L2', lot: 'SUG-1', quantity: '100', consumed: '0' },
      { line: 'L3', lot: 'SUG-1', quantity: '90', consumed: '10' },
      { line: 'L1', lot: 'SYR-1', quantity: '20', consumed: '0' },
      { line: 'L2', lot: 'SYR-1', quantity: '0', consumed: '20' },
    ]);
    // The line's own view agrees with the plant's.
    expect(Number((await gws[0]!.call('GET', '/lots/SUG-1')).body.quantity)).toBe(80);
    const edges = await pgdb.query<{ kind: string; from_node: string; to_node: string; quantity: string | null; additions: number }>(
      `SELECT kind, from_node, to_node, quantity::float8::text AS quantity, additions FROM plant1.edges ORDER BY from_node, to_node`,
    );
    expect(edges).toEqual(
      [
        { kind: 'consumed', from_node: 'lot:SUG-1', to_node: `batch:L1/${batch.L1}`, quantity: '20', additions: 2 },
        { kind: 'consumed', from_node: 'lot:SUG-1', to_node: `batch:L3/${batch.L3}`, quantity: '10', additions: 1 },
        { kind: 'produced', from_node: `batch:L1/${batch.L1}`, to_node: 'lot:SYR-1', quantity: null, additions: 1 },
        { kind: 'consumed', from_node: 'lot:SYR-1', to_node: `batch:L2/${batch.L2}`, quantity: '20', additions: 1 },
      ].sort((a, b) => a.from_node.localeCompare(b.from_node) || a.to_node.localeCompare(b.to_node)),
    );
  });

  it('16.2 `linegate plant trace supplier-lot` returns the batches of every line that used it, through the intermediate', async () => {
    const r = await runCli(['plant', 'trace', 'supplier-lot', 'ACME-77', '--postgres', pgdb.url, '--schema', 'plant1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(t.start).toEqual(['SUG-1']);
    expect(t.batches.map((b: any) => [b.line, b.number, b.depth])).toEqual([
      ['L1', batch.L1, 1],
      ['L3', batch.L3, 1],
      ['L2', batch.L2, 3],
    ]);
    expect(t.batches[2].path).toEqual(['lot:SUG-1', `batch:L1/${batch.L1}`, 'lot:SYR-1', `batch:L2/${batch.L2}`]);
    const text = await runCli(['plant', 'trace', 'supplier-lot', 'ACME-77', '--postgres', pgdb.url, '--schema', 'plant1']);
    expect(text.stdout).toContain('batches reached: 3 on 3 line(s)');
    expect(text.stdout).toContain(`SYR-1 (made by L1/${batch.L1})`);
  });

  it('16.2 backward from a line-2 batch reaches the supplier lot made into line 1’s intermediate; unknown lots fail with a code', async () => {
    const r = await runCli(['plant', 'trace', 'batch', `L2/${batch.L2}`, '--postgres', pgdb.url, '--schema', 'plant1', '--json']);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(t.batches.map((b: any) => `${b.line}/${b.number}`)).toEqual([`L1/${batch.L1}`]);
    expect(t.supplierLots).toEqual([{ supplier: 'Acme', supplierLot: 'ACME-77', lot: 'SUG-1', material: 'RM-1001' }]);
    // The same number on several lines must be qualified.
    if (batch.L1 === batch.L2) {
      const amb = await runCli(['plant', 'trace', 'batch', batch.L2!, '--postgres', pgdb.url, '--schema', 'plant1']);
      expect(amb.code).toBe(64);
    }
    const none = await runCli(['plant', 'trace', 'supplier-lot', 'NOPE-1', '--postgres', pgdb.url, '--schema', 'plant1']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('LG_ERR_LOT_NOT_FOUND');
    const down = await runCli(['plant', 'trace', 'lot', 'SUG-1', '--postgres', 'postgres://postgres@127.0.0.1:1/none', '--schema', 'plant1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('LG_ERR_PLANT_STORE_UNREACHABLE');
  });

  it('16.1 `linegate plant migrate` creates a new plant schema and leaves a current one as it is', async () => {
    const fresh = await runCli(['plant', 'migrate', '--postgres', pgdb.url, '--schema', 'plant2', '--json']);
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ schema: 'plant2', applied: [1] });
    const again = await runCli(['plant', 'migrate', '--postgres', pgdb.url, '--schema', 'plant1', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ schema: 'plant1', applied: [] });
    expect((await pgdb.query(`SELECT version FROM plant2.schema_migrations`)).length).toBe(1);
    const bad = await runCli(['plant', 'migrate', '--postgres', pgdb.url, '--schema', 'Bad-Name']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('LG_ERR_VALIDATION');
  });

  it('16.2 the read-only plant API answers the recall question', async () => {
    const pool = new pg.Pool({ connectionString: pgdb.url, max: 2 });
    const server = plantServer(new PlantTrace(pool, 'plant1'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/trace/supplier-lot/ACME-77?supplier=Acme`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { batches: Array<{ line: string }> };
      expect(body.batches.map((b) => b.line).sort()).toEqual(['L1', 'L2', 'L3']);
      expect((await fetch(`${base}/trace/nothing`)).status).toBe(404);
      expect((await fetch(`${base}/trace/lot/SUG-1`, { method: 'POST' })).status).toBe(405);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await pool.end();
    }
  });
});
