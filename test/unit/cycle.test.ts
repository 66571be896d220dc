import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../functions/adapters/file/state-store.js';
import type { CycleStep } from '../../functions/cycle/commit.js';
import type { CycleReport } from '../../functions/cycle/cycle.js';
import { LeaseLostError } from '../../functions/cycle/errors.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { SimOrder } from '../../simulator/model.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { hasWorkLeft } from '../../simulator/state.js';
import { notifierFor, tempStatePath } from '../helpers/harness.js';
import { types } from '../helpers/orders.js';

let sim: RunningSimulator;

const watchedOrders = (): SimOrder[] =>
  [...sim.state.orders.values()].filter(
    (o) => ['DRAFT', 'CONFIRMED'].includes(o.raw.status) && o.lineItems.some(hasWorkLeft),
  );

/** A burst of changes of every kind, on watched and unwatched orders. */
const changeEverything = () => {
  const [a, b, c] = watchedOrders();
  sim.state.advanceStage(a!.raw.id);
  sim.state.advanceStage(a!.raw.id);
  sim.state.setDeliveryStatus(b!.raw.id, 'all_received');
  sim.state.setDueDate(b!.raw.id, '2027-03-01');
  sim.state.setStatus(c!.raw.id, 'cancelled');
  sim.state.advanceStage(23621); // 1308: complete, all received, Packing still in progress
  sim.state.delete(23670);
  sim.state.create(
    generateOrders({ count: 1, firstId: 95_000, firstNumber: 9_500, watchedShare: 1, seed: 11 })[0]!,
  );
};

beforeEach(async () => {
  sim = await startSimulator({
    orders: [...vendorExampleOrders(), ...generateOrders({ count: 140, seed: 21, watchedShare: 0.4 })],
  });
});
afterEach(async () => {
  await sim.close();
});

