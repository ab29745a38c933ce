/**
 * THE route table of the supervisor/QA pages. One entry per page; one file per page.
 *
 * To add a page: write `src/ui/app/office/<area>/<page>.tsx` exporting a component that takes
 * `PageProps`, and add one entry here. `roles` gates the page (nav entry hidden, route refused
 * with "not allowed") — the API checks its own roles again server-side, so a page's roles must
 * not be wider than the API routes it calls. `nav` (optional) puts it in the top navigation;
 * entries are matched in order, first match wins (put `/x/new` before `/x/:id`).
 */
import type { ComponentType } from 'preact';
import type { SessionUser } from './api';
import { FLOOR, MANAGERS, QA_VIEW, REPORTS, type Role } from './roles';
import { BatchesPage } from './pages/batches';
import { BatchPage } from './pages/batch';
import { ReviewPage } from './pages/review';
import { DeviationsPage } from './pages/deviations';
import { DeviationPage } from './pages/deviation';
import { QcPage } from './pages/qc';
import { AuditPage } from './trace/audit';
import { DevicesPage } from './trace/devices';
import { GenealogyPage } from './trace/genealogy';
import { LotPage } from './trace/lot';
import { LotsPage } from './trace/lots';
import { PrintJobsPage } from './trace/print-jobs';
import { RecallPage } from './trace/recall';
import { WeeklyPage } from './pages/weekly';
import { WeeklyReviewPage } from './pages/weekly-review';
import { RecallsPage } from './trace/recalls';
import { RecallViewPage } from './trace/recall-view';

export interface PageProps {
  /** `:name` segments of the path. */
  params: Record<string, string>;
  /** The query string of the URL (filters). */
  query: URLSearchParams;
  user: SessionUser;
}

export interface OfficeRoute {
  /** Path pattern under /ui/office, `:name` for a segment. */
  path: string;
  roles: readonly Role[];
  /** The page title (document title and heading of the nav). */
  title: (params: Record<string, string>) => string;
  component: ComponentType<PageProps>;
  /** In the top navigation, with this label. */
  nav?: string;
}

export const ROUTES: OfficeRoute[] = [
  { path: '/ui/office/batches', roles: FLOOR, title: () => 'Batches', component: BatchesPage, nav: 'Batches' },
  { path: '/ui/office/batches/:number', roles: FLOOR, title: (p) => `Batch ${p.number}`, component: BatchPage },
  { path: '/ui/office/batches/:number/review', roles: QA_VIEW, title: (p) => `Review ${p.number}`, component: ReviewPage },
  { path: '/ui/office/deviations', roles: MANAGERS, title: () => 'Deviations', component: DeviationsPage, nav: 'Deviations' },
  { path: '/ui/office/deviations/:number', roles: MANAGERS, title: (p) => `Deviation ${p.number}`, component: DeviationPage },
  { path: '/ui/office/qc', roles: FLOOR, title: () => 'QC results', component: QcPage, nav: 'QC' },
  // Trace pages (src/ui/app/office/trace): genealogy picture, recall question, lots, print jobs, devices, audit.
  { path: '/ui/office/genealogy', roles: FLOOR, title: () => 'Genealogy', component: GenealogyPage, nav: 'Genealogy' },
  { path: '/ui/office/recall', roles: MANAGERS, title: () => 'Recall question', component: RecallPage, nav: 'Recall' },
  { path: '/ui/office/lots', roles: FLOOR, title: () => 'Lots', component: LotsPage, nav: 'Lots' },
  { path: '/ui/office/lots/:id', roles: FLOOR, title: (p) => `Lot ${p.id}`, component: LotPage },
  { path: '/ui/office/print-jobs', roles: MANAGERS, title: () => 'Print jobs', component: PrintJobsPage, nav: 'Print jobs' },
  { path: '/ui/office/devices', roles: MANAGERS, title: () => 'Device health', component: DevicesPage, nav: 'Devices' },
  { path: '/ui/office/audit', roles: MANAGERS, title: () => 'Audit trail', component: AuditPage, nav: 'Audit' },
  { path: '/ui/office/weekly', roles: REPORTS, title: () => 'Weekly review', component: WeeklyPage, nav: 'Weekly review' },
  { path: '/ui/office/weekly/:id', roles: REPORTS, title: (p) => `Weekly review ${p.id}`, component: WeeklyReviewPage },
  // Recall as an action (issue 15): list and one recall; start/close are QA's (the pages show the actions to QA only).
  { path: '/ui/office/recalls', roles: QA_VIEW, title: () => 'Recalls', component: RecallsPage, nav: 'Recalls' },
  { path: '/ui/office/recalls/:id', roles: QA_VIEW, title: (p) => `Recall ${p.id}`, component: RecallViewPage },
];

/** Where the shell goes after sign-in and for /ui/office itself. */
export const HOME = '/ui/office/batches';
