import type { OrderRef } from '../core/order.js';
import type { Snapshot } from '../core/snapshot.js';
import { decodeStatus, isWatched } from '../core/snapshot.js';
import { ALL_RECEIVED, STAGE_COMPLETED, STAGE_IN_PROGRESS } from '../core/vocabulary.js';
import type { BoardSettings } from './settings.js';

/**
 * The ONE place where the board and the digest read snapshots. Everything else works on `OrderStatus`.
 * Reads: `order` (number, supplier, season, due date, statuses, updatedAt), `stages` (per line item, stage
 * key -> status code, in time order), `removed`, `starts` (line item -> stage key -> epoch ms: the start of a
 * stage in progress, recorded by the production signals) and the milestones' detection times
 * (`rolledUpSeen`, `receivedSeen`). The due-soon, overdue and stalled rules are those of docs/contract.md section 1b.
 */
export interface StageState {
  /** Key in the snapshot: the name, or `name#2` for a stage redone. */
  key: string;
  name: string;
  status: string;
  /** Epoch ms, where the snapshot records it (stages in progress). */
  startMs: number | null;
}

export interface LineItemState {
  id: string;
  stages: StageState[];
}

export type DueState =
  | { kind: 'overdue'; date: string; days: number }
  | { kind: 'soon'; date: string; days: number }
  | { kind: 'later'; date: string; days: number }
  | { kind: 'none'; date: string | null };

export interface Stall {
  lineItemId: string;
  stage: string;
  days: number;
  limitDays: number;
}

export interface OrderStatus {
  order: OrderRef;
  lineItems: LineItemState[];
  due: DueState;
  stalls: Stall[];
  /** Whether the board shows it: not removed, not cancelled, still watched or awaiting delivery. */
  onBoard: boolean;
  received: boolean;
  /** When the notifier detected each order-level stage completion (OrderStageCompleted), epoch ms. */
  completionsSeen: Array<{ stage: string; seenMs: number }>;
  /** When the notifier detected the order all received (OrderAllReceived), epoch ms. */
  receivedSeenMs: number | null;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (days since 1970-01-01) of an instant in a time zone. */
export const dayNumber = (ms: number, timeZone: string): number => {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)) / DAY_MS;
};

const dayOfIsoDate = (date: string | null): number | null => {
  const match = date === null ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS : null;
};

export const stageNameOf = (key: string): string => key.replace(/#\d+$/, '');

const dueOf = (order: OrderRef, today: number, settings: BoardSettings): DueState => {
  const day = dayOfIsoDate(order.dueDate);
  if (order.dueDate === null || day === null) return { kind: 'none', date: order.dueDate };
  const left = day - today;
  const awaiting = order.deliveryStatus !== ALL_RECEIVED && order.status !== 'cancelled';
  if (awaiting && left < 0) return { kind: 'overdue', date: order.dueDate, days: -left };
  if (awaiting && settings.dueSoonDays > 0 && left <= settings.dueSoonDays)
    return { kind: 'soon', date: order.dueDate, days: left };
  return { kind: 'later', date: order.dueDate, days: left };
};

export const statusOf = (snapshot: Snapshot, now: number, settings: BoardSettings): OrderStatus => {
  const starts = snapshot.starts ?? {};
  const today = dayNumber(now, settings.timeZone);
  const stalls: Stall[] = [];
  const lineItems = Object.entries(snapshot.stages).map(([id, codes]) => ({
    id,
    stages: Object.entries(codes).map(([key, code]) => {
      const name = stageNameOf(key);
      const status = decodeStatus(code);
      const startMs = starts[id]?.[key] ?? null;
      const limitDays = settings.stallDaysByStage[name] ?? settings.stallDays;
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
