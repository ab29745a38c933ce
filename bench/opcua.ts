/**
 * OPC UA notification throughput: the linegate machine driver (node map resolution, value
 * conversion, timestamps/skew, reading objects, and bindMachine on every reading) against a bare
 * node-opcua client that only counts `changed` events — the same items, the same monitoring
 * parameters, the same server, one after the other in the same run.
 *
 * The server is the opcua-line simulator in a CHILD process (so its work does not share this
 * process's event loop), told to `blast`: change the good counter, reject counter and speed as fast
 * as it can for a fixed time. Figures per consumer: notifications/s (wall, over the blast window
 * plus drain) and notifications per CPU-second of THIS process (what the consumer costs — the
 * fairer figure when the server, not the client, limits the wall rate). Ratios driver/bare; the
 * target is ≥ 0.8.
 *
 *   npm run build && node dist/bench/opcua.js [blastMs=2000] [rounds=3]
 *
 * Ratios are the MEDIAN over rounds of (driver round / the bare round just before it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { opcuaMachineKind, loadOpcua } from '../src/drivers/opcua/index.js';
import type { OpcuaMachineConfig } from '../src/config/devices/opcua-machine.js';
import type { MachineReading } from '../src/drivers/driver.js';
import { bindMachine } from '../src/binding/machine.js';
import type { BindEnv, MasterData, StationContext } from '../src/binding/types.js';
import { silentLogger } from '../src/util/log.js';

const here = dirname(fileURLToPath(import.meta.url));
// Works from source and from dist/bench.
const root = [join(here, '..'), join(here, '..', '..')].find((p) => existsSync(join(p, 'devices', 'machines')))!;
const simMain = [join(root, 'dist', 'simulators', 'opcua-line', 'main.js'), join(here, '..', 'simulators', 'opcua-line', 'main.js')].find((p) => existsSync(p))!;

class Sim {
  child: ChildProcess;
  private waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [simMain, ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      for (const w of [...this.waiters]) if (w.re.test(l)) (this.waiters.splice(this.waiters.indexOf(w), 1), w.resolve(l));
    });
  }
  expect(re: RegExp): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }
  async cmd(line: string, until: RegExp = /^(ok|error) /): Promise<string> {
    const p = this.expect(until);
    this.child.stdin!.write(`${line}\n`);
    return p;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Count notifications until `blast` ends and the stream has been quiet for 300 ms. */
