import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDigestMarker } from '../../functions/adapters/dynamodb/digest-marker.js';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import { EventBridgeSink } from '../../functions/adapters/eventbridge-sink.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { validateEvent } from '../../functions/core/events/catalogue.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import type { CycleStep } from '../../functions/cycle/commit.js';
import { LeaseLostError } from '../../functions/cycle/errors.js';
import type { Digest } from '../../functions/digest/digest.js';
import { SETTLE_MS } from '../../functions/digest/digest.js';
import { runDigestJob } from '../../functions/digest/job.js';
import { readDigestState } from '../../functions/digest/read-state.js';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import { seededRandom } from '../../simulator/random.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { hasWorkLeft } from '../../simulator/state.js';
import { eventBridgeClient, freshTable, receivedEvents } from '../helpers/aws.js';
import { notifierFor } from '../helpers/harness.js';

let sim: RunningSimulator;
let bus: LocalEventBridge;

beforeAll(async () => {
  bus = await startLocalEventBridge();
});
afterAll(async () => {
  await bus.close();
});
beforeEach(async () => {
  bus.reset();
  bus.setRandomFaults(undefined);
  sim = await startSimulator({
    orders: [...vendorExampleOrders(), ...generateOrders({ count: 260, seed: 8, watchedShare: 0.3 })],
  });
});
afterEach(async () => {
  await sim.close();
});

/** The product as deployed: simulator → cycle → DynamoDB Local → local PutEvents endpoint. */
const deployed = async () => {
  const { client, tableName } = await freshTable();
  const store = new DynamoStateStore({ client, tableName, organisation: 'default', sleep: async () => {} });
  const sink = new EventBridgeSink({
    client: eventBridgeClient(bus.url),
    eventBusName: 'uphance-notifier',
    source: 'uphance.production-orders',
    sleep: async () => {},
  });
  return { ...notifierFor(sim, { store, sink }), dynamo: store, sink, client, tableName };
};

const busy = () => {
  const random = seededRandom(99);
  const active = [...sim.state.orders.values()].filter((o) => o.lineItems.some(hasWorkLeft));
  for (let i = 0; i < 30; i++) {
    const order = active[Math.floor(random() * active.length)]!;
    const roll = random();
    if (roll < 0.6) sim.state.advanceStage(order.raw.id);
    else if (roll < 0.75)
      sim.state.setDeliveryStatus(order.raw.id, random() < 0.5 ? 'receiving' : 'all_received');
    else if (roll < 0.9) sim.state.setDueDate(order.raw.id, `2027-0${1 + Math.floor(random() * 9)}-15`);
    else sim.state.setStatus(order.raw.id, 'complete');
  }
  sim.state.create(
    generateOrders({ count: 1, firstId: 70_000, firstNumber: 7_000, seed: 4, watchedShare: 1 })[0]!,
  );
  sim.state.delete(23620);
};

