import { dayNumber, dayOfIsoDate, startOfDay } from './calendar.js';
import type { ForecastView } from './forecast.js';
import {
  forecastOrder,
  forecastStagesOfKeyed,
  forecastStagesOfSnapshot,
  forecastView,
  reachesAt,
} from './forecast.js';
import type { StageKnowledge } from './history.js';
import type { Order, Stage } from './order.js';
import { awaitsDelivery, stageNameOf } from './order.js';
import type { SignalMemory } from './signal-memory.js';
import type { KeyedStage, Snapshot } from './snapshot.js';
import { orderStages } from './stage-sequence.js';
import { STAGE_COMPLETED, STAGE_IN_PROGRESS } from './vocabulary.js';

export type { SignalMemory } from './signal-memory.js';

/** The production signals' settings (docs/contract.md sections 1b and 1c). A limit of 0 turns its signal off. */
export interface SignalSettings {
  /** IANA time zone in which calendar days are counted. */
  timeZone: string;
  /** OrderDueSoon when the due date is at most this many days away. */
  dueSoonDays: number;
  /** StageStalled when a stage has been in progress for more days than this. */
  stallDays: number;
  /** Per stage name, overrides stallDays. */
  stallDaysByStage: Record<string, number>;
  /** OrderAtRisk when the forecast completion is at least this many days after the due date. */
  riskDays: number;
}

export const DEFAULT_SIGNAL_SETTINGS: SignalSettings = Object.freeze({
  timeZone: 'UTC',
  dueSoonDays: 7,
  stallDays: 7,
  stallDaysByStage: Object.freeze({}) as Record<string, number>,
  riskDays: 1,
});

export type SignalChange =
  | {
      detailType: 'OrderStageCompleted';
      name: string;
      completedAt: string | null;
      total: number;
      completed: number;
    }
  | { detailType: 'OrderDueSoon' | 'OrderOverdue'; date: string; days: number }
  | { detailType: 'OrderAtRisk'; date: string; days: number; forecast: ForecastView; lateDays: number }
  | {
      detailType: 'StageStalled';
      lineItemIndex: number;
      stage: Stage;
      stageKey: string;
      days: number;
      limitDays: number;
    };

export interface SignalResult {
  changes: SignalChange[];
  memory: SignalMemory;
}

/** The stall limit of a stage name in days (0 = never stalls). */
export const stallLimit = (settings: SignalSettings, name: string): number =>
  settings.stallDaysByStage[name] ?? settings.stallDays;

/**
 * Where an order stands against its due date on calendar day `today` (days `left`, negative once past):
 * overdue or due soon only while it awaits delivery. The one rule of the due-date signals, the board and
 * the digest. Null without a due date.
 */
export const dueStanding = (
  order: { dueDate: string | null; status: string; deliveryStatus: string | null },
  today: number,
  settings: Pick<SignalSettings, 'dueSoonDays'>,
): { kind: 'overdue' | 'soon' | 'later'; left: number } | null => {
  const dueDay = dayOfIsoDate(order.dueDate);
  if (dueDay === null) return null;
  const left = dueDay - today;
  const watching = awaitsDelivery(order);
  if (watching && left < 0) return { kind: 'overdue', left };
  if (watching && settings.dueSoonDays > 0 && left <= settings.dueSoonDays) return { kind: 'soon', left };
  return { kind: 'later', left };
};

/**
 * Where an order stands against its forecast (docs/contract.md section 1c) on calendar day `today`: at risk
 * when the forecast day is at least `riskDays` after the due date, the order awaiting delivery and not yet
 * overdue. The one rule of OrderAtRisk, the board and the digest. Null without a due date or a forecast.
 */
export const riskStanding = (
  order: { dueDate: string | null; status: string; deliveryStatus: string | null },
  forecast: Pick<ForecastView, 'day'> | null,
  today: number,
  settings: Pick<SignalSettings, 'riskDays'>,
): { atRisk: boolean; lateDays: number; left: number } | null => {
  const dueDay = dayOfIsoDate(order.dueDate);
  if (dueDay === null || forecast === null) return null;
  const left = dueDay - today;
  const lateDays = forecast.day - dueDay;
  const atRisk = settings.riskDays > 0 && awaitsDelivery(order) && left >= 0 && lateDays >= settings.riskDays;
  return { atRisk, lateDays, left };
};

