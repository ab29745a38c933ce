import type { LotStatus, LotView } from '../binding/types.js';
import { rejection, type Rejection } from '../errors.js';

/**
 * Whether a lot may go into a batch now (SOP 5.3 and the product brief: the wrong material, an
 * expired lot, a lot on hold or in quarantine is refused at the scan, with the reason).
 * `today` is the site-local date `YYYY-MM-DD`; a lot is usable through its expiry date.
 */
export function lotUsable(lot: LotView, today: string, scannedExpiry?: string | null): Rejection | null {
  switch (lot.status) {
    case 'on_hold':
      return rejection('LG_ERR_LOT_ON_HOLD', { lot: lot.id });
    case 'quarantine':
      return rejection('LG_ERR_LOT_QUARANTINED', { lot: lot.id });
    case 'rejected':
      return rejection('LG_ERR_LOT_REJECTED', { lot: lot.id });
    case 'depleted':
      return rejection('LG_ERR_LOT_DEPLETED', { lot: lot.id });
    case 'released':
      break;
  }
  // The earlier of the master-data expiry and the one printed on the label governs.
  const expiries = [lot.expiry, scannedExpiry].filter((e): e is string => typeof e === 'string' && e.length === 10).sort();
  const expiry = expiries[0];
  if (expiry && expiry < today) return rejection('LG_ERR_LOT_EXPIRED', { lot: lot.id, expiry });
  return null;
}

/**
 * Every reason the lot may not go into a batch now (its status and its expiry, each at most once),
 * where `lotUsable` answers only the first. A supervisor override is granted for this whole list,
 * so what is let through is exactly what the supervisor saw.
 */
export function lotRefusals(lot: LotView, today: string, scannedExpiry?: string | null): Rejection[] {
  const out: Rejection[] = [];
  const status = lotUsable({ ...lot, expiry: null }, today, null);
  if (status) out.push(status);
  const expiry = lotUsable({ ...lot, status: 'released' }, today, scannedExpiry);
  if (expiry) out.push(expiry);
  return out;
}

/** Lot status moves people may make. depleted is set by consumption, but may be corrected. */
const LOT_MOVES: Record<LotStatus, readonly LotStatus[]> = {
  quarantine: ['released', 'rejected', 'on_hold'],
  released: ['on_hold', 'rejected', 'depleted', 'quarantine'],
  on_hold: ['released', 'rejected', 'quarantine'],
  rejected: [],
  depleted: ['released', 'on_hold'],
};

export function lotMoveAllowed(from: LotStatus, to: LotStatus): boolean {
  return from === to || LOT_MOVES[from].includes(to);
}
