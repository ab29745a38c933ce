/**
 * Sparkplug B (v3.0) edge node: the line's LIVE STATE on the plant broker, for SCADA/UNS consumers
 * (Ignition, HiveMQ, United Manufacturing Hub). Not the record stream: records go, at least once and
 * in order, through the journal-backed sinks; Sparkplug data messages are QoS 0 by the spec and a
 * value missed while offline is simply superseded by the next birth. Documented as such (README).
 *
 * - Edge node = the line gateway (`edgeNodeId`, default the line id), in group `groupId`.
 * - Devices = every configured device (scanner, scale, machine, printer) and every station
 *   (`station-<id>`), each with a fixed metric set declared in its DBIRTH with names and aliases;
 *   DDATA carries aliases only, and only the metrics that changed.
 * - Session: clean session; the death certificate NDEATH (with bdSeq) is the MQTT will, QoS 1.
 *   bdSeq (0–255) increases with every connection (persisted in `bdSeqFile` so a restarted gateway
 *   does not reuse one); NBIRTH carries the same bdSeq as the will of its connection.
 * - seq: 0 on NBIRTH, +1 per NBIRTH/DBIRTH/NDATA/DDATA message, 255 → 0.
 * - NCMD `Node Control/Rebirth` = true → NBIRTH + every DBIRTH again (same connection, same bdSeq).
 * - Primary host (optional): births only while `spBv1.0/STATE/{primaryHostId}` says online; when
 *   it goes offline the node publishes NDEATH, disconnects and waits for the host on a new
 *   connection (new bdSeq), as Sparkplug 3.0 §5.9 asks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import sparkplugPayload from 'sparkplug-payload';
import type { SparkplugConfig } from '../config/upstream.js';
import type { JournalRecord } from '../binding/types.js';
import type { Logger } from '../util/log.js';

const sp = sparkplugPayload.get('spBv1.0')!;
export const SPARKPLUG_NS = 'spBv1.0';

type MetricType = 'String' | 'Boolean' | 'UInt64' | 'Int32' | 'DateTime';
type Value = string | number | boolean | null;

interface MetricDef {
  name: string;
  type: MetricType;
}

const COMMON: MetricDef[] = [
  { name: 'Last Record/Type', type: 'String' },
  { name: 'Last Record/Status', type: 'String' },
  { name: 'Last Record/Error', type: 'String' },
  { name: 'Last Record/Time', type: 'DateTime' },
  { name: 'Records', type: 'UInt64' },
];

const BY_KIND: Record<string, MetricDef[]> = {
  'mqtt-scale': [
    { name: 'Weight/Net', type: 'String' },
    { name: 'Weight/Unit', type: 'String' },
    { name: 'Weight/Stable', type: 'Boolean' },
  ],
  'opcua-machine': [
    { name: 'State', type: 'String' },
    { name: 'State Number', type: 'Int32' },
    { name: 'Counter/Good', type: 'UInt64' },
    { name: 'Counter/Rejected', type: 'UInt64' },
  ],
  'serial-scanner': [{ name: 'Last Scan/Symbology', type: 'String' }],
  'zpl-printer': [
    { name: 'Last Label/Kind', type: 'String' },
    { name: 'Last Label/Id', type: 'String' },
  ],
  station: [
    { name: 'Batch', type: 'String' },
    { name: 'Lot', type: 'String' },
    { name: 'Operator', type: 'String' },
  ],
};

interface Metric extends MetricDef {
  alias: number;
  value: Value;
  at: number;
}

interface Device {
  id: string;
  kind: string;
  metrics: Map<string, Metric>;
}

export interface SparkplugNodeOptions {
  /** Configured devices ({id, kind}) and station ids of this line. */
  devices: Array<{ id: string; kind: string }>;
  stations: string[];
  /** Default edge node id (the line id). */
  line: string;
  /** Where bdSeq survives restarts (optional). */
  bdSeqFile?: string;
  logger?: Logger;
}