async function measure(sim: Sim, blastMs: number, count: () => number): Promise<{ n: number; wallS: number; cpuS: number }> {
  const n0 = count();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const done = sim.cmd(`blast ${blastMs} 20`, /^blasted /);
  await done;
  let last = count();
  let lastChange = performance.now();
  while (performance.now() - lastChange < 300) {
    await sleep(50);
    const c = count();
    if (c !== last) {
      last = c;
      lastChange = performance.now();
    }
  }
  const wallS = (lastChange - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { n: last - n0, wallS, cpuS: (cpu.user + cpu.system) / 1e6 };
}

export async function benchOpcua(blastMs = 2000, rounds = 3, warmMs = Math.min(1000, blastMs)): Promise<Record<string, number>> {
  const tmp = mkdtempSync(join(tmpdir(), 'linegate-bench-opcua-'));
  const sim = new Sim(['--port', '0', '--pki', join(tmp, 'sim-pki'), '--no-opc30050', '--state', 'Execute']);
  try {
    const readyP = sim.expect(/^ready /);
    const ua = await loadOpcua();
    const samplingIntervalMs = 0;
    const publishingIntervalMs = 50;

    // ── bare node-opcua client: the same six items, same parameters, counts only ──
    // Its certificate is made while the server child makes its own (both take seconds).
    const cm = new ua.OPCUACertificateManager({ rootFolder: join(tmp, 'bare-pki'), automaticallyAcceptUnknownCertificate: true });
    const [ready] = await Promise.all([readyP, cm.initialize()]);
    const endpoint = ready.slice('ready '.length).trim();
    const client = ua.OPCUAClient.create({ endpointMustExist: false, clientCertificateManager: cm, connectionStrategy: { maxRetry: 0 } });
    await client.connect(endpoint);
    const session = await client.createSession();
    const nsIdx = (await session.readNamespaceArray()).indexOf('urn:linegate:sim:opcua-line');
    const ids = ['Status.StateCurrent', 'Status.UnitModeCurrent', 'Admin.ProdProcessedCount', 'Admin.ProdDefectiveCount', 'Status.CurMachSpeed', 'Admin.StopReason.ID'];
    let bare = 0;
    const bareRound = async (ms: number) => {
      const sub = await session.createSubscription2({ requestedPublishingInterval: publishingIntervalMs, requestedMaxKeepAliveCount: 66, requestedLifetimeCount: 660, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 10 });
      for (const id of ids) {
        const mi = await sub.monitor({ nodeId: `ns=${nsIdx};s=FILL1.${id}`, attributeId: ua.AttributeIds.Value }, { samplingInterval: samplingIntervalMs, queueSize: 100, discardOldest: false }, ua.TimestampsToReturn.Both);
        mi.on('changed', () => bare++);
      }
      await sleep(300);
      const r = await measure(sim, ms, () => bare);
      await sub.terminate();
      return r;
    };

    // ── the linegate driver, with bindMachine on every reading ──
    const cfg: OpcuaMachineConfig = {
      kind: 'opcua-machine', id: 'bench.fill1', station: 'FILL-1', endpoint, securityMode: 'None', securityPolicy: 'None', auth: { type: 'anonymous' },
      nodeMap: 'packml-generic', samplingIntervalMs, publishingIntervalMs, maxClockSkewMs: 2000, staleAfterMs: 10_000,
    };
    const dstate = new Map<string, unknown>();
    const md = { deviceState: (d: string, k: string) => dstate.get(`${d}|${k}`), batch: () => undefined } as unknown as MasterData;
    const ctx: StationContext = { station: 'FILL-1', role: 'filling', batch: 'B1', operator: null, lots: {} };
    let bound = 0;
    const driverRound = async (ms: number, bind: boolean) => {
      const driver = opcuaMachineKind.create(cfg, { logger: silentLogger(), stateDir: join(tmp, 'state'), devicesDir: join(root, 'devices') });
      if (!bind) driver.on('reading', () => bound++);
      else driver.on('reading', (r: MachineReading) => {
        const env: BindEnv = { site: 'S', line: 'L', now: r.receivedAt, md };
        const res = bindMachine(r, ctx, env, { autoBatchTransitions: false });
        for (const e of res.effects) if (e.type === 'device.set_state') dstate.set(`${e.device}|${e.key}`, e.value);
        bound++;
      });
      await driver.start(new AbortController().signal);
      while (driver.health().state !== 'online') await sleep(50);
      await sleep(300);
      const r = await measure(sim, ms, () => driver.stats.notifications);
      await driver.stop();
      return r;
    };

    // Warm up the server and both paths (JIT), then alternate so drift hits both alike.
    await bareRound(warmMs);
    await driverRound(warmMs, true);
    const sum = (xs: { n: number; wallS: number; cpuS: number }[]) => xs.reduce((a, x) => ({ n: a.n + x.n, wallS: a.wallS + x.wallS, cpuS: a.cpuS + x.cpuS }), { n: 0, wallS: 0, cpuS: 0 });
    const bs: { n: number; wallS: number; cpuS: number }[] = [];
    const ds: { n: number; wallS: number; cpuS: number }[] = [];
    const dbs: { n: number; wallS: number; cpuS: number }[] = [];
    bound = 0;
    for (let i = 0; i < rounds; i++) {
      bs.push(await bareRound(blastMs));
      ds.push(await driverRound(blastMs, false));
      dbs.push(await driverRound(blastMs, true));
    }
    await session.close();
    await client.disconnect();
    await cm.dispose();
    // Per-round ratios (each driver round against the bare round just before it), median: the
    // machine is shared, and a neighbour's burst should not decide the figure.
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const rate = (x: { n: number; wallS: number }) => x.n / x.wallS;
    const cpuRate = (x: { n: number; cpuS: number }) => x.n / x.cpuS;
    const medWall = median(ds.map((x, i) => rate(x) / rate(bs[i]!)));
    const medCpu = median(ds.map((x, i) => cpuRate(x) / cpuRate(bs[i]!)));
    const medBindWall = median(dbs.map((x, i) => rate(x) / rate(bs[i]!)));
    const medBindCpu = median(dbs.map((x, i) => cpuRate(x) / cpuRate(bs[i]!)));
    const b = sum(bs);
    const d = sum(ds);
    const db = sum(dbs);

    const out = {
      bare_notifications: b.n,
      bare_per_s: Math.round(b.n / b.wallS),
      bare_per_cpu_s: Math.round(b.n / b.cpuS),
      driver_notifications: d.n,
      readings_seen: bound,
      driver_per_s: Math.round(d.n / d.wallS),
      driver_per_cpu_s: Math.round(d.n / d.cpuS),
      ratio_wall: Number(medWall.toFixed(3)),
      ratio_cpu: Number(medCpu.toFixed(3)),
      driver_bind_notifications: db.n,
      driver_bind_per_s: Math.round(db.n / db.wallS),
      driver_bind_per_cpu_s: Math.round(db.n / db.cpuS),
      ratio_bind_wall: Number(medBindWall.toFixed(3)),
      ratio_bind_cpu: Number(medBindCpu.toFixed(3)),
      rounds,
    };
    return out;
  } finally {
    sim.child.stdin!.write('quit\n');
    await sleep(300);
    sim.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ms = Number(process.argv[2] ?? 2000);
  benchOpcua(ms, Number(process.argv[3] ?? 3))
    .then((r) => {
      process.stdout.write(`opcua: ${JSON.stringify(r)}\n`);
      process.stdout.write(`opcua: driver ${r.driver_per_s}/s vs bare ${r.bare_per_s}/s — ratio ${r.ratio_wall} (wall), ${r.ratio_cpu} per CPU-second; target ≥ 0.8\n`);
      process.stdout.write(`opcua: driver + bindMachine ${r.driver_bind_per_s}/s — ratio ${r.ratio_bind_wall} (wall), ${r.ratio_bind_cpu} per CPU-second\n`);
      process.exit(0);
    })
    .catch((err: unknown) => {
      process.stderr.write(`bench opcua failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
}
