import { describe, expect, it } from 'vitest';
import { TRUNCATION_MARKER } from '../../functions/core/bounds.js';
import { detectChanges, firstSight } from '../../functions/core/diff.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import { exampleEvents } from '../../scripts/event-examples.js';
import { generateOrders } from '../../simulator/generator.js';
import type { LedgerEntry } from '../../simulator/model.js';
import { seededRandom } from '../../simulator/random.js';
import { SimulatorState } from '../../simulator/state.js';
import { RandomActivity } from '../../soak/activity.js';
import {
  checkAtRisk,
  checkBounded,
  checkEvents,
  checkLedgerCovered,
  checkMilestones,
  checkSnapshots,
  FenceWatch,
  truthSnapshots,
} from '../../soak/invariants.js';
import { clone, vendorOrder } from '../helpers/orders.js';

/** The checks the soak and the cycle tests rely on must themselves catch what they claim to. */
const history = (): NotifierEvent[] => {
  const a = vendorOrder('1307');
  const b = clone(a);
  b.status = 'complete';
  const first = detectChanges(snapshotOf(a, 0), b, { detectedAt: '2026-01-01T00:00:00.000Z' });
  const c = clone(b);
  c.dueDate = '2026-05-01';
  const second = detectChanges(first.snapshot, c, { detectedAt: '2026-01-01T00:05:00.000Z' });
  return [...first.events, ...second.events];
};

