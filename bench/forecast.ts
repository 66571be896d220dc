import { performance } from 'node:perf_hooks';
import { dayNumber, isoDateOfDay } from '../functions/core/calendar.js';
import { detectChanges, firstSight } from '../functions/core/diff.js';
import { forecastStagesOfKeyed, forecastView } from '../functions/core/forecast.js';
import type { Expected, StageKnowledge } from '../functions/core/history.js';
import { StageHistory, stageSamples } from '../functions/core/history.js';
import type { LineItem, Order, Stage } from '../functions/core/order.js';
import { DEFAULT_SIGNAL_SETTINGS, riskStanding } from '../functions/core/signals.js';
import type { Snapshot } from '../functions/core/snapshot.js';
import { pick, seededRandom } from '../simulator/random.js';
import { SUPPLIERS, stageDays, typicalDays } from '../simulator/suppliers.js';

/**
 * How well the forecast warns (`npm run bench:forecast`). A year of a simulated account (the suppliers of
 * simulator/suppliers.ts: their own pace, noise, now and then a stage held up; due dates planned at the
 * account's average pace) is replayed day by day through the core the cycle runs: each day every order in
 * production is diffed against its snapshot with the production signals on (detectChanges: the forecast,
 * OrderAtRisk once per due date), and its completed stages are merged into the stage history (stageSamples,
 * StageHistory.merge). Scored on the orders created after a warm-up:
 *   - recall: of the orders that finish at least 3 days late, the share flagged at least 7 days before due;
 *   - precision: of the orders flagged, the share that did finish late (at least RISK_DAYS, 1 day);
 *   - the mean absolute error of the forecast completion date half-way through production.
 * "Flagged" twice: shown at risk (the board's and the digest's rule, riskStanding, on any day), and warned by
 * an OrderAtRisk event, which keeps the contract's first-sight rule: an order already at risk when first
 * seen is recorded without an event.
 * Against two baselines run through the same code with other expected durations: the account's, ignoring
 * suppliers; and one account median for every stage. Prints figures; asserts nothing.
 */
const DAY = 86_400_000;
const SEED = Number(process.env.BENCH_FORECAST_SEED ?? 1);
const DAYS = Number(process.env.BENCH_FORECAST_DAYS ?? 365);
const ORDERS_PER_DAY = 5;
const WARM_UP_DAYS = 30;
const LATE_DAYS = 3;
const AHEAD_DAYS = 7;
const START = Date.UTC(2026, 0, 1);
const PLANS = [
  ['Cutting', 'Sewing', 'Finishing', 'Packing'],
  ['Cutting', 'Sewing', 'Packing'],
  ['Knitting', 'Linking', 'Washing', 'Packing'],
];
/** Due dates are planned at the average pace: a team without the forecast plans as if suppliers were alike. */
const AVERAGE_SUPPLIER = null;

interface PlannedStage {
  name: string;
  start: number;
  end: number;
}
interface PlannedOrder {
  id: number;
  supplier: (typeof SUPPLIERS)[number];
  created: number;
  dueDate: string;
  dueDay: number;
  items: Array<{ id: number; stages: PlannedStage[] }>;
  start: number;
  finish: number;
}

/** A year of orders, each line item's stages with the duration its supplier took. */
const plan = (): PlannedOrder[] => {
  const random = seededRandom(SEED);
  const orders: PlannedOrder[] = [];
  let lineItemId = 1_000_000;
  for (let day = 0; day < DAYS; day++) {
    for (let n = 0; n < ORDERS_PER_DAY; n++) {
      const id = 100_000 + orders.length;
      const supplier = pick(random, SUPPLIERS);
      const stages = pick(random, PLANS);
      const created = START + day * DAY + Math.floor(random() * DAY);
      const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        let t = created + Math.floor(random() * 2 * DAY);
        return {
          id: lineItemId++,
          stages: stages.map((name) => {
            const start = t;
            const end = start + Math.round(stageDays(random, supplier.id, name) * DAY);
            t = end + Math.floor(random() * 0.5 * DAY);
            return { name, start, end };
          }),
        };
      });
      const planned = stages.reduce((sum, name) => sum + typicalDays(AVERAGE_SUPPLIER, name), 0);
      const dueDay = dayNumber(created, 'UTC') + Math.ceil(planned * (0.9 + random() * 0.5)) + 2;
      const start = Math.min(...items.map((i) => i.stages[0]?.start ?? created));
      const finish = Math.max(...items.map((i) => i.stages.at(-1)?.end ?? created));
      orders.push({ id, supplier, created, dueDate: isoDateOfDay(dueDay), dueDay, items, start, finish });
    }
  }
  return orders;
};

