import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, DeviceConfig } from './config/schema.js';
import type { Logger } from './util/log.js';
import { Gateway } from './gateway.js';
import { EXIT, installSignals, PORT_IN_USE } from './main.js';
import { isLgError } from './errors.js';
import { ScannerSimulator } from '../simulators/scanner/simulator.js';
import { ScaleSimulator } from '../simulators/scale/simulator.js';
import { OpcuaLineSimulator } from '../simulators/opcua-line/line.js';
import { PrinterSimulator } from '../simulators/printer/printer-sim.js';
import { ErpSimulator } from '../simulators/erp/erp.js';
import { GS } from './gs1/index.js';
import { Kiosks } from './ui/server/kiosks.js';

/**
 * `linegate demo` (what `npm start` runs): the gateway with every device of the config simulated
 * over its real protocol — a TCP serial server per scanner, a scale publishing on the embedded
 * broker, a PackML PLC over OPC UA, a Zebra-like printer on TCP, the ERP receiver — master data
 * seeded as the ERP would push it, and a scripted shift so a newcomer can watch a batch being made.
 *
 * Simulator addresses come from the device entries of the config: one source of truth.
 */
interface Stoppable {
  name: string;
  stop(): Promise<void> | void;
}

export async function runDemo(cfg: Readonly<Config>, logger: Logger): Promise<number> {
  const log = logger.child({ component: 'demo' });
  const sims: Stoppable[] = [];
  const scanners = new Map<string, ScannerSimulator>();
  const scales = new Map<string, ScaleSimulator>();
  let line: OpcuaLineSimulator | null = null;
  let printer: PrinterSimulator | null = null;
  let erp: ErpSimulator | null = null;
  mkdirSync(cfg.storage.stateDir, { recursive: true });

  // 1. Peers that the gateway connects to.
  for (const d of cfg.devices as DeviceConfig[]) {
    if (d.kind === 'serial-scanner') {
      const t = d.transport as { type: string; host?: string; port?: number };
      if (t.type !== 'tcp') continue;
      const sim = new ScannerSimulator({ mode: 'tcp', host: t.host ?? '127.0.0.1', port: t.port ?? 0 });
      await sim.start();
      scanners.set(d.station, sim);
      sims.push({ name: `scanner ${d.id}`, stop: () => sim.stop() });
    } else if (d.kind === 'opcua-machine' && !line) {
      const port = Number(new URL(String(d.endpoint).replace(/^opc\.tcp:/, 'http:')).port);
      line = new OpcuaLineSimulator({ port, pkiDir: join(cfg.storage.stateDir, 'sim-pki'), opc30050: false, machine: 'FILL1' });
      await line.start();
      const l = line;
      sims.push({ name: 'opcua line', stop: () => l.stop() });
    } else if (d.kind === 'zpl-printer' && !printer) {
      const t = d.transport as { type: string; host?: string; port?: number };
      printer = new PrinterSimulator({ host: t.host ?? '127.0.0.1', port: t.port ?? 9100, outDir: join(cfg.storage.stateDir, 'printer-out'), renderPng: 'lazy' });
      await printer.start();
      const p = printer;
      sims.push({ name: 'printer', stop: () => p.stop() });
    }
  }
  for (const s of cfg.upstream.sinks) {
    if (s.kind !== 'http' || erp) continue;
    const u = new URL(s.url);
    erp = new ErpSimulator({ host: u.hostname, port: Number(u.port), db: join(cfg.storage.stateDir, 'erp-sim.sqlite'), token: (s as { token?: string }).token });
    await erp.start();
    const e = erp;
    sims.push({ name: 'erp', stop: () => e.stop() });
  }

  // 2. The gateway (it brings the embedded broker up before its drivers).
  const gw = new Gateway(cfg, { logger });
  installSignals(gw, logger, async () => {
    for (const s of sims.reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.warn({ err, sim: s.name }, 'simulator did not stop cleanly');
      }
    }
  });
  try {
    await gw.start();
  } catch (err) {
    // A start failure stops the simulators too (they would keep the process alive with no
    // gateway); a port in use is one line and exit 69, as for `linegate run`.
    await gw.stop().catch(() => undefined);
    for (const s of sims.reverse()) await Promise.resolve(s.stop()).catch(() => undefined);
    if (isLgError(err) && PORT_IN_USE.has(err.code)) {
      process.stderr.write(`linegate: ${err.message} (${err.code})\n`);
      return EXIT.UNAVAILABLE;
    }
    throw err;
  }

  // 3. Scales publish on the (now running) broker.
  for (const d of cfg.devices as DeviceConfig[]) {
    if (d.kind !== 'mqtt-scale') continue;
    const broker = d.broker as { url: string };
    const sim = new ScaleSimulator({ url: broker.url, topic: String(d.topic), format: 'json', rateHz: 10, continuous: true, clientId: `demo-sim-${d.id}` });
    await sim.start();
    scales.set(d.station, sim);
    sims.push({ name: `scale ${d.id}`, stop: () => sim.stop() });
  }

  // 4. Master data, as the ERP would push it (idempotent: a restarted demo keeps its history).
  const batch = await seed(gw);
  log.info({ batch }, 'demo master data in place');
  // Station pages: one single-use pairing code per station (10 minutes), in the URL fragment
  // (never sent to the server in a request line, so never in a log); the page redeems it.
  const kiosks = new Kiosks(gw.repo.db, gw.journal, gw.clock);
  const pages: string[] = [];
  for (const st of cfg.stations) {
    const p = await kiosks.createPairing(st.id, `${st.id} demo panel`, 'demo');
    pages.push(`  ${st.id.padEnd(13)} ${gw.url}/ui/stations/${encodeURIComponent(st.id)}#pair=${p.code}\n`);
  }
  process.stdout.write(
    `\n  linegate demo is running\n` +
      `  API:          ${gw.url}   (try ${gw.url}/health/ready)\n` +
      `  stations:     ${gw.url}/ui   (open a station below once within 10 minutes to pair that browser with it)\n` +
      pages.join('') +
      `  office:       ${gw.url}/ui/office   (supervisor and QA pages: sign in with user id + signing secret)\n` +
      DEMO_DESK_USERS.map((u) => `                ${u.id.padEnd(9)} / ${u.secret.padEnd(16)} (${u.role}; demo only)\n`).join('') +
      `  admin token:  ${gw.adminTokenFile ?? join(cfg.storage.stateDir, 'admin.token')} (written on first start)\n` +
      (erp ? `  ERP receiver: ${new URL(erp.url).origin}/_report\n` : '') +
      `  state:        ${cfg.storage.stateDir}\n\n`,
  );

  // 5. A scripted shift, forever (every step is a real device action through its protocol).
  void shift(gw, batch, scanners, scales, line, log);
  return new Promise<number>(() => {});
}

