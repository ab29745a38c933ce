import { describe, expect, it } from 'vitest';
import { affectedBatches, traceBackward, traceForward, type GenealogyIO, type GLot } from '../../../src/domain/genealogy.js';

function io(): GenealogyIO {
  const batch = (n: string) => ({ number: n, product: 'P', productName: null, status: 'completed', line: 'L1', startedAt: null, completedAt: null });
  const lots: Record<string, GLot> = {
    RAW1: { id: 'RAW1', material: 'RM-1', supplier: 'X', supplierLot: 'Y', expiry: null, status: 'released', producedBy: null },
    RAW2: { id: 'RAW2', material: 'RM-2', supplier: 'Z', supplierLot: 'W', expiry: null, status: 'released', producedBy: null },
    INT1: { id: 'INT1', material: 'SYRUP', supplier: null, supplierLot: null, expiry: null, status: 'released', producedBy: 'B1' },
    LOOP: { id: 'LOOP', material: 'X', supplier: null, supplierLot: null, expiry: null, status: 'released', producedBy: 'B3' },
  };
  const cons = [
    { batch: 'B1', lot: 'RAW1', material: 'RM-1', quantity: '10', unit: 'kg' },
    { batch: 'B1', lot: 'RAW1', material: 'RM-1', quantity: '5', unit: 'kg' },
    { batch: 'B2', lot: 'INT1', material: 'SYRUP', quantity: '3', unit: 'kg' },
    { batch: 'B2', lot: 'RAW2', material: 'RM-2', quantity: '1', unit: 'kg' },
    { batch: 'B4', lot: 'RAW1', material: 'RM-1', quantity: '2', unit: 'kg' },
    { batch: 'B3', lot: 'LOOP', material: 'X', quantity: '1', unit: 'kg' },
  ];
  const sum = (xs: string[]) => String(xs.reduce((a, b) => a + Number(b), 0));
  return {
    batch: (n) => (['B1', 'B2', 'B3', 'B4'].includes(n) ? batch(n) : undefined),
    lot: (id) => lots[id],
    consumptionsOfBatch: (b) => {
      const rows = cons.filter((c) => c.batch === b);
      return [...new Set(rows.map((r) => r.lot))].map((lot) => {
        const rs = rows.filter((r) => r.lot === lot);
        return { lot, material: rs[0]!.material, quantity: sum(rs.map((r) => r.quantity)), unit: 'kg', additions: rs.length };
      });
    },
    consumersOfLot: (l) => {
      const rows = cons.filter((c) => c.lot === l);
      return [...new Set(rows.map((r) => r.batch))].map((batch) => {
        const rs = rows.filter((r) => r.batch === batch);
        return { batch, quantity: sum(rs.map((r) => r.quantity)), unit: 'kg', additions: rs.length };
      });
    },
    lotsProducedBy: (b) => Object.values(lots).filter((l) => l.producedBy === b).map((l) => l.id),
    labelsOfBatch: (b) => (b === 'B2' ? [{ id: 'S1', kind: 'case', serial: '0001', sscc: null }] : []),
  };
}

describe('genealogy', () => {
  it('goes backward through an intermediate to the supplier lot', () => {
    const t = traceBackward('B2', io())!;
    expect(t.inputs.map((i) => [i.lot.id, i.quantity, i.additions])).toEqual([
      ['INT1', '3', 1],
      ['RAW2', '1', 1],
    ]);
    const via = t.inputs[0]!.producedBy as NonNullable<ReturnType<typeof traceBackward>>;
    expect(via.batch.number).toBe('B1');
    expect(via.inputs[0]).toMatchObject({ lot: { id: 'RAW1', supplier: 'X', supplierLot: 'Y' }, quantity: '15', additions: 2 });
  });

  it("goes forward from supplier X's lot Y to every batch and label it reached", () => {
    const t = traceForward('RAW1', io())!;
    expect([...affectedBatches(t)].sort()).toEqual(['B1', 'B2', 'B4']);
    const b1 = t.usedIn.find((u) => 'number' in u.batch && u.batch.number === 'B1')!;
    const int1 = b1.outputs[0] as NonNullable<ReturnType<typeof traceForward>>;
    expect(int1.usedIn[0]!.labels).toEqual([{ id: 'S1', kind: 'case', serial: '0001', sscc: null }]);
  });

  it('stops at a cycle instead of looping', () => {
    const t = traceForward('LOOP', io())!;
    expect(t.usedIn[0]!.outputs).toEqual([{ lot: 'LOOP', cycle: true }]);
    expect(traceBackward('NOPE', io())).toBeUndefined();
  });
});
