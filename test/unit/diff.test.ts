import { describe, expect, it } from 'vitest';
import { detectChanges, detectRemoval, firstSight } from '../../functions/core/diff.js';
import type { Order } from '../../functions/core/order.js';
import { isWatched, snapshotOf } from '../../functions/core/snapshot.js';
import { clone, stage, types, validated, vendorOrder } from '../helpers/orders.js';

const at = { detectedAt: '2026-11-27T10:15:00.000Z' };

/** Diffs `after` against a snapshot of `before` (with a sequence of 4 so far). */
const diff = (before: Order, after: Order, seq = 4) => {
  const result = detectChanges(snapshotOf(before, seq), after, at);
  validated(result.events);
  return result;
};

type Case = {
  name: string;
  mutate: (o: Order) => void;
  expected: string[];
  check?: (events: ReturnType<typeof diff>['events']) => void;
};

describe('diff rules on the vendor example orders', () => {
  const cases: Case[] = [
    { name: 'no change gives no event', mutate: () => {}, expected: [] },
    {
      name: 'only updated_at moved: no event',
      mutate: (o) => {
        o.updatedAt = '2025-05-01T00:00:00.000+01:00';
      },
      expected: [],
    },
    {
      name: 'status confirmed → complete',
      mutate: (o) => {
        o.status = 'complete';
      },
      expected: ['OrderStatusChanged'],
      check: (events) =>
        expect(events[0]?.detail).toMatchObject({ change: { from: 'confirmed', to: 'complete' } }),
    },
    {
      name: 'delivery receiving → all_received also gives OrderAllReceived, after the change',
      mutate: (o) => {
        o.deliveryStatus = 'all_received';
      },
      expected: ['OrderDeliveryStatusChanged', 'OrderAllReceived'],
      check: (events) =>
        expect(events[0]?.detail).toMatchObject({ change: { from: 'receiving', to: 'all_received' } }),
    },
    {
      name: 'delivery receiving → not_received gives only the change',
      mutate: (o) => {
        o.deliveryStatus = 'not_received';
      },
      expected: ['OrderDeliveryStatusChanged'],
    },
    {
      name: 'due date null → a date',
      mutate: (o) => {
        o.dueDate = '2025-06-30';
      },
      expected: ['OrderDueDateChanged'],
      check: (events) =>
        expect(events[0]?.detail).toMatchObject({ change: { from: null, to: '2025-06-30' } }),
    },
    {
      name: 'an unknown status passes through normalised',
      mutate: (o) => {
        o.status = 'on_hold';
      },
      expected: ['OrderStatusChanged'],
      check: (events) => expect(events[0]?.detail).toMatchObject({ change: { to: 'on_hold' } }),
    },
    {
      name: 'several changes: stage events, due date, delivery, status; sequence runs on',
      mutate: (o) => {
        o.status = 'complete';
        o.deliveryStatus = 'all_received';
        o.dueDate = '2025-06-30';
      },
      expected: [
        'OrderDueDateChanged',
        'OrderDeliveryStatusChanged',
        'OrderAllReceived',
        'OrderStatusChanged',
      ],
      check: (events) => expect(events.map((e) => e.detail.sequence)).toEqual([5, 6, 7, 8]),
    },
  ];
  it.each(cases)('1307: $name', ({ mutate, expected, check }) => {
    const before = vendorOrder('1307');
    const after = clone(before);
    mutate(after);
    const { events } = diff(before, after);
    expect(types(events)).toEqual(expected);
    check?.(events);
  });

  it('a skipped transition (draft straight to complete) is one change with the real from and to', () => {
    const before = vendorOrder('1311');
    before.status = 'draft';
    const after = clone(before);
    after.status = 'complete';
    const { events } = diff(before, after);
    expect(types(events)).toEqual(['OrderStatusChanged']);
    expect(events[0]?.detail).toMatchObject({ change: { from: 'draft', to: 'complete' } });
  });
});

