import { dayNumber } from './calendar.js';
import type { ForecastView } from './forecast.js';
import { forecastStagesOfSnapshot, forecastView } from './forecast.js';
import type { StageKnowledge } from './history.js';
import type { OrderRef } from './order.js';
import { stageNameOf } from './order.js';
import type { SignalSettings } from './signals.js';
import { dueStanding, riskStanding, stallLimit } from './signals.js';
import type { Snapshot } from './snapshot.js';
import { decodeStatus, isWatched } from './snapshot.js';
import { ALL_RECEIVED, STAGE_COMPLETED, STAGE_IN_PROGRESS } from './vocabulary.js';

/**
 * The ONE place where the board and the digest read snapshots. Everything else works on `OrderStatus`.
 * Reads: `order` (number, supplier, season, due date, statuses, updatedAt), `stages` (per line item, stage
 * key -> status code, in time order), `removed`, `starts` (line item -> stage key -> epoch ms: the start of a
 * stage in progress, recorded by the production signals) and the milestones' detection times
 * (`rolledUpSeen`, `receivedSeen`). The due-soon, overdue and stalled rules are those of docs/contract.md
 * section 1b, the forecast and at-risk rule that of section 1c (with the account's stage history).
 */
export interface StageState {
  /** Key in the snapshot: the name, or `name#2` for a stage redone. */
  key: string;
  name: string;
  status: string;
  /** Epoch ms, where the snapshot records it (stages in progress). */
  startMs: number | null;
}

interface LineItemState {
  id: string;
  stages: StageState[];
}

export type DueState =
  | { kind: 'overdue'; date: string; days: number }
  | { kind: 'soon'; date: string; days: number }
  | { kind: 'later'; date: string; days: number }
  | { kind: 'none'; date: string | null };

interface Stall {
  lineItemId: string;
  stage: string;
  days: number;
  limitDays: number;
}

/** The forecast completion (core/forecast.ts) and, with a due date, how late it is and whether at risk. */
export interface ForecastState {
  view: ForecastView;
  lateDays: number | null;
  atRisk: boolean;
}

export interface OrderStatus {
  order: OrderRef;
  lineItems: LineItemState[];
  due: DueState;
  stalls: Stall[];
  /** Null without the stage history, with too little of it, or with production done. */
  forecast: ForecastState | null;
  /** Whether the board shows it: not removed, not cancelled, still watched or awaiting delivery. */
  onBoard: boolean;
  received: boolean;
  /** When the notifier detected each order-level stage completion (OrderStageCompleted), epoch ms. */
  completionsSeen: Array<{ stage: string; seenMs: number }>;
  /** When the notifier detected the order all received (OrderAllReceived), epoch ms. */
  receivedSeenMs: number | null;
}

const dueOf = (order: OrderRef, today: number, settings: SignalSettings): DueState => {
  const standing = dueStanding(order, today, settings);
  if (order.dueDate === null || standing === null) return { kind: 'none', date: order.dueDate };
  const days = standing.kind === 'overdue' ? -standing.left : standing.left;
  return { kind: standing.kind, date: order.dueDate, days };
};

/** The forecast of a snapshot's order seen at `now` (the same rule as OrderAtRisk's). */
const forecastOf = (
  snapshot: Snapshot,
  now: number,
  today: number,
  settings: SignalSettings,
  knowledge: StageKnowledge | undefined,
): ForecastState | null => {
  if (!knowledge || snapshot.removed) return null;
  const view = forecastView(
    forecastStagesOfSnapshot(snapshot),
    snapshot.order.companyId,
    now,
    settings.timeZone,
    knowledge,
  );
  if (!view) return null;
  const risk = riskStanding(snapshot.order, view, today, settings);
  return { view, lateDays: risk?.lateDays ?? null, atRisk: risk?.atRisk ?? false };
};

export const statusOf = (
  snapshot: Snapshot,
  now: number,
  settings: SignalSettings,
  knowledge?: StageKnowledge,
): OrderStatus => {
  const starts = snapshot.starts ?? {};
  const today = dayNumber(now, settings.timeZone);
  const stalls: Stall[] = [];
  const lineItems = Object.entries(snapshot.stages).map(([id, codes]) => ({
    id,
    stages: Object.entries(codes).map(([key, code]) => {
      const name = stageNameOf(key);
      const status = decodeStatus(code);
      const startMs = starts[id]?.[key] ?? null;
      const limitDays = stallLimit(settings, name);
      if (status === STAGE_IN_PROGRESS && startMs !== null && limitDays > 0) {
        const days = today - dayNumber(startMs, settings.timeZone);
        if (days > limitDays) stalls.push({ lineItemId: id, stage: name, days, limitDays });
      }
      return { key, name, status, startMs };
    }),
  }));
  const order = snapshot.order;
  const received = order.deliveryStatus === ALL_RECEIVED;
  return {
    order,
    lineItems,
    due: dueOf(order, today, settings),
    stalls,
    forecast: forecastOf(snapshot, now, today, settings, knowledge),
    onBoard: !snapshot.removed && order.status !== 'cancelled' && (isWatched(snapshot) || !received),
    received,
    completionsSeen: Object.entries(snapshot.rolledUpSeen ?? {}).map(([stage, seenMs]) => ({
      stage,
      seenMs,
    })),
    receivedSeenMs: snapshot.receivedSeen ?? null,
  };
};

export const isCompleted = (stage: StageState): boolean => stage.status === STAGE_COMPLETED;

/** The supplier and season an order is listed under, the same on the board and in the digest. */
export const supplierOf = (status: OrderStatus): string => status.order.companyName ?? 'Unknown supplier';
export const seasonOf = (status: OrderStatus): string =>
  status.order.seasonId === null ? 'No season' : `Season ${status.order.seasonId}`;
