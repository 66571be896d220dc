import { eventIdOf } from './event-id.js';
import type { NotifierEvent } from './events/catalogue.js';
import { SCHEMA_VERSION } from './events/catalogue.js';
import type { LineItem, Order, OrderRef, Stage } from './order.js';
import { orderRef } from './order.js';
import type { KeyedStage, Snapshot } from './snapshot.js';
import { compareStageTime, decodeStatus, keyedLineItems, snapshotOf } from './snapshot.js';
import { ALL_RECEIVED, STAGE_COMPLETED, STAGE_IN_PROGRESS } from './vocabulary.js';

export interface DetectOptions {
  /** ISO instant of detection: the core has no clock, time is passed in. */
  detectedAt: string;
}

export interface Detection {
  events: NotifierEvent[];
  snapshot: Snapshot;
}

/** Pending change before it gets a sequence number and an id. */
type Change =
  | { detailType: 'OrderCreated' | 'OrderAllReceived' | 'OrderRemoved'; extra: Record<string, never> }
  | {
      detailType: 'OrderStatusChanged' | 'OrderDeliveryStatusChanged' | 'OrderDueDateChanged';
      extra: { change: { from: string | null; to: string | null } };
    }
  | {
      detailType: 'StageStarted' | 'StageCompleted';
      extra: { lineItem: ReturnType<typeof lineItemBlock>; stage: Stage; stageKey: string };
    };

const lineItemBlock = (item: LineItem) => ({
  id: item.id,
  productId: item.productId,
  productName: item.productName,
  color: item.color,
});

/** Numbers the changes from the snapshot's sequence and derives their stable ids. */
const toEvents = (
  order: OrderRef,
  fromSeq: number,
  changes: Change[],
  options: DetectOptions,
): { events: NotifierEvent[]; seq: number } => {
  let seq = fromSeq;
  const events = changes.map((change): NotifierEvent => {
    seq += 1;
    const { stageKey, ...extra } = change.extra as Record<string, unknown> & { stageKey?: string };
    // The id covers what changed, not the context (updatedAt, names), so a re-detection keeps its id.
    const identity =
      stageKey === undefined
        ? (extra.change ?? null)
        : {
            lineItem: (extra.lineItem as { id: number }).id,
            stage: stageKey,
            status: (extra.stage as Stage).status,
          };
    const detail = {
      schemaVersion: SCHEMA_VERSION,
      eventId: eventIdOf(order.id, seq, change.detailType, identity),
      sequence: seq,
      detectedAt: options.detectedAt,
      order: orderRef(order),
      ...extra,
    };
    return { detailType: change.detailType, detail } as NotifierEvent;
  });
  return { events, seq };
};

const simple = (detailType: 'OrderCreated' | 'OrderAllReceived' | 'OrderRemoved'): Change => ({
  detailType,
  extra: {},
});

const valueChange = (
  detailType: 'OrderStatusChanged' | 'OrderDeliveryStatusChanged' | 'OrderDueDateChanged',
  from: string | null,
  to: string | null,
): Change => ({ detailType, extra: { change: { from, to } } });

/** Stage changes of every line item, oldest first across the order. */
const stageChanges = (previous: Snapshot['stages'], order: Order, keyedItems: KeyedStage[][]): Change[] => {
  const found: Array<{ keyed: KeyedStage; item: LineItem; detailType: 'StageStarted' | 'StageCompleted' }> =
    [];
  order.lineItems.forEach((item, itemIndex) => {
    // A line item absent from the snapshot was added since: its stages are compared with nothing.
    const before = previous[String(item.id)] ?? {};
    for (const keyed of keyedItems[itemIndex] ?? []) {
      const was = before[keyed.key] === undefined ? undefined : decodeStatus(before[keyed.key] as string);
      const now = keyed.stage.status;
      if (now === STAGE_COMPLETED && was !== STAGE_COMPLETED) {
        found.push({ keyed, item, detailType: 'StageCompleted' });
      } else if (now === STAGE_IN_PROGRESS && was !== STAGE_IN_PROGRESS && was !== STAGE_COMPLETED) {
        found.push({ keyed, item, detailType: 'StageStarted' });
      }
    }
  });
  found.sort((a, b) => compareStageTime(a.keyed, b.keyed));
  return found.map(({ keyed, item, detailType }) => ({
    detailType,
    extra: { lineItem: lineItemBlock(item), stage: { ...keyed.stage }, stageKey: keyed.key },
  }));
};

/**
 * Diffs a freshly fetched order against its snapshot. Stage events come first (oldest first), then the
 * order-level changes: due date, delivery status (with OrderAllReceived), status.
 */
export const detectChanges = (previous: Snapshot, order: Order, options: DetectOptions): Detection => {
  const changes: Change[] = [];
  const keyed = keyedLineItems(order);
  if (previous.removed) {
    // Gone and back again: treat as a new sighting, keeping the sequence running.
    changes.push(simple('OrderCreated'));
  } else {
    changes.push(...stageChanges(previous.stages, order, keyed));
    const before = previous.order;
    if (before.dueDate !== order.dueDate) {
      changes.push(valueChange('OrderDueDateChanged', before.dueDate, order.dueDate));
    }
    if (before.deliveryStatus !== order.deliveryStatus) {
      changes.push(valueChange('OrderDeliveryStatusChanged', before.deliveryStatus, order.deliveryStatus));
      if (order.deliveryStatus === ALL_RECEIVED) changes.push(simple('OrderAllReceived'));
    }
    if (before.status !== order.status) {
      changes.push(valueChange('OrderStatusChanged', before.status, order.status));
    }
  }
  const { events, seq } = toEvents(order, previous.seq, changes, options);
  return { events, snapshot: snapshotOf(order, seq, keyed) };
};

/**
 * The first sight of an order. During the baseline it is recorded silently unless `emit` is set; after the
 * baseline it gives OrderCreated. Stages already started or completed give no stage events.
 */
export const firstSight = (order: Order, options: DetectOptions & { emit: boolean }): Detection => {
  if (!options.emit) return { events: [], snapshot: snapshotOf(order, 0) };
  const { events, seq } = toEvents(order, 0, [simple('OrderCreated')], options);
  return { events, snapshot: snapshotOf(order, seq) };
};

/** An order confirmed gone: OrderRemoved with the last snapshot's order block, and a tombstone. */
export const detectRemoval = (previous: Snapshot, options: DetectOptions): Detection => {
  const { events, seq } = toEvents(previous.order, previous.seq, [simple('OrderRemoved')], options);
  return { events, snapshot: { ...previous, seq, stages: {}, removed: true } };
};
