import type { Milestones } from './milestones.js';
import type { LineItem, Order, OrderRef, Stage } from './order.js';
import { awaitsDelivery, orderRef } from './order.js';
import type { SignalMemory } from './signal-memory.js';
import { instant } from './time.js';
import { CLOSED_STATUSES, STAGE_COMPLETED } from './vocabulary.js';

/**
 * What is kept of an order between polls: the event context (`order`), the per-order sequence counter and
 * each line item's stage statuses in one-letter codes, the production signals' memory (docs/contract.md section 1b:
 * what fired, and the start times of the stages in progress) and when the order's milestones were detected
 * (milestones.ts, for the digest). An order with 200 line items of 5 stages
 * stays around 25 KB, far below DynamoDB's 400 KB item limit.
 */
const SNAPSHOT_FORMAT = 1 as const;

export interface Snapshot extends SignalMemory, Milestones {
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

const encodeStatus = (status: string): string => CODES[status] ?? `~${status}`;
export const decodeStatus = (code: string): string => WORDS[code] ?? code.slice(1);

/** A stage with the identity it keeps across polls and its position in the API's listing. */
export interface KeyedStage {
  key: string;
  stage: Stage;
  apiIndex: number;
  /** Start and end as epoch ms (null when absent), parsed once: sorting compares them often. */
  start: number | null;
  end: number | null;
}

/**
 * Compares stages by time (start, then end) as instants across offsets; where times are equal or missing
 * the API's order decides.
 */
export const compareStageTime = (a: KeyedStage, b: KeyedStage): number => {
  if (a.start !== null && b.start !== null && a.start !== b.start) return a.start - b.start;
  if (a.end !== null && b.end !== null && a.end !== b.end) return a.end - b.end;
  return a.apiIndex - b.apiIndex;
};

/**
 * Gives each stage of a line item a key that survives polls: its name, and for a name that occurs more
 * than once (a stage redone), `name#2`, `name#3` in time order.
 */
export const keyedStages = (item: LineItem, baseIndex = 0): KeyedStage[] => {
  const ordered = item.stages
    .map((stage, index) => ({
      key: '',
      stage,
      apiIndex: baseIndex + index,
      start: instant(stage.startTime),
      end: instant(stage.endTime),
    }))
    .sort(compareStageTime);
  const seen = new Map<string, number>();
  for (const entry of ordered) {
    const count = (seen.get(entry.stage.name) ?? 0) + 1;
    seen.set(entry.stage.name, count);
    entry.key = count === 1 ? entry.stage.name : `${entry.stage.name}#${count}`;
  }
  return ordered;
};

/** Each line item's stages with their keys, in time order (computed once per diff). */
export const keyedLineItems = (order: Order): KeyedStage[][] =>
  order.lineItems.map((item, index) => keyedStages(item, index * 10_000));

export const stageMap = (order: Order, keyed: KeyedStage[][] = keyedLineItems(order)): Snapshot['stages'] => {
  const stages: Snapshot['stages'] = {};
  order.lineItems.forEach((item, index) => {
    const codes: Record<string, string> = {};
    for (const { key, stage } of keyed[index] ?? []) codes[key] = encodeStatus(stage.status);
    stages[String(item.id)] = codes;
  });
  return stages;
};

export const snapshotOf = (
  order: Order,
  seq: number,
  keyed?: KeyedStage[][],
  memory: SignalMemory & Milestones = {},
): Snapshot => ({
  v: SNAPSHOT_FORMAT,
  seq,
  order: orderRef(order),
  stages: stageMap(order, keyed),
  ...memory,
});

/**
 * Whether the order still needs polling: it is open (not complete or cancelled, unknown statuses count as
 * open), or it awaits delivery (not all received and not cancelled: the due-date signals), or one of its
 * stages is not completed yet (a complete order can still be in Packing).
 */
export const isWatched = (snapshot: Snapshot): boolean => {
  if (snapshot.removed) return false;
  if (!CLOSED_STATUSES.has(snapshot.order.status) || awaitsDelivery(snapshot.order)) return true;
  const done = encodeStatus(STAGE_COMPLETED);
  return Object.values(snapshot.stages).some((codes) => Object.values(codes).some((code) => code !== done));
};

const sameRecord = <T>(a: Record<string, T>, b: Record<string, T>): boolean => {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
};

const sameList = (a: string[] | undefined, b: string[] | undefined): boolean => {
  if ((a?.length ?? 0) !== (b?.length ?? 0)) return false;
  return (a ?? []).every((value, index) => value === b?.[index]);
};

const sameNested = <T>(
  a: Record<string, Record<string, T>> | undefined,
  b: Record<string, Record<string, T>> | undefined,
): boolean => {
  const x = a ?? {};
  const y = b ?? {};
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const key of keys) {
    const other = y[key];
    if (!other || !sameRecord(x[key] as Record<string, T>, other)) return false;
  }
  return true;
};

/** Structural equality, used to write only the snapshots that changed (hot: runs for every order). */
export const sameSnapshot = (a: Snapshot, b: Snapshot): boolean => {
  if (a.v !== b.v || a.seq !== b.seq || Boolean(a.removed) !== Boolean(b.removed)) return false;
  if (a.sig !== b.sig || a.dueSoon !== b.dueSoon || a.overdue !== b.overdue) return false;
  if (a.atRisk !== b.atRisk || a.fc !== b.fc) return false;
  if (!sameList(a.rolledUp, b.rolledUp) || !sameList(a.stalled, b.stalled)) return false;
  if (!sameNested(a.starts, b.starts)) return false;
  if (a.receivedSeen !== b.receivedSeen || !sameRecord(a.rolledUpSeen ?? {}, b.rolledUpSeen ?? {}))
    return false;
  const x = a.order;
  const y = b.order;
  if (
    x.id !== y.id ||
    x.number !== y.number ||
    x.status !== y.status ||
    x.deliveryStatus !== y.deliveryStatus ||
    x.companyId !== y.companyId ||
    x.companyName !== y.companyName ||
    x.seasonId !== y.seasonId ||
    x.dueDate !== y.dueDate ||
    x.updatedAt !== y.updatedAt
  ) {
    return false;
  }
  return sameNested(a.stages, b.stages);
};
