/**
 * PackML state names. States are handled BY NAME everywhere in linegate: numbers exist only at the
 * edge, where a node map's state table (devices/machines/*.yaml) turns a PLC's number into a name.
 * This matters because the numberings disagree: TR88 / OPC 30050 say Execute = 6, OPC 30060's
 * StateEnumeration says Execute = 4.
 */

/** The 17 PackML states (ISA-TR88.00.02), in TR88 order; the TR88 number is index + 1. */
export const PACKML_STATES = [
  'Clearing',
  'Stopped',
  'Starting',
  'Idle',
  'Suspended',
  'Execute',
  'Stopping',
  'Aborting',
  'Aborted',
  'Holding',
  'Held',
  'Unholding',
  'Suspending',
  'Unsuspending',
  'Resetting',
  'Completing',
  'Complete',
] as const;
export type PackmlState = (typeof PACKML_STATES)[number];

/** OPC 30050 superstates: they contain a sub-state machine and are never the effective state. */
export const PACKML_SUPERSTATES = ['Running', 'Cleared'] as const;

const byKey = new Map<string, string>();
for (const s of [...PACKML_STATES, ...PACKML_SUPERSTATES]) byKey.set(stateKey(s), s);

/** Comparison key: case, spaces, '-' and '_' ignored ("Un-suspending", "UNSUSPENDING", "unsuspending"). */
function stateKey(s: string): string {
  return s.toLowerCase().replace(/[\s_-]+/g, '').replace(/state$/, '');
}

/**
 * Canonical name of a state name as a PLC spells it ("EXECUTE", "Un-holding", "ExecuteState"),
 * or undefined when it is no PackML state.
 */
export function canonicalStateName(name: string): string | undefined {
  return byKey.get(stateKey(name));
}

/** TR88 number of a canonical state name (undefined for superstates and unknown names). */
export function tr88Number(name: string): number | undefined {
  const i = (PACKML_STATES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : i + 1;
}

export function isSuperstate(name: string): boolean {
  return (PACKML_SUPERSTATES as readonly string[]).includes(name);
}

/**
 * Turn a raw state value into a canonical name: a number through `table` (number → name, from the
 * node map), a string or LocalizedText-like `{text}` by name. Undefined when it cannot be mapped.
 */
export function mapStateValue(raw: unknown, table: ReadonlyMap<number, string> | undefined): string | undefined {
  if (typeof raw === 'number' && Number.isInteger(raw)) return table?.get(raw);
  if (typeof raw === 'bigint') return table?.get(Number(raw));
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (/^-?\d+$/.test(t)) return table?.get(Number(t));
    return canonicalStateName(t);
  }
  if (raw && typeof raw === 'object' && 'text' in raw && typeof (raw as { text: unknown }).text === 'string') {
    return canonicalStateName((raw as { text: string }).text);
  }
  return undefined;
}

/**
 * The effective state of OPC 30050's nested state machines, listed top-down: the first that is not
 * a superstate. Undefined while a level is unknown (not yet received or unmappable).
 */
export function composeStates(levels: ReadonlyArray<string | undefined>, superstates: ReadonlySet<string>): string | undefined {
  for (const s of levels) {
    if (s === undefined) return undefined;
    if (!superstates.has(s)) return s;
  }
  return undefined;
}
