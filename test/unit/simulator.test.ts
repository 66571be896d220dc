import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listFixture,
  stagesFixture,
  timelineFixture,
  vendorExampleOrders,
} from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';

let sim: RunningSimulator;
const get = async (path: string, token = 'sim-token') => {
  const response = await fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** The shape of a JSON value: its keys (recursively) and value types, ignoring the values themselves. */
const shape = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  }
  return value === null ? 'null' : typeof value;
};
const keysOf = (value: Record<string, unknown>) => Object.keys(value).sort();

beforeEach(async () => {
  sim = await startSimulator({
    orders: [...vendorExampleOrders(), ...generateOrders({ count: 60, seed: 9 })],
  });
});
afterEach(async () => {
  await sim.close();
});

describe('the simulator against the vendor reference', () => {
  it('serves the example orders verbatim, without stages', async () => {
    const { body } = await get('/production_orders?by_q=13');
    const served = (body.production_orders as Array<Record<string, unknown>>).filter((o) =>
      [23670, 23620].includes(o.id as number),
    );
    expect(served).toEqual(listFixture().production_orders);
  });

  it('serves 1308 with include_stages verbatim, Product_cover_image spelling included', async () => {
    const { body } = await get('/production_orders?include_stages=true&by_q=1308');
    expect(body.production_orders).toEqual(stagesFixture().production_orders);
  });

  it('generated orders have the reference keys and value types, with and without stages', async () => {
    const plain = (await get('/production_orders?page=1')).body.production_orders as Array<
      Record<string, unknown>
    >;
    const generated = plain.find((o) => (o.id as number) >= 30_000)!;
    const reference = listFixture().production_orders[0]!;
    expect(keysOf(generated)).toEqual(keysOf(reference));
    const refItem = (reference.line_items as Array<Record<string, unknown>>)[0]!;
    const genItem = (generated.line_items as Array<Record<string, unknown>>)[0]!;
    expect(keysOf(genItem)).toEqual(keysOf(refItem));
    expect(shape((genItem.line_quantities as unknown[])[0])).toEqual(
      shape((refItem.line_quantities as unknown[])[0]),
    );
    const staged = (await get('/production_orders?include_stages=true')).body.production_orders as Array<
      Record<string, unknown>
    >;
    const stagedItem = (staged.find((o) => (o.id as number) >= 30_000)!.line_items as unknown[])[0] as Record<
      string,
      unknown
    >;
    const refStages = (
      (stagesFixture().production_orders[0]!.line_items as unknown[])[0] as Record<string, unknown>
    ).production_stages as Record<string, unknown>;
    expect(keysOf(stagedItem.production_stages as Record<string, unknown>)).toEqual(keysOf(refStages));
    expect(shape((refStages.past_stages as unknown[])[0])).toEqual(
      shape(
        ((stagedItem.production_stages as Record<string, unknown>).past_stages as unknown[])[0] ??
          (refStages.past_stages as unknown[])[0],
      ),
    );
  });

  it('pages 50 orders with the reference meta', async () => {
    const first = await get('/production_orders');
    expect((first.body.production_orders as unknown[]).length).toBe(50);
    expect(first.body.meta).toEqual({
      current_page: 1,
      next_page: 2,
      prev_page: null,
      total_pages: 2,
      total_count: 63,
    });
    expect(keysOf(first.body.meta as Record<string, unknown>)).toEqual(keysOf(listFixture().meta));
    const second = await get('/production_orders?page=2');
    expect((second.body.production_orders as unknown[]).length).toBe(13);
    expect(second.body.meta).toMatchObject({ current_page: 2, next_page: null, prev_page: 1 });
  });

  it('lists newest id first, as the examples do', async () => {
    const ids = ((await get('/production_orders')).body.production_orders as Array<{ id: number }>).map(
      (o) => o.id,
    );
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('timeline responses have the reference keys', async () => {
    const single = await get('/production_order_line_items/141953/production_timeline');
    const reference = timelineFixture().production_order_line_item;
    expect(keysOf(single.body.production_order_line_item as Record<string, unknown>)).toEqual(
      keysOf(reference),
    );
    const bulk = await get('/production_order_line_items/production_timeline_bulk?ids=141953');
    expect((bulk.body.production_order_line_items as unknown[]).length).toBe(1);
    expect(bulk.body.meta).toMatchObject({ total_count: 1 });
  });
});

describe('simulator behaviour', () => {
  it('answers 401 without a valid token', async () => {
    expect((await get('/production_orders', 'nope')).status).toBe(401);
    expect((await fetch(`${sim.url}/production_orders`)).status).toBe(401);
  });

  it('changes orders through its in-process API, moving updated_at and writing the ledger', async () => {
    const id = 23620;
    const before = sim.state.get(id).raw.updated_at;
    sim.state.setStatus(id, 'complete');
    sim.state.setDeliveryStatus(id, 'all_received');
    sim.state.setDueDate(id, '2025-06-01');
    expect(sim.state.get(id).raw.updated_at).not.toBe(before);
    const { body } = await get('/production_orders?by_q=1307');
    expect((body.production_orders as Array<Record<string, unknown>>)[0]).toMatchObject({
      status: 'COMPLETE',
      delivery_status: 'All Received',
      due_date: '2025-06-01',
    });
    expect(sim.state.ledger.map((e) => e.kind)).toEqual(['status', 'delivery_status', 'due_date']);
  });

  it('moves stages on: start, complete, next; by_stage_status follows', async () => {
    const order = generateOrders({
      count: 1,
      firstId: 80_000,
      watchedShare: 1,
      lineItems: 1,
      stages: 2,
      seed: 5,
    })[0]!;
    order.lineItems[0]!.stages.forEach((s) => {
      s.status = 'Not Started';
      s.start_time = null;
      s.end_time = null;
    });
    sim.state.create(order);
    const steps = [];
    for (let i = 0; i < 5; i++) steps.push(sim.state.advanceStage(80_000)?.status ?? 'done');
    expect(steps).toEqual(['In Progress', 'Completed', 'In Progress', 'Completed', 'done']);
    const pending = await get(
      '/production_orders?include_stages=true&by_stage_status=pending&since_id=79999',
    );
    expect(pending.body.production_orders).toEqual([]);
  });

  it('creates and deletes orders; counts requests per endpoint', async () => {
    sim.state.delete(23670);
    const all = await get('/production_orders?by_q=1311');
    expect(all.body.production_orders).toEqual([]);
    expect(sim.counts['GET /production_orders']).toBe(1);
    expect(sim.state.ledger.at(-1)).toMatchObject({ orderId: 23670, kind: 'deleted' });
  });

  it('injects faults: 429 with Retry-After, 5xx, malformed orders', async () => {
    sim.faults
      .next({ kind: 'rate_limit', retryAfter: '3' })
      .next({ kind: 'server_error', status: 502 })
      .next({ kind: 'malformed' });
    const limited = await fetch(`${sim.url}/production_orders`, {
      headers: { authorization: 'Bearer sim-token' },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await get('/production_orders')).status).toBe(502);
    const malformed = await get('/production_orders');
    expect((malformed.body.production_orders as Array<Record<string, unknown>>)[0]?.status).toEqual({
      unexpected: true,
    });
    expect(sim.faults.injected).toMatchObject({ rate_limit: 1, server_error: 1, malformed: 1 });
  });

  it('the OAuth endpoints issue and refresh tokens', async () => {
    await sim.close();
    sim = await startSimulator({ users: [{ email: 'a@b.c', password: 'pw' }] });
    const grant = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&email=a%40b.c&password=pw',
    });
    const token = (await grant.json()) as { access_token: string; refresh_token: string; expires_in: number };
    expect(token.expires_in).toBe(604_800);
    expect((await get('/production_orders', token.access_token)).status).toBe(200);
    const refreshed = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: token.refresh_token }),
    });
    expect(refreshed.status).toBe(200);
  });
});