describe('stage rules', () => {
  const packingDone = (o: Order) => {
    const item = o.lineItems[0]!;
    item.stages[2] = stage('Packing', 'completed', '2025-04-26T18:08:22.000Z', '2025-04-27T09:00:00.000Z');
  };

  it('1308 (COMPLETE, all received, still in Packing): Packing completing is reported', () => {
    const before = vendorOrder('1308');
    expect(before.status).toBe('complete');
    expect(isWatched(snapshotOf(before, 0))).toBe(true);
    const after = clone(before);
    packingDone(after);
    const { events, snapshot } = diff(before, after);
    expect(types(events)).toEqual(['StageCompleted']);
    expect(events[0]?.detail).toMatchObject({
      lineItem: {
        id: 141953,
        productId: 111591,
        productName: '3465O-3206 - Tie Frt V Neck Blouse',
        color: 'Lt. Peach',
      },
      stage: { name: 'Packing', status: 'completed', startTime: '2025-04-26T18:08:22.000Z' },
      order: {
        number: '1308',
        companyName: 'Tribal Sportswear Inc.',
        status: 'complete',
        deliveryStatus: 'all_received',
      },
    });
    expect(isWatched(snapshot)).toBe(false);
  });

  it('several stages completed between two polls: one event each, oldest first (not the API listing order)', () => {
    const before = vendorOrder('1308');
    before.lineItems[0]!.stages = [];
    const after = vendorOrder('1308');
    packingDone(after);
    const { events } = diff(before, after);
    // The vendor lists Cutting (25 April) before Sewing (24 April): time decides, not the listing.
    expect(events.map((e) => (e.detailType === 'StageCompleted' ? e.detail.stage.name : ''))).toEqual([
      'Sewing',
      'Cutting',
      'Packing',
    ]);
  });

  it('compares times across offsets as instants (the timeline example mixes +05:30 and Z)', () => {
    const before = vendorOrder('1307');
    before.lineItems = [{ id: 1, productId: 2, productName: 'Tia Tank Dress', color: 'Black', stages: [] }];
    const after = clone(before);
    after.lineItems[0]!.stages = [
      stage('Packing', 'completed', '2025-03-28T18:23:15.000+05:30', '2025-03-28T18:30:00.000+05:30'),
      stage('Sewing', 'completed', '2025-03-28T12:53:07.000Z', '2025-03-28T12:53:10.000Z'),
    ];
    const { events } = diff(before, after);
    // 18:23:15+05:30 is 12:53:15Z: after Sewing's 12:53:07Z, although its wall-clock time reads later.
    expect(events.map((e) => (e.detailType === 'StageCompleted' ? e.detail.stage.name : ''))).toEqual([
      'Sewing',
      'Packing',
    ]);
  });

  it('equal or missing times fall back to the API order', () => {
    const before = vendorOrder('1307');
    before.lineItems = [{ id: 1, productId: 2, productName: 'x', color: null, stages: [] }];
    const after = clone(before);
    after.lineItems[0]!.stages = [stage('B', 'completed'), stage('A', 'completed')];
    expect(types(diff(before, after).events)).toEqual(['StageCompleted', 'StageCompleted']);
    expect(
      diff(before, after).events.map((e) => (e.detail as { stage: { name: string } }).stage.name),
    ).toEqual(['B', 'A']);
  });

  it('StageStarted when a stage is in progress now and was neither in progress nor completed', () => {
    const before = vendorOrder('1308');
    before.lineItems[0]!.stages[2] = stage('Packing', 'not_started');
    const after = vendorOrder('1308');
    const { events } = diff(before, after);
    expect(types(events)).toEqual(['StageStarted']);
    expect(events[0]?.detail).toMatchObject({
      stage: { name: 'Packing', status: 'in_progress', endTime: null },
    });
  });

  it('a stage still in progress gives nothing; completed straight from unseen gives only StageCompleted', () => {
    const before = vendorOrder('1308');
    expect(diff(before, clone(before)).events).toEqual([]);
    const fresh = clone(before);
    fresh.lineItems[0]!.stages = fresh.lineItems[0]!.stages.slice(0, 2);
    const after = clone(before);
    packingDone(after);
    expect(types(diff(fresh, after).events)).toEqual(['StageCompleted']);
  });

  it('a line item added after the baseline reports its stages; one removed neither crashes nor emits', () => {
    const before = vendorOrder('1308');
    const added = clone(before);
    added.lineItems.push({
      id: 999,
      productId: 5,
      productName: 'New',
      color: 'Red',
      stages: [stage('Cutting', 'in_progress', '2025-04-27T10:00:00.000Z')],
    });
    const grow = diff(before, added);
    expect(types(grow.events)).toEqual(['StageStarted']);
    expect(grow.events[0]?.detail).toMatchObject({ lineItem: { id: 999 } });
    const shrink = diff(added, before);
    expect(shrink.events).toEqual([]);
    expect(Object.keys(shrink.snapshot.stages)).toEqual(['141953']);
  });

  it('a stage done twice (same name) is told apart by time', () => {
    const before = vendorOrder('1307');
    before.lineItems = [
      {
        id: 1,
        productId: 2,
        productName: 'x',
        color: null,
        stages: [stage('QC', 'completed', '2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z')],
      },
    ];
    const after = clone(before);
    after.lineItems[0]!.stages.push(stage('QC', 'in_progress', '2025-01-02T00:00:00Z'));
    const { events } = diff(before, after);
    expect(types(events)).toEqual(['StageStarted']);
  });
});

