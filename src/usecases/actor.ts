import type { Role } from '../domain/batch.js';

/** Who asks for a use case: the authenticated caller (API), a person at the CLI, or `system`. */
export interface Actor {
  id: string;
  role: Role;
}
