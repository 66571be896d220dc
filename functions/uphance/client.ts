import type { z } from 'zod';
import type { InvalidRecord } from '../core/invalid-record.js';
import type { CallBounds } from '../shared/timing.js';
import type { ApiMeta, ApiProductionOrder, ApiTimelineLineItem } from './api-schema.js';
import {
  apiMetaSchema,
  apiProductionOrderSchema,
  apiTimelineLineItemSchema,
  parseRecord,
} from './api-schema.js';
import type { Credentials } from './auth.js';
import { TokenProvider } from './auth.js';
import { UphanceApiError, UphanceAuthError, UphanceOrganisationError } from './errors.js';
import type { ListProductionOrdersParams, ProductionTimelineBulkParams } from './params.js';
import {
  listProductionOrdersParams,
  productionTimelineBulkParams,
  toSearchParams,
  validateParams,
} from './params.js';
import type { RetryPolicy } from './retry-policy.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';
import type { Clock, SendRequest, SendResult, TransportEvent } from './transport.js';
import { describeEndpoint, send, systemClock } from './transport.js';

export const DEFAULT_API_URL = 'https://api.uphance.com';

/** A page answered for another organisation is asked for again, after selecting ours, this many times. */
const MAX_ORGANISATION_RESELECTIONS = 2;

export interface UphanceClientOptions {
  baseUrl?: string;
  credentials: Credentials;
  /** Selects this organisation (POST /organisations/set_current_org) after authenticating. */
  organisationId?: number;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
  onEvent?: (event: TransportEvent) => void;
}

/** One page of a list endpoint: the records that parsed, the ones that did not, and the paging metadata. */
export interface Page<T> {
  page: number;
  items: T[];
  invalid: InvalidRecord[];
  meta: ApiMeta | null;
}

/**
 * A client for the Uphance Production Orders API: every documented endpoint and parameter, typed and
 * validated before sending; pages fetched one after the other; retries, timeouts and authentication
 * handled; malformed records reported per record without spoiling the page.
 */
export class UphanceClient {
  readonly #transport: Parameters<typeof send>[0];
  readonly #tokens: TokenProvider;
  readonly #organisationId: number | undefined;
  #organisationSelected = false;

