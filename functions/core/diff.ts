import { eventIdOf } from './event-id.js';
import type { NotifierEvent } from './events/catalogue.js';
import { SCHEMA_VERSION } from './events/catalogue.js';
import type { StageKnowledge } from './history.js';
import { nextMilestones } from './milestones.js';
import type { LineItem, Order, OrderRef, Stage } from './order.js';
import { orderRef } from './order.js';
import type { SignalMemory } from './signal-memory.js';
import { signalMemoryOf } from './signal-memory.js';
import type { SignalChange, SignalSettings } from './signals.js';
import { evaluateSignals } from './signals.js';
import type { KeyedStage, Snapshot } from './snapshot.js';
import { compareStageTime, decodeStatus, keyedLineItems, snapshotOf } from './snapshot.js';
import { ALL_RECEIVED, STAGE_COMPLETED, STAGE_IN_PROGRESS } from './vocabulary.js';

export interface DetectOptions {
  /** ISO instant of detection: the core has no clock, time is passed in. */
  detectedAt: string;
  /** The cycle's clock (epoch ms) for the production signals; defaults to `detectedAt`. */
  now?: number;
  /**
   * The production signals' settings (docs/contract.md section 1b). Without them no signal is evaluated and the signal
   * memory of the snapshot is carried over as it was.
   */
  signals?: SignalSettings;
  /**
   * The account's stage history (docs/contract.md section 1c): the order's stage sequence where its line
   * items do not tell, and the forecast. Without it there is no OrderAtRisk.
   */
  history?: StageKnowledge;
}

export interface Detection {
  events: NotifierEvent[];
  snapshot: Snapshot;
  /** The fetched order's stages with their keys, in time order (empty for a removal). */
  keyed: KeyedStage[][];
}

type LineItemRef = ReturnType<typeof lineItemBlock>;

/** Pending change before it gets a sequence number and an id; `identity` is what the eventId covers. */
type Change =
  | { detailType: 'OrderCreated' | 'OrderAllReceived' | 'OrderRemoved'; extra: Record<string, never> }
  | {
      detailType: 'OrderStatusChanged' | 'OrderDeliveryStatusChanged' | 'OrderDueDateChanged';
      extra: { change: { from: string | null; to: string | null } };
    }
  | {
      detailType: 'StageStarted' | 'StageCompleted';
      extra: { lineItem: LineItemRef; stage: Stage };
      identity: { lineItem: number; stage: string; status: string };
    }
  | {
      detailType: 'OrderStageCompleted';
      extra: {
        stage: { name: string; completedAt: string | null };
        lineItems: { total: number; completed: number };
      };
      identity: { stage: string };
    }
  | {
      detailType: 'OrderDueSoon' | 'OrderOverdue';
      extra: { due: { date: string; days: number } };
      identity: { due: string };
    }
  | {
      detailType: 'OrderAtRisk';
      extra: { due: { date: string; days: number }; forecast: AtRiskForecast };
      identity: { due: string };
    }
  | {
      detailType: 'StageStalled';
      extra: { lineItem: LineItemRef; stage: Stage; stalled: { days: number; limitDays: number } };
      identity: { lineItem: number; stage: string; startTime: string | null };
    };

interface AtRiskForecast {
  date: string;
  lateDays: number;
  basis: { source: 'supplier' | 'account'; samples: number };
  stage: { name: string; expectedDays: number; startTime: string | null };
}

const DAY_MS = 86_400_000;

const lineItemBlock = (item: LineItem) => ({
  id: item.id,
  productId: item.productId,
  productName: item.productName,
  color: item.color,
});

