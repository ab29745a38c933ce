/**
 * A PackML filling machine (FILL-1) as a real node-opcua server, for tests, the bench and the demo.
 *
 * It exposes the same line in two address-space shapes, one per node map in devices/machines/:
 * - PackTags as plain variables (packml-generic.yaml): ns=urn:linegate:sim:opcua-line,
 *   s=FILL1.Status.StateCurrent (Int32, TR88 number), …Admin.ProdProcessedCount (UInt32), …
 * - OPC 30050 (opc30050-packml.yaml): Objects/PackMLObjects/FILL1/{BaseStateMachine/…/CurrentState
 *   (LocalizedText names), Status/UnitModeCurrent, Admin/ProdProcessedCount (PackMLCountDataType[]),
 *   Admin/StopReason (PackMLAlarmDataType)}, with the PackML companion nodeset loaded so the
 *   structures are the real data types. Browse names only, not full type instances: enough for a
 *   client that finds nodes by browse path, and it keeps start-up fast.
 *
 * Per DEPENDENCIES.md: `minSupportedSampleRate: 0` and `minimumSamplingInterval: 0` so fast changes
 * are not coalesced; every certificate manager is rooted in the given PKI folder (never ~/.config).
 * The server's own certificate lives in `<pki>/own` and survives restarts with the same folder, so
 * a gateway that trusted it once keeps trusting the restarted process.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as OpcuaNs from 'node-opcua';
import { PACKML_STATES, canonicalStateName, tr88Number } from '../../src/readings/packml.js';

type Opcua = typeof OpcuaNs;
export const SIM_NAMESPACE = 'urn:linegate:sim:opcua-line';
export const PACKML_NAMESPACE = 'http://opcfoundation.org/UA/PackML/';

async function loadOpcua(): Promise<Opcua> {
  const m = (await import('node-opcua')) as unknown as { default?: Opcua } & Opcua;
  return m.default ?? m;
}

export interface OpcuaLineOptions {
  /** TCP port; 0 = any free port (read `endpoint` after start). */
  port?: number;
  /**
   * Address to listen on. Default 127.0.0.1: a simulated PLC (anonymous, security None) must not
   * be reachable from the plant network. Pass 0.0.0.0 deliberately to reach it from elsewhere.
   */
  host?: string;
  /** PKI folder of the server (own certificate, trusted clients). Required: never the home folder. */
  pkiDir: string;
  /** Machine instance name (node ids and the PackMLObjects child). */
  machine?: string;
  /** With users, anonymous logins are refused. */
  users?: { username: string; password: string }[];
  /** Offer only these security modes (default: None, Sign, SignAndEncrypt). */
  securityModes?: ('None' | 'Sign' | 'SignAndEncrypt')[];
  /**
   * Also expose the OPC 30050 shape (loads the PackML companion nodeset: ~1 s more start-up on a
   * busy machine). Default true; tests that only use the generic map turn it off.
   */
  opc30050?: boolean;
  /** Initial values (a restarted PLC with retentive counters starts where it was). */
  initial?: { state?: string; good?: number; reject?: number; unitMode?: number };
}

const U32 = 2 ** 32;

export class OpcuaLineSimulator {
  private server: OpcuaNs.OPCUAServer | null = null;
  private ua: Opcua | null = null;
  private v: Record<string, OpcuaNs.UAVariable> = {};
  private countType: OpcuaNs.UADataType | null = null;
  private alarmType: OpcuaNs.UADataType | null = null;
  private runTimer: NodeJS.Timeout | null = null;
  private rejectPhase = 0;
  readonly machine: string;
  state = 'Stopped';
  good = 0;
  reject = 0;
  accGood = 0;
  accReject = 0;
  unitMode = 1;
  speed = 0;
  stopReason = { id: 0, message: '' };

  constructor(private readonly opts: OpcuaLineOptions) {
    this.machine = opts.machine ?? 'FILL1';
    const i = opts.initial ?? {};
    if (i.state) this.state = canonicalStateName(i.state) ?? 'Stopped';
    this.good = i.good ?? 0;
    this.reject = i.reject ?? 0;
    this.unitMode = i.unitMode ?? 1;
  }

  get endpoint(): string {
    if (!this.server) throw new Error('simulator not started');
    return `opc.tcp://127.0.0.1:${this.server.endpoints[0]!.port}/linegate/sim`;
  }

