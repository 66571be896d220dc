import { dayNumber, isoDateOfDay } from './calendar.js';
import type { Expected, StageKnowledge } from './history.js';
import { stageNameOf } from './order.js';
import type { Snapshot } from './snapshot.js';
import { decodeStatus, type KeyedStage } from './snapshot.js';
import { orderStages } from './stage-sequence.js';
import { STAGE_COMPLETED, STAGE_IN_PROGRESS } from './vocabulary.js';

/**
 * When production of an order completes, from the account's stage history (docs/contract.md section 1c).
 * A line item's forecast is what remains of its current stage (the expected duration less the time already
 * spent in it, at least zero) plus the expected duration of each stage still to come; the order's is its
 * latest line item. No clock: `now` is passed in.
 */

/** A line item's stage as the forecast reads it, in the line item's own (time) order. */
export interface ForecastStage {
  name: string;
  status: string;
  /** Epoch ms, where known. */
  startMs: number | null;
  /** The API's start time, with its offset (for the event), where known. */
  startTime?: string | null;
}

/**
 * One line item's completion as a function of time: max(fixedAt, t + growthMs). A stage in progress with a
 * start time ends at a fixed instant until it overruns; from then on (or always, for a stage not started or
 * without a start time) the completion moves with the clock.
 */
export interface ForecastPart {
  fixedAt: number | null;
  growthMs: number;
  /** The line item's current stage: what the forecast is waiting for. */
  stage: { name: string; expectedMs: number; startMs: number | null; startTime: string | null };
}

export interface OrderForecast {
  parts: ForecastPart[];
  /** `supplier` when every stage used the supplier's own durations; `samples`: the fewest behind any. */
  basis: { source: 'supplier' | 'account'; samples: number };
}

/** Longest route followed along the account's habits (a guard against a loop in odd data). */
const MAX_ROUTE = 20;

/** The order's stage sequence: its line items' sequences merged, then the account (stage-sequence.ts). */
const orderSequence = (lineItems: readonly ForecastStage[][], knowledge?: StageKnowledge): string[] =>
  orderStages(
    lineItems.map((stages) => stages.map((s) => s.name)),
    knowledge ? (a, b) => knowledge.before(a, b) : undefined,
  );

/**
 * The stages a line item still goes through after its current one: those it lists after it, then those
 * after them in the order's sequence, then, from the last, the stage that usually follows at this supplier
 * (else at the account) until the route ends.
 */
const routeAfter = (
  stages: readonly ForecastStage[],
  position: number,
  sequence: readonly string[],
  supplier: number | null,
  knowledge: StageKnowledge,
): string[] => {
  const current = stages[position] as ForecastStage;
  const visited = new Set(
    stages.filter((s, i) => i <= position || s.status === STAGE_COMPLETED).map((s) => s.name),
  );
  const route: string[] = [];
  const add = (name: string) => {
    if (visited.has(name)) return false;
    visited.add(name);
    route.push(name);
    return true;
  };
  for (const stage of stages.slice(position + 1)) if (stage.status !== STAGE_COMPLETED) add(stage.name);
  const last = route.at(-1) ?? current.name;
  for (const name of sequence.slice(sequence.indexOf(last) + 1)) add(name);
  let tail = route.at(-1) ?? current.name;
  for (let step = 0; step < MAX_ROUTE; step++) {
    const next = knowledge.successor(tail, supplier);
    if (!next || !add(next)) break;
    tail = next;
  }
  return route;
};

/**
 * The forecast of an order, or null when there is none: no line item with a stage still to do, or a stage
 * on the way with fewer than MIN_SAMPLES durations at the supplier and at the account.
 */
