import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fault } from './faults.js';
import { FaultInjector } from './faults.js';
import type { SimOrder } from './model.js';
import type { OrderQuery } from './query.js';
import { lineItemMatchesStage, matches } from './query.js';
import { corrupt, renderOrder, renderTimeline } from './render.js';
import { SimulatorState } from './state.js';

interface SimulatorUser {
  email: string;
  password: string;
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Bearer tokens accepted as they are (default: ["sim-token"]). */
  tokens?: string[];
  /** Accounts for the OAuth password grant. */
  users?: SimulatorUser[];
  /** Lifetime of issued access tokens (default 604800 s, as Uphance). */
  tokenTtlSeconds?: number;
  organisations?: Array<{ id: number; name: string }>;
  orders?: Iterable<SimOrder>;
  /** Added to every request, to play a remote API (benchmarks). */
  latencyMs?: number;
  /** Added to every request made while this organisation is selected (a slow account), by id. */
  organisationLatencyMs?: Record<number, number>;
  /**
   * Bearer tokens accepted as they are, each limited to these organisations (the first is selected until
   * set_current_org says otherwise); the others are refused as not found.
   */
  tokenOrganisations?: Record<string, number[]>;
  perPage?: number;
  now?: () => number;
  /** Plays a by_q that matches names only, not order numbers (default: numbers match). */
  qMatchesNumbers?: boolean;
}

export interface RunningSimulator {
  url: string;
  state: SimulatorState;
  faults: FaultInjector;
  /** Requests per endpoint, e.g. counts["GET /production_orders"]. */
  counts: Record<string, number>;
  /** Every request's endpoint and query, in order (for tests that pin the client's encoding). */
  requests: Array<{ endpoint: string; query: string; authorization: string | undefined }>;
  setLatency(ms: number): void;
  /** Invalidates every issued access token and the static ones (plays a revoked credential). */
  revokeTokens(): void;
  resetCounts(): void;
  totalRequests(): number;
  close(): Promise<void>;
}

const ORDER_PAGE_SIZE = 50;
const TIMELINE_PAGE_SIZE = 100;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
};

const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(text);
  return Object.fromEntries(new URLSearchParams(text));
};

const list = (search: URLSearchParams, key: string): string[] => [
  ...search.getAll(`${key}[]`),
  ...search.getAll(key).flatMap((v) => v.split(',')),
];
const ids = (search: URLSearchParams, key: string): number[] => list(search, key).map(Number);

const paginate = <T>(items: T[], page: number, size: number) => {
  const totalPages = Math.max(1, Math.ceil(items.length / size));
  return {
    slice: items.slice((page - 1) * size, page * size),
    meta: {
      current_page: page,
      next_page: page < totalPages ? page + 1 : null,
      prev_page: page > 1 ? page - 1 : null,
      total_pages: totalPages,
      total_count: items.length,
    },
  };
};

const parseDmy = (value: string): number | undefined => {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value);
  return m ? Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1])) : undefined;
};

class BadRequest extends Error {}

