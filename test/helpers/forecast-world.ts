import { afterEach, beforeEach, expect, it } from 'vitest';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import type { StageHistory } from '../../functions/core/history.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import type { StateStore } from '../../functions/cycle/ports.js';
import { generateOrders } from '../../simulator/generator.js';
import type { SimOrder, SimStage } from '../../simulator/model.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { notifierFor } from './harness.js';

/**
 * A small account for the forecast's cycle tests, on the harness's fake clock (2026-11-27 10:00 UTC):
 * eight finished orders at each of two suppliers, whose Sewing took 12 days at the slow one (Atelier Nord)
 * and 3 at the fast one (Quick Stitch), with a day of Cutting before and 2 of Packing after; and one order
 * in production at each, Cutting done, Sewing started yesterday, no due date yet.
 */
export const SLOW = { id: 501, name: 'Atelier Nord' };
export const FAST = { id: 502, name: 'Quick Stitch' };
const SLOW_ORDER = 80_001;
const FAST_ORDER = 80_002;

const DAY = 86_400_000;
const WORLD_NOW = Date.UTC(2026, 10, 27, 10);
const iso = (ms: number) => new Date(ms).toISOString();

const stage = (
  name: string,
  status: SimStage['status'],
  start: number | null,
  end: number | null,
): SimStage => ({
  name,
  status,
  start_time: start === null ? null : iso(start),
  end_time: end === null ? null : iso(end),
  stage_color: '#89d7ca',
});

const simOrder = (
  id: number,
  supplier: { id: number; name: string },
  finished: boolean,
  stages: SimStage[],
): SimOrder => {
  const [order] = generateOrders({
    count: 1,
    firstId: id,
    firstNumber: id - 70_000,
    seed: id,
    watchedShare: 1,
  });
  if (!order) throw new Error('no order');
  Object.assign(order.raw, {
    company_id: supplier.id,
    company_name: supplier.name,
    status: finished ? 'COMPLETE' : 'CONFIRMED',
    delivery_status: finished ? 'All Received' : 'Not Received',
    due_date: null,
  });
  order.lineItems = [{ ...order.lineItems[0]!, stages }];
  return order;
};

/** A finished order whose Sewing took `sewingDays`, ending `daysAgo` before the clock. */
export const finished = (
  id: number,
  supplier: { id: number; name: string },
  sewingDays: number,
  daysAgo: number,
) => {
  const end = WORLD_NOW - daysAgo * DAY;
  const packed = end - 2 * DAY;
  const sewn = packed - 60_000;
  const cut = sewn - sewingDays * DAY - 60_000;
  return simOrder(id, supplier, true, [
    stage('Cutting', 'Completed', cut - DAY, cut),
    stage('Sewing', 'Completed', cut + 60_000, sewn),
    stage('Packing', 'Completed', packed, end),
  ]);
};

/** Cutting done, Sewing in progress since yesterday 08:00 UTC, Packing to come. */
export const inSewing = (id: number, supplier: { id: number; name: string }) => {
  const started = Date.UTC(2026, 10, 26, 8);
  return simOrder(id, supplier, false, [
    stage('Cutting', 'Completed', started - 2 * DAY, started - DAY),
    stage('Sewing', 'In Progress', started, null),
    stage('Packing', 'Not Started', null, null),
  ]);
};

const forecastWorld = (): SimOrder[] => [
  ...Array.from({ length: 8 }, (_, i) => finished(81_000 + i, SLOW, 12, 3 + i * 4)),
  ...Array.from({ length: 8 }, (_, i) => finished(82_000 + i, FAST, 3, 3 + i * 4)),
  inSewing(SLOW_ORDER, SLOW),
  inSewing(FAST_ORDER, FAST),
];

const atRisk = (events: NotifierEvent[]) =>
  events.filter(
    (e): e is Extract<NotifierEvent, { detailType: 'OrderAtRisk' }> => e.detailType === 'OrderAtRisk',
  );