describe('whole cycles: simulator, DynamoDB Local, PutEvents endpoint', () => {
  it('baseline is silent and costs one write per order; an unchanged cycle writes nothing and puts nothing', async () => {
    const n = await deployed();
    const baseline = await n.run();
    expect(baseline).toMatchObject({ baseline: true, events: 0, snapshotsWritten: 263 });
    expect(bus.calls).toBe(0);
    await n.run();
    const writesBefore = n.dynamo.stats.writes;
    const batchGetsBefore = n.dynamo.stats.batchGets;
    const quiet = await n.run();
    expect(quiet.events).toBe(0);
    // Only the lease's acquire and release write.
    expect(n.dynamo.stats.writes - writesBefore).toBe(2);
    expect(n.dynamo.stats.batchGets - batchGetsBefore).toBeLessThanOrEqual(
      Math.ceil(quiet.ordersScanned / 100),
    );
    expect(bus.calls).toBe(0);
  });

  it('every change arrives on the bus once, in ≤10-entry calls, with the guarantees', async () => {
    const n = await deployed();
    await n.run();
    const from = sim.state.ledger.length;
    busy();
    const report = await n.run();
    expect(report.events).toBeGreaterThan(20);
    expect(bus.events).toHaveLength(report.events);
    // The endpoint refuses calls of more than 10 entries; the scan and the look-ups publish separately.
    expect(bus.calls).toBeLessThanOrEqual(Math.ceil(report.events / 10) + 1);
    const check = await n.verify(from, receivedEvents(bus));
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('PutEvents partial failures and throttling: only failed entries are resent; nothing lost or duplicated', async () => {
    const n = await deployed();
    await n.run();
    const from = sim.state.ledger.length;
    busy();
    bus.setRandomFaults({ entryFailureRate: 0.2, throttleRate: 0.2, random: seededRandom(3) });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++)
      outcomes.push(
        await n.run().then(
          (r) => r.outcome,
          (e: Error) => e.name,
        ),
      );
    bus.setRandomFaults(undefined);
    await n.run();
    expect(bus.injected.failedEntries).toBeGreaterThan(0);
    expect(bus.injected.throttled).toBeGreaterThan(0);
    // Every cycle either completed or failed on PutEvents (its journal kept what it had not delivered).
    expect(outcomes.every((o) => o === 'completed' || o === 'PublishError')).toBe(true);
    expect(outcomes).toContain('completed');
    const check = await n.verify(from, receivedEvents(bus));
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  const steps: CycleStep[] = [
    'scanned',
    'journal-part-written',
    'journal-sealed',
    'state-written',
    'published',
    'journal-cleared',
  ];
  it.each(steps)(
    'killed at %s and run again: nothing lost, duplicates only with the same eventId',
    async (step) => {
      const n = await deployed();
      await n.run();
      const from = sim.state.ledger.length;
      busy();
      await n.runAndKill(step);
      sim.state.advanceStage(23621);
      await n.run();
      const check = await n.verify(from, receivedEvents(bus));
      expect(check.violations).toEqual([]);
      expect(check.duplicates > 0).toBe(step === 'published');
    },
  );

  it('a runner frozen past its lease (DynamoDB): after the takeover nothing it sends is applied', async () => {
    const n = await deployed();
    await n.run();
    const from = sim.state.ledger.length;
    busy();
    let parts = 0;
    let fresh: Awaited<ReturnType<typeof n.run>> | undefined;
    const frozen = n.run({
      owner: 'frozen',
      leaseTtlMs: 1_000,
      journalPartBytes: 2_000,
      onStep: async (step) => {
        if (step === 'journal-part-written' && ++parts === 1) {
          n.clock.advance(5_000);
          fresh = await n.run({ owner: 'fresh', journalPartBytes: 2_000 });
        }
      },
    });
    await expect(frozen).rejects.toThrow(LeaseLostError);
    expect(fresh?.outcome).toBe('completed');
    expect(await n.store.readJournal()).toEqual({ parts: [], seals: [] });
    const check = await n.verify(from, receivedEvents(bus));
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('429 and 5xx storms from Uphance: nothing lost', async () => {
    const n = await deployed();
    await n.run();
    const from = sim.state.ledger.length;
    busy();
    sim.faults.randomly({
      seed: 12,
      rates: { rate_limit: 0.25, server_error: 0.25, drop: 0.05 },
      retryAfter: '1',
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(
        await n.run().then(
          (r) => r.outcome,
          (e: Error) => e.name,
        ),
      );
    sim.faults.randomly(undefined);
    await n.run();
    expect(sim.faults.injected.rate_limit).toBeGreaterThan(0);
    expect(sim.faults.injected.server_error).toBeGreaterThan(0);
    expect(outcomes.every((o) => ['completed', 'UphanceApiError'].includes(o))).toBe(true);
    expect((await n.verify(from, receivedEvents(bus))).violations).toEqual([]);
  });

  it('production signals end to end: due soon, overdue and stalled stages arrive on the bus once each', async () => {
    const n = await deployed();
    const signals = { ...DEFAULT_SIGNAL_SETTINGS, timeZone: 'Europe/London' };
    await n.run({ signals });
    const open = [...sim.state.orders.values()].filter(
      (o) => o.raw.status === 'CONFIRMED' && o.raw.delivery_status !== 'All Received',
    );
    const [soon, late, busyOrder] = open;
    // The harness clock says 2026-11-27 10:01 (London: the same day).
    sim.state.setDueDate(soon!.raw.id, '2026-11-30');
    sim.state.setDueDate(late!.raw.id, '2026-11-20');
    // Starts a stage (at the simulator's wall-clock time) or completes one: either way a roll-up may follow.
    for (const item of busyOrder!.lineItems) sim.state.advanceStage(busyOrder!.raw.id, item.raw.id as number);
    await n.run({ signals });
    const signalsOf = () =>
      receivedEvents(bus).filter((e) =>
        ['OrderStageCompleted', 'OrderDueSoon', 'OrderOverdue', 'StageStalled'].includes(e.detailType),
      );
    expect(signalsOf().filter((e) => e.detail.order.id === soon!.raw.id)).toMatchObject([
      { detailType: 'OrderDueSoon', detail: { due: { date: '2026-11-30', days: 3 } } },
    ]);
    expect(signalsOf().filter((e) => e.detail.order.id === late!.raw.id)).toMatchObject([
      { detailType: 'OrderOverdue', detail: { due: { date: '2026-11-20', days: 7 } } },
    ]);
    // A month later every stage started since has stalled and every due date has passed: each fires once.
    n.clock.advance(40 * 86_400_000);
    await n.run({ signals });
    const afterMonth = signalsOf();
    expect(afterMonth.some((e) => e.detailType === 'StageStalled')).toBe(true);
    expect(afterMonth.filter((e) => e.detailType === 'OrderOverdue').length).toBeGreaterThan(1);
    await n.run({ signals });
    expect(signalsOf()).toHaveLength(afterMonth.length);
    const identities = afterMonth.map((e) => JSON.stringify([e.detail.order.id, e.detailType, e.detail]));
    expect(new Set(afterMonth.map((e) => e.detail.eventId)).size).toBe(identities.length);
    for (const event of afterMonth) validateEvent(event);
  });

  it('the digest on the table reports exactly the stage roll-ups and receipts the bus got, each once', async () => {
    const n = await deployed();
    const signals = DEFAULT_SIGNAL_SETTINGS;
    await n.run({ signals });
    const marker = new DynamoDigestMarker(n.client, n.tableName, 'default');
    const digestAt = async (now: number) => {
      const job = {
        state: () => readDigestState(n.dynamo),
        marker,
        channels: [],
        settings: { ...DEFAULT_SIGNAL_SETTINGS, dueSoonDays: 0, stallDays: 0 },
        now: () => now,
        whenEmpty: true,
      };
      const { digest } = await runDigestJob(job);
      if (digest === null) throw new Error('no run given: never a repeat');
      return digest;
    };
    // The first digest: the baseline was silent, so nothing is news.
    const first = await digestAt(n.clock.now() + SETTLE_MS);
    expect([first.completed, first.received]).toEqual([[], []]);
    const received = () =>
      receivedEvents(bus).filter((e) => ['OrderStageCompleted', 'OrderAllReceived'].includes(e.detailType));
    const reported = (d: Digest) => [
      ...d.completed.map((l) => `${l.number} ${l.text.split(' completed')[0]}`),
      ...d.received.map((l) => `${l.number} received`),
    ];
    const expected = (events: NotifierEvent[]) =>
      events.map((e) =>
        e.detailType === 'OrderStageCompleted'
          ? `${e.detail.order.number} ${e.detail.stage.name}`
          : `${e.detail.order.number} received`,
      );
    for (let round = 0; round < 3; round++) {
      const before = received().length;
      // Every line item of a few orders one stage further (roll-ups follow), a few orders received.
      const random = seededRandom(round);
      const active = [...sim.state.orders.values()].filter((o) => o.lineItems.some(hasWorkLeft));
      for (let i = 0; i < 12; i++) {
        const order = active[Math.floor(random() * active.length)]!;
        for (const item of order.lineItems) sim.state.advanceStage(order.raw.id, item.raw.id as number);
        if (random() < 0.3) sim.state.setDeliveryStatus(order.raw.id, 'all_received');
      }
      await n.run({ signals });
      const news = received().slice(before);
      const digest = await digestAt(n.clock.now() + SETTLE_MS);
      expect(news.some((e) => e.detailType === 'OrderStageCompleted')).toBe(true);
      expect(news.some((e) => e.detailType === 'OrderAllReceived')).toBe(true);
      expect(reported(digest).sort()).toEqual(expected(news).sort());
    }
    // Nothing new: nothing reported twice.
    const quiet = await digestAt(n.clock.now() + 2 * SETTLE_MS);
    expect(reported(quiet)).toEqual([]);
  });
});
