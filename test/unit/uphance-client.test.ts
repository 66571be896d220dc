import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UphanceClient, type UphanceClientOptions } from '../../functions/uphance/client.js';
import { UphanceApiError, UphanceAuthError, UphanceParameterError } from '../../functions/uphance/errors.js';
import type { TransportEvent } from '../../functions/uphance/transport.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { fakeClock } from '../helpers/fake-clock.js';

let sim: RunningSimulator;
let clock: ReturnType<typeof fakeClock>;

const client = (options: Partial<UphanceClientOptions> = {}) =>
  new UphanceClient({
    baseUrl: sim.url,
    credentials: { kind: 'token', token: 'sim-token' },
    clock,
    random: () => 0.5,
    timeoutMs: 2_000,
    ...options,
  });

const collect = async <T>(pages: AsyncIterable<{ items: T[] }>) => {
  const items: T[] = [];
  for await (const page of pages) items.push(...page.items);
  return items;
};

beforeEach(async () => {
  clock = fakeClock();
  sim = await startSimulator({
    orders: [...vendorExampleOrders(), ...generateOrders({ count: 117, seed: 3, organisationId: 35802 })],
    users: [{ email: 'ops@brand.example', password: 'correct horse' }],
    now: () => clock.now(),
  });
});
afterEach(async () => {
  await sim.close();
});

describe('listing production orders', () => {
  it('follows meta.next_page one page after the other, yielding page by page', async () => {
    const pages: number[] = [];
    let total = 0;
    for await (const page of client().listProductionOrders()) {
      pages.push(page.page);
      total += page.items.length;
      // The next page is only requested once this one has been consumed.
      expect(sim.counts['GET /production_orders']).toBe(page.page);
    }
    expect(pages).toEqual([1, 2, 3]);
    expect(total).toBe(120);
    expect(sim.requests.map((r) => r.query)).toEqual(['', '?page=2', '?page=3']);
  });

  it('a response without meta is a single page', async () => {
    const fetchNoMeta: typeof fetch = async () =>
      new Response(
        JSON.stringify({ production_orders: [{ id: 1, production_order_number: '1', status: 'DRAFT' }] }),
        { status: 200 },
      );
    const pages = [];
    for await (const page of client({ fetch: fetchNoMeta }).listProductionOrders()) pages.push(page);
    expect(pages).toHaveLength(1);
    expect(pages[0]?.meta).toBeNull();
  });

  it('encodes every filter as the vendor documents and the simulator applies them', async () => {
    const c = client();
    const cases: Array<
      [Parameters<UphanceClient['listProductionOrders']>[0], string, (o: Record<string, unknown>) => boolean]
    > = [
      [{ since_id: 23621 }, 'since_id=23621', (o) => (o.id as number) > 23621],
      [
        { since_created_at: '24/04/2025' },
        'since_created_at=24%2F04%2F2025',
        (o) => String(o.created_at) >= '2025-04-24',
      ],
      [
        { by_season: [12328, 12864] },
        'by_season%5B%5D=12328&by_season%5B%5D=12864',
        (o) => [12328, 12864].includes(o.season_id as number),
      ],
      [{ by_company: [59582] }, 'by_company%5B%5D=59582', (o) => o.company_id === 59582],
      [
        { by_warehouse: [2] },
        'by_warehouse%5B%5D=2',
        (o) => (o.warehouses as string[])[0] === 'Second warehouse',
      ],
      [{ by_state: ['complete'] }, 'by_state%5B%5D=complete', (o) => o.status === 'COMPLETE'],
      [
        { by_delivery_status: ['receiving'] },
        'by_delivery_status%5B%5D=receiving',
        (o) => o.delivery_status === 'Receiving',
      ],
      [{ by_q: '1308' }, 'by_q=1308', (o) => o.production_order_number === '1308'],
      [
        { include_stages: true, by_stage_status: 'pending' },
        'include_stages=true&by_stage_status=pending',
        (o) => (o.line_items as unknown[]).length > 0,
      ],
      [
        { include_stages: true, by_stage_name: ['Knitting'] },
        'include_stages=true&by_stage_name%5B%5D=Knitting',
        () => true,
      ],
    ];
    for (const [params, query, predicate] of cases) {
      sim.resetCounts();
      const items = await collect(c.listProductionOrders(params));
      expect(sim.requests[0]?.query).toBe(`?${query}`);
      expect(items.length).toBeGreaterThan(0);
      expect(items.length).toBeLessThan(120);
      for (const item of items) expect(predicate(item as Record<string, unknown>)).toBe(true);
    }
  });

  it('include_stages adds production_stages; by_stage_status=completed and by_stage_name narrow the list', async () => {
    const c = client();
    const withStages = await collect(c.listProductionOrders({ include_stages: true, by_q: '1308' }));
    expect(withStages[0]?.line_items?.[0]?.production_stages?.current_stage?.name).toBe('Packing');
    const without = await collect(c.listProductionOrders({ by_q: '1308' }));
    expect(without[0]?.line_items?.[0]?.production_stages).toBeUndefined();
    const knitting = await collect(
      c.listProductionOrders({ include_stages: true, by_stage_name: ['Knitting'] }),
    );
    for (const order of knitting) {
      expect(order.line_items?.some((li) => JSON.stringify(li.production_stages).includes('Knitting'))).toBe(
        true,
      );
    }
    const pending = await collect(
      c.listProductionOrders({ include_stages: true, by_stage_status: 'pending' }),
    );
    const all = await collect(c.listProductionOrders({ include_stages: true }));
    expect(pending.length).toBeLessThan(all.length);
  });

  it('keeps the vendor quirks: both cover-image spellings, nulls, decimal strings, offsets', async () => {
    const orders = await collect(client().listProductionOrders({ include_stages: true }));
    const po1308 = orders.find((o) => o.id === 23621)!;
    expect(po1308.line_items?.[0]?.Product_cover_image).toContain('3465o-3206');
    expect(po1308.grand_total).toBe('250.62');
    expect(po1308.updated_at).toBe('2025-04-26T05:51:21.000+01:00');
    expect(po1308.due_date).toBeNull();
    const po1311 = orders.find((o) => o.id === 23670)!;
    expect(po1311.line_items?.[0]?.product_cover_image).toContain('White_4.jpg');
    expect(po1311.line_items?.[1]?.product_cover_image).toBeNull();
  });

  it('reports a malformed order with its id and the bad field, and keeps the rest of the page', async () => {
    sim.state.setMalformed(23621, true);
    const pages = [];
    for await (const page of client().listProductionOrders({ by_q: '13' })) pages.push(page);
    expect(pages[0]?.invalid).toEqual([
      { id: 23621, path: 'status', message: expect.stringContaining('string') },
    ]);
    const ids = pages[0]?.items.map((o) => o.id);
    expect(ids).toContain(23620);
    expect(ids).toContain(23670);
    expect(ids).not.toContain(23621);
  });
});

