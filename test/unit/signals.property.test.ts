import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectChanges, firstSight } from '../../functions/core/diff.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import type { LineItem, Order } from '../../functions/core/order.js';
import { DEFAULT_SIGNAL_SETTINGS, nextSignalAt } from '../../functions/core/signals.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { validated } from '../helpers/orders.js';

/**
 * A year of simulated days over random orders: each day a few random changes (stages start, complete,
 * reopen or restart, line items are added, the due date moves, deliveries arrive, the order is cancelled
 * or comes back), then one poll at a random hour. A reference model, written directly from docs/contract.md section 1b's
 * wording, says when each signal's condition turns true for a new arming; the core must emit each signal
 * exactly then: once per arming, never twice, never missed.
 */
const DAY = 86_400_000;
const YEAR_START = Date.UTC(2026, 0, 1);
const PLAN = ['Cutting', 'Sewing', 'Packing'];
const SETTINGS = {
  ...DEFAULT_SIGNAL_SETTINGS,
  dueSoonDays: 5,
  stallDays: 6,
  stallDaysByStage: { Packing: 3 },
};

type Op =
  | { kind: 'advance'; item: number }
  | { kind: 'reopen'; item: number }
  | { kind: 'restart'; item: number }
  | { kind: 'add' }
  | { kind: 'due'; offset: number | null }
  | { kind: 'delivery'; value: string }
  | { kind: 'status'; value: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('advance' as const), item: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), item: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), item: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'add' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('due' as const),
      offset: fc.option(fc.integer({ min: -10, max: 40 }), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delivery' as const),
      value: fc.constantFrom('not_received', 'receiving', 'all_received'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('status' as const),
      value: fc.constantFrom('confirmed', 'complete', 'cancelled'),
    }),
  },
);

/** Per day: its changes, and the hour and minute of the poll. */
const dayArb = fc.record({ ops: fc.array(opArb, { maxLength: 2 }), minute: fc.nat(24 * 60 - 1) });

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const newItem = (id: number): LineItem => ({
  id,
  productId: 1,
  productName: 'Tee',
  color: 'Black',
  stages: PLAN.map((name) => ({ name, status: 'not_started', startTime: null, endTime: null })),
});

const apply = (order: Order, op: Op, now: number): void => {
  const item = 'item' in op ? order.lineItems[op.item % order.lineItems.length] : undefined;
  const at = new Date(now).toISOString();
  if (op.kind === 'advance' && item) {
    const current = item.stages.find((s) => s.status !== 'completed');
    if (current?.status === 'not_started') Object.assign(current, { status: 'in_progress', startTime: at });
    else if (current) Object.assign(current, { status: 'completed', endTime: at });
  } else if (op.kind === 'reopen' && item) {
    const done = item.stages.filter((s) => s.status === 'completed').at(-1);
    const next = item.stages.find((s) => s.status !== 'completed');
    if (done && next?.status !== 'in_progress') Object.assign(done, { status: 'in_progress', endTime: null });
  } else if (op.kind === 'restart' && item) {
    const running = item.stages.find((s) => s.status === 'in_progress');
    if (running) running.startTime = at;
  } else if (op.kind === 'add') {
    order.lineItems.push(newItem(100 + order.lineItems.length));
  } else if (op.kind === 'due') {
    order.dueDate = op.offset === null ? null : isoDay(now + op.offset * DAY);
  } else if (op.kind === 'delivery') {
    order.deliveryStatus = op.value;
  } else if (op.kind === 'status') {
    order.status = op.value;
  }
};

/** The reference model's conditions at an instant (UTC calendar days). */
const conditions = (order: Order, now: number) => {
  const today = Math.floor(now / DAY);
  const rolled = new Set<string>();
  for (const name of PLAN) {
    const having = order.lineItems.filter((li) =>
      li.stages.some((s) => (s.name === name && s.status !== 'not_started') || s.name === name),
    );
    if (
      having.length > 0 &&
      having.every((li) => li.stages.filter((s) => s.name === name).every((s) => s.status === 'completed'))
    ) {
      rolled.add(name);
    }
  }
  const stalls = new Map<string, boolean>();
  for (const li of order.lineItems) {
    for (const s of li.stages) {
      if (s.startTime === null) continue;
      const limit = SETTINGS.stallDaysByStage[s.name as 'Packing'] ?? SETTINGS.stallDays;
      const days = today - Math.floor(Date.parse(s.startTime) / DAY);
      stalls.set(`${li.id}/${s.name}/${s.startTime}`, s.status === 'in_progress' && days > limit);
    }
  }
  const watching = order.deliveryStatus !== 'all_received' && order.status !== 'cancelled';
  const left = order.dueDate === null ? null : Date.parse(order.dueDate) / DAY - today;
  return {
    rolled,
    stalls,
    soon: watching && left !== null && left >= 0 && left <= SETTINGS.dueSoonDays,
    over: watching && left !== null && left < 0,
  };
};

