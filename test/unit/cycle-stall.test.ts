import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalSettings } from '../../functions/core/signals.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { notifierFor } from '../helpers/harness.js';

const DAY = 86_400_000;
const SIGNALS: SignalSettings = {
  timeZone: 'UTC',
  dueSoonDays: 0,
  stallDays: 3,
  stallDaysByStage: {},
  riskDays: 0,
};

let sim: RunningSimulator;
beforeEach(async () => {
  sim = await startSimulator({
    orders: generateOrders({ count: 3, seed: 7, watchedShare: 1, lineItems: 1, firstId: 40_000 }),
  });
});
afterEach(async () => {
  await sim.close();
});

describe('a stalled stage restarted with a new start time', () => {
  it('stalls again from its new start, in the cycles that follow, with the sweep off', async () => {
    const n = notifierFor(sim);
    const run = () => n.run({ signals: SIGNALS, sweepIntervalMs: 0 });
    const [line] = sim.state.get(40_001).lineItems;
    const [stage, ...later] = line?.stages ?? [];
    if (!stage) throw new Error('the generated order has no stage');
    const startAt = (ms: number) => {
      stage.status = 'In Progress';
      stage.start_time = new Date(ms).toISOString();
      stage.end_time = null;
    };
    startAt(n.clock.now());
    for (const next of later)
      Object.assign(next, { status: 'Not Started', start_time: null, end_time: null });
    const stalls = () =>
      n.memory.published.flatMap((e) =>
        e.detailType === 'StageStalled' && e.detail.order.id === 40_001 ? [e.detail] : [],
      );

    await run(); // baseline
    await run(); // the index is built
    n.clock.advance(4 * DAY);
    await run();
    expect(stalls()).toHaveLength(1);
    const first = stalls()[0];
    await run();
    expect(stalls()).toHaveLength(1);

    // The factory restarts the stage (still in progress, a new start time): nothing else of the order moves.
    const restartedAt = n.clock.now();
    startAt(restartedAt);
    await run();
    expect(stalls()).toHaveLength(1);
    n.clock.advance(4 * DAY);
    const report = await run();
    expect(report.outcome).toBe('completed');
    expect(stalls()).toHaveLength(2);
    const second = stalls()[1];
    expect(second?.stage.name).toBe(first?.stage.name);
    expect(Date.parse(second?.stage.startTime ?? '')).toBe(restartedAt);
    expect(second?.stalled).toEqual({ days: 4, limitDays: 3 });
    expect(second?.eventId).not.toBe(first?.eventId);
    await run();
    expect(stalls()).toHaveLength(2);
  });
});
