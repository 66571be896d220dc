import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { validateEvent } from '../../functions/core/events/catalogue.js';
import type { Order, Stage } from '../../functions/core/order.js';
import {
  type ApiProductionOrder,
  apiProductionOrderSchema,
  toOrder,
} from '../../functions/uphance/api-schema.js';
import { listFixture, stagesFixture } from '../../simulator/fixtures.js';

/** The vendor's example orders, parsed as the client parses them. */
export const vendorOrder = (number: '1311' | '1307' | '1308'): Order => {
  const all = [...listFixture().production_orders, ...stagesFixture().production_orders];
  const raw = all.find((o) => o.production_order_number === number);
  if (!raw) throw new Error(`no vendor example ${number}`);
  return toOrder(apiProductionOrderSchema.parse(raw) as ApiProductionOrder);
};

export const clone = <T>(value: T): T => structuredClone(value);

export const stage = (
  name: string,
  status: string,
  startTime: string | null = null,
  endTime: string | null = null,
): Stage => ({
  name,
  status,
  startTime,
  endTime,
});

/** Asserts every event against its detail-type's schema, as every test that emits events must. */
export const validated = (events: NotifierEvent[]): NotifierEvent[] => events.map(validateEvent);

export const types = (events: NotifierEvent[]): string[] => events.map((e) => e.detailType);

/** A valid event for order 1308, as a store or a sink would carry it. */
export const vendorEvent = (sequence = 1): NotifierEvent =>
  validateEvent({
    detailType: 'OrderCreated',
    detail: {
      schemaVersion: '1',
      eventId: `evt-1308-${sequence}`,
      sequence,
      detectedAt: '2026-11-30T00:00:00.000Z',
      order: {
        id: 23621,
        number: '1308',
        status: 'complete',
        deliveryStatus: 'all_received',
        companyId: 59582,
        companyName: 'Tribal Sportswear Inc.',
        seasonId: 12328,
        dueDate: null,
        updatedAt: '2025-04-26T05:51:21.000+01:00',
      },
    },
  } as NotifierEvent);
