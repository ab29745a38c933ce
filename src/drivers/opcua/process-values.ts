/**
 * Process values of an OPC UA machine (issue 18): the `values:` list of an `opcua-machine`, one
 * monitored item per node on the machine's subscription, each sample through the value's filter
 * (src/domain/process-value.ts), what it keeps emitted as a `ValueReading`.
 *
 * Quality comes from the DataValue's StatusCode: Good → good, Uncertain → uncertain (recorded,
 * marked), Bad → a rejected record LG_ERR_VALUE_BAD_QUALITY with the status name. Timestamps:
 * the source timestamp when the server sends one (then the duplicate check applies), else the
 * gateway's receive time. The deadband is applied here, not with a server DataChangeFilter, so
 * that both transports behave the same and a percent deadband needs no EURange on the server.
 * A node the server does not know (BadNodeIdUnknown when monitoring) is a rejected record
 * LG_ERR_VALUE_SOURCE_UNKNOWN and the device's lastError (health degraded); the machine's other
 * nodes go on.
 */
import type * as OpcuaNs from 'node-opcua';
import type { OpcuaValueSpec } from '../../config/devices/process-values.js';
import { ValueFilter, type Decision, type Quality, type Recorded } from '../../domain/process-value.js';
import { formatMessage, type ErrorCode } from '../../errors.js';
import type { ValueReading } from '../../readings/reading.js';
import type { Clock } from '../../util/clock.js';

interface ValueItem {
  spec: OpcuaValueSpec;
  filter: ValueFilter;
  nodeId: string;
  trailing: NodeJS.Timeout | null;
  mi: OpcuaNs.ClientMonitoredItemBase | null;
  counts: { samples: number; recorded: number; rejected: number };
}

export class OpcuaValues {
  private readonly items: ValueItem[];
  private stopped = false;
  /** Node errors of the last connect (health details). */
  sourceErrors: Array<{ name: string; nodeId: string; detail: string }> = [];

  constructor(
    specs: readonly OpcuaValueSpec[],
    private readonly device: string,
    private readonly clock: Clock,
    private readonly emit: (r: ValueReading) => void,
    private readonly onError: (code: ErrorCode, message: string) => void,
  ) {
    this.items = specs.map((spec) => ({ spec, filter: new ValueFilter(spec), nodeId: spec.nodeId, trailing: null, mi: null, counts: { samples: 0, recorded: 0, rejected: 0 } }));
  }

  get names(): string[] {
    return this.items.map((i) => i.spec.name);
  }

  get size(): number {
    return this.items.length;
  }

  restoreRecorded(last: ReadonlyMap<string, Recorded>): void {
    for (const i of this.items) {
      const r = last.get(i.spec.name);
      if (r) i.filter.restore({ last: r, pending: null });
    }
  }

  /** Monitor every value node on `sub` (a fresh subscription after each connect). */
  async monitor(ua: typeof OpcuaNs, session: OpcuaNs.ClientSession, sub: OpcuaNs.ClientSubscription, samplingIntervalMs: number): Promise<void> {
    if (this.items.length === 0) return;
    this.sourceErrors = [];
    const nsArray = await session.readNamespaceArray();
    await Promise.all(
      this.items.map(async (item) => {
        item.mi = null;
        let nodeId = item.spec.nodeId;
        const m = /^nsu=([^;]+);(.+)$/.exec(nodeId);
        if (m) {
          const idx = nsArray.indexOf(m[1]!);
          if (idx < 0) return this.sourceUnknown(item, `namespace ${m[1]} is not on this server`);
          nodeId = `ns=${idx};${m[2]}`;
        }
        item.nodeId = nodeId;
        let mi: OpcuaNs.ClientMonitoredItemBase;
        try {
          mi = await sub.monitor({ nodeId, attributeId: ua.AttributeIds.Value }, { samplingInterval: samplingIntervalMs, queueSize: 100, discardOldest: false }, ua.TimestampsToReturn.Both);
        } catch (err) {
          return this.sourceUnknown(item, (err as Error).message);
        }
        const sc = (mi as unknown as { statusCode?: OpcuaNs.StatusCode }).statusCode;
        if (sc && sc.isNotGood()) {
          await mi.terminate().catch(() => undefined);
          return this.sourceUnknown(item, `${sc.name} (${nodeId})`);
        }
        item.mi = mi;
        mi.on('changed', (dv: OpcuaNs.DataValue) => this.onValue(item, dv));
      }),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const i of this.items) this.flushTrailing(i);
  }