describe('baseline', () => {
  it('the first run on an empty state records every order and emits nothing', async () => {
    const n = notifierFor(sim);
    const report = await n.run();
    expect(report).toMatchObject({ baseline: true, events: 0, snapshotsWritten: 143, outcome: 'completed' });
    expect(n.memory.published).toEqual([]);
    expect((await n.snapshots()).size).toBe(143);
  });

  it('a cycle in which nothing changed emits nothing and writes nothing', async () => {
    const path = tempStatePath();
    const n = notifierFor(sim, { store: new FileStateStore(path) });
    await n.run();
    await n.run();
    const before = readFileSync(path, 'utf8');
    const report = await n.run();
    expect(report).toMatchObject({ events: 0, snapshotsWritten: 0, lookups: 0 });
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('with emitBaseline, every existing order gives OrderCreated', async () => {
    const n = notifierFor(sim);
    const report = await n.run({ emitBaseline: true });
    expect(report.events).toBe(143);
    expect(new Set(types(n.memory.published))).toEqual(new Set(['OrderCreated']));
  });

  it('a baseline cut short by the budget resumes where it stopped and stays silent', async () => {
    const n = notifierFor(sim);
    const first = await n.run({ budgetMs: 0 });
    expect(first).toMatchObject({ outcome: 'budget-exhausted', baseline: true, ordersScanned: 50 });
    sim.resetCounts();
    const second = await n.run();
    expect(second).toMatchObject({ outcome: 'completed', baseline: true, ordersScanned: 93, events: 0 });
    expect(sim.requests.map((r) => r.query)).toEqual([
      '?page=2&include_stages=true',
      '?page=3&include_stages=true',
    ]);
    expect(n.memory.published).toEqual([]);
  });
});

describe('incremental cycles', () => {
  it('reports every kind of change once, with the contract’s guarantees', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    changeEverything();
    const report = await n.run();
    expect(report.outcome).toBe('completed');
    expect(new Set(types(n.memory.published))).toEqual(
      new Set([
        'StageStarted',
        'StageCompleted',
        'OrderDeliveryStatusChanged',
        'OrderAllReceived',
        'OrderDueDateChanged',
        'OrderStatusChanged',
        'OrderRemoved',
        'OrderCreated',
      ]),
    );
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
    // Nothing more to say on the next cycle.
    const quiet = await n.run();
    expect(quiet.events).toBe(0);
  });

  it('costs the watched set, not the account: three queries and look-ups only for orders that left', async () => {
    const n = notifierFor(sim);
    await n.run();
    sim.resetCounts();
    await n.run();
    // open (2 pages at 40% of 143), pending-closed (1), undelivered-complete (1), new (1)
    expect(sim.counts['GET /production_orders']).toBeLessThanOrEqual(6);
    expect(sim.requests.some((r) => r.query.includes('by_q'))).toBe(false);
    const leaving = watchedOrders()[0]!;
    for (const item of leaving.lineItems)
      while (sim.state.advanceStage(leaving.raw.id, item.raw.id as number));
    sim.state.setStatus(leaving.raw.id, 'complete');
    sim.state.setDeliveryStatus(leaving.raw.id, 'all_received');
    sim.resetCounts();
    const report = await n.run();
    expect(report.lookups).toBe(1);
    expect(sim.requests.filter((r) => r.query.includes('by_q'))).toHaveLength(1);
    expect(n.memory.published.filter((e) => e.detail.order.id === leaving.raw.id).at(-1)).toMatchObject({
      detailType: 'OrderStatusChanged',
      detail: { change: { to: 'complete' } },
    });
    sim.resetCounts();
    expect((await n.run()).lookups).toBe(0);
  });

  it('if by_q does not match numbers, an order that left is still found (since_id probe), never wrongly removed', async () => {
    await sim.close();
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 140, seed: 21, watchedShare: 0.4 })],
      qMatchesNumbers: false,
    });
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    const leaving = watchedOrders()[0]!;
    for (const item of leaving.lineItems)
      while (sim.state.advanceStage(leaving.raw.id, item.raw.id as number));
    sim.state.setStatus(leaving.raw.id, 'cancelled');
    const gone = watchedOrders()[1]!;
    sim.state.delete(gone.raw.id);
    const report = await n.run();
    expect(report.removed).toBe(1);
    expect(
      n.memory.published.filter((e) => e.detailType === 'OrderRemoved').map((e) => e.detail.order.id),
    ).toEqual([gone.raw.id]);
    expect((await n.verify(from)).violations).toEqual([]);
  });

  it('an order hidden by a page shift is looked up, not removed; its change is still reported', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    const open = [...sim.state.orders.values()]
      .filter((o) => ['DRAFT', 'CONFIRMED'].includes(o.raw.status))
      .sort((a, b) => b.raw.id - a.raw.id);
    expect(open.length).toBeGreaterThan(50);
    // After the `new` query and page 1 of the open orders, an order on page 1 completes: page 2 shifts up.
    const onPage1 = open[3]!;
    let served = 0;
    const original = sim.faults.take.bind(sim.faults);
    sim.faults.take = (path: string) => {
      if (path === '/production_orders' && ++served === 3) sim.state.setStatus(onPage1.raw.id, 'complete');
      return original(path);
    };
    const report = await n.run();
    expect(report.lookups).toBeGreaterThanOrEqual(1);
    expect(report.removed).toBe(0);
    await n.run();
    expect((await n.verify(from)).violations).toEqual([]);
    expect(types(n.memory.published)).not.toContain('OrderRemoved');
  });

  it('a malformed order is skipped and reported, never removed; its change shows once it is readable', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    const target = watchedOrders()[0]!;
    sim.state.setMalformed(target.raw.id, true);
    sim.state.setStatus(target.raw.id, 'complete');
    const [other] = watchedOrders().filter((o) => o !== target);
    sim.state.setDueDate(other!.raw.id, '2027-01-01');
    const report = await n.run();
    expect(report.malformed).toBeGreaterThanOrEqual(1);
    expect(report.removed).toBe(0);
    expect(types(n.memory.published)).toEqual(['OrderDueDateChanged']);
    sim.state.setMalformed(target.raw.id, false);
    await n.run();
    expect((await n.verify(from)).violations).toEqual([]);
  });

  it('the reconciliation sweep catches a change on an order nobody watches, and removals', async () => {
    const n = notifierFor(sim);
    await n.run({ sweepIntervalMs: 3_600_000 });
    const from = sim.state.ledger.length;
    const closed = [...sim.state.orders.values()].find(
      (o) => o.raw.status === 'COMPLETE' && !o.lineItems.some(hasWorkLeft),
    )!;
    // All received and complete: unwatched, so only the sweep sees its due date move.
    sim.state.setDueDate(closed.raw.id, '2027-01-31');
    const gone = [...sim.state.orders.values()].find(
      (o) => o !== closed && o.raw.status === 'COMPLETE' && !o.lineItems.some(hasWorkLeft),
    )!;
    sim.state.delete(gone.raw.id);
    const before = await n.run({ sweepIntervalMs: 3_600_000 });
    expect(before.sweep).toBe('none');
    expect(before.events).toBe(0);
    n.clock.advance(3_600_000);
    const swept = await n.run({ sweepIntervalMs: 3_600_000 });
    expect(swept.sweep).toBe('complete');
    expect(types(n.memory.published).sort()).toEqual(['OrderDueDateChanged', 'OrderRemoved']);
    expect((await n.verify(from)).violations).toEqual([]);
  });

  it('a scan cut short by the budget concludes nothing about unseen orders and catches up next time', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    changeEverything();
    const short = await n.run({ budgetMs: 0 });
    expect(short.outcome).toBe('budget-exhausted');
    expect(short.removed).toBe(0);
    expect(short.lookups).toBe(0);
    await n.run();
    expect((await n.verify(from)).violations).toEqual([]);
  });
});

