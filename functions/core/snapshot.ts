import type { LineItem, Order, OrderRef, Stage } from './order.js';
import { orderRef } from './order.js';
import { instant } from './time.js';
import { CLOSED_STATUSES, STAGE_COMPLETED } from './vocabulary.js';

/**
 * What is kept of an order between polls: the event context (`order`), the per-order sequence counter and
 * each line item's stage statuses in one-letter codes. An order with 200 line items of 5 stages stays
 * around 20 KB, far below DynamoDB's 400 KB item limit.
 */
export const SNAPSHOT_FORMAT = 1 as const;

export interface Snapshot {
  v: typeof SNAPSHOT_FORMAT;
  /** Last sequence number used for this order's events (0 before any). */
  seq: number;
  order: OrderRef;
  /** lineItemId -> stageKey -> status code */
  stages: Record<string, Record<string, string>>;
  /** A tombstone: the order was confirmed gone; kept so that sequences never restart. */
  removed?: true;
}

const CODES: Record<string, string> = { not_started: 'n', in_progress: 'p', completed: 'c' };
const WORDS: Record<string, string> = { n: 'not_started', p: 'in_progress', c: 'completed' };

export const encodeStatus = (status: string): string => CODES[status] ?? `~${status}`;
export const decodeStatus = (code: string): string => WORDS[code] ?? code.slice(1);

/** A stage with the identity it keeps across polls and its position in the API's listing. */
export interface KeyedStage {
  key: string;
  stage: Stage;
  apiIndex: number;
}

/**
 * Compares stages by time (start, then end) as instants across offsets; where times are equal or missing
 * the API's order decides.
 */
export const compareStageTime = (a: KeyedStage, b: KeyedStage): number => {
  const aStart = instant(a.stage.startTime);
  const bStart = instant(b.stage.startTime);
  if (aStart !== null && bStart !== null && aStart !== bStart) return aStart - bStart;
  const aEnd = instant(a.stage.endTime);
  const bEnd = instant(b.stage.endTime);
  if (aEnd !== null && bEnd !== null && aEnd !== bEnd) return aEnd - bEnd;
  return a.apiIndex - b.apiIndex;
};

/**
 * Gives each stage of a line item a key that survives polls: its name, and for a name that occurs more
 * than once (a stage redone), `name#2`, `name#3` in time order.
 */
export const keyedStages = (item: LineItem, baseIndex = 0): KeyedStage[] => {
  const ordered = item.stages
    .map((stage, index) => ({ key: '', stage, apiIndex: baseIndex + index }))
    .sort(compareStageTime);
  const seen = new Map<string, number>();
  for (const entry of ordered) {
    const count = (seen.get(entry.stage.name) ?? 0) + 1;
    seen.set(entry.stage.name, count);
    entry.key = count === 1 ? entry.stage.name : `${entry.stage.name}#${count}`;
  }
  return ordered;
};

export const stageMap = (order: Order): Snapshot['stages'] => {
  const stages: Snapshot['stages'] = {};
  for (const item of order.lineItems) {
    const codes: Record<string, string> = {};
    for (const { key, stage } of keyedStages(item)) codes[key] = encodeStatus(stage.status);
    stages[String(item.id)] = codes;
  }
  return stages;
};

export const snapshotOf = (order: Order, seq: number): Snapshot => ({
  v: SNAPSHOT_FORMAT,
  seq,
  order: orderRef(order),
  stages: stageMap(order),
});

/**
 * Whether the order still needs polling: it is open (not complete or cancelled, unknown statuses count as
 * open) or one of its stages is not completed yet (a complete order can still be in Packing).
 */
export const isWatched = (snapshot: Snapshot): boolean => {
  if (snapshot.removed) return false;
  if (!CLOSED_STATUSES.has(snapshot.order.status)) return true;
  const done = encodeStatus(STAGE_COMPLETED);
  return Object.values(snapshot.stages).some((codes) => Object.values(codes).some((code) => code !== done));
};

/** Structural equality, used to write only the snapshots that changed. */
export const sameSnapshot = (a: Snapshot, b: Snapshot): boolean => JSON.stringify(a) === JSON.stringify(b);
