/** A small in-memory MasterData for binder tests, applying lot.consume effects like the store would. */
import type { BatchView, Effect, LotView, MasterData } from '../../../src/binding/types.js';
import { add, sub, toString as d } from '../../../src/domain/decimal.js';

export class MemoryMasterData implements MasterData {
  batches = new Map<string, BatchView>();
  lots = new Map<string, LotView>();
  consumedMap = new Map<string, string>();

  batch(n: string) { return this.batches.get(n); }
  material() { return undefined; }
  materialByGtin() { return undefined; }
  lot(id: string) { return this.lots.get(id); }
  lotBySupplierLot() { return undefined; }
  userByBadge() { return undefined; }
  consumed(batch: string, material: string): string { return this.consumedMap.get(`${batch}|${material}`) ?? '0'; }
  deviceState() { return undefined; }

  apply(effects: Effect[]): void {
    for (const e of effects) {
      if (e.type !== 'lot.consume') continue;
      const lot = this.lots.get(e.lot)!;
      if (lot.unit !== e.unit) throw new Error(`unit ${e.unit} ≠ lot unit ${lot.unit}`);
      this.lots.set(e.lot, { ...lot, quantity: d(sub(lot.quantity, e.quantity)) });
      const key = `${e.batch}|${e.material}`;
      // consumed() is in the BOM unit; tests keep lot and BOM units equal unless they say otherwise
      this.consumedMap.set(key, d(add(this.consumed(e.batch, e.material), e.quantity)));
    }
  }
}

export function referenceData(opts: { bomQty?: string; bomUnit?: string; tolerancePct?: string; lotQty?: string; lotUnit?: string } = {}): MemoryMasterData {
  const md = new MemoryMasterData();
  md.batches.set('20261122-001', {
    number: '20261122-001', product: 'WIDGET-A', productName: 'Widget A', gtin: '09506000134352', plannedQty: '1000', unit: 'pcs', line: 'L1',
    status: 'in_process', producedQty: '0', rejectedQty: '0', startedAt: '2026-11-22T05:00:00Z',
    bom: [
      { material: 'RM-1001', quantity: opts.bomQty ?? '25', unit: opts.bomUnit ?? 'kg', tolerancePct: opts.tolerancePct ?? '2' },
      { material: 'RM-1002', quantity: '5', unit: 'kg', tolerancePct: '1' },
    ],
  });
  md.lots.set('L-RM1001-A', { id: 'L-RM1001-A', material: 'RM-1001', supplier: 'ACME', supplierLot: 'S1', receiptDate: '2026-11-01', expiry: '2027-06-30', status: 'released', quantity: opts.lotQty ?? '500', unit: opts.lotUnit ?? 'kg' });
  md.lots.set('L-RM1002-A', { id: 'L-RM1002-A', material: 'RM-1002', supplier: 'ACME', supplierLot: 'S2', receiptDate: '2026-11-01', expiry: '2027-06-30', status: 'released', quantity: '100', unit: 'kg' });
  return md;
}