describe('invariant checks', () => {
  it('accept a clean history and identical re-emissions', () => {
    const events = history();
    const result = checkEvents([...events, events[0]!]);
    expect(result.violations).toEqual([]);
    expect(result.duplicates).toBe(1);
  });

  it('catch an OrderAtRisk given twice for one due date, or after OrderOverdue; a new due date re-arms it', () => {
    const risk = exampleEvents().OrderAtRisk;
    const at = (sequence: number, due: string, detailType = 'OrderAtRisk'): NotifierEvent => {
      const event = clone(risk);
      Object.assign(event, { detailType });
      Object.assign(event.detail, { sequence, eventId: `e${sequence}`, due: { date: due, days: 3 } });
      event.detail.order.dueDate = due;
      if (detailType === 'OrderDueDateChanged')
        Object.assign(event.detail, { change: { from: null, to: due } });
      return event;
    };
    expect(
      checkAtRisk([at(1, '2026-12-02'), at(2, '2026-12-03', 'OrderDueDateChanged'), at(3, '2026-12-03')]),
    ).toEqual([]);
    expect(checkAtRisk([at(1, '2026-12-02'), at(2, '2026-12-02')]).map((v) => v.message)).toEqual([
      'OrderAtRisk fired twice for due date 2026-12-02',
    ]);
    expect(
      checkAtRisk([at(1, '2026-12-02', 'OrderOverdue'), at(2, '2026-12-02')]).map((v) => v.rule),
    ).toEqual(['at-risk-repeated']);
  });

  it('catch a re-emission that differs, a sequence given twice, and a gap', () => {
    const [one, two] = history();
    const altered = clone(one!);
    (altered.detail as { detectedAt: string }).detectedAt = 'later';
    expect(checkEvents([one!, altered]).violations.map((v) => v.rule)).toEqual(['duplicate-differs']);
    const reused = clone(two!);
    reused.detail.eventId = 'another';
    reused.detail.sequence = 1;
    expect(checkEvents([one!, reused]).violations.map((v) => v.rule)).toEqual(['sequence-reused']);
    expect(checkEvents([two!]).violations.map((v) => v.rule)).toEqual(['sequence-gap']);
  });

  it('catch a lost change: a stage completion or a final value no event carries', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const ledger: LedgerEntry[] = [
      { orderId: 23620, kind: 'status', from: 'confirmed', to: 'complete', at },
      { orderId: 23620, kind: 'due_date', from: null, to: '2026-05-01', at },
      {
        orderId: 23620,
        kind: 'stage',
        from: 'In Progress',
        to: 'Completed',
        lineItemId: 141951,
        stage: 'Sewing',
        at,
      },
    ];
    const lost = checkLedgerCovered(ledger, 0, history());
    expect(lost.map((v) => v.message)).toEqual(['23620/141951/Sewing completed without StageCompleted']);
    const missingDue = checkLedgerCovered(ledger.slice(0, 2), 0, history().slice(0, 1));
    expect(missingDue.map((v) => v.message)).toEqual(['23620/due_date ended 2026-05-01, events say null']);
  });

  it('catch a snapshot that differs from the truth, and an order gone but not removed', () => {
    const truth = new Map([[1, snapshotOf(vendorOrder('1307'), 0)]]);
    const moved = clone(vendorOrder('1307'));
    moved.status = 'complete';
    const stored = new Map([
      [1, snapshotOf(moved, 3)],
      [2, snapshotOf(vendorOrder('1311'), 1)],
    ]);
    expect(checkSnapshots(truth, stored).map((v) => v.rule)).toEqual([
      'snapshot-differs',
      'snapshot-differs',
    ]);
  });

  it('count a set-aside event as not lost only when the store lists it', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const ledger: LedgerEntry[] = [{ orderId: 23620, kind: 'due_date', from: null, to: '2026-05-01', at }];
    const [first, second] = history();
    // The due-date change travels in the second event; the bus refused it for good.
    expect(checkLedgerCovered(ledger, 0, [first!]).map((v) => v.rule)).toEqual(['lost']);
    expect(checkLedgerCovered(ledger, 0, [first!], [second!])).toEqual([]);
  });

  it('catch an event that carries an unbounded value, and accept a value cut with the marker', () => {
    const [event] = history();
    expect(checkBounded([event!])).toEqual([]);
    const long = clone(event!);
    (long.detail.order as { companyName: string | null }).companyName = 'x'.repeat(10_000);
    expect(checkBounded([long]).map((v) => v.rule)).toEqual(['unbounded-value']);
    const cut = clone(event!);
    (cut.detail.order as { companyName: string | null }).companyName =
      `${'x'.repeat(400)}${TRUNCATION_MARKER}`;
    expect(checkBounded([cut])).toEqual([]);
  });

  it("catch a stale runner's write: a stored sequence that goes back or falls behind a delivered event", () => {
    const events = history();
    const order = vendorOrder('1307');
    const watch = new FenceWatch();
    const at = (seq: number) => new Map([[order.id, snapshotOf(order, seq)]]);
    expect(watch.observe(at(2), events)).toEqual([]);
    // An older snapshot written over the newer one (sequence 2 back to 1).
    expect(watch.observe(at(1), events).map((v) => v.rule)).toEqual(['stale-write', 'stale-write']);
    // Events delivered with sequences the state never reached.
    const ahead = new FenceWatch();
    expect(ahead.observe(at(1), events).map((v) => v.message)).toEqual([
      'event with sequence 2 delivered, but the stored snapshot is at 1',
    ]);
  });

  it('compare snapshots with the truth as bounded: a megabyte company name is kept cut, with the marker', () => {
    const state = new SimulatorState(() => Date.UTC(2026, 10, 1));
    state.load(generateOrders({ count: 3, seed: 5 }));
    const activity = new RandomActivity(state, seededRandom(1));
    const id = activity.createPoison('company') as number;
    const truth = truthSnapshots(state);
    const name = truth.get(id)?.order.companyName ?? '';
    expect(name.length).toBeLessThan(1_000);
    expect(name.endsWith(TRUNCATION_MARKER)).toBe(true);
    const stored = new Map(truth);
    const unbounded = clone(truth.get(id)!);
    unbounded.order.companyName = state.get(id).raw.company_name as string;
    stored.set(id, unbounded);
    expect(checkSnapshots(truth, stored).map((v) => v.orderId)).toEqual([id]);
  });
  it('catch a roll-up or a receipt dated otherwise than by its last event', () => {
    const a = vendorOrder('1308');
    expect(a.lineItems.some((item) => item.stages.length > 0)).toBe(true);
    for (const item of a.lineItems) for (const stage of item.stages) stage.status = 'in_progress';
    a.deliveryStatus = 'not_received';
    const b = clone(a);
    for (const item of b.lineItems) for (const stage of item.stages) stage.status = 'completed';
    b.deliveryStatus = 'all_received';
    const signals = DEFAULT_SIGNAL_SETTINGS;
    const seen = firstSight(a, { detectedAt: '2026-01-01T00:00:00.000Z', signals, emit: false }).snapshot;
    const first = detectChanges(seen, b, { detectedAt: '2026-01-01T00:05:00.000Z', signals });
    const events = first.events;
    expect(events.map((e) => e.detailType)).toContain('OrderStageCompleted');
    expect(events.map((e) => e.detailType)).toContain('OrderAllReceived');
    const stored = new Map([[a.id, first.snapshot]]);
    expect(checkMilestones(stored, events)).toEqual([]);
    // Dated by another time, undated, or the receipt's event missing: each is caught.
    const name = first.snapshot.rolledUp?.[0] as string;
    const shifted = { ...first.snapshot, rolledUpSeen: { ...first.snapshot.rolledUpSeen, [name]: 1 } };
    expect(checkMilestones(new Map([[a.id, shifted]]), events).map((v) => v.rule)).toEqual([
      'milestone-differs',
    ]);
    const undated = { ...first.snapshot, receivedSeen: undefined };
    expect(checkMilestones(new Map([[a.id, undated]]), events)).toHaveLength(1);
    const noReceipt = events.filter((e) => e.detailType !== 'OrderAllReceived');
    expect(checkMilestones(stored, noReceipt)[0]?.message).toMatch(
      /all received dated \d+, its last event says none/,
    );
  });
});

describe('soak activity', () => {
  it('never acts on an order it deleted, and counts only the changes the ledger recorded', () => {
    let deleted = 0;
    let bulk = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const state = new SimulatorState(() => Date.UTC(2026, 10, 1));
      state.load(generateOrders({ count: 12, seed, watchedShare: 0.5 }));
      const activity = new RandomActivity(state, seededRandom(seed), {
        bulkRate: 0.3,
        largeRate: 0.05,
        poisonRate: 0.02,
      });
      const start = state.ledger.length;
      // Many changes a step over few orders: a deletion followed by changes in the same step is common.
      for (let i = 0; i < 60; i++) activity.step(20);
      const { malformed: _notInLedger, bulk: moves, ...ledgerKinds } = activity.counts;
      const counted = Object.values(ledgerKinds).reduce((a, b) => a + b, 0) + activity.bulkStages;
      expect(counted).toBe(state.ledger.length - start);
      deleted += activity.counts.delete;
      bulk += moves;
    }
    expect(deleted).toBeGreaterThan(20);
    expect(bulk).toBeGreaterThan(0);
  });
});