describe('parameter validation happens before any request', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a state outside the documented set', { by_state: ['open'] }, /by_state\[0\]/],
    ['a delivery status outside the set', { by_delivery_status: ['received'] }, /by_delivery_status\[0\]/],
    [
      'since_created_at not DD/MM/YYYY',
      { since_created_at: '2025-04-23' },
      /since_created_at: must be a date written DD\/MM\/YYYY/,
    ],
    ['since_created_at not a real date', { since_created_at: '31/02/2025' }, /since_created_at/],
    [
      'by_stage_status without include_stages',
      { by_stage_status: 'pending' },
      /by_stage_status: requires include_stages: true/,
    ],
    [
      'by_stage_name without include_stages',
      { by_stage_name: ['Sewing'] },
      /by_stage_name: requires include_stages: true/,
    ],
    ['an unknown by_stage_status', { include_stages: true, by_stage_status: 'done' }, /by_stage_status/],
    ['a negative season id', { by_season: [-1] }, /by_season\[0\]/],
    ['an unknown parameter', { by_status: ['x'] }, /unknown parameter\(s\) by_status/],
  ];
  it.each(bad)('rejects %s', (_name, params, message) => {
    expect(() => client().listProductionOrders(params as never)).toThrow(UphanceParameterError);
    expect(() => client().listProductionOrders(params as never)).toThrow(message);
    expect(sim.totalRequests()).toBe(0);
  });

  it('rejects a bulk timeline call with an empty id list', () => {
    expect(() => client().productionTimelineBulk({ ids: [] })).toThrow(/ids: must hold at least one id/);
    expect(sim.totalRequests()).toBe(0);
  });
});