describe('eventId and sequence', () => {
  it('the same detection gives the same ids; A→B→A→B gives four different ids', () => {
    const a = vendorOrder('1307');
    const b = clone(a);
    b.status = 'complete';
    expect(diff(a, b).events[0]?.detail.eventId).toBe(diff(a, b).events[0]?.detail.eventId);
    let snapshot = snapshotOf(a, 0);
    const ids: string[] = [];
    for (const next of [b, a, b, a]) {
      const result = detectChanges(snapshot, next, at);
      ids.push(...result.events.map((e) => e.detail.eventId));
      snapshot = result.snapshot;
    }
    expect(new Set(ids).size).toBe(4);
    expect(snapshot.seq).toBe(4);
  });

  it('the context (names, updatedAt, detection time) does not change the id', () => {
    const a = vendorOrder('1307');
    const b = clone(a);
    b.status = 'complete';
    const c = clone(b);
    c.companyName = 'Renamed';
    c.updatedAt = 'later';
    const one = detectChanges(snapshotOf(a, 2), b, at).events[0]!;
    const two = detectChanges(snapshotOf(a, 2), c, { detectedAt: '2030-01-01T00:00:00.000Z' }).events[0]!;
    expect(two.detail.eventId).toBe(one.detail.eventId);
    expect(detectChanges(snapshotOf(a, 3), b, at).events[0]?.detail.eventId).not.toBe(one.detail.eventId);
  });
});

describe('first sight, baseline and removal', () => {
  it('silent during the baseline; OrderCreated after it, with no stage events for stages already under way', () => {
    const order = vendorOrder('1308');
    expect(firstSight(order, { ...at, emit: false }).events).toEqual([]);
    const seen = firstSight(order, { ...at, emit: true });
    expect(types(validated(seen.events))).toEqual(['OrderCreated']);
    expect(seen.events[0]?.detail).toMatchObject({
      sequence: 1,
      order: { id: 23621, number: '1308', dueDate: null },
    });
    expect(seen.snapshot.seq).toBe(1);
  });

  it('OrderRemoved carries the last snapshot; a later reappearance continues the sequence', () => {
    const order = vendorOrder('1311');
    const removal = detectRemoval(snapshotOf(order, 6), at);
    expect(types(validated(removal.events))).toEqual(['OrderRemoved']);
    expect(removal.events[0]?.detail).toMatchObject({
      sequence: 7,
      order: { id: 23670, number: '1311', companyName: 'Adine Undone' },
    });
    expect(isWatched(removal.snapshot)).toBe(false);
    const back = detectChanges(removal.snapshot, order, at);
    expect(types(back.events)).toEqual(['OrderCreated']);
    expect(back.events[0]?.detail.sequence).toBe(8);
  });
});

describe('snapshot', () => {
  it('an order with 200 line items of 5 stages stays far below DynamoDB’s 400 KB item limit', () => {
    const order = vendorOrder('1308');
    order.lineItems = Array.from({ length: 200 }, (_, i) => ({
      id: 100_000 + i,
      productId: 1,
      productName: 'A fairly long product name - Tie Front V Neck Blouse',
      color: 'Lt. Peach',
      stages: ['Cutting', 'Sewing', 'Embroidery', 'Finishing', 'Packing'].map((name) =>
        stage(name, 'completed', '2025-04-24T18:08:29.000Z', '2025-04-24T18:08:32.000Z'),
      ),
    }));
    const bytes = JSON.stringify(snapshotOf(order, 1)).length;
    expect(bytes).toBeLessThan(40_000);
  });
});