export const forecastOrder = (
  lineItems: readonly ForecastStage[][],
  supplier: number | null,
  knowledge: StageKnowledge,
  sequence: readonly string[] = orderSequence(lineItems, knowledge),
): OrderForecast | null => {
  const parts: ForecastPart[] = [];
  let supplierOnly = true;
  let fewest = Number.POSITIVE_INFINITY;
  const expect = (name: string): Expected | null => {
    const found = knowledge.expected(name, supplier);
    if (found) {
      supplierOnly &&= found.source === 'supplier';
      fewest = Math.min(fewest, found.samples);
    }
    return found;
  };
  for (const stages of lineItems) {
    const position = stages.findIndex((s) => s.status !== STAGE_COMPLETED);
    // A line item with every stage completed (or none) has nothing left to forecast.
    if (position < 0) continue;
    const current = stages[position] as ForecastStage;
    const own = expect(current.name);
    if (!own) return null;
    let after = 0;
    for (const name of routeAfter(stages, position, sequence, supplier, knowledge)) {
      const found = expect(name);
      if (!found) return null;
      after += found.ms;
    }
    const running = current.status === STAGE_IN_PROGRESS && current.startMs !== null;
    parts.push({
      fixedAt: running ? (current.startMs as number) + own.ms + after : null,
      growthMs: running ? after : own.ms + after,
      stage: {
        name: current.name,
        expectedMs: own.ms,
        startMs: running ? current.startMs : null,
        startTime: running ? (current.startTime ?? null) : null,
      },
    });
  }
  if (parts.length === 0) return null;
  return { parts, basis: { source: supplierOnly ? 'supplier' : 'account', samples: fewest } };
};

/** When production completes if nothing changes, seen at `now`, and the line item that finishes last. */
export const completionAt = (forecast: OrderForecast, now: number): { at: number; part: ForecastPart } => {
  let best = forecast.parts[0] as ForecastPart;
  let at = Number.NEGATIVE_INFINITY;
  for (const part of forecast.parts) {
    const done = Math.max(part.fixedAt ?? Number.NEGATIVE_INFINITY, now + part.growthMs);
    if (done > at) {
      at = done;
      best = part;
    }
  }
  return { at, part: best };
};

/**
 * The earliest instant from which the completion is at or past `threshold` if the order does not change:
 * when the first line item whose completion moves with the clock gets there (-Infinity: it already is).
 */
export const reachesAt = (forecast: OrderForecast, threshold: number): number => {
  let earliest = Number.POSITIVE_INFINITY;
  for (const part of forecast.parts) {
    if (part.fixedAt !== null && part.fixedAt >= threshold) return Number.NEGATIVE_INFINITY;
    earliest = Math.min(earliest, threshold - part.growthMs);
  }
  return earliest;
};

/** A fetched order's line items as the forecast reads them. */
export const forecastStagesOfKeyed = (keyed: readonly KeyedStage[][]): ForecastStage[][] =>
  keyed.map((stages) =>
    stages.map((entry) => ({
      name: entry.stage.name,
      status: entry.stage.status,
      startMs: entry.start,
      startTime: entry.stage.startTime,
    })),
  );

/** A snapshot's line items as the forecast reads them: stages in time order, starts where recorded. */
export const forecastStagesOfSnapshot = (snapshot: Pick<Snapshot, 'stages' | 'starts'>): ForecastStage[][] =>
  Object.entries(snapshot.stages).map(([lineItemId, codes]) =>
    Object.entries(codes).map(([key, code]) => ({
      name: stageNameOf(key),
      status: decodeStatus(code),
      startMs: snapshot.starts?.[lineItemId]?.[key] ?? null,
    })),
  );

/** A forecast as people read it: the calendar day production completes on, and why. */
export interface ForecastView {
  /** Epoch ms, and its calendar day (day number and ISO date) in the signals' time zone. */
  at: number;
  day: number;
  date: string;
  basis: OrderForecast['basis'];
  /** The current stage of the line item that finishes last. */
  stage: ForecastPart['stage'];
}

/** The forecast of an order's line items seen at `now`, with its calendar day in `timeZone`; null: none. */
export const forecastView = (
  lineItems: readonly ForecastStage[][],
  supplier: number | null,
  now: number,
  timeZone: string,
  knowledge: StageKnowledge,
  sequence?: readonly string[],
): ForecastView | null => {
  const forecast = forecastOrder(lineItems, supplier, knowledge, sequence);
  if (!forecast) return null;
  const { at, part } = completionAt(forecast, now);
  const day = dayNumber(at, timeZone);
  return { at, day, date: isoDateOfDay(day), basis: forecast.basis, stage: part.stage };
};