const SYSTEM = { id: 'erp', role: 'erp' as const };

/** The demo's supervisor and QA (their secrets are printed at start: a demo, not a plant). */
export const DEMO_DESK_USERS = [
  { id: 'sup-demo', name: 'Sam Supervisor', role: 'supervisor' as const, secret: 'demo-supervisor' },
  { id: 'qa-demo', name: 'Quinn QA', role: 'qa' as const, secret: 'demo-qa-secret' },
];

async function seed(gw: Gateway): Promise<string> {
  const ops = gw.ops;
  await ops.upsertMaterial({ code: 'RM-1001', name: 'Sugar, granulated', unit: 'kg', gtins: ['09506000134369'] }, SYSTEM);
  await ops.upsertMaterial({ code: 'RM-1002', name: 'Citric acid', unit: 'kg', gtins: ['09506000134376'] }, SYSTEM);
  await ops.upsertMaterial({ code: 'WIDGET-A', name: 'Widget A', unit: 'pcs', gtins: ['09506000134352'], tracking: 'lot' }, SYSTEM);
  await ops.upsertLot({ id: 'L-1001-A', material: 'RM-1001', supplier: 'Acme Sugar', supplierLot: 'ACME-2611', receiptDate: '2026-11-01', expiry: '2027-11-01', status: 'released', quantity: '500.000' }, SYSTEM, 'goods receipt', 'upsert');
  await ops.upsertLot({ id: 'L-1001-H', material: 'RM-1001', supplier: 'Acme Sugar', supplierLot: 'ACME-2610', receiptDate: '2026-10-01', expiry: '2027-10-01', status: 'on_hold', quantity: '250.000' }, SYSTEM, 'QC hold: moisture', 'upsert');
  await ops.upsertLot({ id: 'L-1002-A', material: 'RM-1002', supplier: 'Citrix Chem', supplierLot: 'CC-5531', receiptDate: '2026-11-10', expiry: '2028-05-31', status: 'released', quantity: '25.000' }, SYSTEM, 'goods receipt', 'upsert');
  for (const [id, name, badge] of [['op-anna', 'Anna Operator', 'EMP-0042'], ['op-ben', 'Ben Packer', 'EMP-0043']] as const) {
    if (!gw.repo.userById(id)) await ops.createUser({ id, name, role: 'operator', badge }, { id: 'admin', role: 'admin' });
  }
  // Desk users for the supervisor and QA pages, with the signing secrets printed at start. DEMO
  // ONLY: a real installation creates its users over the API and each sets their own secret.
  for (const u of DEMO_DESK_USERS) {
    if (!gw.repo.userById(u.id)) await ops.createUser({ id: u.id, name: u.name, role: u.role }, { id: 'admin', role: 'admin' });
    const hasSecret = gw.repo.db.prepare('SELECT 1 FROM signing_secrets WHERE user_id = ?').get(u.id);
    if (!hasSecret) await ops.signatures.setSecret(u.id, { kind: 'password', secret: u.secret }, { id: u.id, role: u.role });
  }
  const today = new Date().toISOString().slice(0, 10);
  const wo = await ops.upsertWorkOrder(
    `WO-${today}`,
    {
      product: 'WIDGET-A',
      productName: 'Widget A',
      gtin: '09506000134352',
      plannedQty: '1200',
      unit: 'pcs',
      bom: [
        { material: 'RM-1001', quantity: '12.000', unit: 'kg', tolerancePct: '5' },
        { material: 'RM-1002', quantity: '0.400', unit: 'kg', tolerancePct: '5' },
      ],
    },
    SYSTEM,
  );
  return wo.number;
}

