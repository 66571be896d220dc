import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SimLineItem, SimOrder, SimStage, StageStatus } from './model.js';

/**
 * The vendor's example responses, verbatim from the reference page. The timeline example is not valid
 * JSON on the vendor's page (a trailing comma): it is kept verbatim and read leniently.
 */
const fixturePath = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const readFixture = (name: string): unknown => {
  const text = readFileSync(fixturePath(name), 'utf8');
  return JSON.parse(text.replace(/,(\s*[}\]])/g, '$1'));
};

export interface ListFixture {
  production_orders: Array<Record<string, unknown>>;
  meta: Record<string, unknown>;
}

export const listFixture = (): ListFixture => readFixture('production-orders.json') as ListFixture;
export const stagesFixture = (): ListFixture =>
  readFixture('production-orders-with-stages.json') as ListFixture;
export const timelineFixture = (): { production_order_line_item: Record<string, unknown> } =>
  readFixture('production-timeline.txt') as { production_order_line_item: Record<string, unknown> };

const toSimStages = (production: unknown): SimStage[] => {
  if (!production || typeof production !== 'object') return [];
  const { current_stage, past_stages } = production as {
    current_stage?: Record<string, unknown> | null;
    past_stages?: Array<Record<string, unknown>>;
  };
  const list = [...(past_stages ?? [])];
  if (current_stage) list.push(current_stage);
  return list.map((s) => ({
    name: String(s.name),
    status: s.status as StageStatus,
    start_time: (s.start_time as string | null) ?? null,
    end_time: (s.end_time as string | null) ?? null,
    stage_color: String(s.stage_color ?? '#89d7ca'),
  }));
};

/** Turns an API order (with or without production_stages) into the simulator's model. */
const fromApiOrder = (raw: Record<string, unknown>): SimOrder => {
  const { line_items, ...rest } = raw;
  const lineItems: SimLineItem[] = ((line_items as Array<Record<string, unknown>>) ?? []).map((item) => {
    const { production_stages, ...itemRest } = item;
    return {
      raw: itemRest,
      stages: toSimStages(production_stages),
    };
  });
  return {
    raw: rest as SimOrder['raw'],
    lineItems,
    warehouseIds: ((rest.warehouses as string[] | undefined) ?? []).map((_, i) => i + 1),
  };
};

/** The three example orders of the reference page: 1311 and 1307 (no stages shown), 1308 (with stages). */
export const vendorExampleOrders = (): SimOrder[] => [
  ...listFixture().production_orders.map(fromApiOrder),
  ...stagesFixture().production_orders.map(fromApiOrder),
];
