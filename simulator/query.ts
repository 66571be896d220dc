import type { SimLineItem, SimOrder } from './model.js';
import { currentStage, toFilterWord } from './model.js';

/** The list filters as the simulator understands them: every given filter must match (AND). */
export interface OrderQuery {
  since_id?: number;
  since_created_at?: number;
  by_season?: number[];
  by_warehouse?: number[];
  by_company?: number[];
  by_state?: string[];
  by_delivery_status?: string[];
  by_q?: string;
  /** Whether by_q matches order numbers (the vendor only says it also matches names). */
  qMatchesNumbers?: boolean;
  by_stage_status?: string;
  by_stage_name?: string[];
}

/** A line item's stage status is that of its current stage; pending = not_started or in_progress. */
export const lineItemMatchesStage = (item: SimLineItem, status?: string, names?: string[]): boolean => {
  const wanted = (word: string) =>
    status === undefined ||
    status === word ||
    (status === 'pending' && (word === 'not_started' || word === 'in_progress'));
  if (names && names.length > 0) {
    const lower = names.map((n) => n.toLowerCase());
    return item.stages.some(
      (s) => lower.includes(s.name.toLowerCase()) && (status === undefined || wanted(toFilterWord(s.status))),
    );
  }
  if (status === undefined) return true;
  const current = currentStage(item);
  return current !== undefined && wanted(toFilterWord(current.status));
};

export const matches = (order: SimOrder, query: OrderQuery): boolean => {
  const raw = order.raw;
  if (query.since_id !== undefined && raw.id <= query.since_id) return false;
  if (query.since_created_at !== undefined) {
    const created = Date.parse(String(raw.created_at));
    if (Number.isNaN(created) || created < query.since_created_at) return false;
  }
  if (query.by_season?.length && !query.by_season.includes(raw.season_id as number)) return false;
  if (query.by_company?.length && !query.by_company.includes(raw.company_id as number)) return false;
  if (query.by_warehouse?.length && !order.warehouseIds.some((w) => query.by_warehouse?.includes(w)))
    return false;
  if (query.by_state?.length && !query.by_state.includes(toFilterWord(raw.status))) return false;
  if (
    query.by_delivery_status?.length &&
    !query.by_delivery_status.includes(toFilterWord(raw.delivery_status))
  )
    return false;
  if (query.by_q) {
    const q = query.by_q.toLowerCase();
    const haystack = [
      ...(query.qMatchesNumbers === false ? [] : [String(raw.production_order_number)]),
      String(raw.company_name ?? ''),
      ...order.lineItems.map((li) => String(li.raw.product_name ?? '')),
    ];
    if (!haystack.some((h) => h.toLowerCase().includes(q))) return false;
  }
  if (query.by_stage_status !== undefined || query.by_stage_name?.length) {
    if (!order.lineItems.some((li) => lineItemMatchesStage(li, query.by_stage_status, query.by_stage_name)))
      return false;
  }
  return true;
};
