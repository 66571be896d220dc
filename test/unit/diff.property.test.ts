import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectChanges, firstSight } from '../../functions/core/diff.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { validateEvent } from '../../functions/core/events/catalogue.js';
import type { Order } from '../../functions/core/order.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { keyedStages } from '../../functions/core/snapshot.js';

/**
 * Random order histories: statuses, delivery statuses and due dates change arbitrarily; stages only move
 * forward (not started → in progress → completed), as production does. Polls happen at random points.
 */
const STATUSES = ['draft', 'confirmed', 'complete', 'cancelled', 'on_hold'];
const DELIVERIES = ['not_received', 'receiving', 'all_received', null];
const DUES = [null, '2026-01-01', '2026-02-15'];
const PLAN = ['Cutting', 'Sewing', 'Finishing', 'Packing'];

type Step =
  | { kind: 'status'; value: string }
  | { kind: 'delivery'; value: string | null }
  | { kind: 'due'; value: string | null }
  | { kind: 'advance'; item: number }
  | { kind: 'poll' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('status' as const), value: fc.constantFrom(...STATUSES) }),
  fc.record({ kind: fc.constant('delivery' as const), value: fc.constantFrom(...DELIVERIES) }),
  fc.record({ kind: fc.constant('due' as const), value: fc.constantFrom(...DUES) }),
  fc.record({ kind: fc.constant('advance' as const), item: fc.nat(2) }),
  fc.record({ kind: fc.constant('advance' as const), item: fc.nat(2) }),
  fc.constant({ kind: 'poll' as const }),
);

const initialOrder = (items: number): Order => ({
  id: 42,
  number: '1042',
  status: 'confirmed',
  deliveryStatus: 'not_received',
  companyId: 1,
  companyName: 'Bolide',
  seasonId: 1,
  dueDate: null,
  updatedAt: null,
  createdAt: null,
  lineItems: Array.from({ length: items }, (_, i) => ({
    id: 100 + i,
    productId: 1,
    productName: 'Tee',
    color: 'Black',
    stages: [{ name: 'Cutting', status: 'not_started', startTime: null, endTime: null }],
  })),
});

let clock = 0;
const tick = () => new Date(Date.UTC(2026, 0, 1) + ++clock * 60_000).toISOString();

const apply = (order: Order, step: Step): void => {
  if (step.kind === 'status') order.status = step.value;
  if (step.kind === 'delivery') order.deliveryStatus = step.value;
  if (step.kind === 'due') order.dueDate = step.value;
  if (step.kind === 'advance') {
    const item = order.lineItems[step.item % order.lineItems.length]!;
    const current = item.stages[item.stages.length - 1]!;
    if (current.status === 'not_started') {
      current.status = 'in_progress';
      current.startTime = tick();
    } else if (current.status === 'in_progress') {
      current.status = 'completed';
      current.endTime = tick();
      const next = PLAN[item.stages.length];
      if (next) item.stages.push({ name: next, status: 'not_started', startTime: null, endTime: null });
    }
  }
};

/** What the events let a consumer know: statuses, and each stage that was started or completed. */
interface View {
  status: string;
  deliveryStatus: string | null;
  dueDate: string | null;
  stages: Record<string, string>;
}

const viewOf = (order: Order): View => {
  const stages: Record<string, string> = {};
  for (const item of order.lineItems) {
    for (const { key, stage } of keyedStages(item)) {
      if (stage.status !== 'not_started') stages[`${item.id}/${key}`] = stage.status;
    }
  }
  return { status: order.status, deliveryStatus: order.deliveryStatus, dueDate: order.dueDate, stages };
};

const replay = (view: View, event: NotifierEvent): void => {
  const d = event.detail;
  switch (event.detailType) {
    case 'OrderStatusChanged':
      expect(event.detail.change.from).toBe(view.status);
      view.status = event.detail.change.to;
      break;
    case 'OrderDeliveryStatusChanged':
      expect(event.detail.change.from).toBe(view.deliveryStatus);
      view.deliveryStatus = event.detail.change.to;
      break;
    case 'OrderDueDateChanged':
      expect(event.detail.change.from).toBe(view.dueDate);
      view.dueDate = event.detail.change.to;
      break;
    case 'StageStarted':
    case 'StageCompleted': {
      const e = event.detail;
      view.stages[`${e.lineItem.id}/${e.stage.name}`] = e.stage.status;
      break;
    }
    case 'OrderAllReceived':
      expect(d.order.deliveryStatus).toBe('all_received');
      break;
    default:
      throw new Error(`unexpected ${event.detailType}`);
  }
};

const run = (items: number, steps: Step[]) => {
  clock = 0;
  const order = initialOrder(items);
  let snapshot: Snapshot = firstSight(order, { detectedAt: tick(), emit: false }).snapshot;
  const view = viewOf(order);
  const events: NotifierEvent[] = [];
  const polls: Array<{ events: NotifierEvent[]; changed: boolean }> = [];
  let lastPolled = JSON.stringify(viewOf(order));
  for (const step of [...steps, { kind: 'poll' } as Step]) {
    if (step.kind !== 'poll') {
      apply(order, step);
      continue;
    }
    const result = detectChanges(snapshot, structuredClone(order), { detectedAt: tick() });
    const now = JSON.stringify(viewOf(order));
    polls.push({ events: result.events, changed: now !== lastPolled });
    lastPolled = now;
    for (const event of result.events) {
      validateEvent(event);
      replay(view, event);
    }
    events.push(...result.events);
    snapshot = result.snapshot;
  }
  return { order, view, events, polls };
};

describe('change detection over random histories', () => {
  const history = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.array(stepArb, { maxLength: 40 }));

  it('replaying the emitted events rebuilds the final observed state', () => {
    fc.assert(
      fc.property(history, ([items, steps]) => {
        const { order, view } = run(items, steps);
        expect(view).toEqual(viewOf(order));
      }),
      { numRuns: 300 },
    );
  });

  it('a poll with no change emits nothing; a poll with a change emits something', () => {
    fc.assert(
      fc.property(history, ([items, steps]) => {
        for (const poll of run(items, steps).polls) expect(poll.events.length > 0).toBe(poll.changed);
      }),
      { numRuns: 300 },
    );
  });

  it('the same history gives the same eventIds; sequences run 1, 2, 3… without gaps; ids are unique', () => {
    fc.assert(
      fc.property(history, ([items, steps]) => {
        const first = run(items, steps).events;
        const second = run(items, steps).events;
        expect(second.map((e) => e.detail.eventId)).toEqual(first.map((e) => e.detail.eventId));
        expect(first.map((e) => e.detail.sequence)).toEqual(first.map((_, i) => i + 1));
        expect(new Set(first.map((e) => e.detail.eventId)).size).toBe(first.length);
      }),
      { numRuns: 200 },
    );
  });
});