  details(): Array<Record<string, unknown>> {
    return this.items.map((i) => ({ name: i.spec.name, nodeId: i.nodeId, unit: i.spec.unit, monitored: i.mi !== null, last: i.filter.lastRecorded?.value ?? null, ...i.counts }));
  }

  private sourceUnknown(item: ValueItem, detail: string): void {
    this.sourceErrors.push({ name: item.spec.name, nodeId: item.spec.nodeId, detail });
    const details = { name: item.spec.name, nodeId: item.spec.nodeId, detail };
    const message = formatMessage('LG_ERR_VALUE_SOURCE_UNKNOWN', { device: this.device, ...details });
    this.onError('LG_ERR_VALUE_SOURCE_UNKNOWN', message);
    this.emit({ kind: 'value', deviceId: this.device, receivedAt: this.clock.now(), sourceTime: null, name: item.spec.name, value: null, unit: item.spec.unit, quality: 'bad', reason: null, source: { nodeId: item.spec.nodeId }, error: { code: 'LG_ERR_VALUE_SOURCE_UNKNOWN', message, details } });
  }

  private onValue(item: ValueItem, dv: OpcuaNs.DataValue): void {
    if (this.stopped) return;
    try {
      item.counts.samples++;
      const receivedAt = this.clock.now();
      const sourceTime = dv.sourceTimestamp ?? null;
      const sc = dv.statusCode;
      const quality: Quality = !sc || sc.isGood() ? 'good' : (sc.value & 0x80000000) !== 0 ? 'bad' : 'uncertain';
      const raw = dv.value?.value;
      const value = Array.isArray(raw) || ArrayBuffer.isView(raw) ? { array: true } : raw;
      const decision = item.filter.offer({ value, at: (sourceTime ?? receivedAt).getTime(), sourceTimed: sourceTime !== null, quality, qualityText: sc?.name ?? 'Good' });
      if (decision.kind === 'skip') {
        if (decision.why === 'interval') this.armTrailing(item);
        return;
      }
      this.emitDecision(item, decision, receivedAt, sourceTime, sc?.name ?? 'Good');
    } catch (err) {
      this.onError('LG_ERR_VALUE_NOT_NUMERIC', `process value ${this.device}/${item.spec.name}: ${(err as Error).message}`);
    }
  }

  private emitDecision(item: ValueItem, decision: Exclude<Decision, { kind: 'skip' }>, receivedAt: Date, sourceTime: Date | null, status: string | undefined): void {
    const base = { kind: 'value' as const, deviceId: this.device, receivedAt, sourceTime, name: item.spec.name, unit: item.spec.unit, source: { nodeId: item.spec.nodeId, ...(status !== undefined ? { quality: status } : {}) } };
    if (decision.kind === 'record') {
      item.counts.recorded++;
      if (item.trailing && decision.reason !== 'trailing') (clearTimeout(item.trailing), (item.trailing = null));
      this.emit({ ...base, ...(decision.reason === 'trailing' ? { sourceTime: sourceTime ?? new Date(decision.at) } : {}), value: decision.value, quality: decision.quality, reason: decision.reason });
      return;
    }
    item.counts.rejected++;
    const message = formatMessage(decision.code, { device: this.device, unit: item.spec.unit, ...decision.details });
    this.onError(decision.code, message);
    this.emit({ ...base, value: null, quality: decision.code === 'LG_ERR_VALUE_BAD_QUALITY' ? 'bad' : 'good', reason: null, error: { code: decision.code, message, details: { ...decision.details, nodeId: item.spec.nodeId } } });
  }

  private armTrailing(item: ValueItem): void {
    if (item.trailing) return;
    const wait = item.filter.pendingWaitMs;
    if (wait === null) return;
    item.trailing = setTimeout(() => {
      item.trailing = null;
      this.flushTrailing(item);
    }, Math.max(0, wait));
    item.trailing.unref();
  }

  private flushTrailing(item: ValueItem): void {
    if (item.trailing) (clearTimeout(item.trailing), (item.trailing = null));
    const d = item.filter.takePending();
    if (d) this.emitDecision(item, d as Exclude<Decision, { kind: 'skip' }>, this.clock.now(), null, undefined);
  }
}
