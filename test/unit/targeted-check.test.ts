import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UphanceOrderSource } from '../../functions/adapters/uphance-source.js';
import type { CycleOptions } from '../../functions/cycle/cycle.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import type { CheckReport } from '../../functions/cycle/targeted.js';
import { runCheck } from '../../functions/cycle/targeted.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { DEFAULT_OPTIONS, notifierFor } from '../helpers/harness.js';

const orders = () => [
  ...vendorExampleOrders(),
  ...generateOrders({ count: 60, seed: 31, watchedShare: 0.5 }),
];

let push: RunningSimulator;
let scheduled: RunningSimulator;

beforeEach(async () => {
  // Two identical accounts: one notifier is told by webhooks, the other only polls.
  [push, scheduled] = await Promise.all([
    startSimulator({ orders: orders() }),
    startSimulator({ orders: orders() }),
  ]);
});
afterEach(async () => {
  await Promise.all([push.close(), scheduled.close()]);
});

const checker = (notifier: ReturnType<typeof notifierFor>) => {
  return (numbers: string[], overrides: Partial<CycleOptions> = {}): Promise<CheckReport> => {
    notifier.clock.advance(1_000);
    return runCheck(
      {
        source: new UphanceOrderSource(notifier.client),
        store: notifier.store,
        sink: notifier.memory,
        now: notifier.clock.now,
        logger: silentLogger,
      },
      { ...DEFAULT_OPTIONS, owner: 'webhook', ...overrides },
      numbers,
    );
  };
};

const both = (change: (sim: RunningSimulator) => void) => {
  change(push);
  change(scheduled);
};

// Real HTTP to a simulator and a file store: generous time on a loaded machine.
describe('targeted check (webhook trigger)', { timeout: 60_000 }, () => {
  it('gives the same events, with the same eventIds, as a scheduled cycle; the next cycle emits nothing more', async () => {
    const a = notifierFor(push);
    const b = notifierFor(scheduled);
    const check = checker(a);
    await a.run();
    await b.run();
    both((sim) => {
      // 1308 is all received in the vendor's example: a correction, and a new due date.
      sim.state.setDeliveryStatus(23621, 'receiving');
      sim.state.setDueDate(23621, '2027-02-01');
    });
    const report = await check(['1308']);
    expect(report).toMatchObject({ outcome: 'completed', checked: ['1308'], notFound: [], events: 2 });
    expect(report.lookups).toBe(1);
    await b.run();
    const viaCheck = a.memory.published.map((e) => [e.detailType, e.detail.eventId, e.detail.sequence]);
    const viaCycle = b.memory.published.map((e) => [e.detailType, e.detail.eventId, e.detail.sequence]);
    expect(viaCheck).toEqual(viaCycle);
    expect(viaCheck.map(([type]) => type).sort()).toEqual([
      'OrderDeliveryStatusChanged',
      'OrderDueDateChanged',
    ]);
    const after = await a.run();
    expect(after.events).toBe(0);
    expect(a.memory.published).toHaveLength(2);
  });

  it('compares the number exactly, reports numbers no order carries, and never checks before the baseline', async () => {
    const a = notifierFor(push);
    const check = checker(a);
    const before = await check(['1308']);
    expect(before).toMatchObject({ noBaseline: true, checked: [], events: 0 });
    await a.run();
    // "130" is a prefix of 1308 (and by_q may match it): not the same order.
    const report = await check(['130', 'no-such-po']);
    expect(report.checked).toEqual(['130', 'no-such-po']);
    expect(report.notFound).toEqual(['130', 'no-such-po']);
    expect(report.events).toBe(0);
  });

  it('reports an order it has never seen as OrderCreated (after the baseline); the schedule then stays quiet about it', async () => {
    const a = notifierFor(push);
    const check = checker(a);
    await a.run();
    const [fresh] = generateOrders({
      count: 1,
      firstId: 90_001,
      firstNumber: 7_777,
      watchedShare: 1,
      seed: 5,
    });
    push.state.create(fresh!);
    const report = await check(['7777']);
    expect(a.memory.published.map((e) => [e.detailType, e.detail.order.number])).toEqual([
      ['OrderCreated', '7777'],
    ]);
    expect(report.events).toBe(1);
    const cycle = await a.run();
    expect(cycle.events).toBe(0);
  });

  it('waits for the lease while a scheduled cycle holds it; checked after, nothing emitted twice', async () => {
    const a = notifierFor(push);
    const check = checker(a);
    await a.run();
    push.state.setDeliveryStatus(23621, 'receiving');
    let during: CheckReport | undefined;
    const cycle = await a.run({
      onStep: async (step) => {
        if (step === 'scanned' && !during) during = await check(['1308']);
      },
    });
    expect(during).toMatchObject({ outcome: 'lease-held', unchecked: ['1308'], events: 0 });
    expect(cycle.events).toBe(1);
    const afterwards = await check(['1308']);
    expect(afterwards).toMatchObject({ outcome: 'completed', events: 0, checked: ['1308'] });
    expect(a.memory.published.map((e) => e.detailType)).toEqual(['OrderDeliveryStatusChanged']);
  });

  it('finishes a journaled commit a killed cycle left before checking (same path as the schedule)', async () => {
    const a = notifierFor(push);
    const check = checker(a);
    await a.run();
    push.state.setDueDate(23621, '2027-01-15');
    await a.runAndKill('journal-sealed');
    expect(a.memory.published).toHaveLength(0);
    const report = await check(['1308']);
    expect(report.republished).toBe(1);
    expect(report.events).toBe(0);
    expect(a.memory.published.map((e) => e.detailType)).toEqual(['OrderDueDateChanged']);
  });
});

describe('a check that fails after it set events aside', { timeout: 60_000 }, () => {
  it('carries what it did (the set-aside events) to its handler, which counts them', async () => {
    const a = notifierFor(push);
    await a.run();
    push.state.setDueDate(23621, '2027-03-03');
    // The bus refuses the event for good (set aside), then the store fails as the journal is cleared.
    a.memory.refuseIf = () => true;
    const failing = Object.assign(Object.create(a.store), {
      clearJournal: async () => {
        throw new Error('the table is unavailable');
      },
    });
    a.clock.advance(1_000);
    const error = await runCheck(
      {
        source: new UphanceOrderSource(a.client),
        store: failing,
        sink: a.memory,
        now: a.clock.now,
        logger: silentLogger,
      },
      { ...DEFAULT_OPTIONS, owner: 'webhook' },
      ['1308'],
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { cycleReport?: CheckReport }).cycleReport?.setAside).toBe(1);
  });
});
