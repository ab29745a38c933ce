/**
 * User use cases (split out of src/ops.ts, issue 13): creating and changing users and their bearer
 * tokens. Each is ONE journal transaction with its audit entry; the last active admin is kept.
 */
import type { UserView } from '../binding/types.js';
import { LgError } from '../errors.js';
import type { Journal } from '../store/journal.js';
import { hashToken, type Repo } from '../store/repo.js';
import { newToken } from '../util/ids.js';
import type { Actor } from './actor.js';

export class Users {
  constructor(
    readonly journal: Journal,
    readonly repo: Repo,
  ) {}

  /** Create a user and return their bearer token — the only time it is ever shown. */
  async createUser(u: { id: string; name: string; role: UserView['role']; badge?: string | null }, by: Actor): Promise<{ token: string }> {
    const token = newToken();
    await this.journal.submit((tx) => {
      if (this.repo.userById(u.id)) throw new LgError('LG_ERR_CONFLICT', { entity: 'user', id: u.id });
      if (u.badge && this.repo.userByBadge(u.badge)) throw new LgError('LG_ERR_CONFLICT', { entity: 'badge', id: u.badge });
      const now = tx.now.toISOString();
      this.repo.db
        .prepare('INSERT INTO users (id, name, role, token_hash, badge, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)')
        .run(u.id, u.name, u.role, hashToken(token), u.badge ?? null, now, now);
      tx.audit({ actor: by.id, action: 'user.created', entity: 'user', entityId: u.id, new: { id: u.id, name: u.name, role: u.role, badge: u.badge ?? null } });
    });
    return { token };
  }

  async updateUser(id: string, change: { name?: string; role?: UserView['role']; badge?: string | null; disabled?: boolean; rotateToken?: boolean }, by: Actor): Promise<{ token?: string }> {
    const token = change.rotateToken ? newToken() : undefined;
    await this.journal.submit((tx) => {
      const before = this.repo.userById(id);
      if (!before) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: id });
      if (change.badge && change.badge !== before.badge && this.repo.userByBadge(change.badge)) throw new LgError('LG_ERR_CONFLICT', { entity: 'badge', id: change.badge });
      const after = {
        name: change.name ?? before.name,
        role: change.role ?? before.role,
        badge: change.badge !== undefined ? change.badge : before.badge,
        disabled: change.disabled ?? before.disabled,
      };
      // Never lock everybody out: the last active admin keeps the role and stays enabled
      // (checked inside the transaction, so two admins demoting each other cannot both succeed).
      if (before.role === 'admin' && !before.disabled && (after.role !== 'admin' || after.disabled)) {
        const others = this.repo.listUsers().filter((u) => u.role === 'admin' && !u.disabled && u.id !== id).length;
        if (others === 0) throw new LgError('LG_ERR_LAST_ADMIN', { user: id, detail: after.disabled ? 'it cannot be disabled' : `its role cannot become ${after.role}` });
      }
      this.repo.db
        .prepare(`UPDATE users SET name = ?, role = ?, badge = ?, disabled = ?, updated_at = ?${token ? ', token_hash = ?' : ''} WHERE id = ?`)
        .run(after.name, after.role, after.badge, after.disabled ? 1 : 0, tx.now.toISOString(), ...(token ? [hashToken(token)] : []), id);
      tx.audit({
        actor: by.id,
        action: 'user.updated',
        entity: 'user',
        entityId: id,
        old: { name: before.name, role: before.role, badge: before.badge, disabled: before.disabled },
        new: { ...after, tokenRotated: !!token },
      });
    });
    return token ? { token } : {};
  }
}
