import { ALL_RECEIVED } from './vocabulary.js';

/** The order model the core diffs: only what change detection and the events' context need. */

export interface Stage {
  name: string;
  /** normalised: not_started | in_progress | completed | other */
  status: string;
  startTime: string | null;
  endTime: string | null;
}

export interface LineItem {
  id: number;
  productId: number | null;
  productName: string | null;
  color: string | null;
  /** API order: past stages as listed, then the current stage. */
  stages: Stage[];
}

/** The `order` block that every event carries (docs/contract.md section 1). */
export interface OrderRef {
  id: number;
  number: string;
  status: string;
  deliveryStatus: string | null;
  companyId: number | null;
  companyName: string | null;
  seasonId: number | null;
  dueDate: string | null;
  updatedAt: string | null;
}

export interface Order extends OrderRef {
  createdAt: string | null;
  lineItems: LineItem[];
  /**
   * The organisation the API answered this order for (`organisation_id`): checked against the organisation
   * being polled, never diffed or stored. Absent or null where the API leaves it out.
   */
  organisationId?: number | null;
}

export const orderRef = (order: OrderRef): OrderRef => ({
  id: order.id,
  number: order.number,
  status: order.status,
  deliveryStatus: order.deliveryStatus,
  companyId: order.companyId,
  companyName: order.companyName,
  seasonId: order.seasonId,
  dueDate: order.dueDate,
  updatedAt: order.updatedAt,
});

/** The stage name of a stage key: a snapshot keys a stage redone as `Sewing#2` (snapshot.ts keyedStages). */
export const stageNameOf = (key: string): string => key.replace(/#\d+$/, '');

/** Due-date signals watch orders that are not all received and not cancelled, whatever their status. */
export const awaitsDelivery = (order: { status: string; deliveryStatus: string | null }): boolean =>
  order.deliveryStatus !== ALL_RECEIVED && order.status !== 'cancelled';