describe('production timelines', () => {
  it('reads one line item’s timeline', async () => {
    const item = await client().productionTimeline(141953);
    expect(item.production_stages?.current_stage?.name).toBe('Packing');
    expect(item.production_stages?.past_stages?.map((s) => s.name)).toEqual(['Cutting', 'Sewing']);
    expect(sim.counts['GET /production_order_line_items/{id}/production_timeline']).toBe(1);
  });

  it('bulk: ids as 1,2,3 or as ids[]=, with the stage filters', async () => {
    const c = client();
    const comma = await collect(c.productionTimelineBulk({ ids: [141953, 141951] }));
    expect(sim.requests.at(-1)?.query).toBe('?ids=141953%2C141951');
    const brackets = await collect(
      c.productionTimelineBulk({ ids: [141953, 141951], ids_encoding: 'brackets' }),
    );
    expect(sim.requests.at(-1)?.query).toBe('?ids%5B%5D=141953&ids%5B%5D=141951');
    expect(comma.map((i) => i.id).sort()).toEqual([141951, 141953]);
    expect(brackets.map((i) => i.id).sort()).toEqual([141951, 141953]);
    const inProgress = await collect(
      c.productionTimelineBulk({ ids: [141953, 141951], by_stage_status: 'in_progress' }),
    );
    expect(inProgress.map((i) => i.id)).toEqual([141953]);
    const named = await collect(
      c.productionTimelineBulk({ by_stage_name: ['Packing'], by_stage_status: 'in_progress' }),
    );
    expect(named.every((i) => i.production_stages?.current_stage?.name === 'Packing')).toBe(true);
  });
});

describe('authentication', () => {
  it('rejects a bad static token with a clear error that does not contain it', async () => {
    const secret = 'tok-SECRET-123456';
    const error = await collect(
      client({ credentials: { kind: 'token', token: secret } }).listProductionOrders(),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UphanceAuthError);
    expect(error.message).toMatch(/rejected the credentials \(GET \/production_orders: 401\)/);
    expect(`${error.message} ${error.stack}`).not.toContain(secret);
  });

  it('obtains a token with the password grant, sends it as Bearer, and refreshes it before it expires', async () => {
    await sim.close();
    sim = await startSimulator({
      orders: vendorExampleOrders(),
      users: [{ email: 'ops@brand.example', password: 'correct horse' }],
      tokenTtlSeconds: 3_600,
      now: () => clock.now(),
    });
    const c = client({
      credentials: { kind: 'password', email: 'ops@brand.example', password: 'correct horse' },
    });
    await collect(c.listProductionOrders());
    expect(sim.counts['POST /oauth/token']).toBe(1);
    expect(sim.requests.at(-1)?.authorization).toMatch(/^Bearer [0-9a-f]{32}$/);
    clock.advance(3_600_000 - 4 * 60_000); // within the 5-minute margin before expiry
    await collect(c.listProductionOrders());
    expect(sim.counts['POST /oauth/token']).toBe(2);
    expect(sim.counts['GET /production_orders']).toBe(2);
  });

  it('re-authenticates once on a 401 and goes on', async () => {
    const c = client({
      credentials: { kind: 'password', email: 'ops@brand.example', password: 'correct horse' },
    });
    await collect(c.listProductionOrders());
    sim.revokeTokens();
    const items = await collect(c.listProductionOrders());
    expect(items).toHaveLength(120);
    expect(sim.counts['POST /oauth/token']).toBe(2);
  });

  it('a wrong password is a clear error without the password in it', async () => {
    const c = client({
      credentials: { kind: 'password', email: 'ops@brand.example', password: 'hunter2-wrong' },
    });
    const error = await collect(c.listProductionOrders()).catch((e) => e);
    expect(error).toBeInstanceOf(UphanceAuthError);
    expect(error.message).toBe(
      'Uphance rejected the email and password (POST /oauth/token: 401 invalid_grant)',
    );
    expect(`${error.message}${error.stack}`).not.toContain('hunter2');
  });

  it('selects the organisation with set_current_org and sees only its orders', async () => {
    sim.state.load(generateOrders({ count: 5, firstId: 90_000, organisationId: 35803 }));
    const items = await collect(client({ organisationId: 35803 }).listProductionOrders());
    expect(items.map((o) => o.id).sort()).toEqual([90_000, 90_001, 90_002, 90_003, 90_004]);
    expect(sim.counts['POST /organisations/set_current_org']).toBe(1);
    const unknown = await collect(client({ organisationId: 1 }).listProductionOrders()).catch((e) => e);
    expect(unknown).toBeInstanceOf(UphanceApiError);
    expect(unknown.message).toMatch(/set_current_org answered 404/);
  });

  it('never puts the token or password in a log event or an error, whatever fails', async () => {
    const events: TransportEvent[] = [];
    const c = client({
      credentials: { kind: 'password', email: 'ops@brand.example', password: 'correct horse' },
      onEvent: (e) => events.push(e),
      retry: { maxAttempts: 2 },
    });
    await collect(c.listProductionOrders());
    sim.faults.next({ kind: 'server_error', status: 500 }, 2);
    const error = await collect(c.listProductionOrders()).catch((e) => e);
    const issued = sim.requests
      .map((r) => r.authorization?.replace('Bearer ', ''))
      .filter(Boolean) as string[];
    expect(issued.length).toBeGreaterThan(0);
    const text = JSON.stringify(events) + String(error.message) + String(error.stack) + JSON.stringify(error);
    for (const secret of [...issued, 'correct horse']) expect(text).not.toContain(secret);
  });
});