async function shift(
  gw: Gateway,
  batch: string,
  scanners: Map<string, ScannerSimulator>,
  scales: Map<string, ScaleSimulator>,
  line: OpcuaLineSimulator | null,
  log: Logger,
): Promise<void> {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const scan = async (station: string, text: string, aim = '') => {
    const s = scanners.get(station);
    if (s) await s.scan(aim + text).catch((err: unknown) => log.debug({ err }, 'demo scan not delivered'));
  };
  await wait(3000);
  for (let round = 0; gw.state === 'running'; round++) {
    try {
      // Dispensing: badge, batch, a lot on hold (refused), the right lot, then weighings.
      await scan('WEIGH-1', 'EMP-0042');
      await wait(800);
      await scan('WEIGH-1', batch);
      await wait(800);
      await scan('WEIGH-1', `0109506000134369` + `10ACME-2610${GS}17271001`, ']C1');
      await wait(1500);
      await scan('WEIGH-1', `0109506000134369` + `10ACME-2611${GS}17271101`, ']C1');
      await wait(1000);
      const scale = scales.get('WEIGH-1');
      if (scale) {
        for (const kg of ['4.000', '4.000', '3.950']) {
          await scale.place(kg, { settleMs: 800, holdMs: 2000 });
          await scale.remove({ settleMs: 300, holdMs: 1500 });
        }
      }
      // Filling: the operator loads the batch on the filler; the PLC runs it (auto transitions
      // start the batch on Execute).
      if (line) {
        if (gw.ops.stationContext('FILL-1').batch !== batch) {
          await gw.ops.setStationContext('FILL-1', { batch }, { id: 'op-anna', role: 'operator' }, 'batch loaded on the filler').catch((err: unknown) => log.debug({ err }, 'filler batch not selected'));
        }
        line.setState('Starting');
        await wait(500);
        line.setState('Execute');
        line.run(5, 40);
        await wait(20_000);
        line.setState('Held');
        await wait(3000);
        line.setState('Execute');
        await wait(10_000);
        line.run(0);
        line.setState('Stopping');
        await wait(500);
        line.setState('Stopped');
      }
      // Packing: badge, batch, then weighed cases (labels when the printer is wired in).
      await scan('PACK-1', 'EMP-0043');
      await wait(500);
      await scan('PACK-1', batch);
      const pack = scales.get('PACK-1');
      if (pack) {
        for (let i = 0; i < 3; i++) {
          await pack.place('6.120', { settleMs: 600, holdMs: 1500 });
          await pack.remove({ settleMs: 300, holdMs: 1000 });
        }
      }
      await wait(15_000);
    } catch (err) {
      log.warn({ err, round }, 'demo shift step failed; continuing');
      await wait(5000);
    }
  }
}