export function stationDeviceId(station: string): string {
  return `station-${station}`;
}

function safeId(s: string): string {
  return s.replace(/[/+#]/g, '_');
}

export class SparkplugNode {
  readonly groupId: string;
  readonly edgeNodeId: string;
  private readonly devices = new Map<string, Device>();
  private client: MqttClient | undefined;
  private bdSeq: number;
  private seq = 0;
  private born = false;
  private hostOnline: boolean;
  private closed = false;
  private reconnecting = false;
  private readonly nodeMetrics = { bdSeq: 1, rebirth: 2 };

  constructor(private readonly cfg: SparkplugConfig, private readonly opts: SparkplugNodeOptions) {
    this.groupId = cfg.groupId;
    this.edgeNodeId = cfg.edgeNodeId ?? safeId(opts.line);
    this.hostOnline = !cfg.primaryHostId;
    this.bdSeq = this.loadBdSeq();
    let alias = 100; // 1.. reserved for node metrics
    const add = (id: string, kind: string): void => {
      const defs = [...COMMON, ...(BY_KIND[kind] ?? [])];
      const metrics = new Map<string, Metric>();
      for (const d of defs) metrics.set(d.name, { ...d, alias: alias++, value: d.name === 'Records' ? 0 : null, at: Date.now() });
      this.devices.set(safeId(id), { id: safeId(id), kind, metrics });
    };
    for (const d of opts.devices) add(d.id, d.kind);
    for (const s of opts.stations) add(stationDeviceId(s), 'station');
  }

  private topic(type: string, device?: string): string {
    return `${SPARKPLUG_NS}/${this.groupId}/${type}/${this.edgeNodeId}${device ? `/${device}` : ''}`;
  }

  private loadBdSeq(): number {
    if (!this.opts.bdSeqFile) return 0;
    try {
      const n = Number(readFileSync(this.opts.bdSeqFile, 'utf8').trim());
      return Number.isInteger(n) && n >= 0 && n <= 255 ? n : 0;
    } catch {
      return 0;
    }
  }

  private saveBdSeq(): void {
    if (!this.opts.bdSeqFile) return;
    try {
      writeFileSync(this.opts.bdSeqFile, `${this.bdSeq}\n`);
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message }, 'sparkplug: could not persist bdSeq');
    }
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  /** Connect (never throws because the broker is absent; MQTT.js reconnects). */
  async start(): Promise<void> {
    this.closed = false;
    this.connect();
  }

  private connect(): void {
    const bdSeq = this.bdSeq;
    // The next connection uses the next bdSeq; persisted first, so a crash cannot reuse this one.
    this.bdSeq = (this.bdSeq + 1) % 256;
    this.saveBdSeq();
    const will = sp.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });
    const cfg = this.cfg;
    const opts: IClientOptions = {
      clientId: cfg.clientId ?? `lg-sp-${this.groupId}-${this.edgeNodeId}`.slice(0, 64),
      clean: true,
      protocolVersion: 4,
      keepalive: cfg.keepaliveS ?? 30,
      // A reconnect needs a new will (new bdSeq): we reconnect ourselves, MQTT.js must not.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      will: { topic: this.topic('NDEATH'), payload: Buffer.from(will), qos: 1, retain: false },
      ...(cfg.username !== undefined ? { username: cfg.username } : {}),
      ...(cfg.password !== undefined ? { password: cfg.password } : {}),
      ...(cfg.clientCert
        ? { cert: readFileSync(cfg.clientCert.cert), key: readFileSync(cfg.clientCert.key), ...(cfg.clientCert.ca ? { ca: readFileSync(cfg.clientCert.ca) } : {}) }
        : {}),
    };
    const client = mqtt.connect(cfg.url, opts);
    this.client = client;
    this.born = false;
    client.on('error', (err) => this.opts.logger?.warn({ err: err.message }, 'sparkplug: broker error'));
    client.on('connect', () => {
      const subs = [this.topic('NCMD'), `${this.topic('DCMD')}/+`];
      if (cfg.primaryHostId) subs.push(`${SPARKPLUG_NS}/STATE/${cfg.primaryHostId}`);
      client.subscribe(subs, { qos: 1 }, (err) => {
        if (err) return;
        if (this.hostOnline) this.birth(client, bdSeq);
      });
    });
    client.on('message', (topic, payload) => this.onMessage(client, bdSeq, topic, payload));
    client.on('close', () => {
      if (this.client !== client) return;
      this.born = false;
      if (this.closed || this.reconnecting) return;
      // Lost (broker down, network): reconnect with a new bdSeq after a pause.
      this.reconnecting = true;
      setTimeout(() => {
        this.reconnecting = false;
        if (!this.closed && this.client === client) {
          client.removeAllListeners();
          client.end(true);
          this.connect();
        }
      }, 1000).unref();
    });
  }

  private onMessage(client: MqttClient, bdSeq: number, topic: string, payload: Buffer): void {
    if (this.cfg.primaryHostId && topic === `${SPARKPLUG_NS}/STATE/${this.cfg.primaryHostId}`) {
      let online = false;
      try {
        online = (JSON.parse(payload.toString('utf8')) as { online?: unknown }).online === true;
      } catch {
        online = payload.toString('utf8') === 'ONLINE'; // Sparkplug 2.2 hosts
      }
      const was = this.hostOnline;
      this.hostOnline = online;
      if (online && !this.born) this.birth(client, bdSeq);
      if (!online && was && this.born) void this.dieAndReconnect(client, bdSeq);
      return;
    }
    if (topic === this.topic('NCMD')) {
      try {
        const p = sp.decodePayload(payload);
        const rebirth = (p.metrics ?? []).some((m) => (m.name === 'Node Control/Rebirth' || Number(m.alias) === this.nodeMetrics.rebirth) && m.value === true);
        if (rebirth && this.hostOnline) {
          this.opts.logger?.info({}, 'sparkplug: rebirth requested');
          this.birth(client, bdSeq);
        }
      } catch (err) {
        this.opts.logger?.warn({ err: (err as Error).message }, 'sparkplug: undecodable NCMD ignored');
      }
    }
    // DCMD: no writable device metrics; ignored.
  }

  /** Host went offline: NDEATH ourselves, disconnect, and come back on a new connection (new bdSeq). */
  private async dieAndReconnect(client: MqttClient, bdSeq: number): Promise<void> {
    this.born = false;
    this.reconnecting = true;
    const death = sp.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });
    await client.publishAsync(this.topic('NDEATH'), Buffer.from(death), { qos: 1 }).catch(() => undefined);
    client.removeAllListeners();
    await client.endAsync(true).catch(() => undefined);
    this.reconnecting = false;
    if (!this.closed && this.client === client) this.connect();
  }

  private birth(client: MqttClient, bdSeq: number): void {
    this.seq = 0;
    const now = Date.now();
    const nbirth = sp.encodePayload({
      timestamp: now,
      seq: this.nextSeq(),
      metrics: [
        { name: 'bdSeq', alias: this.nodeMetrics.bdSeq, type: 'UInt64', value: bdSeq, timestamp: now },
        { name: 'Node Control/Rebirth', alias: this.nodeMetrics.rebirth, type: 'Boolean', value: false, timestamp: now },
      ],
    });
    client.publish(this.topic('NBIRTH'), Buffer.from(nbirth), { qos: 0 });
    for (const d of this.devices.values()) {
      const payload = sp.encodePayload({
        timestamp: now,
        seq: this.nextSeq(),
        metrics: [...d.metrics.values()].map((m) => ({
          name: m.name,
          alias: m.alias,
          type: m.type,
          timestamp: m.at,
          value: m.value, ...(m.value === null ? { isNull: true } : {}),
        })),
      });
      client.publish(this.topic('DBIRTH', d.id), Buffer.from(payload), { qos: 0 });
    }
    this.born = true;
  }

  /** Live state from committed records (wire to Journal.onCommitted). One DDATA per changed device. */
  onRecords(records: readonly JournalRecord[]): void {
    const changed = new Map<Device, Set<Metric>>();
    const set = (d: Device | undefined, name: string, value: Value, at: number): void => {
      if (!d) return;
      const m = d.metrics.get(name);
      if (!m || m.value === value) return;
      m.value = value;
      m.at = at;
      let s = changed.get(d);
      if (!s) changed.set(d, (s = new Set()));
      s.add(m);
    };
    for (const r of records) {
      const at = Date.parse(r.sourceTime ?? r.receivedAt) || Date.now();
      const p = (r.payload ?? {}) as Record<string, unknown>;
      const dev = r.device ? this.devices.get(safeId(r.device)) : undefined;
      const st = r.station ? this.devices.get(safeId(stationDeviceId(r.station))) : undefined;
      for (const d of [dev, st]) {
        if (!d) continue;
        set(d, 'Last Record/Type', r.type, at);
        set(d, 'Last Record/Status', r.status, at);
        set(d, 'Last Record/Error', r.errorCode ?? '', at);
        set(d, 'Last Record/Time', at, at);
        set(d, 'Records', Number(d.metrics.get('Records')!.value ?? 0) + 1, at);
      }
      if (dev) {
        if (typeof p.net === 'string') set(dev, 'Weight/Net', p.net, at);
        if (typeof p.unit === 'string') set(dev, 'Weight/Unit', p.unit, at);
        if (typeof p.stable === 'boolean') set(dev, 'Weight/Stable', p.stable, at);
        if ((r.type === 'machine.state_changed' || r.type === 'machine.state_confirmed') && typeof p.state === 'string') {
          set(dev, 'State', p.state, at);
          if (typeof p.stateNumber === 'number') set(dev, 'State Number', p.stateNumber, at);
        }
        if (r.type === 'counter.updated' && r.status === 'accepted' && typeof p.value === 'string') {
          const v = Number(p.value);
          if (Number.isSafeInteger(v)) set(dev, p.counter === 'rejected' ? 'Counter/Rejected' : 'Counter/Good', v, at);
        }
        if (typeof p.symbology === 'string') set(dev, 'Last Scan/Symbology', p.symbology, at);
        if (r.type === 'label.queued') {
          if (typeof p.kind === 'string') set(dev, 'Last Label/Kind', p.kind, at);
          if (typeof p.labelId === 'string') set(dev, 'Last Label/Id', p.labelId, at);
        }
      }
      if (st && r.status === 'accepted') {
        if (r.batch !== null || r.type === 'batch.selected') set(st, 'Batch', r.batch ?? '', at);
        if (r.lot) set(st, 'Lot', r.lot, at);
        if (r.operator) set(st, 'Operator', r.operator, at);
      }
    }
    const client = this.client;
    if (!client || !this.born || !client.connected) return; // the next birth carries the values
    for (const [d, ms] of changed) {
      const payload = sp.encodePayload({
        timestamp: Date.now(),
        seq: this.nextSeq(),
        metrics: [...ms].map((m) => ({ alias: m.alias, type: m.type, timestamp: m.at, value: m.value, ...(m.value === null ? { isNull: true } : {}) })),
      });
      client.publish(this.topic('DDATA', d.id), Buffer.from(payload), { qos: 0 });
    }
  }

  /** For health: connected and born. */
  state(): { connected: boolean; born: boolean; bdSeq: number; hostOnline: boolean } {
    return { connected: this.client?.connected ?? false, born: this.born, bdSeq: (this.bdSeq + 255) % 256, hostOnline: this.hostOnline };
  }

  /** Clean stop: NDEATH published explicitly (a clean disconnect does not fire the will), then disconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      const death = sp.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: (this.bdSeq + 255) % 256 }] });
      await Promise.race([client.publishAsync(this.topic('NDEATH'), Buffer.from(death), { qos: 1 }).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    client.removeAllListeners();
    await Promise.race([client.endAsync(true).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  }
}
