/**
 * A small in-memory stand-in for the store, applying bindMachine results the way the journal's
 * applier must: records appended; `device.set_state` applied for accepted AND rejected records (the
 * counter baseline must move even when no batch is active); batch effects only for accepted ones.
 */
import type { BatchStatus, BatchView, BindEnv, BindResult, MasterData, RecordDraft, StationContext } from '../../../src/binding/types.js';
import { bindMachine } from '../../../src/binding/machine.js';
import type { MachineReading } from '../../../src/drivers/driver.js';

export class MachineModel {
  readonly deviceState = new Map<string, unknown>();
  readonly batches = new Map<string, { status: BatchStatus; good: bigint; rejected: bigint }>();
  readonly records: RecordDraft[] = [];
  readonly ctx: StationContext = { station: 'FILL-1', role: 'filling', batch: null, operator: null, lots: {} };
  autoBatchTransitions = false;

  readonly md: MasterData = {
    batch: (n: string): BatchView | undefined => {
      const b = this.batches.get(n);
      if (!b) return undefined;
      return { number: n, product: 'WIDGET-A', productName: null, gtin: null, plannedQty: '1000', unit: 'pcs', line: 'L1', status: b.status, bom: [], producedQty: b.good.toString(), rejectedQty: b.rejected.toString(), startedAt: null };
    },
    material: () => undefined,
    materialByGtin: () => undefined,
    lot: () => undefined,
    lotBySupplierLot: () => undefined,
    userByBadge: () => undefined,
    consumed: () => '0',
    deviceState: (device: string, key: string) => this.deviceState.get(`${device}|${key}`),
  };

  startBatch(n: string, status: BatchStatus = 'planned'): void {
    this.batches.set(n, { status, good: 0n, rejected: 0n });
    this.ctx.batch = n;
  }

  env(now = new Date()): BindEnv {
    return { site: 'S1', line: 'L1', now, md: this.md };
  }

  bind(r: MachineReading): BindResult {
    const res = bindMachine(r, this.ctx, this.env(r.receivedAt), { autoBatchTransitions: this.autoBatchTransitions });
    this.apply(res);
    return res;
  }

  apply(res: BindResult): void {
    this.records.push(res.record);
    for (const e of res.effects) {
      if (e.type === 'device.set_state') this.deviceState.set(`${e.device}|${e.key}`, JSON.parse(JSON.stringify(e.value)));
      if (res.record.status !== 'accepted') continue;
      if (e.type === 'batch.add_produced') {
        const b = this.batches.get(e.batch);
        if (!b) throw new Error(`no batch ${e.batch}`);
        b.good += BigInt(e.good);
        b.rejected += BigInt(e.rejected);
      }
      if (e.type === 'batch.transition') {
        const b = this.batches.get(e.batch);
        if (b) b.status = e.to;
      }
    }
  }

  totals(n: string): { good: string; rejected: string } {
    const b = this.batches.get(n);
    return { good: (b?.good ?? 0n).toString(), rejected: (b?.rejected ?? 0n).toString() };
  }

  ofType(type: string): RecordDraft[] {
    return this.records.filter((r) => r.type === type);
  }
}