describe('resilience', () => {
  it('honours Retry-After in seconds on 429', async () => {
    sim.faults.next({ kind: 'rate_limit', retryAfter: '7' });
    const items = await collect(client().listProductionOrders({ by_q: '1308' }));
    expect(items).toHaveLength(1);
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    sim.faults.next({ kind: 'rate_limit', retryAfter: new Date(clock.now() + 12_000).toUTCString() });
    await collect(client().listProductionOrders({ by_q: '1308' }));
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThan(11_000);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(12_000);
  });

  it('backs off exponentially (capped, with jitter) on 429 without Retry-After and on 5xx', async () => {
    sim.faults
      .next({ kind: 'rate_limit' })
      .next({ kind: 'server_error', status: 502 })
      .next({ kind: 'server_error', status: 503 });
    await collect(
      client({ retry: { baseDelayMs: 100, maxDelayMs: 300 } }).listProductionOrders({ by_q: '1308' }),
    );
    // random() = 0.5: half of min(cap, base * 2^(n-1)).
    expect(clock.sleeps).toEqual([50, 100, 150]);
  });

  it('gives up after the bounded attempts with an error naming endpoint, status and attempts', async () => {
    sim.faults.next({ kind: 'server_error', status: 503 }, 4);
    const error = await collect(
      client({ retry: { maxAttempts: 4 } }).listProductionOrders({ by_state: ['draft'] }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UphanceApiError);
    expect(error.message).toBe(
      'Uphance GET /production_orders?by_state[]=draft failed after 4 attempts: status 503',
    );
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it('refuses to wait for a Retry-After longer than allowed', async () => {
    sim.faults.next({ kind: 'rate_limit', retryAfter: '3600' });
    const error = await collect(client().listProductionOrders()).catch((e) => e);
    expect(error.message).toMatch(/asked to wait 3600 s, longer than the 120 s allowed/);
  });

  it('retries a dropped connection', async () => {
    sim.faults.next({ kind: 'drop' });
    const events: TransportEvent[] = [];
    const items = await collect(
      client({ onEvent: (e) => events.push(e) }).listProductionOrders({ by_q: '1308' }),
    );
    expect(items).toHaveLength(1);
    expect(events.filter((e) => e.type === 'failure')).toHaveLength(1);
    expect(events.find((e) => e.type === 'failure')).toMatchObject({
      reason: expect.stringMatching(/network error/),
    });
  });

  it('times out a slow response and retries it', async () => {
    sim.faults.next({ kind: 'slow', delayMs: 1_000 });
    const events: TransportEvent[] = [];
    const items = await collect(
      client({ timeoutMs: 150, onEvent: (e) => events.push(e) }).listProductionOrders({ by_q: '1308' }),
    );
    expect(items).toHaveLength(1);
    expect(events.find((e) => e.type === 'failure')).toMatchObject({ reason: 'timed out' });
  });

  it('an unreachable API fails after the retries with a clear reason', async () => {
    await sim.close();
    const error = await collect(client({ retry: { maxAttempts: 3 } }).listProductionOrders()).catch((e) => e);
    expect(error).toBeInstanceOf(UphanceApiError);
    expect(error.message).toMatch(
      /GET \/production_orders failed after 3 attempts: network error \(ECONNREFUSED\)/,
    );
    sim = await startSimulator();
  });
});