/** Starts an HTTP server on loopback that behaves as the documented Uphance Production Orders API. */
export const startSimulator = async (options: SimulatorOptions = {}): Promise<RunningSimulator> => {
  const now = options.now ?? Date.now;
  const state = new SimulatorState(now);
  if (options.orders) state.load(options.orders);
  const faults = new FaultInjector();
  const counts: Record<string, number> = {};
  const requests: RunningSimulator['requests'] = [];
  const staticTokens = new Set([
    ...(options.tokens ?? ['sim-token']),
    ...Object.keys(options.tokenOrganisations ?? {}),
  ]);
  /** The organisations a token may use; undefined: every one. */
  const allowedFor = (token: string) => options.tokenOrganisations?.[token];
  const issued = new Map<string, { expiresAt: number; email: string }>();
  const refreshTokens = new Map<string, string>();
  const organisations = options.organisations ?? [
    { id: 35802, name: 'Woah2 Fashion' },
    { id: 35803, name: 'Second Label' },
  ];
  const currentOrg = new Map<string, number>();
  let latencyMs = options.latencyMs ?? 0;
  const perPage = options.perPage ?? ORDER_PAGE_SIZE;
  const ttl = options.tokenTtlSeconds ?? 604_800;

  const issue = (email: string) => {
    const access = randomBytes(16).toString('hex');
    const refresh = randomBytes(16).toString('hex');
    issued.set(access, { expiresAt: now() + ttl * 1000, email });
    refreshTokens.set(refresh, email);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: refresh,
      created_at: Math.floor(now() / 1000),
    };
  };

  const authenticate = (req: IncomingMessage): string | undefined => {
    const header = req.headers.authorization ?? '';
    // Uphance's curl examples omit "Bearer"; integrations send it. Accept both.
    const token = header.replace(/^Bearer\s+/i, '').trim();
    if (staticTokens.has(token)) return token;
    const entry = issued.get(token);
    if (entry && entry.expiresAt > now()) return token;
    return undefined;
  };

  // As Uphance keeps it: the selected organisation belongs to the credentials (a static token, or the
  // user of a password grant, whatever access token the user's latest login issued), not to one token.
  const credentialOf = (token: string) => issued.get(token)?.email ?? token;
  const orgOf = (token: string) =>
    currentOrg.get(credentialOf(token)) ?? allowedFor(token)?.[0] ?? organisations[0]?.id;

  const listOrders = (search: URLSearchParams, token: string, fault: Fault | undefined) => {
    const query: OrderQuery = {};
    const sinceId = search.get('since_id');
    if (sinceId !== null) query.since_id = Number(sinceId);
    const since = search.get('since_created_at');
    if (since !== null) {
      const ms = parseDmy(since);
      if (ms === undefined) throw new BadRequest('since_created_at must be DD/MM/YYYY');
      query.since_created_at = ms;
    }
    query.by_season = ids(search, 'by_season');
    query.by_warehouse = ids(search, 'by_warehouse');
    query.by_company = ids(search, 'by_company');
    query.by_state = list(search, 'by_state');
    query.by_delivery_status = list(search, 'by_delivery_status');
    for (const s of query.by_state)
      if (!['draft', 'confirmed', 'complete', 'cancelled'].includes(s))
        throw new BadRequest(`invalid state ${s}`);
    query.by_q = search.get('by_q') ?? undefined;
    query.qMatchesNumbers = options.qMatchesNumbers;
    const includeStages = search.get('include_stages') === 'true';
    // As documented, the stage filters need include_stages=true; without it they are ignored.
    if (includeStages) {
      query.by_stage_status = search.get('by_stage_status') ?? undefined;
      query.by_stage_name = list(search, 'by_stage_name');
    }
    const org = orgOf(token);
    const selected: SimOrder[] = [];
    for (const id of state.sortedIds()) {
      const order = state.orders.get(id) as SimOrder;
      if (order.raw.organisation_id !== undefined && order.raw.organisation_id !== org) continue;
      if (matches(order, query)) selected.push(order);
    }
    const page = Math.max(1, Number(search.get('page') ?? '1'));
    const { slice, meta } = paginate(selected, page, perPage);
    const rendered = slice.map((o) => renderOrder(o, includeStages));
    if (fault?.kind === 'malformed' && rendered[0]) corrupt(rendered[0]);
    return { production_orders: rendered, meta };
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL, fault: Fault | undefined) => {
    const path = url.pathname;
    if (req.method === 'POST' && path === '/oauth/token') {
      const body = await readBody(req);
      if (body.grant_type === 'password') {
        const user = (options.users ?? []).find(
          (u) => u.email === body.email && u.password === body.password,
        );
        if (!user)
          return json(res, 401, {
            error: 'invalid_grant',
            error_description: 'The provided authorization grant is invalid',
          });
        return json(res, 200, issue(user.email));
      }
      if (body.grant_type === 'refresh_token') {
        const email = refreshTokens.get(String(body.refresh_token));
        if (!email) return json(res, 400, { error: 'invalid_grant' });
        refreshTokens.delete(String(body.refresh_token));
        return json(res, 200, issue(email));
      }
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    const token = authenticate(req);
    if (!token) return json(res, 401, { error: 'unauthorized' });
    const slow = options.organisationLatencyMs?.[orgOf(token) ?? -1];
    if (slow) await new Promise((r) => setTimeout(r, slow));
    const allowed = allowedFor(token);
    if (req.method === 'GET' && path === '/organisations')
      return json(res, 200, {
        organisations: allowed ? organisations.filter((o) => allowed.includes(o.id)) : organisations,
      });
    if (req.method === 'POST' && path === '/organisations/set_current_org') {
      const body = await readBody(req);
      const id = Number(body.organizationId);
      if (!organisations.some((o) => o.id === id) || (allowed && !allowed.includes(id)))
        return json(res, 404, { error: 'organisation not found' });
      currentOrg.set(credentialOf(token), id);
      return json(res, 200, { status: 'ok' });
    }
    if (req.method === 'GET' && path === '/production_orders') {
      return json(res, 200, listOrders(url.searchParams, token, fault));
    }
    const single = /^\/production_order_line_items\/(\d+)\/production_timeline$/.exec(path);
    if (req.method === 'GET' && single) {
      const item = state.findLineItem(Number(single[1]));
      if (!item) return json(res, 404, { error: 'not found' });
      return json(res, 200, { production_order_line_item: renderTimeline(item) });
    }
    if (req.method === 'GET' && path === '/production_order_line_items/production_timeline_bulk') {
      const search = url.searchParams;
      const wanted = new Set(ids(search, 'ids'));
      const status = search.get('by_stage_status') ?? undefined;
      const names = list(search, 'by_stage_name');
      const items = [];
      for (const id of state.sortedIds()) {
        for (const item of (state.orders.get(id) as SimOrder).lineItems) {
          if (wanted.size > 0 && !wanted.has(item.raw.id as number)) continue;
          if (!lineItemMatchesStage(item, status, names)) continue;
          items.push(item);
        }
      }
      const page = Math.max(1, Number(search.get('page') ?? '1'));
      const { slice, meta } = paginate(items, page, TIMELINE_PAGE_SIZE);
      return json(res, 200, { production_order_line_items: slice.map(renderTimeline), meta });
    }
    return json(res, 404, { error: `no route for ${req.method} ${path}` });
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const endpoint = `${req.method} ${url.pathname.replace(/\/\d+\//, '/{id}/')}`;
    counts[endpoint] = (counts[endpoint] ?? 0) + 1;
    requests.push({ endpoint, query: url.search, authorization: req.headers.authorization });
    try {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      const fault = url.pathname === '/oauth/token' ? undefined : faults.take(url.pathname);
      if (fault?.kind === 'rate_limit') {
        return json(
          res,
          429,
          { error: 'rate limited' },
          fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
        );
      }
      if (fault?.kind === 'server_error') return json(res, fault.status ?? 503, { error: 'server error' });
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
      if (res.destroyed) return;
      await route(req, res, url, fault);
    } catch (error) {
      if (error instanceof BadRequest) return json(res, 400, { error: error.message });
      json(res, 500, { error: 'simulator error' });
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    state,
    faults,
    counts,
    requests,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    revokeTokens: () => {
      issued.clear();
      staticTokens.clear();
    },
    resetCounts: () => {
      for (const key of Object.keys(counts)) delete counts[key];
      requests.length = 0;
    },
    totalRequests: () => Object.values(counts).reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
