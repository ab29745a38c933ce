import { describe, expect, it } from 'vitest';
import { traceToCustomers, type DispatchIO, type GenealogyIO } from '../../../src/domain/genealogy.js';

/** Issue 15: the forward trace to customers is pure; plain maps stand in for SQLite here. */
function io(): GenealogyIO & DispatchIO {
  const batches: Record<string, string[]> = { INT: ['L-SUP'], A: ['L-SUP'], B: ['L-INT'], C: ['L-OTHER'] }; // batch → lots consumed
  const produced: Record<string, string[]> = { INT: ['L-INT'], B: ['L-B'] };
  const lots = ['L-SUP', 'L-INT', 'L-OTHER', 'L-B'];
  const pallets: Record<string, ReturnType<DispatchIO['palletsOfBatch']>> = {
    A: [{ pallet: 'p1', sscc: '395060000000000011', status: 'shipped', onHold: false, cases: 2, delivery: 'D1', deliveryStatus: 'shipped', shippedAt: '2026-12-01T10:00:00Z', customer: 'C1', customerName: 'One', customerGln: '1', shipToGln: '11' }],
    B: [
      { pallet: 'p2', sscc: '395060000000000028', status: 'loaded', onHold: false, cases: 2, delivery: 'D2', deliveryStatus: 'open', shippedAt: null, customer: 'C2', customerName: 'Two', customerGln: '2', shipToGln: '22' },
      { pallet: 'p3', sscc: null, status: 'open', onHold: false, cases: 1, delivery: null, deliveryStatus: null, shippedAt: null, customer: null, customerName: null, customerGln: null, shipToGln: null },
    ],
    C: [{ pallet: 'p4', sscc: '395060000000000035', status: 'shipped', onHold: false, cases: 1, delivery: 'D3', deliveryStatus: 'shipped', shippedAt: null, customer: 'C3', customerName: 'Three', customerGln: '3', shipToGln: '33' }],
  };
  return {
    batch: (n) => (n in batches ? { number: n, product: 'P', productName: null, status: 'released', line: 'L1', startedAt: null, completedAt: null } : undefined),
    lot: (id) => (lots.includes(id) ? { id, material: 'M', supplier: null, supplierLot: null, expiry: null, status: 'released', producedBy: Object.keys(produced).find((b) => produced[b]!.includes(id)) ?? null } : undefined),
    consumptionsOfBatch: (b) => (batches[b] ?? []).map((lot) => ({ lot, material: 'M', quantity: '1', unit: 'kg', additions: 1 })),
    consumersOfLot: (lot) => Object.keys(batches).filter((b) => batches[b]!.includes(lot)).map((batch) => ({ batch, quantity: '1', unit: 'kg', additions: 1 })),
    lotsProducedBy: (b) => produced[b] ?? [],
    labelsOfBatch: () => [],
    palletsOfBatch: (b) => pallets[b] ?? [],
  };
}

describe('traceToCustomers (issue 15)', () => {
  it('15.3 from a supplier lot: every batch through the intermediate, the customers with deliveries and SSCCs, and what is still on site', () => {
    const t = traceToCustomers({ lots: ['L-SUP'], batches: [] }, io());
    expect(t.batches).toEqual(['A', 'B', 'INT']);
    expect(t.customers.map((c) => c.id)).toEqual(['C1', 'C2']);
    expect(t.customers[0]!.deliveries).toEqual([expect.objectContaining({ number: 'D1', ssccs: ['395060000000000011'], batches: ['A'] })]);
    expect(t.customers[1]!.deliveries[0]!.status).toBe('open');
    expect(t.onSite.map((p) => p.pallet)).toEqual(['p2', 'p3']);
    expect(t.customers.some((c) => c.id === 'C3')).toBe(false); // another lot's customer is not named
  });

  it('15.3 from a batch: the batch itself and everything made from what it produced', () => {
    const t = traceToCustomers({ lots: [], batches: ['INT'] }, io());
    expect(t.batches).toEqual(['B', 'INT']);
    expect(t.customers.map((c) => c.id)).toEqual(['C2']);
    expect(traceToCustomers({ lots: [], batches: ['NOPE'] }, io()).batches).toEqual([]);
  });
});
