import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Db } from '../../store/db.js';
import type { Journal } from '../../store/journal.js';
import { LgError } from '../../errors.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;

/**
 * Station PINs of supervisors (the second factor beside the badge for an override at a panel).
 * Hashed with scrypt (node:crypto, memory-hard; no new dependency), N=2^14, r=8, p=1, 16-byte
 * salt. Setting a PIN is an admin action, audited (never the PIN). Wrong PINs are counted per
 * user: after 5 in a row the PIN is locked for 5 minutes (CR 1.11, unsuccessful login attempts).
 */
const PARAMS = { N: 16384, r: 8, p: 1 };
const LOCK_AFTER = 5;
const LOCK_MS = 5 * 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ui_pins (
  user        TEXT PRIMARY KEY,
  hash        TEXT NOT NULL,
  set_by      TEXT NOT NULL,
  set_at      TEXT NOT NULL
);
`;

export class Pins {
  private readonly failures = new Map<string, { n: number; lockedUntil: number }>();
  constructor(
    private readonly db: Db,
    private readonly journal: Journal,
  ) {
    db.exec(SCHEMA);
  }

  async set(user: string, pin: string, by: string): Promise<void> {
    if (!/^\d{4,12}$/.test(pin)) throw new LgError('LG_ERR_VALIDATION', { detail: 'a PIN is 4 to 12 digits' });
    const salt = randomBytes(16);
    const key = await scrypt(pin, salt, 32, PARAMS);
    const hash = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
    await this.journal.submit((tx) => {
      tx.db
        .prepare('INSERT INTO ui_pins (user, hash, set_by, set_at) VALUES (?, ?, ?, ?) ON CONFLICT(user) DO UPDATE SET hash = excluded.hash, set_by = excluded.set_by, set_at = excluded.set_at')
        .run(user, hash, by, tx.now.toISOString());
      tx.audit({ actor: by, action: 'user.pin_set', entity: 'user', entityId: user });
    });
    this.failures.delete(user);
  }

  /** True when the PIN matches; counts failures and locks after too many. */
  async verify(user: string, pin: string, now = Date.now()): Promise<boolean> {
    const f = this.failures.get(user);
    if (f && f.lockedUntil > now) return false;
    const row = this.db.prepare('SELECT hash FROM ui_pins WHERE user = ?').get(user) as { hash: string } | undefined;
    let ok = false;
    if (row) {
      const [, n, r, p, salt, key] = row.hash.split('$');
      const want = Buffer.from(key!, 'base64');
      const got = await scrypt(pin, Buffer.from(salt!, 'base64'), want.length, { N: Number(n), r: Number(r), p: Number(p) });
      ok = got.length === want.length && timingSafeEqual(got, want);
    }
    if (ok) {
      this.failures.delete(user);
      return true;
    }
    const n = (f && f.lockedUntil <= now && f.n >= LOCK_AFTER ? 0 : (f?.n ?? 0)) + 1;
    this.failures.set(user, { n, lockedUntil: n >= LOCK_AFTER ? now + LOCK_MS : 0 });
    return false;
  }
}
