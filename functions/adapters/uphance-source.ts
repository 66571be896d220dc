import { toOrder } from '../core/api-schema.js';
import type { LookupResult, OrderSource, ScanQuery, SourcePage } from '../cycle/ports.js';
import type { UphanceClient } from '../uphance/client.js';
import type { ListProductionOrdersParams } from '../uphance/params.js';

/** The watched set and the sweep as Uphance filters; every query includes the stages. */
export const paramsFor = (query: ScanQuery): ListProductionOrdersParams => {
  switch (query.kind) {
    case 'open':
      return { include_stages: true, by_state: ['draft', 'confirmed'] };
    case 'pending-closed':
      // A complete order can still be in Packing (the vendor's own example): watch its stages too.
      return { include_stages: true, by_state: ['complete', 'cancelled'], by_stage_status: 'pending' };
    case 'new':
      return { include_stages: true, since_id: query.sinceId };
    case 'all':
      return { include_stages: true, ...(query.page > 1 ? { page: query.page } : {}) };
  }
};

/** The cycle's order source backed by the Uphance API client. */
export class UphanceOrderSource implements OrderSource {
  constructor(private readonly client: UphanceClient) {}

  async *scan(query: ScanQuery): AsyncIterable<SourcePage> {
    for await (const page of this.client.listProductionOrders(paramsFor(query))) {
      yield {
        page: page.page,
        orders: page.items.map(toOrder),
        invalid: page.invalid,
        nextPage: page.meta?.next_page ?? null,
      };
    }
  }

  /**
   * There is no single-order endpoint: search by the order's number (by_q also matches names, so the id
   * decides) and read every page of the answer before concluding the order is gone.
   */
  async lookup(order: { id: number; number: string }): Promise<LookupResult> {
    for await (const page of this.client.listProductionOrders({ include_stages: true, by_q: order.number })) {
      const match = page.items.find((o) => o.id === order.id);
      if (match) return { kind: 'found', order: toOrder(match) };
      const bad = page.invalid.find((record) => record.id === order.id);
      if (bad) return { kind: 'unreadable', error: bad };
    }
    return { kind: 'absent' };
  }
}
