/** The recall question's answer (src/report/recall.ts), as types only: the recall page imports them. */
import type { CustomerTrace } from '../domain/genealogy.js';

export interface RecallQuery {
  supplierLot: string;
  supplier?: string;
}

export interface RecallAnswer {
  query: RecallQuery;
  generatedAt: string;
  site: string;
  lots: Array<{ id: string; material: string; supplier: string | null; supplierLot: string | null; status: string; quantity: string; unit: string; expiry: string | null }>;
  batches: Array<{ number: string; product: string; productName: string | null; status: string; line: string; viaLots: string[]; pallets: number; cases: number }>;
  handlingUnits: CustomerTrace['handlingUnits'];
  customers: CustomerTrace['customers'];
  onSite: CustomerTrace['onSite'];
  /** Shipped pallets (left the site) and held ones, for the page's summary. */
  totals: { lots: number; batches: number; pallets: number; shipped: number; onSite: number; customers: number; deliveries: number };
}

