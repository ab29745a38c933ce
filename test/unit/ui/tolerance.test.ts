import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { windowOf, toUnit } from '../../../src/ui/app/tolerance.js';
import { add, cmp, mul, sub, toString as dec } from '../../../src/domain/decimal.js';

/**
 * The weighing page's tolerance bar is drawn in floating point; the gateway decides in exact
 * decimals (binding/weight.ts). For scale-resolution values the bar must never say something
 * other than what the gateway will decide.
 */
describe('station page tolerance bar', () => {
  const exact = (planned: string, pct: string, consumed: string, net: string): 'under' | 'within' | 'over' => {
    const m = mul(planned, pct);
    const tol = { units: m.units, scale: m.scale + 2 };
    const after = add(consumed, net);
    return cmp(after, add(planned, tol)) > 0 ? 'over' : cmp(after, sub(planned, tol)) < 0 ? 'under' : 'within';
  };
  const d3 = (n: number) => dec({ units: BigInt(n), scale: 3 });

  it('agrees with the gateway\'s exact decision for any 1 g-resolution weights, boundaries included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 12_000_000 }), fc.integer({ min: 0, max: 5_000_000 }), (plannedG, pctTenths, consumedG, netG) => {
        const planned = d3(plannedG);
        const pct = dec({ units: BigInt(pctTenths), scale: 1 });
        const consumed = d3(consumedG);
        const net = d3(netG);
        const w = windowOf({ quantity: planned, tolerancePct: pct, consumed }, Number(net), 'kg', 'kg')!;
        expect(w.position).toBe(exact(planned, pct, consumed, net));
      }),
      { numRuns: 5000 },
    );
    // Exactly on the limits is within (the gateway refuses only above max).
    expect(windowOf({ quantity: '50.000', tolerancePct: '2', consumed: '20.000' }, 31, 'kg', 'kg')!.position).toBe('within');
    expect(windowOf({ quantity: '50.000', tolerancePct: '2', consumed: '20.000' }, 31.001, 'kg', 'kg')!.position).toBe('over');
    expect(windowOf({ quantity: '50.000', tolerancePct: '2', consumed: '20.000' }, 28.999, 'kg', 'kg')!.position).toBe('under');
  });

  it('converts the scale unit to the bill-of-materials unit, and gives up (no bar) on unknown units', () => {
    expect(windowOf({ quantity: '1.500', tolerancePct: '5', consumed: '0' }, 1500, 'g', 'kg')!.position).toBe('within');
    expect(toUnit(1, 'lb', 'kg')).toBeCloseTo(0.45359237, 12);
    expect(windowOf({ quantity: '10', tolerancePct: '1', consumed: '0' }, 10, 'pcs', 'kg')).toBeNull();
  });
});
