/**
 * The simulator's truth: production orders as the API shows them, with each line item's stages kept as a
 * full plan so that they can progress. Every mutation moves updated_at and is written to a ledger that
 * tests and the soak compare the notifier's events against.
 */

export type StageStatus = 'Not Started' | 'In Progress' | 'Completed';

export interface SimStage {
  name: string;
  status: StageStatus;
  start_time: string | null;
  end_time: string | null;
  stage_color: string;
}

export interface SimLineItem {
  /** Every key the API sends for a line item, except production_stages (rendered from `stages`). */
  raw: Record<string, unknown>;
  stages: SimStage[];
}

export interface SimOrder {
  raw: Record<string, unknown> & { id: number; status: string; delivery_status: string | null };
  lineItems: SimLineItem[];
  /** Warehouse ids behind the names in `warehouses` (the API filters by id, shows names). */
  warehouseIds: number[];
  /** Persistently malformed: rendered with a broken field. */
  malformed?: boolean;
}

type LedgerKind = 'created' | 'status' | 'delivery_status' | 'due_date' | 'stage' | 'deleted';

export interface LedgerEntry {
  orderId: number;
  kind: LedgerKind;
  from: unknown;
  to: unknown;
  /** For stage changes. */
  lineItemId?: number;
  stage?: string;
  at: string;
}

export const STATUS_WORDS: Record<string, string> = {
  draft: 'DRAFT',
  confirmed: 'CONFIRMED',
  complete: 'COMPLETE',
  cancelled: 'CANCELLED',
};

export const DELIVERY_WORDS: Record<string, string> = {
  not_received: 'Not Received',
  receiving: 'Receiving',
  all_received: 'All Received',
};

export const toFilterWord = (value: string | null | undefined): string =>
  (value ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** A line item's stage status in the filter vocabulary: that of its current stage. */
export const currentStage = (item: SimLineItem): SimStage | undefined =>
  item.stages.find((s) => s.status !== 'Completed') ?? item.stages[item.stages.length - 1];

/** Formats an instant in a fixed offset, like the API's "2025-04-26T05:51:21.000+01:00". */
export const formatWithOffset = (ms: number, offsetMinutes: number): string => {
  if (offsetMinutes === 0) return new Date(ms).toISOString().replace('Z', 'Z');
  const shifted = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};