const stallKey = (lineItemId: number | string, stageKey: string, startMs: number) =>
  `${lineItemId}/${stageKey}/${startMs}`;

interface RollUp {
  /** Line items that have a stage of this name, and those with every stage of it completed. */
  having: number;
  completed: number;
  latest: KeyedStage | null;
  /** Bookkeeping of the line item being counted (its stages come one after the other). */
  item: number;
  itemDone: boolean;
}

/** Roll-ups per stage name, in one pass and one map per order (the diff runs for every order). */
const rollUps = (keyed: KeyedStage[][]): Map<string, RollUp> => {
  const byName = new Map<string, RollUp>();
  keyed.forEach((entries, index) => {
    for (const entry of entries) {
      const done = entry.stage.status === STAGE_COMPLETED;
      let roll = byName.get(entry.stage.name);
      if (!roll) {
        roll = { having: 0, completed: 0, latest: null, item: -1, itemDone: false };
        byName.set(entry.stage.name, roll);
      }
      if (roll.item !== index) {
        roll.item = index;
        roll.having++;
        roll.itemDone = done;
        if (done) roll.completed++;
      } else if (roll.itemDone && !done) {
        // A stage of this name redone on the same line item and not completed yet.
        roll.itemDone = false;
        roll.completed--;
      }
      if (done && (roll.latest === null || (entry.end ?? -Infinity) > (roll.latest.end ?? -Infinity))) {
        roll.latest = entry;
      }
    }
  });
  return byName;
};

/**
 * Whether a line item holds a roll-up of `name` back: its current stage (its first not completed) comes
 * before `name` in the order's stage sequence — it has not reached `name`, or it went back to an earlier
 * stage after completing it (rework). A line item whose every stage is completed has finished; one at
 * `name` itself keeps the roll-up from being complete anyway; one that moved on to a stage it had not been
 * at before is past `name` (the sequence is not needed for it: most orders never build one).
 */
const holdsBack = (entries: readonly KeyedStage[], name: string, order: OrderStages): boolean => {
  const current = entries.find((entry) => entry.stage.status !== STAGE_COMPLETED);
  if (!current || current.stage.name === name) return false;
  const had = entries.some((entry) => entry.stage.name === name);
  const redo = entries.some((entry) => entry !== current && entry.stage.name === current.stage.name);
  if (had && !redo) return false;
  const sequence = order.sequence();
  return sequence.indexOf(current.stage.name) < sequence.indexOf(name);
};

/**
 * The order's stage sequence (core/stage-sequence.ts), made once per evaluation and only when needed: most
 * orders never need it (the diff runs for every order of every cycle).
 */
class OrderStages {
  #sequence: string[] | undefined;
  constructor(
    private readonly keyed: KeyedStage[][],
    private readonly knowledge: StageKnowledge | undefined,
  ) {}
  sequence(): string[] {
    this.#sequence ??= orderStages(
      this.keyed.map((entries) => entries.map((e) => e.stage.name)),
      this.knowledge ? (a, b) => (this.knowledge as StageKnowledge).before(a, b) : undefined,
    );
    return this.#sequence;
  }
}

/**
 * Evaluates the signals of docs/contract.md sections 1b and 1c on a fetched order against the memory of the
 * previous snapshot. Each fires when its condition turns true (memory says it has not fired for this
 * arming); at a first sight (`firstSeen`, or a snapshot without signal memory) conditions already true are
 * recorded as fired without a change. `knowledge` is the account's stage history: without it the stage
 * sequence rests on the order's own line items, and there is no forecast (no OrderAtRisk).
 */
