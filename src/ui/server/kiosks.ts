import { randomInt } from 'node:crypto';
import type { Db } from '../../store/db.js';
import type { Journal } from '../../store/journal.js';
import { hashToken } from '../../store/repo.js';
import { LgError } from '../../errors.js';
import { newToken, uuidv7 } from '../../util/ids.js';
import type { Clock } from '../../util/clock.js';

/**
 * Kiosk panels: an admin pairs a panel with ONE station, once. The panel then holds a
 * station-bound credential (a bearer token whose sha256 alone is stored) that is not a user:
 * the user-token check of the API does not know it, so it opens no API route at all; only the
 * station page's own routes (/ui/api/kiosk/stations/<its station>/…) accept it, and only for
 * its station. What is done at the panel is attributed to the operator signed in there (and
 * the panel id is recorded beside it).
 *
 * Pairing: the admin asks for a pairing code for a station (POST /ui/api/pairings); whoever
 * stands at the panel types that code once. Codes are single-use, expire after 10 minutes and
 * carry ~40 bits (8 characters of a 32-letter alphabet without look-alikes), so guessing one
 * inside its lifetime is not practical.
 *
 * The tables are created here, not in a numbered migration: the migration numbers are handed
 * out by the coordinator, and these two tables touch nothing else (fold them into the next
 * migration when convenient — the CREATE ... IF NOT EXISTS stays harmless).
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ui_kiosks (
  id          TEXT PRIMARY KEY,
  station     TEXT NOT NULL,
  name        TEXT NOT NULL,
  token_hash  TEXT NOT NULL UNIQUE,
  paired_by   TEXT NOT NULL,
  paired_at   TEXT NOT NULL,
  revoked_at  TEXT,
  revoked_by  TEXT
);
CREATE TABLE IF NOT EXISTS ui_pairings (
  code_hash   TEXT PRIMARY KEY,
  station     TEXT NOT NULL,
  name        TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  kiosk       TEXT
);
`;

const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'; // no I, L, O, 0, 1
export const PAIRING_TTL_MS = 10 * 60_000;

export interface Kiosk {
  id: string;
  station: string;
  name: string;
  pairedBy: string;
  pairedAt: string;
  revokedAt: string | null;
}

export class Kiosks {
  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly clock: Clock,
  ) {
    db.exec(SCHEMA);
  }

  /** An admin asks for a pairing code for a station. */
  async createPairing(station: string, name: string, by: string): Promise<{ code: string; station: string; expiresAt: string }> {
    let code = '';
    for (let i = 0; i < 8; i++) code += ALPHABET[randomInt(ALPHABET.length)];
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + PAIRING_TTL_MS).toISOString();
    await this.journal.submit((tx) => {
      tx.db
        .prepare('INSERT INTO ui_pairings (code_hash, station, name, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(hashToken(code), station, name, by, tx.now.toISOString(), expiresAt);
      tx.audit({ actor: by, action: 'kiosk.pairing_created', entity: 'station', entityId: station, new: { name, expiresAt } });
    });
    return { code, station, expiresAt };
  }

  /** The panel redeems a pairing code: single use, within its lifetime. */
  async redeem(code: string): Promise<{ token: string; kiosk: Kiosk }> {
    const norm = code.toUpperCase().replace(/[\s-]/g, '');
    const token = newToken();
    const id = `kiosk-${uuidv7(this.clock.now().getTime()).slice(-12)}`;
    return this.journal.submit((tx) => {
      const p = tx.db.prepare('SELECT * FROM ui_pairings WHERE code_hash = ?').get(hashToken(norm)) as
        | { station: string; name: string; created_by: string; expires_at: string; used_at: string | null }
        | undefined;
      if (!p || p.used_at || p.expires_at <= tx.now.toISOString()) throw new LgError('LG_ERR_KIOSK_PAIRING_INVALID');
      const at = tx.now.toISOString();
      tx.db.prepare('UPDATE ui_pairings SET used_at = ?, kiosk = ? WHERE code_hash = ?').run(at, id, hashToken(norm));
      tx.db
        .prepare('INSERT INTO ui_kiosks (id, station, name, token_hash, paired_by, paired_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, p.station, p.name, hashToken(token), p.created_by, at);
      tx.audit({ actor: p.created_by, action: 'kiosk.paired', entity: 'kiosk', entityId: id, new: { station: p.station, name: p.name } });
      return { token, kiosk: { id, station: p.station, name: p.name, pairedBy: p.created_by, pairedAt: at, revokedAt: null } };
    });
  }

  byToken(token: string): Kiosk | undefined {
    const r = this.db.prepare('SELECT * FROM ui_kiosks WHERE token_hash = ? AND revoked_at IS NULL').get(hashToken(token)) as Row | undefined;
    return r ? toKiosk(r) : undefined;
  }

  list(): Kiosk[] {
    return (this.db.prepare('SELECT * FROM ui_kiosks ORDER BY paired_at').all() as Row[]).map(toKiosk);
  }

  async revoke(id: string, by: string): Promise<Kiosk> {
    return this.journal.submit((tx) => {
      const r = tx.db.prepare('SELECT * FROM ui_kiosks WHERE id = ?').get(id) as Row | undefined;
      if (!r) throw new LgError('LG_ERR_KIOSK_NOT_FOUND', { kiosk: id });
      if (!r.revoked_at) {
        tx.db.prepare('UPDATE ui_kiosks SET revoked_at = ?, revoked_by = ? WHERE id = ?').run(tx.now.toISOString(), by, id);
        tx.audit({ actor: by, action: 'kiosk.revoked', entity: 'kiosk', entityId: id, old: { station: r.station } });
      }
      return toKiosk(tx.db.prepare('SELECT * FROM ui_kiosks WHERE id = ?').get(id) as Row);
    });
  }
}

type Row = Record<string, string | null>;

function toKiosk(r: Row): Kiosk {
  return { id: String(r.id), station: String(r.station), name: String(r.name), pairedBy: String(r.paired_by), pairedAt: String(r.paired_at), revokedAt: r.revoked_at ?? null };
}