  async start(): Promise<string> {
    const ua = (this.ua = await loadOpcua());
    const pki = this.opts.pkiDir;
    mkdirSync(pki, { recursive: true });
    const cm = new ua.OPCUACertificateManager({ rootFolder: join(pki, 'server'), automaticallyAcceptUnknownCertificate: true });
    const ucm = new ua.OPCUACertificateManager({ rootFolder: join(pki, 'users'), automaticallyAcceptUnknownCertificate: true });
    await cm.initialize();
    await ucm.initialize();
    const modes = (this.opts.securityModes ?? ['None', 'Sign', 'SignAndEncrypt']).map((m) => ua.MessageSecurityMode[m]);
    const users = this.opts.users ?? [];
    const server = new ua.OPCUAServer({
      port: this.opts.port ?? 0,
      host: this.opts.host ?? '127.0.0.1',
      resourcePath: '/linegate/sim',
      hostname: '127.0.0.1',
      alternateHostname: ['127.0.0.1', 'localhost'],
      nodeset_filename: this.opts.opc30050 === false ? [ua.nodesets.standard] : [ua.nodesets.standard, ua.nodesets.packML],
      serverCertificateManager: cm,
      userCertificateManager: ucm,
      securityModes: modes,
      securityPolicies: [ua.SecurityPolicy.None, ua.SecurityPolicy.Basic256Sha256, ua.SecurityPolicy.Aes128_Sha256_RsaOaep, ua.SecurityPolicy.Aes256_Sha256_RsaPss],
      allowAnonymous: users.length === 0,
      userManager: { isValidUser: (u: string, p: string) => users.some((x) => x.username === u && x.password === p) },
      serverCapabilities: { minSupportedSampleRate: 0 } as OpcuaNs.OPCUAServerOptions['serverCapabilities'],
      buildInfo: { productName: 'linegate opcua-line simulator', manufacturerName: 'linegate' },
      isAuditing: false,
    });
    await server.initialize();
    this.build(server);
    await server.start();
    this.server = server;
    this.publishAll();
    return this.endpoint;
  }

  private build(server: OpcuaNs.OPCUAServer): void {
    const as = server.engine.addressSpace!;
    const ns = as.registerNamespace(SIM_NAMESPACE);
    const m = this.machine;
    const sampling = { minimumSamplingInterval: 0 };

    // ── shape 1: PackTags as plain variables ──
    const root = ns.addObject({ organizedBy: as.rootFolder.objects, browseName: m, nodeId: `s=${m}` });
    const status = ns.addObject({ componentOf: root, browseName: 'Status', nodeId: `s=${m}.Status` });
    const admin = ns.addObject({ componentOf: root, browseName: 'Admin', nodeId: `s=${m}.Admin` });
    const add = (parent: OpcuaNs.UAObject, name: string, id: string, dataType: string): OpcuaNs.UAVariable =>
      ns.addVariable({ componentOf: parent, browseName: name, nodeId: `s=${m}.${id}`, dataType, ...sampling });
    this.v.stateCurrent = add(status, 'StateCurrent', 'Status.StateCurrent', 'Int32');
    this.v.unitMode = add(status, 'UnitModeCurrent', 'Status.UnitModeCurrent', 'Int32');
    this.v.speed = add(status, 'CurMachSpeed', 'Status.CurMachSpeed', 'Float');
    this.v.good = add(admin, 'ProdProcessedCount', 'Admin.ProdProcessedCount', 'UInt32');
    this.v.reject = add(admin, 'ProdDefectiveCount', 'Admin.ProdDefectiveCount', 'UInt32');
    this.v.stopReasonId = add(admin, 'StopReason.ID', 'Admin.StopReason.ID', 'Int32');

    // ── shape 2: OPC 30050 by browse path ──
    if (this.opts.opc30050 === false) return;
    const nsP = as.getNamespaceIndex(PACKML_NAMESPACE);
    const pn = (name: string): OpcuaNs.QualifiedNameLike => ({ namespaceIndex: nsP, name });
    const folder = as.findNode(`ns=${nsP};i=72`) as OpcuaNs.UAObject; // PackMLObjects (OPC 30050 §6.2)
    const inst = ns.addObject({ organizedBy: folder, browseName: m, nodeId: `s=PackML.${m}` });
    const pStatus = ns.addObject({ componentOf: inst, browseName: pn('Status'), nodeId: `s=PackML.${m}.Status` });
    const pAdmin = ns.addObject({ componentOf: inst, browseName: pn('Admin'), nodeId: `s=PackML.${m}.Admin` });
    const base = ns.addObject({ componentOf: inst, browseName: pn('BaseStateMachine'), nodeId: `s=PackML.${m}.BSM` });
    const mach = ns.addObject({ componentOf: base, browseName: pn('MachineState'), nodeId: `s=PackML.${m}.BSM.MS` });
    const exec = ns.addObject({ componentOf: mach, browseName: pn('ExecuteState'), nodeId: `s=PackML.${m}.BSM.MS.ES` });
    const cur = (parent: OpcuaNs.UAObject, id: string): OpcuaNs.UAVariable =>
      ns.addVariable({ componentOf: parent, browseName: { namespaceIndex: 0, name: 'CurrentState' }, nodeId: `s=PackML.${m}.${id}.CurrentState`, dataType: 'LocalizedText', ...sampling });
    this.v.baseState = cur(base, 'BSM');
    this.v.machineState = cur(mach, 'BSM.MS');
    this.v.executeState = cur(exec, 'BSM.MS.ES');
    this.v.pUnitMode = ns.addVariable({ componentOf: pStatus, browseName: pn('UnitModeCurrent'), nodeId: `s=PackML.${m}.Status.UnitModeCurrent`, dataType: 'Int32', ...sampling });
    this.v.pSpeed = ns.addVariable({ componentOf: pStatus, browseName: pn('CurMachSpeed'), nodeId: `s=PackML.${m}.Status.CurMachSpeed`, dataType: 'Float', ...sampling });
    this.countType = as.findDataType('PackMLCountDataType', nsP) ?? null;
    this.alarmType = as.findDataType('PackMLAlarmDataType', nsP) ?? null;
    const countVar = (name: string): OpcuaNs.UAVariable =>
      ns.addVariable({ componentOf: pAdmin, browseName: pn(name), nodeId: `s=PackML.${m}.Admin.${name}`, dataType: this.countType!, valueRank: 1, arrayDimensions: [0], ...sampling });
    this.v.pGood = countVar('ProdProcessedCount');
    this.v.pReject = countVar('ProdDefectiveCount');
    this.v.pStopReason = ns.addVariable({ componentOf: pAdmin, browseName: pn('StopReason'), nodeId: `s=PackML.${m}.Admin.StopReason`, dataType: this.alarmType!, ...sampling });
  }