export const evaluateSignals = (
  previous: SignalMemory,
  order: Order,
  keyed: KeyedStage[][],
  now: number,
  settings: SignalSettings,
  firstSeen: boolean,
  knowledge?: StageKnowledge,
): SignalResult => {
  const changes: SignalChange[] = [];
  const memory: SignalMemory = { sig: 1 };
  const silent = firstSeen || previous.sig !== 1;
  const today = dayNumber(now, settings.timeZone);
  // By line item id, as a snapshot keeps them (core/forecast.ts, order-status.ts read the snapshot): the
  // stage sequence and the forecast are then the same whether judged from the order or from its snapshot.
  const byId = order.lineItems
    .map((item, index) => ({ id: item.id, entries: keyed[index] ?? [] }))
    .sort((a, b) => a.id - b.id)
    .map((item) => item.entries);
  const stages = new OrderStages(byId, knowledge);

  // OrderStageCompleted: no line item still before this stage or in it (docs/contract.md section 1b).
  const wasRolled = previous.rolledUp ?? [];
  const rolled: string[] = [];
  const fired: SignalChange[] = [];
  for (const [name, roll] of rollUps(keyed)) {
    if (roll.having === 0 || roll.completed !== roll.having) continue;
    if (keyed.some((entries) => holdsBack(entries, name, stages))) continue;
    rolled.push(name);
    if (silent || wasRolled.includes(name)) continue;
    fired.push({
      detailType: 'OrderStageCompleted',
      name,
      completedAt: roll.latest?.stage.endTime ?? null,
      total: order.lineItems.length,
      completed: roll.completed,
    });
  }

  // Oldest first, like the stage events: by the latest end time, then by name (code units, not locale).
  const keyOf = (c: SignalChange) =>
    c.detailType === 'OrderStageCompleted'
      ? { end: (c.completedAt ? Date.parse(c.completedAt) : 0) || 0, name: c.name }
      : { end: 0, name: '' };
  fired.sort((a, b) => {
    const [x, y] = [keyOf(a), keyOf(b)];
    return x.end - y.end || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
  });
  changes.push(...fired);
  if (rolled.length > 0) memory.rolledUp = rolled.sort();

  // StageStalled: in progress for more calendar days than its limit, counted from its start time.
  const wasStalled = previous.stalled ?? [];
  const stalled: string[] = [];
  const starts: Record<string, Record<string, number>> = {};
  let anyStart = false;
  const stalls: Array<{ change: SignalChange; start: number }> = [];
  order.lineItems.forEach((item, index) => {
    for (const entry of keyed[index] ?? []) {
      if (entry.start === null) continue;
      const running = entry.stage.status === STAGE_IN_PROGRESS;
      // Keys are only built where they can matter: a stage in progress, or a stall remembered.
      if (!running && wasStalled.length === 0) continue;
      const key = wasStalled.length === 0 ? null : stallKey(item.id, entry.key, entry.start);
      const known = key !== null && wasStalled.includes(key);
      if (known) stalled.push(key);
      if (!running) continue;
      const itemStarts = starts[String(item.id)] ?? {};
      itemStarts[entry.key] = entry.start;
      starts[String(item.id)] = itemStarts;
      anyStart = true;
      const limit = stallLimit(settings, entry.stage.name);
      if (limit <= 0 || known) continue;
      const days = today - dayNumber(entry.start, settings.timeZone);
      if (days <= limit) continue;
      stalled.push(key ?? stallKey(item.id, entry.key, entry.start));
      if (silent) continue;
      stalls.push({
        start: entry.start,
        change: {
          detailType: 'StageStalled',
          lineItemIndex: index,
          stage: { ...entry.stage },
          stageKey: entry.key,
          days,
          limitDays: limit,
        },
      });
    }
  });
  stalls.sort((a, b) => a.start - b.start);
  changes.push(...stalls.map((s) => s.change));
  if (anyStart) memory.starts = starts;
  if (stalled.length > 0) memory.stalled = stalled.sort();

  // OrderDueSoon and OrderOverdue: once per due date; a new due date re-arms them.
  const due = order.dueDate;
  const standing = dueStanding(order, today, settings);
  if (due !== null && standing !== null) {
    const { left } = standing;
    const soon = standing.kind === 'soon';
    const over = standing.kind === 'overdue';
    if (previous.dueSoon === due || soon) memory.dueSoon = due;
    if (previous.overdue === due || over) memory.overdue = due;
    if (!silent && soon && previous.dueSoon !== due) {
      changes.push({ detailType: 'OrderDueSoon', date: due, days: left });
    }
    if (!silent && over && previous.overdue !== due) {
      changes.push({ detailType: 'OrderOverdue', date: due, days: -left });
    }
  }

  // OrderAtRisk: the forecast completion is riskDays or more after the due date; once per due date. `fc`
  // records that the rule has been judged for the order: at its first judgement (its first sight, or the
  // first cycle after a baseline, which judges none while it is still learning the history) a condition
  // already true is recorded silently; from then on it fires when it turns true.
  if (due !== null && previous.atRisk === due) memory.atRisk = due;
  if (previous.fc === 1 || (knowledge && settings.riskDays > 0)) memory.fc = 1;
  // The forecast is judged without a due date too: the order's first forecast may come before its due date.
  if (knowledge && settings.riskDays > 0 && (standing?.left ?? 0) >= 0 && awaitsDelivery(order)) {
    const view = forecastView(
      forecastStagesOfKeyed(byId),
      order.companyId,
      now,
      settings.timeZone,
      knowledge,
      stages.sequence(),
    );
    const risk = riskStanding(order, view, today, settings);
    if (due !== null && view && risk?.atRisk) {
      memory.atRisk = due;
      // Never with OrderOverdue: at risk is before the due date has passed.
      if (!silent && previous.fc === 1 && previous.atRisk !== due) {
        changes.push({
          detailType: 'OrderAtRisk',
          date: due,
          days: risk.left,
          forecast: view,
          lateDays: risk.lateDays,
        });
      }
    }
  }
  return { changes, memory };
};

