/** The tolerance bar's arithmetic (pure; unit-tested in test/unit/ui/tolerance.test.ts). */
const TO_KG: Record<string, number> = { kg: 1, g: 0.001, mg: 0.000001, lb: 0.45359237, oz: 0.028349523125, t: 1000 };

/**
 * Display only: the bar is drawn in floating point. The gateway decides exactly (decimal
 * arithmetic in the weight binder) and its verdict is what counts; the bar tells the operator
 * where the addition on the scale would land before the weight is captured.
 */
export function toUnit(value: number, from: string, to: string): number | null {
  if (from === to) return value;
  const a = TO_KG[from.toLowerCase()];
  const b = TO_KG[to.toLowerCase()];
  return a !== undefined && b !== undefined ? (value * a) / b : null;
}

export type Position = 'under' | 'within' | 'over';

export function windowOf(line: { quantity: string; tolerancePct: string; consumed: string }, net: number, netUnit: string, lineUnit: string): { min: number; max: number; planned: number; after: number; position: Position } | null {
  const planned = Number(line.quantity);
  const tol = (planned * Number(line.tolerancePct)) / 100;
  const add = toUnit(net, netUnit, lineUnit);
  if (add === null || !Number.isFinite(planned)) return null;
  const after = Number(line.consumed) + add;
  const min = planned - tol;
  const max = planned + tol;
  // Compare with a small epsilon relative to the window: float noise must not flip a verdict on the bar.
  const eps = Math.max(1e-9, Math.abs(max - min) * 1e-6);
  const position: Position = after > max + eps ? 'over' : after < min - eps ? 'under' : 'within';
  return { min, max, planned, after, position };
}
