import type {
  CallBounds,
  LookupResult,
  NumberLookup,
  OrderSource,
  ScanQuery,
  SourcePage,
} from '../cycle/ports.js';
import type { ApiProductionOrder } from '../uphance/api-schema.js';
import { toOrder } from '../uphance/api-schema.js';
import type { Page, UphanceClient } from '../uphance/client.js';
import type { ListProductionOrdersParams } from '../uphance/params.js';

/** The watched set and the sweep as Uphance filters; every query includes the stages. */
const paramsFor = (query: ScanQuery): ListProductionOrdersParams => {
  switch (query.kind) {
    case 'open':
      return { include_stages: true, by_state: ['draft', 'confirmed'], ...pageOf(query.page) };
    case 'pending-closed':
      // A complete order can still be in Packing (the vendor's own example): watch its stages too.
      return {
        include_stages: true,
        by_state: ['complete', 'cancelled'],
        by_stage_status: 'pending',
        ...pageOf(query.page),
      };
    case 'undelivered-complete':
      // Due-date signals watch a complete order until it is all received (docs/contract.md 1b).
      return {
        include_stages: true,
        by_state: ['complete'],
        by_delivery_status: ['not_received', 'receiving'],
        ...pageOf(query.page),
      };
    case 'new':
      return { include_stages: true, since_id: query.sinceId, ...pageOf(query.page) };
    case 'all':
      return { include_stages: true, ...pageOf(query.page) };
  }
};

const pageOf = (page: number | undefined) => (page !== undefined && page > 1 ? { page } : {});

/** A by_q search matches names too: an order number that many names contain is not paged through. */
const LOOKUP_MAX_PAGES = 3;

/** The cycle's order source backed by the Uphance API client. */
export class UphanceOrderSource implements OrderSource {
  constructor(private readonly client: UphanceClient) {}

  async *scan(query: ScanQuery, bounds?: CallBounds): AsyncIterable<SourcePage> {
    for await (const page of this.client.listProductionOrders(paramsFor(query), bounds)) {
      yield {
        page: page.page,
        orders: page.items.map(toOrder),
        invalid: page.invalid,
        nextPage: page.meta?.next_page ?? null,
      };
    }
  }

  /**
   * There is no single-order endpoint. First a search by the order's number (by_q also matches names, so
   * the id decides). When that finds nothing, absence is confirmed independently of by_q's semantics: the
   * order would be the oldest of `since_id = id - 1`, so the first and the last page of that query are read
   * (the list's sort order is not documented). Only then is the order reported absent.
   */
  async lookup(order: { id: number; number: string }, bounds?: CallBounds): Promise<LookupResult> {
    const first = await this.#lookupOnce(order, bounds);
    if (first.kind !== 'absent') return first;
    // "Not there" is the one answer the organisation check cannot judge (an empty page names no
    // organisation): before it is believed, the organisation is selected again and the order looked for
    // again, so that a selection another runner changed never turns into OrderRemoved.
    this.client.reselectOrganisation();
    return this.#lookupOnce(order, bounds);
  }

  async #lookupOnce(order: { id: number; number: string }, bounds?: CallBounds): Promise<LookupResult> {
    const byNumber = await this.#find(
      { include_stages: true, by_q: order.number },
      order.id,
      LOOKUP_MAX_PAGES,
      bounds,
    );
    if (byNumber) return byNumber;
    let lastPage = 1;
    for await (const page of this.client.listProductionOrders(
      { include_stages: true, since_id: order.id - 1 },
      bounds,
    )) {
      const hit = this.#match(page, order.id);
      if (hit) return hit;
      lastPage = page.meta?.total_pages ?? 1;
      break;
    }
    if (lastPage > 1) {
      const last = await this.#find(
        { include_stages: true, since_id: order.id - 1, page: lastPage },
        order.id,
        1,
        bounds,
      );
      if (last) return last;
    }
    return { kind: 'absent' };
  }

  /**
   * The orders numbered exactly `number`: by_q also matches names (and perhaps parts of numbers), so only
   * an exact production_order_number is kept; at most LOOKUP_MAX_PAGES pages are read.
   */
  async findByNumber(number: string, bounds?: CallBounds): Promise<NumberLookup> {
    const result: NumberLookup = { orders: [], invalid: [] };
    let pages = 0;
    for await (const page of this.client.listProductionOrders(
      { include_stages: true, by_q: number },
      bounds,
    )) {
      for (const item of page.items) {
        const order = toOrder(item);
        if (order.number === number) result.orders.push(order);
      }
      result.invalid.push(...page.invalid);
      if (++pages >= LOOKUP_MAX_PAGES) break;
    }
    return result;
  }

  async #find(params: ListProductionOrdersParams, id: number, maxPages: number, bounds?: CallBounds) {
    let pages = 0;
    for await (const page of this.client.listProductionOrders(params, bounds)) {
      const hit = this.#match(page, id);
      if (hit || ++pages >= maxPages) return hit;
    }
    return undefined;
  }

  #match(page: Page<ApiProductionOrder>, id: number): LookupResult | undefined {
    const match = page.items.find((o) => o.id === id);
    if (match) return { kind: 'found', order: toOrder(match) };
    const bad = page.invalid.find((record) => record.id === id);
    if (bad) return { kind: 'unreadable', error: bad };
    return undefined;
  }
}