/**
 * The earliest instant (epoch ms) at which a time-based signal (due soon, overdue, stalled, at risk) could
 * fire for this snapshot if the order does not change, or null when none can. A value in the past means
 * "now". For an index of orders to re-check; OrderStageCompleted needs a change of the order, not time.
 * The forecast is judged with `knowledge` as it stands: the history moves on as other orders complete
 * stages, which the daily reconciliation sweep (it diffs every order) takes in.
 */
export const nextSignalAt = (
  snapshot: Snapshot,
  settings: SignalSettings,
  knowledge?: StageKnowledge,
): number | null => {
  if (snapshot.removed) return null;
  const candidates: number[] = [];
  const { order } = snapshot;
  const dueDay = dayOfIsoDate(order.dueDate);
  if (order.dueDate !== null && dueDay !== null && awaitsDelivery(order)) {
    const overdueFired = snapshot.overdue === order.dueDate;
    if (!overdueFired) candidates.push(startOfDay(dueDay + 1, settings.timeZone));
    if (settings.dueSoonDays > 0 && snapshot.dueSoon !== order.dueDate && !overdueFired) {
      candidates.push(startOfDay(dueDay - settings.dueSoonDays, settings.timeZone));
    }
    // OrderAtRisk: the forecast moves with the clock once a stage overruns its expected duration; it can
    // turn at risk from the instant its completion reaches the due day plus riskDays, until the order is overdue.
    if (knowledge && settings.riskDays > 0 && !overdueFired && snapshot.atRisk !== order.dueDate) {
      const forecast = forecastOrder(forecastStagesOfSnapshot(snapshot), order.companyId, knowledge);
      if (forecast) {
        const at = reachesAt(forecast, startOfDay(dueDay + settings.riskDays, settings.timeZone));
        if (at < startOfDay(dueDay + 1, settings.timeZone)) candidates.push(Math.max(at, 0));
      }
    }
  }
  const stalled = new Set(snapshot.stalled ?? []);
  for (const [lineItemId, stages] of Object.entries(snapshot.starts ?? {})) {
    for (const [stageKey, start] of Object.entries(stages)) {
      const limit = stallLimit(settings, stageNameOf(stageKey));
      if (limit <= 0 || stalled.has(stallKey(lineItemId, stageKey, start))) continue;
      candidates.push(startOfDay(dayNumber(start, settings.timeZone) + limit + 1, settings.timeZone));
    }
  }
  return candidates.length === 0 ? null : Math.min(...candidates);
};