describe('failures', () => {
  const steps: CycleStep[] = [
    'lease-acquired',
    'recovered',
    'scanned',
    'journal-part-written',
    'journal-sealed',
    'state-written',
    'published',
    'journal-cleared',
  ];

  it.each(steps)(
    'killed at %s, then run again: nothing lost, duplicates share their eventId',
    async (step) => {
      const n = notifierFor(sim);
      await n.run();
      const from = sim.state.ledger.length;
      changeEverything();
      await n.runAndKill(step);
      await n.run();
      const check = await n.verify(from);
      expect(check.violations).toEqual([]);
      // The burst yields 9 distinct events on this seeded account, whatever the crash.
      expect(check.distinct).toBe(9);
      // Only a crash between publishing and deleting the journal re-emits (with the same eventIds).
      expect(check.duplicates > 0).toBe(step === 'published');
    },
  );

  it('killed after publishing while the order moves on: sequences continue without reuse or gaps', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    const target = watchedOrders()[0]!;
    sim.state.setStatus(target.raw.id, 'complete');
    await n.runAndKill('published');
    sim.state.setStatus(target.raw.id, 'cancelled');
    sim.state.setDueDate(target.raw.id, '2027-02-02');
    await n.run();
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    const mine = n.memory.published.filter((e) => e.detail.order.id === target.raw.id);
    expect([...new Set(mine.map((e) => `${e.detail.sequence}:${e.detailType}`))]).toEqual([
      '1:OrderStatusChanged',
      '2:OrderDueDateChanged',
      '3:OrderStatusChanged',
    ]);
  });

  it('a sink that refuses fails the cycle without committing; the next cycle delivers the same events', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    changeEverything();
    n.memory.failNext = 1;
    await expect(n.run()).rejects.toThrow('sink refused the batch');
    expect(n.memory.published).toEqual([]);
    const retry = await n.run();
    // The journal held the whole incremental pass; nothing is left to detect afresh.
    expect(retry.republished).toBe(9);
    expect(retry.events).toBe(0);
    expect((await n.verify(from)).violations).toEqual([]);
  });

  it('API storms (429 and 5xx) are ridden out or fail the cycle cleanly; nothing is lost', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    changeEverything();
    sim.faults.randomly({ seed: 5, rates: { rate_limit: 0.3, server_error: 0.3 }, retryAfter: '1' });
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(
        await n.run().then(
          (r) => r.outcome,
          (e: Error) => e.name,
        ),
      );
    }
    sim.faults.randomly(undefined);
    await n.run();
    expect(sim.faults.injected.rate_limit + sim.faults.injected.server_error).toBeGreaterThan(5);
    expect(outcomes).toContain('completed');
    expect((await n.verify(from)).violations).toEqual([]);
  });

  it('two overlapping cycles: the one that arrives second finds the lease held and leaves', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    changeEverything();
    let second: CycleReport | undefined;
    const first = await n.run({
      owner: 'runner-a',
      onStep: async (step) => {
        if (step === 'scanned') second = await n.run({ owner: 'runner-b' });
      },
    });
    expect(second?.outcome).toBe('lease-held');
    expect(second?.events).toBe(0);
    expect(first.outcome).toBe('completed');
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('a runner whose lease lapsed mid-cycle cannot commit; the new holder reports the changes once', async () => {
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    changeEverything();
    let takeover: CycleReport | undefined;
    const stale = n.run({
      owner: 'slow-runner',
      leaseTtlMs: 1_000,
      onStep: async (step) => {
        if (step === 'scanned') {
          n.clock.advance(2_000);
          takeover = await n.run({ owner: 'fresh-runner' });
        }
      },
    });
    await expect(stale).rejects.toThrow(LeaseLostError);
    expect(takeover?.outcome).toBe('completed');
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });
});

describe('file store', () => {
  it('of several processes racing for one state file’s lease, exactly one takes it', async () => {
    const path = tempStatePath();
    const stores = Array.from({ length: 6 }, () => new FileStateStore(path));
    const leases = await Promise.all(
      stores.map((s, i) => s.acquireLease({ owner: `runner-${i}`, nowMs: 1_000, ttlMs: 60_000 })),
    );
    expect(leases.filter((l) => l.kind === 'acquired')).toHaveLength(1);
  });
});
