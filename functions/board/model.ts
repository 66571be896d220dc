import type { StageKnowledge } from '../core/history.js';
import type { DueState, ForecastState, OrderStatus } from '../core/order-status.js';
import { isCompleted, seasonOf, statusOf, supplierOf } from '../core/order-status.js';
import type { SignalSettings } from '../core/signals.js';
import type { Snapshot } from '../core/snapshot.js';
import { orderStages } from '../core/stage-sequence.js';

/** What the board page shows, built from snapshots and a clock: no I/O, no HTML. */
export interface StageProgress {
  name: string;
  /** Line items that have passed (completed) this stage, out of those that have it. */
  passed: number;
  total: number;
  /** The longest stall of this stage on the order, if any. */
  stalled: { days: number; limitDays: number; lineItems: number } | null;
}

export interface Card {
  orderId: number;
  number: string;
  supplier: string;
  season: string;
  dueDate: string | null;
  due: DueState;
  deliveryStatus: string | null;
  status: string;
  lineItems: number;
  stages: StageProgress[];
  /** When production is forecast to complete, from the account's stage history; null: no forecast. */
  forecast: ForecastState | null;
}

type ColumnKind = 'stage' | 'receiving' | 'received';

export interface Column {
  name: string;
  kind: ColumnKind;
  cards: Card[];
}

export interface BoardModel {
  generatedAt: string;
  timeZone: string;
  columns: Column[];
  suppliers: string[];
  seasons: string[];
  orders: number;
  overdue: number;
  dueSoon: number;
  atRisk: number;
  stalled: number;
}

const RECEIVING = 'Receiving';
const RECEIVED = 'Received';

/** Per line item, stage name -> completed (a stage redone counts as passed only when every run is). */
const passedByName = (status: OrderStatus): Array<Map<string, boolean>> =>
  status.lineItems.map((item) => {
    const passed = new Map<string, boolean>();
    for (const stage of item.stages)
      passed.set(stage.name, (passed.get(stage.name) ?? true) && isCompleted(stage));
    return passed;
  });

const progressOf = (status: OrderStatus, order: string[]): StageProgress[] => {
  const items = passedByName(status);
  return order.flatMap((name) => {
    const having = items.filter((m) => m.has(name));
    if (having.length === 0) return [];
    const stalls = status.stalls.filter((s) => s.stage === name);
    const worst = stalls.reduce((a, b) => (b.days > a.days ? b : a), stalls[0] ?? { days: 0, limitDays: 0 });
    return [
      {
        name,
        passed: having.filter((m) => m.get(name)).length,
        total: having.length,
        stalled:
          stalls.length > 0
            ? {
                days: worst.days,
                limitDays: worst.limitDays,
                lineItems: new Set(stalls.map((s) => s.lineItemId)).size,
              }
            : null,
      },
    ];
  });
};

/** The column of an order: the first unfinished stage of its least advanced line item. */
const columnOf = (status: OrderStatus, order: string[]): string => {
  let least = Number.POSITIVE_INFINITY;
  for (const passed of passedByName(status)) {
    const at = order.findIndex((name) => passed.get(name) === false);
    if (at >= 0 && at < least) least = at;
  }
  const stage = Number.isFinite(least) ? order[least] : undefined;
  return stage ?? (status.received ? RECEIVED : RECEIVING);
};

/** Overdue first, then at risk, then due soon, then by days left. */
const urgency = ({ due, forecast }: Pick<Card, 'due' | 'forecast'>): number =>
  forecast?.atRisk && due.kind !== 'overdue'
    ? -750 + ('days' in due ? due.days : 0)
    : due.kind === 'overdue'
      ? -1000 - due.days
      : due.kind === 'soon'
        ? due.days - 500
        : due.kind === 'later'
          ? due.days
          : 1e6;

/**
 * The board of a state: its snapshots, and the stage history for the forecasts and, where the line items
 * do not tell, the order of the columns (core/stage-sequence.ts, as the signals order stages).
 */
export const buildBoard = (
  snapshots: Iterable<Snapshot>,
  now: number,
  settings: SignalSettings,
  knowledge?: StageKnowledge,
): BoardModel => {
  const statuses = [...snapshots].map((s) => statusOf(s, now, settings, knowledge)).filter((s) => s.onBoard);
  const order = orderStages(
    statuses.flatMap((s) => s.lineItems.map((item) => item.stages.map((st) => st.name))),
    knowledge ? (a, b) => knowledge.before(a, b) : undefined,
  );
  const columns: Column[] = [
    ...order.map((name) => ({ name, kind: 'stage' as const, cards: [] as Card[] })),
    { name: RECEIVING, kind: 'receiving', cards: [] },
    { name: RECEIVED, kind: 'received', cards: [] },
  ];
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const status of statuses) {
    const card: Card = {
      orderId: status.order.id,
      number: status.order.number,
      supplier: supplierOf(status),
      season: seasonOf(status),
      dueDate: status.order.dueDate,
      due: status.due,
      deliveryStatus: status.order.deliveryStatus,
      status: status.order.status,
      lineItems: status.lineItems.length,
      stages: progressOf(status, order),
      forecast: status.forecast,
    };
    byName.get(columnOf(status, order))?.cards.push(card);
  }
  for (const column of columns) {
    column.cards.sort(
      (a, b) => urgency(a) - urgency(b) || a.number.localeCompare(b.number, 'en', { numeric: true }),
    );
  }
  const cards = columns.flatMap((c) => c.cards);
  const sorted = (values: string[]) =>
    [...new Set(values)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return {
    generatedAt: new Date(now).toISOString(),
    timeZone: settings.timeZone,
    columns,
    suppliers: sorted(cards.map((c) => c.supplier)),
    seasons: sorted(cards.map((c) => c.season)),
    orders: cards.length,
    overdue: cards.filter((c) => c.due.kind === 'overdue').length,
    dueSoon: cards.filter((c) => c.due.kind === 'soon').length,
    atRisk: cards.filter((c) => c.forecast?.atRisk).length,
    stalled: cards.filter((c) => c.stages.some((s) => s.stalled)).length,
  };
};
