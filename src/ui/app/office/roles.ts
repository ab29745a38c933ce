/** Role sets of the office pages. The API checks the same roles server-side (deny by default). */
import type { SessionUser } from './api';

export type Role = SessionUser['role'];
export const FLOOR: readonly Role[] = ['operator', 'supervisor', 'qa', 'admin'];
export const MANAGERS: readonly Role[] = ['supervisor', 'qa', 'admin'];
export const QA: readonly Role[] = ['qa'];
export const QA_VIEW: readonly Role[] = ['qa', 'supervisor', 'admin'];
/** Who may open the batch record report (src/api/routes/reports.ts REPORT_ROLES). */
export const REPORTS: readonly Role[] = ['supervisor', 'qa', 'admin'];

export const can = (user: SessionUser | null, roles: readonly Role[]): boolean => !!user && roles.includes(user.role);