/** The part of a change its eventId covers: what changed, not the context (updatedAt, names, day counts). */
const identityOf = (change: Change): unknown => {
  if ('identity' in change) return change.identity;
  if ('change' in change.extra) return change.extra.change;
  return null;
};

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
    const detail = {
      schemaVersion: SCHEMA_VERSION,
      eventId: eventIdOf(order.id, seq, change.detailType, identityOf(change)),
      sequence: seq,
      detectedAt: options.detectedAt,
      order: orderRef(order),
      ...change.extra,
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

/** A production signal (signals.ts) as a change of this order. */
const signalChange = (signal: SignalChange, order: Order): Change => {
  switch (signal.detailType) {
    case 'OrderStageCompleted':
      return {
        detailType: signal.detailType,
        extra: {
          stage: { name: signal.name, completedAt: signal.completedAt },
          lineItems: { total: signal.total, completed: signal.completed },
        },
        identity: { stage: signal.name },
      };
    case 'OrderDueSoon':
    case 'OrderOverdue':
      return {
        detailType: signal.detailType,
        extra: { due: { date: signal.date, days: signal.days } },
        identity: { due: signal.date },
      };
    case 'OrderAtRisk': {
      const { forecast } = signal;
      return {
        detailType: signal.detailType,
        extra: {
          due: { date: signal.date, days: signal.days },
          forecast: {
            date: forecast.date,
            lateDays: signal.lateDays,
            basis: { ...forecast.basis },
            stage: {
              name: forecast.stage.name,
              expectedDays: Math.round((forecast.stage.expectedMs / DAY_MS) * 10) / 10,
              startTime: forecast.stage.startTime,
            },
          },
        },
        identity: { due: signal.date },
      };
    }
    case 'StageStalled': {
      const item = order.lineItems[signal.lineItemIndex] as LineItem;
      return {
        detailType: signal.detailType,
        extra: {
          lineItem: lineItemBlock(item),
          stage: signal.stage,
          stalled: { days: signal.days, limitDays: signal.limitDays },
        },
        identity: { lineItem: item.id, stage: signal.stageKey, startTime: signal.stage.startTime },
      };
    }
  }
};

/** Evaluates the signals when settings are given; otherwise keeps the previous memory untouched. */
const signalsOf = (
  previous: SignalMemory,
  order: Order,
  keyed: KeyedStage[][],
  options: DetectOptions,
  silent: boolean,
): { changes: Change[]; memory: SignalMemory } => {
  if (!options.signals) return { changes: [], memory: signalMemoryOf(previous) };
  const now = options.now ?? Date.parse(options.detectedAt);
  const result = evaluateSignals(previous, order, keyed, now, options.signals, silent, options.history);
  return { changes: result.changes.map((c) => signalChange(c, order)), memory: result.memory };
};

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
    extra: { lineItem: lineItemBlock(item), stage: { ...keyed.stage } },
    identity: { lineItem: item.id, stage: keyed.key, status: keyed.stage.status },
  }));
};

/**
 * Diffs a freshly fetched order against its snapshot. Stage events come first (oldest first), then the
 * order-level changes: due date, delivery status (with OrderAllReceived), status; then the production
 * signals: OrderStageCompleted (oldest first), StageStalled, OrderDueSoon, OrderOverdue, OrderAtRisk.
 */
export const detectChanges = (previous: Snapshot, order: Order, options: DetectOptions): Detection => {
  const changes: Change[] = [];
  const keyed = keyedLineItems(order);
  if (previous.removed) {
    // Gone and back again: treat as a new sighting, keeping the sequence running.
    changes.push(simple('OrderCreated'));
    const signals = signalsOf({}, order, keyed, options, true);
    const { events, seq } = toEvents(order, previous.seq, changes, options);
    return { events, snapshot: snapshotOf(order, seq, keyed, signals.memory), keyed };
  }
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
  const signals = signalsOf(previous, order, keyed, options, false);
  changes.push(...signals.changes);
  const milestones = nextMilestones(
    previous,
    {
      rolledUp: options.signals ? (signals.memory.rolledUp ?? []) : null,
      firedStages: signals.changes.flatMap((c) =>
        c.detailType === 'OrderStageCompleted' ? [c.extra.stage.name] : [],
      ),
      allReceived: order.deliveryStatus === ALL_RECEIVED,
      receivedFired: changes.some((c) => c.detailType === 'OrderAllReceived'),
    },
    Date.parse(options.detectedAt),
  );
  const { events, seq } = toEvents(order, previous.seq, changes, options);
  return { events, snapshot: snapshotOf(order, seq, keyed, { ...signals.memory, ...milestones }), keyed };
};

/**
 * The first sight of an order. During the baseline it is recorded silently unless `emit` is set; after the
 * baseline it gives OrderCreated. Stages already started or completed give no stage events, and signal
 * conditions already true are recorded as fired, without events.
 */
export const firstSight = (order: Order, options: DetectOptions & { emit: boolean }): Detection => {
  const keyed = keyedLineItems(order);
  const { memory } = signalsOf({}, order, keyed, options, true);
  if (!options.emit) return { events: [], snapshot: snapshotOf(order, 0, keyed, memory), keyed };
  const { events, seq } = toEvents(order, 0, [simple('OrderCreated')], options);
  return { events, snapshot: snapshotOf(order, seq, keyed, memory), keyed };
};

/** An order confirmed gone: OrderRemoved with the last snapshot's order block, and a tombstone. */
export const detectRemoval = (previous: Snapshot, options: DetectOptions): Detection => {
  const { events, seq } = toEvents(previous.order, previous.seq, [simple('OrderRemoved')], options);
  return {
    events,
    snapshot: { v: previous.v, seq, order: previous.order, stages: {}, removed: true },
    keyed: [],
  };
};
