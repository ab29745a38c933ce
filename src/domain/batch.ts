import type { BatchStatus } from '../binding/types.js';
import { rejection, type Rejection } from '../errors.js';

/**
 * Batch lifecycle (SOP 5.2): planned → in_process → completed → released, with on_hold and
 * rejected reachable from any open state. An on_hold batch returns to the state it was held
 * from (and only there), or is rejected. rejected is final. A released batch can be put on hold
 * by QA (a recall hold); its disposition is then a QA decision: released again (a new signed
 * release) or rejected.
 */
export const BATCH_STATUSES: readonly BatchStatus[] = ['planned', 'in_process', 'completed', 'released', 'on_hold', 'rejected'];
export const OPEN_STATUSES: readonly BatchStatus[] = ['planned', 'in_process', 'completed', 'on_hold'];

const FORWARD: Record<BatchStatus, readonly BatchStatus[]> = {
  planned: ['in_process', 'on_hold', 'rejected'],
  in_process: ['completed', 'on_hold', 'rejected'],
  completed: ['released', 'on_hold', 'rejected'],
  on_hold: ['rejected'], // plus "resume" to held_from, checked below
  released: ['on_hold'], // recall hold (QA only, see ROLES_FROM_RELEASED)
  rejected: [],
};

export type Role = 'operator' | 'supervisor' | 'qa' | 'admin' | 'erp' | 'system';

/**
 * Who may move a batch where. Release is QA's signature alone (separation of duties: not even
 * admin); rejection and holds are quality decisions; production moves are the floor's.
 * 'system' is the machine binding (PackML Execute/Complete) when auto transitions are enabled.
 */
const ROLES: Record<BatchStatus, readonly Role[]> = {
  planned: [],
  in_process: ['operator', 'supervisor', 'admin', 'system'],
  completed: ['operator', 'supervisor', 'admin', 'system'],
  released: ['qa'],
  on_hold: ['supervisor', 'qa', 'admin'],
  rejected: ['qa', 'admin'],
};
const RESUME_ROLES: readonly Role[] = ['supervisor', 'qa', 'admin'];
/** A recall hold, and the disposition of a recalled batch, are QA's alone. */
const RECALL_ROLES: readonly Role[] = ['qa'];

/** Transitions that must carry a reason typed by a person. */
export const REASON_REQUIRED: ReadonlySet<BatchStatus> = new Set(['on_hold', 'rejected', 'released']);

export function isOpen(s: BatchStatus): boolean {
  return OPEN_STATUSES.includes(s);
}

export function checkTransition(
  batch: string,
  from: BatchStatus,
  to: BatchStatus,
  heldFrom: BatchStatus | null,
  role: Role,
): Rejection | null {
  const resume = from === 'on_hold' && to === heldFrom;
  if (!resume && !FORWARD[from].includes(to)) return rejection('LG_ERR_BATCH_INVALID_TRANSITION', { batch, from, to });
  const recall = from === 'released' || (from === 'on_hold' && heldFrom === 'released');
  const allowed = recall ? RECALL_ROLES : resume ? RESUME_ROLES : ROLES[to];
  if (!allowed.includes(role)) {
    return rejection('LG_ERR_FORBIDDEN', { role, action: `move a batch to ${to}`, allowed: allowed.join(', ') });
  }
  return null;
}

/** Which timestamps a transition sets. */
export function transitionStamps(to: BatchStatus, fromStatus: BatchStatus): Partial<Record<'started_at' | 'completed_at' | 'released_at', true>> {
  if (to === 'in_process' && fromStatus === 'planned') return { started_at: true };
  if (to === 'completed') return { completed_at: true };
  if (to === 'released') return { released_at: true };
  return {};
}