const iso = (ms: number) => new Date(ms).toISOString();

/** The order as the API shows it at `t`: its completed stages, then its current one. */
const orderAt = (o: PlannedOrder, t: number): Order => {
  const done = t >= o.finish;
  const lineItems: LineItem[] = o.items.map((item) => {
    const stages: Stage[] = [];
    for (const s of item.stages) {
      if (s.end <= t)
        stages.push({ name: s.name, status: 'completed', startTime: iso(s.start), endTime: iso(s.end) });
      else {
        stages.push(
          s.start <= t
            ? { name: s.name, status: 'in_progress', startTime: iso(s.start), endTime: null }
            : { name: s.name, status: 'not_started', startTime: null, endTime: null },
        );
        break;
      }
    }
    return { id: item.id, productId: 1, productName: 'Tee', color: 'Black', stages };
  });
  return {
    id: o.id,
    number: String(o.id),
    status: done ? 'complete' : 'confirmed',
    deliveryStatus: done ? 'all_received' : 'not_received',
    companyId: o.supplier.id,
    companyName: o.supplier.name,
    seasonId: null,
    dueDate: o.dueDate,
    updatedAt: null,
    createdAt: iso(o.created),
    lineItems,
  };
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** What each strategy expects a stage to take; the route and the stage order are the history's, unchanged. */
type Strategy = (history: StageHistory) => StageKnowledge;
const STRATEGIES: Array<[name: string, strategy: Strategy]> = [
  ['supplier history (the notifier)', (history) => history],
  [
    "account's durations, ignoring suppliers",
    (history) => ({
      expected: (stage) => history.expected(stage, null),
      successor: (stage, supplier) => history.successor(stage, supplier),
      before: (a, b) => history.before(a, b),
    }),
  ],
  [
    'one account median for every stage',
    (history) => {
      let size = -1;
      let all: Expected | null = null;
      return {
        expected: () => {
          if (history.size !== size) {
            size = history.size;
            const minutes = history.samples().map((s) => s.minutes);
            all =
              minutes.length >= 5
                ? { ms: median(minutes) * 60_000, source: 'account', samples: minutes.length }
                : null;
          }
          return all;
        },
        successor: (stage, supplier) => history.successor(stage, supplier),
        before: (a, b) => history.before(a, b),
      };
    },
  ],
];

interface Flags {
  caught: number;
  flagged: number;
  right: number;
}

interface Score {
  scored: number;
  late: number;
  /** By the OrderAtRisk events, and by the at-risk rule on any day (the board and the digest). */
  events: Flags;
  shown: Flags;
  errors: number[];
}

/** Replays the year day by day through the core, with one strategy's expected durations. */
const replay = (orders: PlannedOrder[], strategy: Strategy): Score => {
  const settings = DEFAULT_SIGNAL_SETTINGS;
  const history = new StageHistory();
  const knowledge = strategy(history);
  const snapshots = new Map<number, Snapshot>();
  const flaggedOn = new Map<number, number>();
  const shownOn = new Map<number, number>();
  const halfWay = new Map<number, number>();
  const lastDay = dayNumber(Math.max(...orders.map((o) => o.finish)), 'UTC') + 1;
  const firstDay = dayNumber(START, 'UTC');
  let open = 0;
  for (let day = firstDay; day <= lastDay; day++) {
    const t = day * DAY + 12 * 3_600_000;
    while (open < orders.length && (orders[open] as PlannedOrder).created <= t) open++;
    for (let i = 0; i < open; i++) {
      const o = orders[i] as PlannedOrder;
      if (t > o.finish + 2 * DAY) continue;
      const order = orderAt(o, t);
      const at = { detectedAt: iso(t), signals: settings, history: knowledge };
      const previous = snapshots.get(o.id);
      const detection = previous
        ? detectChanges(previous, order, at)
        : firstSight(order, { ...at, emit: false });
      snapshots.set(o.id, detection.snapshot);
      if (detection.events.some((e) => e.detailType === 'OrderAtRisk') && !flaggedOn.has(o.id))
        flaggedOn.set(o.id, day);
      history.merge(stageSamples(order, detection.keyed, history));
      const view = forecastView(forecastStagesOfKeyed(detection.keyed), o.supplier.id, t, 'UTC', knowledge);
      if (!shownOn.has(o.id) && riskStanding(order, view, day, settings)?.atRisk) shownOn.set(o.id, day);
      if (view && day === dayNumber((o.start + o.finish) / 2, 'UTC'))
        halfWay.set(o.id, view.day - dayNumber(o.finish, 'UTC'));
    }
  }
  const flags = (): Flags => ({ caught: 0, flagged: 0, right: 0 });
  const score: Score = { scored: 0, late: 0, events: flags(), shown: flags(), errors: [] };
  for (const o of orders) {
    if (o.created < START + WARM_UP_DAYS * DAY) continue;
    score.scored++;
    const lateBy = dayNumber(o.finish, 'UTC') - o.dueDay;
    if (lateBy >= LATE_DAYS) score.late++;
    for (const [counts, on] of [
      [score.events, flaggedOn],
      [score.shown, shownOn],
    ] as const) {
      const flagged = on.get(o.id);
      if (flagged === undefined) continue;
      counts.flagged++;
      if (lateBy >= settings.riskDays) counts.right++;
      if (lateBy >= LATE_DAYS && flagged <= o.dueDay - AHEAD_DAYS) counts.caught++;
    }
    const error = halfWay.get(o.id);
    if (error !== undefined) score.errors.push(Math.abs(error));
  }
  return score;
};

const percent = (part: number, whole: number) =>
  whole === 0 ? 'n/a' : `${Math.round((part / whole) * 100)}%`;
const started = performance.now();
const orders = plan();
const results = STRATEGIES.map(([name, strategy]) => [name, replay(orders, strategy)] as const);
const [, first] = results[0] as readonly [string, Score];
const lines = [
  `forecast benchmark: ${DAYS} days, ${orders.length.toLocaleString('en')} orders at ${SUPPLIERS.length} suppliers (paces ${SUPPLIERS.map((s) => s.pace).join('/')} days a stage, noise σ 0.25, 5% of stages held up 1.5-3×), seed ${SEED}`,
  `scored: ${first.scored.toLocaleString('en')} orders created after a ${WARM_UP_DAYS}-day warm-up; ${first.late} of them finished ≥ ${LATE_DAYS} days late (due dates planned at an average pace)`,
  '',
  '| expected durations | shown at risk: recall | precision | OrderAtRisk events: recall | precision | MAE at half-way |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.map(
    ([name, s]) =>
      `| ${name} | ${percent(s.shown.caught, s.late)} (${s.shown.caught}) | ${percent(s.shown.right, s.shown.flagged)} (${s.shown.right} of ${s.shown.flagged}) | ${percent(s.events.caught, s.late)} (${s.events.caught}) | ${percent(s.events.right, s.events.flagged)} (${s.events.right} of ${s.events.flagged}) | ${(s.errors.reduce((a, b) => a + b, 0) / Math.max(1, s.errors.length)).toFixed(1)} days (${s.errors.length} orders) |`,
  ),
  '',
  `recall: of the ${first.late} orders that finished ≥ ${LATE_DAYS} days late, the share flagged ≥ ${AHEAD_DAYS} days before their due date; precision: of the orders flagged, the share that finished late (≥ 1 day); MAE: mean absolute error of the forecast completion date half-way through production`,
  '',
  `${((performance.now() - started) / 1000).toFixed(1)} s (node ${process.version})`,
  '',
];
process.stdout.write(lines.join('\n'));