const identity = (event: NotifierEvent): string | null => {
  switch (event.detailType) {
    case 'OrderStageCompleted':
      return `OrderStageCompleted ${event.detail.stage.name}`;
    case 'OrderDueSoon':
    case 'OrderOverdue':
      return `${event.detailType} ${event.detail.due.date}`;
    case 'StageStalled':
      return `StageStalled ${event.detail.lineItem.id}/${event.detail.stage.name}/${event.detail.stage.startTime}`;
    default:
      return null;
  }
};

describe('production signals over a year of simulated days (property)', () => {
  it('each signal fires exactly once per arming, as the reference model says', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.integer({ min: -5, max: 60 }), { nil: null }),
        fc.array(dayArb, { minLength: 365, maxLength: 365 }),
        (items, dueOffset, days) => {
          const order: Order = {
            id: 7,
            number: '2037',
            status: 'confirmed',
            deliveryStatus: 'not_received',
            companyId: null,
            companyName: null,
            seasonId: null,
            dueDate: dueOffset === null ? null : isoDay(YEAR_START + dueOffset * DAY),
            updatedAt: null,
            createdAt: null,
            lineItems: Array.from({ length: items }, (_, i) => newItem(100 + i)),
          };
          const start = YEAR_START + 12 * 3_600_000;
          let snapshot: Snapshot = firstSight(structuredClone(order), {
            detectedAt: new Date(start).toISOString(),
            signals: SETTINGS,
            emit: false,
          }).snapshot;
          let previous = conditions(order, start);
          let previousDue = order.dueDate;
          // Armings already used: due signals per due date run, stalls per key while listed.
          let soonUsed = previous.soon;
          let overUsed = previous.over;
          let stallUsed = new Set([...previous.stalls].filter(([, on]) => on).map(([key]) => key));
          let seq = 0;
          days.forEach((day, index) => {
            const now = YEAR_START + (index + 1) * DAY + day.minute * 60_000;
            for (const op of day.ops) apply(order, op, now - 60_000);
            const current = conditions(order, now);
            if (order.dueDate !== previousDue) {
              soonUsed = false;
              overUsed = false;
            }
            const expected: string[] = [];
            for (const name of current.rolled)
              if (!previous.rolled.has(name)) expected.push(`OrderStageCompleted ${name}`);
            const stillListed = new Set<string>();
            for (const [key, on] of current.stalls) {
              if (stallUsed.has(key)) stillListed.add(key);
              if (on && !stallUsed.has(key)) {
                expected.push(`StageStalled ${key}`);
                stillListed.add(key);
              }
            }
            stallUsed = stillListed;
            if (current.soon && !soonUsed) expected.push(`OrderDueSoon ${order.dueDate}`);
            if (current.over && !overUsed) expected.push(`OrderOverdue ${order.dueDate}`);
            soonUsed ||= current.soon;
            overUsed ||= current.over;

            const next = nextSignalAt(snapshot, SETTINGS);
            const result = detectChanges(snapshot, structuredClone(order), {
              detectedAt: new Date(now).toISOString(),
              signals: SETTINGS,
            });
            validated(result.events);
            for (const event of result.events) expect(event.detail.sequence).toBe(++seq);
            const fired = result.events.map(identity).filter((id): id is string => id !== null);
            expect(fired.sort()).toEqual(expected.sort());
            // nextSignalAt never promises later than a time-based signal that fires without an order change.
            const timeBased = fired.filter((id) => !id.startsWith('OrderStageCompleted'));
            if (day.ops.length === 0 && timeBased.length > 0) expect(next).not.toBeNull();
            if (day.ops.length === 0 && timeBased.length > 0) expect(next as number).toBeLessThanOrEqual(now);
            if (day.ops.length === 0 && timeBased.length === 0 && next !== null)
              expect(next).toBeGreaterThan(now);
            snapshot = result.snapshot;
            previous = current;
            previousDue = order.dueDate;
          });
        },
      ),
      { numRuns: 12, seed: 11 },
    );
  }, 20_000);
});