  private set(v: OpcuaNs.UAVariable | undefined, dataType: OpcuaNs.DataType, value: unknown, arrayType?: OpcuaNs.VariantArrayType): void {
    const ua = this.ua;
    if (!v || !ua) return;
    v.setValueFromSource(new ua.Variant({ dataType, value, ...(arrayType !== undefined ? { arrayType } : {}) }), ua.StatusCodes.Good, new Date());
  }

  private publishState(): void {
    const ua = this.ua;
    if (!ua || !this.server) return;
    const name = this.state;
    this.set(this.v.stateCurrent, ua.DataType.Int32, tr88Number(name) ?? 0);
    // OPC 30050 nesting: Aborted/Aborting live in the base machine; Stopped/Stopping/Clearing in
    // MachineState (base = Cleared); everything else in ExecuteState (machine = Running).
    const lt = (t: string): OpcuaNs.LocalizedText => new ua.LocalizedText({ locale: 'en', text: t });
    let levels: [string, string, string];
    if (name === 'Aborted' || name === 'Aborting') levels = [name, '', ''];
    else if (name === 'Stopped' || name === 'Stopping' || name === 'Clearing') levels = ['Cleared', name, ''];
    else levels = ['Cleared', 'Running', name];
    this.set(this.v.baseState, ua.DataType.LocalizedText, lt(levels[0]));
    this.set(this.v.machineState, ua.DataType.LocalizedText, lt(levels[1]));
    this.set(this.v.executeState, ua.DataType.LocalizedText, lt(levels[2]));
  }

  private publishCounters(): void {
    const ua = this.ua;
    if (!ua || !this.server) return;
    this.set(this.v.good, ua.DataType.UInt32, this.good);
    this.set(this.v.reject, ua.DataType.UInt32, this.reject);
    if (!this.countType) return;
    const as = this.server.engine.addressSpace!;
    const count = (id: number, name: string, n: number, acc: number): OpcuaNs.ExtensionObject =>
      as.constructExtensionObject(this.countType!, { ID: id, name, count: n | 0, accCount: acc | 0 });
    this.set(this.v.pGood, ua.DataType.ExtensionObject, [count(1, 'good', this.good, this.accGood)], ua.VariantArrayType.Array);
    this.set(this.v.pReject, ua.DataType.ExtensionObject, [count(2, 'reject', this.reject, this.accReject)], ua.VariantArrayType.Array);
  }

  private publishAll(): void {
    const ua = this.ua!;
    this.publishState();
    this.publishCounters();
    this.set(this.v.unitMode, ua.DataType.Int32, this.unitMode);
    this.set(this.v.pUnitMode, ua.DataType.Int32, this.unitMode);
    this.set(this.v.speed, ua.DataType.Float, this.speed);
    this.set(this.v.pSpeed, ua.DataType.Float, this.speed);
    this.publishStopReason();
  }

  private publishStopReason(): void {
    const ua = this.ua;
    if (!ua || !this.server) return;
    this.set(this.v.stopReasonId, ua.DataType.Int32, this.stopReason.id);
    if (!this.alarmType) return;
    const ext = this.server.engine.addressSpace!.constructExtensionObject(this.alarmType!, { ID: this.stopReason.id, value: this.stopReason.id, message: this.stopReason.message });
    this.set(this.v.pStopReason, ua.DataType.ExtensionObject, ext);
  }