  constructor(options: UphanceClientOptions) {
    const clock = options.clock ?? systemClock;
    this.#transport = {
      baseUrl: options.baseUrl ?? DEFAULT_API_URL,
      timeoutMs: options.timeoutMs ?? 30_000,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      clock,
      random: options.random ?? Math.random,
      fetch: options.fetch ?? fetch,
      onEvent: options.onEvent,
      userAgent: 'uphance-notifier/0.1 (+https://github.com/uphance-notifier)',
    };
    this.#tokens = new TokenProvider(
      options.credentials,
      (request, bounds) => send(this.#transport, request, bounds),
      clock,
    );
    this.#organisationId = options.organisationId;
  }

  /** GET /production_orders, page by page (50 a page), following meta.next_page. */
  listProductionOrders(
    params: ListProductionOrdersParams = {},
    bounds?: CallBounds,
  ): AsyncGenerator<Page<ApiProductionOrder>> {
    const valid = validateParams(listProductionOrdersParams, params, 'GET /production_orders');
    return this.#pages(
      '/production_orders',
      valid,
      'production_orders',
      apiProductionOrderSchema,
      bounds,
      (o) => o.organisation_id,
    );
  }

  /** GET /production_order_line_items/{id}/production_timeline */
  async productionTimeline(lineItemId: number): Promise<ApiTimelineLineItem> {
    if (!Number.isInteger(lineItemId) || lineItemId <= 0) {
      validateParams(productionTimelineBulkParams, { ids: [lineItemId] }, 'GET /production_timeline');
    }
    const path = `/production_order_line_items/${lineItemId}/production_timeline`;
    const body = await this.#get(path, new URLSearchParams());
    const raw = (body as { production_order_line_item?: unknown } | null)?.production_order_line_item;
    const parsed = parseRecord(apiTimelineLineItemSchema, raw);
    if (!parsed.ok) {
      throw new UphanceApiError(
        `Uphance GET ${path} returned a malformed line item (${parsed.error.path}: ${parsed.error.message})`,
        `GET ${path}`,
        200,
        1,
      );
    }
    return parsed.value;
  }

  /** GET /production_order_line_items/production_timeline_bulk with ids as `1,2,3` or `ids[]=`. */
  productionTimelineBulk(params: ProductionTimelineBulkParams): AsyncGenerator<Page<ApiTimelineLineItem>> {
    const valid = validateParams(
      productionTimelineBulkParams,
      params,
      'GET /production_order_line_items/production_timeline_bulk',
    );
    const { ids, ids_encoding, ...rest } = valid;
    const query: Record<string, unknown> = { ...rest };
    if (ids && ids_encoding !== 'brackets') query.ids = ids.join(',');
    else if (ids) query.ids = ids;
    return this.#pages(
      '/production_order_line_items/production_timeline_bulk',
      query,
      'production_order_line_items',
      apiTimelineLineItemSchema,
    );
  }

  async *#pages<T>(
    path: string,
    params: Record<string, unknown>,
    key: string,
    schema: z.ZodType<T>,
    bounds?: CallBounds,
    organisationOf?: (item: T) => number | null | undefined,
  ): AsyncGenerator<Page<T>> {
    let page = (params.page as number | undefined) ?? 1;
    let refused = 0;
    for (;;) {
      const search = toSearchParams({
        ...params,
        page: page === 1 && params.page === undefined ? undefined : page,
      });
      const body = await this.#get(path, search, bounds);
      const list = (body as Record<string, unknown> | null)?.[key];
      if (!Array.isArray(list)) {
        throw new UphanceApiError(
          `Uphance GET ${path} answered without a "${key}" list (page ${page})`,
          `GET ${path}`,
          200,
          1,
        );
      }
      const items: T[] = [];
      const invalid: Page<T>['invalid'] = [];
      for (const raw of list) {
        const parsed = parseRecord(schema, raw);
        if (parsed.ok) items.push(parsed.value);
        else invalid.push(parsed.error);
      }
      const foreign = this.#foreignOrganisation(items, organisationOf);
      if (foreign !== undefined) {
        // Another runner selected its organisation on these credentials: this page is not ours. Select
        // ours again and ask for the page again; a selection that keeps being lost fails the run.
        const expected = this.#organisationId as number;
        if (++refused > MAX_ORGANISATION_RESELECTIONS) {
          throw new UphanceOrganisationError(
            `Uphance answered GET ${path} (page ${page}) for organisation ${foreign} while organisation ${expected} was selected, ${refused} times: another runner is selecting its organisation on the same credentials without taking turns; nothing from those pages was used`,
            expected,
            foreign,
          );
        }
        this.#transport.onEvent?.({
          type: 'foreign-organisation',
          endpoint: `GET ${path}`,
          expected,
          actual: foreign,
        });
        this.#organisationSelected = false;
        continue;
      }
      refused = 0;
      const rawMeta = (body as { meta?: unknown }).meta;
      const meta =
        rawMeta === undefined || rawMeta === null ? null : (apiMetaSchema.safeParse(rawMeta).data ?? null);
      yield { page, items, invalid, meta };
      // No meta means the endpoint is not paginated.
      const next = meta?.next_page;
      if (next === null || next === undefined) return;
      if (next <= page) {
        throw new UphanceApiError(
          `Uphance GET ${path} sent next_page ${next} on page ${page}`,
          `GET ${path}`,
          200,
          1,
        );
      }
      page = next;
    }
  }

  /** The first organisation other than the selected one that a page's items belong to, if any. */
  #foreignOrganisation<T>(
    items: T[],
    organisationOf: ((item: T) => number | null | undefined) | undefined,
  ): number | undefined {
    if (this.#organisationId === undefined || !organisationOf) return undefined;
    for (const item of items) {
      const id = organisationOf(item);
      if (id !== null && id !== undefined && id !== this.#organisationId) return id;
    }
    return undefined;
  }

  /** An authenticated GET: one re-authentication on 401 when the credentials allow it. */
  async #get(path: string, search: URLSearchParams, bounds?: CallBounds): Promise<unknown> {
    await this.#selectOrganisation(bounds);
    const request: SendRequest = {
      method: 'GET',
      path,
      search,
      authorization: () => this.#authorization(bounds),
    };
    let result = await send(this.#transport, request, bounds);
    if (result.status === 401 && this.#tokens.canReauthenticate) {
      this.#tokens.invalidate();
      this.#organisationSelected = false;
      await this.#selectOrganisation(bounds);
      result = await send(this.#transport, request, bounds);
    }
    return this.#judge(request, result);
  }

  #judge(request: SendRequest, result: SendResult): unknown {
    const endpoint = describeEndpoint(request);
    if (result.status === 401 || result.status === 403) {
      throw new UphanceAuthError(
        `Uphance rejected the credentials (${endpoint}: ${result.status}); check UPHANCE_TOKEN or UPHANCE_EMAIL/UPHANCE_PASSWORD`,
        result.status,
      );
    }
    if (result.status >= 300) {
      throw new UphanceApiError(
        `Uphance ${endpoint} answered ${result.status} (after ${result.attempts} attempt(s))`,
        endpoint,
        result.status,
        result.attempts,
      );
    }
    return result.body;
  }

  async #authorization(bounds?: CallBounds): Promise<string> {
    return `Bearer ${await this.#tokens.token(bounds)}`;
  }

  async #selectOrganisation(bounds?: CallBounds): Promise<void> {
    if (this.#organisationId === undefined || this.#organisationSelected) return;
    const request: SendRequest = {
      method: 'POST',
      path: '/organisations/set_current_org',
      body: { json: { organizationId: this.#organisationId } },
      authorization: () => this.#authorization(bounds),
    };
    this.#judge(request, await send(this.#transport, request, bounds));
    this.#organisationSelected = true;
  }

  /**
   * Selects the organisation again before the next request. The selection lives with the token on
   * Uphance's side: when several organisations share one token, each one's run (taken in turn, never two
   * at once) starts by selecting its own.
   */
  reselectOrganisation(): void {
    this.#organisationSelected = false;
  }

  /** GET /organisations: the organisations the credentials may use. */
  async organisations(): Promise<unknown> {
    const request: SendRequest = {
      method: 'GET',
      path: '/organisations',
      authorization: () => this.#authorization(),
    };
    return this.#judge(request, await send(this.#transport, request));
  }
}
