import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { Gateway, type GatewayOptions } from '../../src/gateway.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from './tmp.js';

/** The reference line of PRODUCT.md, without devices: tests add what they need. */
export function baseConfig(stateDir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    site: { id: 'PLANT1', name: 'Test plant', timezone: 'Europe/Berlin', gs1CompanyPrefix: '9506000' },
    line: { id: 'L1', name: 'Line 1' },
    stations: [
      { id: 'WEIGH-1', role: 'weighing', commands: { 'CMD-CLEAR': 'clear_lots' } },
      { id: 'FILL-1', role: 'filling' },
      { id: 'PACK-1', role: 'packing' },
    ],
    devices: [],
    upstream: { sinks: [] },
    api: { host: '127.0.0.1', port: 0 },
    storage: { stateDir, synchronous: 'FULL' },
    log: { level: 'silent' },
    ...extra,
  };
}

export interface TestGateway {
  gw: Gateway;
  url: string;
  adminToken: string;
  stateDir: string;
  /** fetch JSON with the admin token (or another). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startTestGateway(extra: Record<string, unknown> = {}, opts: GatewayOptions & { stateDir?: string } = {}): Promise<TestGateway> {
  const dir = opts.stateDir ? { path: opts.stateDir, cleanup: () => {} } : tempDir('linegate-gw-');
  const cfg = parseConfig(stringify(baseConfig(dir.path, extra)), 'test.yaml', { env: {} });
  const gw = new Gateway(cfg, { logger: silentLogger(), ...opts });
  await gw.start();
  const adminToken = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();
  const url = gw.url!;
  const call = async (method: string, path: string, body?: unknown, token: string | null = adminToken) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any };
  };
  return {
    gw,
    url,
    adminToken,
    stateDir: dir.path,
    call,
    stop: async () => {
      await gw.stop();
      if (!opts.stateDir) dir.cleanup();
    },
  };
}

/** Master data of the reference line: RM-1001/RM-1002 with lots, Widget A's work order. */
export async function seedReferenceLine(t: TestGateway): Promise<{ batch: string }> {
  const ok = (r: { status: number; body: any }, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  ok(await t.call('PUT', '/materials/RM-1001', { name: 'Sugar', unit: 'kg', gtins: ['09506000134369'] }), 'material RM-1001');
  ok(await t.call('PUT', '/materials/RM-1002', { name: 'Citric acid', unit: 'kg', gtins: ['09506000134376'] }), 'material RM-1002');
  ok(await t.call('PUT', '/materials/RM-1010', { name: 'Colour', unit: 'kg', gtins: ['09506000134383'] }), 'material RM-1010');
  ok(await t.call('POST', '/lots', { id: 'L-1001-A', material: 'RM-1001', supplier: 'Acme', supplierLot: 'ACME-77', expiry: '2099-12-31', status: 'released', quantity: '500.000' }), 'lot A');
  ok(await t.call('POST', '/lots', { id: 'L-1001-EXP', material: 'RM-1001', supplierLot: 'ACME-12', expiry: '2020-01-31', status: 'released', quantity: '10' }), 'lot expired');
  ok(await t.call('POST', '/lots', { id: 'L-1001-HOLD', material: 'RM-1001', supplierLot: 'ACME-13', expiry: '2099-01-31', status: 'on_hold', quantity: '10' }), 'lot hold');
  ok(await t.call('POST', '/lots', { id: 'L-1001-Q', material: 'RM-1001', supplierLot: 'ACME-14', expiry: '2099-01-31', status: 'quarantine', quantity: '10' }), 'lot quarantine');
  ok(await t.call('POST', '/lots', { id: 'L-1010-A', material: 'RM-1010', expiry: '2099-01-31', status: 'released', quantity: '10' }), 'lot other material');
  const wo = ok(
    await t.call('PUT', '/work-orders/WO-1', {
      product: 'WIDGET-A',
      productName: 'Widget A',
      gtin: '09506000134352',
      plannedQty: '1000',
      unit: 'pcs',
      bom: [
        { material: 'RM-1001', quantity: '50.000', unit: 'kg', tolerancePct: '2' },
        { material: 'RM-1002', quantity: '1.500', unit: 'kg', tolerancePct: '5' },
      ],
    }),
    'work order',
  );
  return { batch: wo.batch.number };
}

/**
 * Consume the reference batch's bill of materials within tolerance at WEIGH-1 (by hand, as a
 * weighing would), so its completion checks (issue 10.6) can pass: 50 kg RM-1001 from L-1001-A and
 * 1.5 kg RM-1002 from L-1002-A (created here if missing).
 */
export async function consumeReferenceBom(t: TestGateway, batch: string): Promise<void> {
  const ok = (r: { status: number; body: any }, what: string) => {
    if (r.status >= 300 || r.body?.record?.status === 'rejected') throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  if ((await t.call('GET', '/lots/L-1002-A')).status === 404) {
    ok(await t.call('POST', '/lots', { id: 'L-1002-A', material: 'RM-1002', expiry: '2099-12-31', status: 'released', quantity: '20.000' }), 'lot L-1002-A');
  }
  ok(await t.call('PUT', '/stations/WEIGH-1/context', { batch }), 'select batch at WEIGH-1');
  ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1001-A' }), 'scan L-1001-A');
  ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '50.000', unit: 'kg' }), 'consume RM-1001');
  ok(await t.call('POST', '/stations/WEIGH-1/scans', { data: 'L-1002-A' }), 'scan L-1002-A');
  ok(await t.call('POST', '/stations/WEIGH-1/consumptions', { quantity: '1.500', unit: 'kg' }), 'consume RM-1002');
}

/** QA acknowledges every open exception of a batch record (review by exception) — tests whose subject is not the review. */
export async function acknowledgeAllExceptions(t: TestGateway, batch: string, qaToken: string, comment = 'reviewed in test'): Promise<void> {
  const ex = await t.call('GET', `/batches/${batch}/exceptions`);
  if (ex.status !== 200) throw new Error(`exceptions of ${batch}: ${ex.status} ${JSON.stringify(ex.body)}`);
  if (ex.body.open === 0) return;
  const r = await t.call('POST', `/batches/${batch}/exceptions/acknowledge`, { all: true, comment }, qaToken);
  if (r.status !== 200) throw new Error(`acknowledge ${batch}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** QA closes every open deviation of a batch (investigation + signed closure) — for tests whose subject is not deviations. */
export async function closeAllDeviations(t: TestGateway, batch: string, qa: { token: string; userId: string; secret: string }): Promise<void> {
  const list = await t.call('GET', `/deviations?batch=${batch}`);
  for (const d of list.body.items as Array<{ number: string; status: string }>) {
    if (d.status === 'closed') continue;
    await t.call('PATCH', `/deviations/${d.number}`, { rootCause: 'test', impact: 'none' }, qa.token);
    const r = await t.call('POST', `/deviations/${d.number}/close`, { signature: { userId: qa.userId, secret: qa.secret, meaning: 'closed' } }, qa.token);
    if (r.status !== 200) throw new Error(`close ${d.number}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}