/** Per stage name and supplier, how many samples a history keeps. */
const sampleCounts = (history: StageHistory): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const s of history.samples()) {
    const key = `${s.stage}@${s.supplier}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

/**
 * The forecast's scenarios through the real cycle, on whichever store `storeOf` makes (the file store in
 * the unit tests, DynamoDB Local in the integration tests).
 */
export const forecastScenarios = (storeOf: () => Promise<StateStore> | StateStore) => {
  const signals = DEFAULT_SIGNAL_SETTINGS;
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await startSimulator({ orders: forecastWorld() });
  });
  afterEach(async () => {
    await sim.close();
  });

  it("acceptance: the slow supplier's order (Sewing since yesterday, due in 5 days) gets OrderAtRisk; the fast one's does not", async () => {
    const n = notifierFor(sim, { store: await storeOf() });
    expect(await n.run({ signals })).toMatchObject({ baseline: true, events: 0 });
    // The first forecasts, made with the whole history: nothing is due yet, nothing to say.
    await n.run({ signals });
    expect(n.memory.published).toEqual([]);
    sim.state.setDueDate(SLOW_ORDER, '2026-12-02');
    sim.state.setDueDate(FAST_ORDER, '2026-12-02');
    await n.run({ signals });
    const risks = atRisk(n.memory.published);
    expect(risks.map((e) => e.detail.order.id)).toEqual([SLOW_ORDER]);
    expect(risks[0]?.detail).toMatchObject({
      due: { date: '2026-12-02', days: 5 },
      forecast: {
        date: '2026-12-10',
        lateDays: 8,
        basis: { source: 'supplier', samples: 8 },
        stage: { name: 'Sewing', expectedDays: 12 },
      },
    });
    const fast = n.memory.published.filter((e) => e.detail.order.id === FAST_ORDER).map((e) => e.detailType);
    expect(fast).toEqual(['OrderDueDateChanged', 'OrderDueSoon']);
    // Once per due date: the next cycles say nothing more.
    const count = n.memory.published.length;
    await n.run({ signals });
    await n.run({ signals, sweepIntervalMs: 1 });
    expect(n.memory.published.length).toBe(count);
    expect((await n.verify(0)).violations).toEqual([]);
  });

  it('silent at the baseline: an order already at risk when first seen gives no OrderAtRisk', async () => {
    sim.state.setDueDate(SLOW_ORDER, '2026-12-02');
    const n = notifierFor(sim, { store: await storeOf() });
    await n.run({ signals });
    await n.run({ signals });
    await n.run({ signals, sweepIntervalMs: 1 });
    expect(n.memory.published).toEqual([]);
    expect((await n.snapshots()).get(SLOW_ORDER)).toMatchObject({ atRisk: '2026-12-02', fc: 1 });
  });

  it.each(['journal-sealed', 'state-written'] as const)(
    'killed at %s: the replayed commit brings its new duration once; a sweep seeing every stage again adds none',
    async (step) => {
      const n = notifierFor(sim, { store: await storeOf() });
      await n.run({ signals });
      await n.run({ signals });
      const before = sampleCounts(await n.store.readHistory());
      expect(before).toMatchObject({ [`Sewing@${SLOW.id}`]: 8, [`Sewing@${FAST.id}`]: 8 });
      // The slow order's Sewing completes: one new duration (a day and two hours).
      sim.state.advanceStage(SLOW_ORDER);
      await n.runAndKill(step, { signals });
      await n.run({ signals });
      const after = await n.store.readHistory();
      expect(sampleCounts(after)).toEqual({ ...before, [`Sewing@${SLOW.id}`]: 9 });
      const completed = n.memory.published.filter((e) => e.detailType === 'StageCompleted');
      expect(new Set(completed.map((e) => e.detail.eventId)).size).toBe(1);
      // The daily sweep reads every order with its stages, finished ones too: the same durations again.
      const packed = JSON.stringify(after.packed());
      await n.run({ signals, sweepIntervalMs: 1 });
      expect(JSON.stringify((await n.store.readHistory()).packed())).toBe(packed);
      expect((await n.verify(0)).violations).toEqual([]);
    },
  );
};