  // ── scripting API ───────────────────────────────────────────────────────────

  /** Move to a PackML state, by name (any spelling canonicalStateName accepts). */
  setState(name: string): void {
    const s = canonicalStateName(name);
    if (!s || !(PACKML_STATES as readonly string[]).includes(s)) throw new Error(`not a PackML state: ${name}`);
    this.state = s;
    this.publishState();
  }

  /** Count units: good and rejected, wrapping at UInt32 like a PLC DINT/UDINT counter. */
  produce(good: number, reject = 0): void {
    this.good = (this.good + good) % U32;
    this.reject = (this.reject + reject) % U32;
    this.accGood += good;
    this.accReject += reject;
    this.publishCounters();
  }

  /** Set the counters directly (e.g. near UInt32 max to exercise wrap-around). */
  setCounters(good: number, reject: number): void {
    this.good = good % U32;
    this.reject = reject % U32;
    this.publishCounters();
  }

  /** The PLC's counter reset command: Count goes to 0 (AccCount keeps counting, as in OPC 30050). */
  resetCounters(): void {
    this.good = 0;
    this.reject = 0;
    this.publishCounters();
  }

  setSpeed(unitsPerMin: number): void {
    this.speed = unitsPerMin;
    const ua = this.ua;
    if (!ua) return;
    this.set(this.v.speed, ua.DataType.Float, unitsPerMin);
    this.set(this.v.pSpeed, ua.DataType.Float, unitsPerMin);
  }

  setUnitMode(mode: number): void {
    this.unitMode = mode;
    const ua = this.ua;
    if (!ua) return;
    this.set(this.v.unitMode, ua.DataType.Int32, mode);
    this.set(this.v.pUnitMode, ua.DataType.Int32, mode);
  }

  setStopReason(id: number, message = ''): void {
    this.stopReason = { id, message };
    this.publishStopReason();
  }

  /**
   * Produce at line speed while in Execute: `perSecond` units, every `rejectEvery`-th one rejected
   * (0 = none). Call with perSecond 0 to stop.
   */
  run(perSecond: number, rejectEvery = 0): void {
    if (this.runTimer) clearInterval(this.runTimer);
    this.runTimer = null;
    this.setSpeed(perSecond * 60);
    if (perSecond <= 0) return;
    const tickMs = 100;
    let carry = 0;
    this.runTimer = setInterval(() => {
      if (this.state !== 'Execute') return;
      carry += (perSecond * tickMs) / 1000;
      const n = Math.floor(carry);
      carry -= n;
      let g = 0;
      let r = 0;
      for (let i = 0; i < n; i++) {
        this.rejectPhase++;
        if (rejectEvery > 0 && this.rejectPhase % rejectEvery === 0) r++;
        else g++;
      }
      if (n > 0) this.produce(g, r);
    }, tickMs);
    this.runTimer.unref();
  }

  /**
   * Bench load: for `ms`, on every turn of the event loop make `perTick` value changes (good
   * counter, reject counter and speed in turn). Resolves with the number of changes made.
   */
  blast(ms: number, perTick = 20): Promise<number> {
    const ua = this.ua;
    if (!ua) return Promise.resolve(0);
    const end = Date.now() + ms;
    let changes = 0;
    return new Promise((resolve) => {
      const tick = (): void => {
        for (let i = 0; i < perTick; i++) {
          const k = changes++ % 3;
          if (k === 0) this.produce(1, 0);
          else if (k === 1) this.produce(0, 1);
          else this.setSpeed((changes % 600) + 1);
        }
        if (Date.now() < end) setImmediate(tick);
        else resolve(changes);
      };
      tick();
    });
  }

  /**
   * Fault injection: the server silently forgets every subscription (as a PLC firmware does after
   * a watchdog reset of its OPC UA stack while keeping the TCP session). No data, no keep-alive:
   * a client must notice the silence and recreate its subscription. Returns how many were dropped.
   */
  dropSubscriptions(): number {
    const engine = this.server?.engine as unknown as { _sessions?: Record<string, { publishEngine?: { subscriptions: { id: number }[] }; deleteSubscription(id: number): unknown }> } | undefined;
    let n = 0;
    for (const session of Object.values(engine?._sessions ?? {})) {
      for (const sub of [...(session.publishEngine?.subscriptions ?? [])]) {
        session.deleteSubscription(sub.id);
        n++;
      }
    }
    return n;
  }

  async stop(): Promise<void> {
    if (this.runTimer) clearInterval(this.runTimer);
    this.runTimer = null;
    const s = this.server;
    this.server = null;
    if (s) await s.shutdown(0);
  }
}
