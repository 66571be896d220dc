import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectChanges, firstSight } from '../../functions/core/diff.js';
import type { NotifierEvent, OrderAtRiskDetail } from '../../functions/core/events/catalogue.js';
import type { ForecastStage } from '../../functions/core/forecast.js';
import { completionAt, forecastOrder, forecastView } from '../../functions/core/forecast.js';
import type { StageSample } from '../../functions/core/history.js';
import {
  ACCOUNT_SAMPLES,
  MIN_SAMPLES,
  StageHistory,
  SUPPLIER_SAMPLES,
  stageSamples,
} from '../../functions/core/history.js';
import type { LineItem, Order, Stage } from '../../functions/core/order.js';
import type { SignalSettings } from '../../functions/core/signals.js';
import { DEFAULT_SIGNAL_SETTINGS, nextSignalAt } from '../../functions/core/signals.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { keyedLineItems } from '../../functions/core/snapshot.js';
import { historyWith, samplesOf, times } from '../helpers/history.js';
import { stage, validated } from '../helpers/orders.js';

const DAY = 86_400_000;
const SLOW = 101;
const FAST = 102;
const ms = (iso: string) => Date.parse(iso);

/** The account: Sewing takes 12 days at the slow supplier and 3 at the fast one; Packing 2 days, then the end. */
const account = () =>
  historyWith(
    { stage: 'Cutting', supplier: 103, days: times(6, 1), next: 'Sewing' },
    { stage: 'Sewing', supplier: SLOW, days: times(8, 12), next: 'Packing' },
    { stage: 'Sewing', supplier: FAST, days: times(8, 3), next: 'Packing' },
    { stage: 'Packing', supplier: SLOW, days: times(6, 2), next: '' },
    { stage: 'Packing', supplier: FAST, days: times(6, 2), next: '' },
  );

const item = (id: number, stages: Stage[]): LineItem => ({
  id,
  productId: 7,
  productName: 'Linen Trouser',
  color: 'Sage',
  stages,
});

const order = (companyId: number | null, over: Partial<Order> = {}): Order => ({
  id: 1308 + (companyId ?? 0),
  number: `13${companyId ?? 0}`,
  status: 'confirmed',
  deliveryStatus: 'not_received',
  companyId,
  companyName: companyId === SLOW ? 'Atelier Nord' : 'Quick Stitch',
  seasonId: 1,
  dueDate: null,
  updatedAt: null,
  createdAt: null,
  lineItems: [],
  ...over,
});

/** Cutting done, Sewing started yesterday (2026-11-26 08:00 UTC), seen on 2026-11-27. */
const NOW = ms('2026-11-27T10:00:00Z');
const sewingSinceYesterday = () => [
  stage('Cutting', 'completed', '2026-11-24T08:00:00Z', '2026-11-25T17:00:00Z'),
  stage('Sewing', 'in_progress', '2026-11-26T08:00:00Z'),
];

const riskEvents = (events: NotifierEvent[]) =>
  validated(events).filter(
    (e): e is Extract<NotifierEvent, { detailType: 'OrderAtRisk' }> => e.detailType === 'OrderAtRisk',
  );

describe('the acceptance case: Sewing takes 12 days at one supplier and 3 at another', () => {
  const settings = DEFAULT_SIGNAL_SETTINGS;
  const history = account();
  const play = (companyId: number) => {
    // Seen without a due date a week earlier (first sight: silent), then due in 5 days.
    const seen = firstSight(order(companyId, { lineItems: [item(1, sewingSinceYesterday())] }), {
      detectedAt: '2026-11-20T10:00:00.000Z',
      signals: settings,
      history,
      emit: false,
    });
    const due = order(companyId, { dueDate: '2026-12-02', lineItems: [item(1, sewingSinceYesterday())] });
    return detectChanges(seen.snapshot, due, {
      detectedAt: new Date(NOW).toISOString(),
      signals: settings,
      history,
    });
  };

  it("the slow supplier's order, whose Sewing started yesterday and is due in 5 days, is at risk", () => {
    const [risk] = riskEvents(play(SLOW).events);
    expect(risk?.detail).toMatchObject({
      due: { date: '2026-12-02', days: 5 },
      // 2026-11-26 08:00 + 12 days of Sewing + 2 of Packing.
      forecast: {
        date: '2026-12-10',
        lateDays: 8,
        basis: { source: 'supplier', samples: 6 },
        stage: { name: 'Sewing', expectedDays: 12, startTime: '2026-11-26T08:00:00Z' },
      },
    } satisfies Partial<OrderAtRiskDetail>);
  });

  it("the fast supplier's identical order is not (it ends on 2026-12-01)", () => {
    const result = play(FAST);
    expect(riskEvents(result.events)).toEqual([]);
    expect(result.events.map((e) => e.detailType)).toEqual(['OrderDueDateChanged', 'OrderDueSoon']);
  });
});

describe('expected durations', () => {
  it.each([
    {
      name: "the supplier's own median where it has 5 durations",
      specs: [
        { stage: 'Sewing', supplier: SLOW, days: [10, 11, 12, 13, 30] },
        { stage: 'Sewing', supplier: FAST, days: times(20, 3) },
      ],
      supplier: SLOW,
      expected: { days: 12, source: 'supplier', samples: 5 },
    },
    {
      name: "the account's median where the supplier has 4",
      specs: [
        { stage: 'Sewing', supplier: SLOW, days: [10, 11, 12, 13] },
        { stage: 'Sewing', supplier: FAST, days: times(3, 3) },
      ],
      supplier: SLOW,
      // 3, 3, 3, 10, 11, 12, 13: the median is 10.
      expected: { days: 10, source: 'account', samples: 7 },
    },
    {
      name: 'an order without a supplier uses the account',
      specs: [{ stage: 'Sewing', supplier: SLOW, days: times(6, 12) }],
      supplier: null,
      expected: { days: 12, source: 'account', samples: 6 },
    },
    {
      name: 'none with fewer than 5 durations at the account',
      specs: [
        { stage: 'Sewing', supplier: SLOW, days: [10, 11] },
        { stage: 'Sewing', supplier: FAST, days: [3, 3] },
      ],
      supplier: SLOW,
      expected: null,
    },
    {
      name: 'an even count takes the mean of the middle two',
      specs: [{ stage: 'Sewing', supplier: SLOW, days: [1, 2, 3, 4, 5, 6] }],
      supplier: SLOW,
      expected: { days: 3.5, source: 'supplier', samples: 6 },
    },
  ])('$name', ({ specs, supplier, expected }) => {
    const found = historyWith(...specs).expected('Sewing', supplier);
    expect(found && { days: found.ms / DAY, source: found.source, samples: found.samples }).toEqual(expected);
  });

  it('MIN_SAMPLES is the contract’s 5', () => {
    expect(MIN_SAMPLES).toBe(5);
  });
});

const running = (name: string, start: string): ForecastStage => ({
  name,
  status: 'in_progress',
  startMs: ms(start),
  startTime: start,
});
const done = (name: string): ForecastStage => ({ name, status: 'completed', startMs: null });
const waiting = (name: string): ForecastStage => ({ name, status: 'not_started', startMs: null });

describe('the forecast of an order (docs/contract.md section 1c)', () => {
  const history = account();
  it.each([
    {
      name: 'what remains of the current stage plus each stage after it',
      items: [[done('Cutting'), running('Sewing', '2026-11-26T08:00:00Z')]],
      supplier: SLOW,
      at: '2026-12-10T08:00:00.000Z',
      basis: { source: 'supplier', samples: 6 },
    },
    {
      name: 'a current stage already longer than expected: nothing of it remains, and the forecast moves with the clock',
      // Sewing since 20 days at the slow supplier (12 expected): now + Packing's 2 days.
      items: [[running('Sewing', '2026-11-07T08:00:00Z')]],
      supplier: SLOW,
      at: '2026-11-29T10:00:00.000Z',
      basis: { source: 'supplier', samples: 6 },
    },
    {
      name: 'a stage not started yet takes its whole expected duration',
      items: [[done('Cutting'), waiting('Sewing')]],
      supplier: FAST,
      at: '2026-12-02T10:00:00.000Z',
      basis: { source: 'supplier', samples: 6 },
    },
    {
      name: 'the latest line item; a finished one counts for nothing',
      items: [
        [running('Sewing', '2026-11-26T08:00:00Z')],
        [done('Sewing'), running('Packing', '2026-11-27T08:00:00Z')],
        [done('Sewing'), done('Packing')],
      ],
      supplier: SLOW,
      at: '2026-12-10T08:00:00.000Z',
      basis: { source: 'supplier', samples: 6 },
    },
    {
      name: "a stage the supplier has too little of uses the account's: the basis says account",
      // Cutting: only the account's 6 durations of 1 day; then Sewing (12) and Packing (2) at the slow supplier.
      items: [[running('Cutting', '2026-11-27T08:00:00Z')]],
      supplier: SLOW,
      at: '2026-12-12T08:00:00.000Z',
      basis: { source: 'account', samples: 6 },
    },
  ])('$name', ({ items, supplier, at, basis }) => {
    const forecast = forecastOrder(items, supplier, history);
    expect(forecast?.basis).toEqual(basis);
    expect(new Date(completionAt(forecast!, NOW).at).toISOString()).toBe(at);
  });

  it('too little history (fewer than 5 durations of a stage on the way): no forecast', () => {
    const thin = historyWith(
      { stage: 'Sewing', supplier: SLOW, days: times(8, 12), next: 'Pressing' },
      { stage: 'Pressing', supplier: SLOW, days: times(4, 1), next: '' },
    );
    expect(forecastOrder([[running('Sewing', '2026-11-26T08:00:00Z')]], SLOW, thin)).toBeNull();
    expect(forecastOrder([[running('Knitting', '2026-11-26T08:00:00Z')]], SLOW, thin)).toBeNull();
  });

  it('no forecast once production is done, or without any stage', () => {
    expect(forecastOrder([[done('Sewing'), done('Packing')], []], SLOW, history)).toBeNull();
    expect(forecastOrder([], SLOW, history)).toBeNull();
  });

  it("stages still to come: the line item's own listing, then the order's sequence, then the account's habit", () => {
    // The order's other line item is in Washing after Sewing: Washing comes after Sewing for this order;
    // after Washing, the account's line items go to Packing, then end.
    const routed = historyWith(
      { stage: 'Sewing', supplier: SLOW, days: times(6, 10), next: 'Packing' },
      { stage: 'Washing', supplier: SLOW, days: times(6, 4), next: 'Packing' },
      { stage: 'Packing', supplier: SLOW, days: times(6, 1), next: '' },
    );
    const forecast = forecastOrder(
      [[running('Sewing', '2026-11-27T10:00:00Z')], [done('Sewing'), waiting('Washing')]],
      SLOW,
      routed,
    );
    // Sewing 10 + Washing 4 + Packing 1 = 15 days for the first line item.
    expect(completionAt(forecast!, NOW).at).toBe(NOW + 15 * DAY);
  });

  it('the forecast date is the calendar day in the configured zone', () => {
    // Sewing started 2026-11-26 22:00 UTC: 12 + 2 days later is 2026-12-10 22:00 UTC, the 11th in Tokyo.
    const items = [[running('Sewing', '2026-11-26T22:00:00Z')]];
    expect(forecastView(items, SLOW, NOW, 'UTC', history)?.date).toBe('2026-12-10');
    expect(forecastView(items, SLOW, NOW, 'Asia/Tokyo', history)?.date).toBe('2026-12-11');
    expect(forecastView(items, SLOW, NOW, 'America/New_York', history)?.date).toBe('2026-12-10');
  });
});

/** Plays polls of one order against a fixed history; returns the OrderAtRisk events of each poll. */
const playRisk = (
  start: Order,
  startAt: string,
  polls: Array<[at: string, change: (o: Order) => void]>,
  settings: Partial<SignalSettings> = {},
  history: StageHistory = account(),
) => {
  const signals = { ...DEFAULT_SIGNAL_SETTINGS, ...settings };
  let current = structuredClone(start);
  let snapshot: Snapshot = firstSight(current, {
    detectedAt: startAt,
    signals,
    history,
    emit: false,
  }).snapshot;
  return polls.map(([at, change]) => {
    current = structuredClone(current);
    change(current);
    const result = detectChanges(snapshot, current, { detectedAt: at, signals, history });
    snapshot = result.snapshot;
    return riskEvents(result.events).map(
      (e) => `${e.detail.due.date} ${e.detail.forecast.date} +${e.detail.forecast.lateDays}`,
    );
  });
};

const none = () => {};
const dueOn = (date: string | null) => (o: Order) => {
  o.dueDate = date;
};

describe('OrderAtRisk (docs/contract.md section 1c)', () => {
  const slowOrder = (over: Partial<Order> = {}) =>
    order(SLOW, { lineItems: [item(1, sewingSinceYesterday())], ...over });

  it.each([
    {
      name: 'fires once per due date; a new due date re-arms it',
      start: slowOrder(),
      polls: [
        ['2026-11-27T10:00:00Z', dueOn('2026-12-02')],
        ['2026-11-28T10:00:00Z', none],
        ['2026-11-29T10:00:00Z', dueOn('2026-12-05')],
        ['2026-11-30T10:00:00Z', none],
      ],
      expected: [['2026-12-02 2026-12-10 +8'], [], ['2026-12-05 2026-12-10 +5'], []],
    },
    {
      name: 'silent when already true at first sight; a new due date re-arms it, even one seen before',
      start: slowOrder({ dueDate: '2026-12-02' }),
      polls: [
        ['2026-11-27T10:00:00Z', none],
        ['2026-11-28T10:00:00Z', dueOn('2026-12-30')],
        ['2026-11-29T10:00:00Z', dueOn('2026-12-02')],
      ],
      expected: [[], [], ['2026-12-02 2026-12-10 +8']],
    },
    {
      name: 'a forecast that recovers and turns again for the same due date stays silent',
      start: slowOrder(),
      polls: [
        ['2026-11-27T10:00:00Z', dueOn('2026-12-02')],
        // Sewing done early: Packing's 2 days to go, on time.
        [
          '2026-11-28T10:00:00Z',
          (o: Order) => {
            o.lineItems[0]!.stages[1] = stage(
              'Sewing',
              'completed',
              '2026-11-26T08:00:00Z',
              '2026-11-28T08:00:00Z',
            );
            o.lineItems[0]!.stages.push(stage('Packing', 'in_progress', '2026-11-28T09:00:00Z'));
          },
        ],
        // Sent back to Sewing: late again, but it already warned for this due date.
        [
          '2026-11-29T10:00:00Z',
          (o: Order) => {
            o.lineItems[0]!.stages[1] = stage('Sewing', 'in_progress', '2026-11-29T08:00:00Z');
            o.lineItems[0]!.stages.pop();
          },
        ],
      ],
      expected: [['2026-12-02 2026-12-10 +8'], [], []],
    },
    {
      name: 'not when all received, cancelled or overdue',
      start: slowOrder({ dueDate: '2026-12-30' }),
      polls: [
        [
          '2026-11-27T10:00:00Z',
          (o: Order) => {
            o.dueDate = '2026-12-02';
            o.deliveryStatus = 'all_received';
          },
        ],
        [
          '2026-11-28T10:00:00Z',
          (o: Order) => {
            o.dueDate = '2026-12-03';
            o.deliveryStatus = 'receiving';
            o.status = 'cancelled';
          },
        ],
        [
          '2026-11-29T10:00:00Z',
          (o: Order) => {
            o.status = 'confirmed';
            o.dueDate = '2026-11-20';
          },
        ],
      ],
      expected: [[], [], []],
    },
    {
      name: 'riskDays sets how late counts: 9 days late is not at risk with RISK_DAYS=10',
      start: slowOrder(),
      polls: [
        ['2026-11-27T10:00:00Z', dueOn('2026-12-01')],
        ['2026-11-28T10:00:00Z', dueOn('2026-11-30')],
      ],
      settings: { riskDays: 10 },
      expected: [[], ['2026-11-30 2026-12-10 +10']],
    },
    {
      name: 'RISK_DAYS=0 turns it off',
      start: slowOrder(),
      polls: [['2026-11-27T10:00:00Z', dueOn('2026-12-02')]],
      settings: { riskDays: 0 },
      expected: [[]],
    },
    {
      name: 'time alone turns it: Sewing overruns its 12 days, the forecast moves with the clock',
      // Due 2026-12-12; on time (12-10) until Sewing passes its 12 days on 12-08 08:00 with Packing's 2 to
      // go: the forecast is 12-12 at 12-10 00:00, 12-13 (a day late) from 12-11 00:00 UTC.
      start: slowOrder({ dueDate: '2026-12-12' }),
      polls: [
        ['2026-12-08T12:00:00Z', none],
        ['2026-12-10T23:59:00Z', none],
        ['2026-12-11T00:00:00Z', none],
        ['2026-12-11T06:00:00Z', none],
      ],
      expected: [[], [], ['2026-12-12 2026-12-13 +1'], []],
    },
    {
      name: 'days counted in the zone: in Tokyo the same instant is a day later',
      start: slowOrder({ dueDate: '2026-12-12' }),
      polls: [
        ['2026-12-10T14:59:00Z', none],
        ['2026-12-10T15:00:00Z', none],
      ],
      settings: { timeZone: 'Asia/Tokyo' },
      expected: [[], ['2026-12-12 2026-12-13 +1']],
    },
  ] as Array<{
    name: string;
    start: Order;
    polls: Array<[string, (o: Order) => void]>;
    expected: string[][];
    settings?: Partial<SignalSettings>;
  }>)('$name', ({ start, polls, expected, settings }) => {
    expect(playRisk(start, '2026-11-26T12:00:00Z', polls, settings)).toEqual(expected);
  });

  it('too little history: no forecast, no event', () => {
    const thin = historyWith({ stage: 'Sewing', supplier: SLOW, days: times(4, 12), next: '' });
    expect(
      playRisk(
        slowOrder(),
        '2026-11-26T12:00:00Z',
        [['2026-11-27T10:00:00Z', dueOn('2026-12-02')]],
        {},
        thin,
      ),
    ).toEqual([[]]);
  });

  it('an order first seen while its stages had too little history warns once the history says it is late', () => {
    const thin = historyWith({ stage: 'Sewing', supplier: SLOW, days: times(4, 12), next: 'Packing' });
    const signals = DEFAULT_SIGNAL_SETTINGS;
    const o = slowOrder({ dueDate: '2026-12-02' });
    // First sight (OrderCreated): no forecast yet, but the rule was judged there.
    const seen = firstSight(o, { detectedAt: '2026-11-26T12:00:00Z', signals, history: thin, emit: true });
    expect(riskEvents(seen.events)).toEqual([]);
    expect(seen.snapshot.fc).toBe(1);
    // The history comes (a fifth Sewing): a forecast 8 days late, turned true after the first sight.
    const learnt = detectChanges(seen.snapshot, o, {
      detectedAt: '2026-11-27T10:00:00Z',
      signals,
      history: account(),
    });
    expect(riskEvents(learnt.events).map((e) => e.detail.forecast.lateDays)).toEqual([8]);
    expect(learnt.snapshot).toMatchObject({ fc: 1, atRisk: '2026-12-02' });
  });

  it('an order overdue when first seen, given a new due date it will miss, warns', () => {
    const signals = DEFAULT_SIGNAL_SETTINGS;
    const overdue = slowOrder({ dueDate: '2026-11-25' });
    const seen = firstSight(overdue, {
      detectedAt: '2026-11-27T10:00:00Z',
      signals,
      history: account(),
      emit: true,
    });
    expect(riskEvents(seen.events)).toEqual([]);
    const moved = detectChanges(
      seen.snapshot,
      { ...overdue, dueDate: '2026-12-02' },
      { detectedAt: '2026-11-27T11:00:00Z', signals, history: account() },
    );
    expect(riskEvents(moved.events).map((e) => e.detail.due.date)).toEqual(['2026-12-02']);
  });

  it('silent with OrderCreated too: first sight after the baseline records it', () => {
    const seen = firstSight(slowOrder({ dueDate: '2026-12-02' }), {
      detectedAt: new Date(NOW).toISOString(),
      signals: DEFAULT_SIGNAL_SETTINGS,
      history: account(),
      emit: true,
    });
    expect(seen.events.map((e) => e.detailType)).toEqual(['OrderCreated']);
    expect(seen.snapshot.atRisk).toBe('2026-12-02');
  });

  it('nextSignalAt says when time alone turns it, and not before', () => {
    const history = account();
    // Stalls off: Sewing would stall on 12-04 (more than 7 days), earlier than either.
    const signals = { ...DEFAULT_SIGNAL_SETTINGS, stallDays: 0 };
    const o = slowOrder({ dueDate: '2026-12-12' });
    const at = '2026-12-01T12:00:00Z';
    const snapshot = firstSight(o, { detectedAt: at, signals, history, emit: false }).snapshot;
    // Due soon from 12-05; at risk from 12-11 00:00 (see above): the earliest is due soon's.
    expect(nextSignalAt(snapshot, signals, history)).toBe(ms('2026-12-05T00:00:00Z'));
    const quiet = { ...signals, dueSoonDays: 0 };
    const plain = firstSight(o, { detectedAt: at, signals: quiet, history, emit: false }).snapshot;
    const next = nextSignalAt(plain, quiet, history) as number;
    expect(new Date(next).toISOString()).toBe('2026-12-11T00:00:00.000Z');
    const before = detectChanges(plain, o, {
      detectedAt: new Date(next - 1).toISOString(),
      signals: quiet,
      history,
    });
    expect(riskEvents(before.events)).toEqual([]);
    const then = detectChanges(plain, o, {
      detectedAt: new Date(next).toISOString(),
      signals: quiet,
      history,
    });
    expect(riskEvents(then.events)).toHaveLength(1);
    // Fired: nothing more to wait for but the overdue day.
    expect(nextSignalAt(then.snapshot, quiet, history)).toBe(ms('2026-12-13T00:00:00Z'));
    // Without the history there is no forecast to wait for.
    expect(nextSignalAt(plain, quiet)).toBe(ms('2026-12-13T00:00:00Z'));
  });
});

describe('the stage history (core/history.ts)', () => {
  const sample = (over: Partial<StageSample> & { id: string }): StageSample => ({
    stage: 'Sewing',
    supplier: SLOW,
    end: 29_000_000,
    minutes: 1440,
    ...over,
  });

  it('merging the same samples again changes nothing and counts nothing twice', () => {
    const history = new StageHistory();
    const batch = samplesOf({ stage: 'Sewing', supplier: SLOW, days: times(8, 12), next: 'Packing' });
    expect(history.merge(batch)).toHaveLength(8);
    const packed = JSON.stringify(history.packed());
    expect(history.merge(batch)).toEqual([]);
    expect(history.merge(structuredClone(batch))).toEqual([]);
    expect(JSON.stringify(history.packed())).toBe(packed);
    expect(history.size).toBe(8);
  });

  it('merging commutes and is idempotent (property): any split, order and repetition give one history', () => {
    const sampleArb = fc.record({
      id: fc.integer({ min: 0, max: 60 }).map(String),
      stage: fc.constantFrom('Cutting', 'Sewing'),
      supplier: fc.constantFrom(1, 2, null),
      end: fc.integer({ min: 0, max: 400 }),
      minutes: fc.integer({ min: 0, max: 20_000 }),
      next: fc.option(fc.constantFrom('', 'Sewing', 'Packing'), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 400 }), fc.array(fc.nat(2)), (raw, splits) => {
        // One identity is one stage of one line item: its stage, supplier, end and duration never differ.
        const first = new Map<string, StageSample>();
        const samples = raw.map((s) => {
          const known = first.get(s.id);
          const fixed = known ? { ...known, next: s.next } : { ...s };
          if (!known) first.set(s.id, fixed);
          if (fixed.next === undefined) delete fixed.next;
          return fixed as StageSample;
        });
        const whole = new StageHistory();
        whole.merge(samples);
        const parts = [new StageHistory(), new StageHistory()];
        samples.forEach((s, i) => {
          parts[(splits[i % Math.max(1, splits.length)] ?? 0) % 2]?.merge([s]);
        });
        const combined = StageHistory.fromPacked(parts[1]?.packed());
        combined.merge(parts[0]?.samples() ?? []);
        combined.merge([...samples].reverse());
        const key = (h: StageHistory) => JSON.stringify(h.packed());
        expect(key(combined)).toBe(key(whole));
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('keeps each supplier’s 30 most recent and the account’s 120 most recent per stage; older ones offered again stay out', () => {
    const history = new StageHistory();
    const suppliers = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const supplier of suppliers)
      history.merge(
        samplesOf({
          stage: 'Sewing',
          supplier,
          days: times(50, 2),
          lastEnd: Date.parse('2026-11-01') + supplier * 60_000,
        }),
      );
    const kept = history.samples();
    for (const supplier of suppliers)
      expect(kept.filter((s) => s.supplier === supplier)).toHaveLength(SUPPLIER_SAMPLES);
    expect(kept.length).toBeLessThanOrEqual(ACCOUNT_SAMPLES + suppliers.length * SUPPLIER_SAMPLES);
    // A sweep the next day offers every completed stage again, the evicted ones too: nothing changes.
    const packed = JSON.stringify(history.packed());
    for (const supplier of suppliers)
      expect(
        history.merge(
          samplesOf({
            stage: 'Sewing',
            supplier,
            days: times(50, 2),
            lastEnd: Date.parse('2026-11-01') + supplier * 60_000,
          }),
        ),
      ).toEqual([]);
    expect(JSON.stringify(history.packed())).toBe(packed);
    // And the cheap test skips them before hashing.
    expect(history.mayKeep('Sewing', 1, Math.floor(Date.parse('2026-01-01') / 60_000))).toBe(false);
    expect(history.mayKeep('Sewing', 1, Math.floor(Date.parse('2026-12-01') / 60_000))).toBe(true);
  });

  it('learns the next stage of a sample later (the line item moved on), as a change to commit', () => {
    const history = new StageHistory();
    history.merge([sample({ id: 'a' })]);
    const [updated] = history.merge([sample({ id: 'a', next: 'Packing' })]);
    expect(updated).toMatchObject({ id: 'a', next: 'Packing' });
    expect(history.merge([sample({ id: 'a' })])).toEqual([]);
    expect(history.samples()).toEqual([sample({ id: 'a', next: 'Packing' })]);
  });

  it('round-trips through its packed form', () => {
    const history = account();
    const again = StageHistory.fromPacked(JSON.parse(JSON.stringify(history.packed())));
    expect(again.packed()).toEqual(history.packed());
    expect(again.size).toBe(history.size);
    expect(again.expected('Sewing', SLOW)).toEqual(history.expected('Sewing', SLOW));
    expect(StageHistory.fromPacked(undefined).size).toBe(0);
  });

  it("a fetched order's completed stages with start and end are samples, with the stage that came next", () => {
    const o = order(SLOW, {
      status: 'complete',
      lineItems: [
        item(1, [
          stage('Cutting', 'completed', '2026-11-01T08:00:00Z', '2026-11-02T08:00:00Z'),
          stage('Sewing', 'completed', '2026-11-02T09:00:00+01:00', '2026-11-14T09:00:00+01:00'),
        ]),
        item(2, [
          stage('Sewing', 'completed', null, '2026-11-14T09:00:00Z'),
          stage('Packing', 'in_progress'),
        ]),
      ],
    });
    const samples = stageSamples(o, keyedLineItems(o));
    expect(samples.map((s) => [s.stage, s.minutes / 1440, s.next])).toEqual([
      ['Cutting', 1, 'Sewing'],
      // The order is complete: its last stage ended its route.
      ['Sewing', 12, ''],
    ]);
    expect(new Set(samples.map((s) => s.id)).size).toBe(2);
    // The same stage seen again has the same identity.
    expect(stageSamples(o, keyedLineItems(o)).map((s) => s.id)).toEqual(samples.map((s) => s.id));
  });

  it('a stage seen again with another offset, or with a corrected end, is one sample (its latest times)', () => {
    const seen = (end: string) =>
      order(SLOW, {
        lineItems: [
          item(1, [
            stage('Sewing', 'completed', '2026-11-02T08:00:00Z', end),
            stage('Packing', 'in_progress'),
          ]),
        ],
      });
    const history = new StageHistory();
    const offer = (end: string) => {
      const o = seen(end);
      return history.merge(stageSamples(o, keyedLineItems(o)));
    };
    expect(offer('2026-11-14T08:00:00Z')).toHaveLength(1);
    // The same instant written with another offset: nothing new.
    expect(offer('2026-11-14T09:00:00+01:00')).toHaveLength(0);
    // A corrected end: the sample is updated, not added.
    expect(offer('2026-11-15T08:00:00Z')).toHaveLength(1);
    expect(history.size).toBe(1);
    expect(history.samples().map((s) => s.minutes / 1440)).toEqual([13]);
  });

  it('what usually follows a stage needs as much evidence as a duration: a stray route is not followed', () => {
    const history = historyWith(
      { stage: 'Sewing', supplier: SLOW, days: times(6, 3), next: 'Packing' },
      { stage: 'Packing', supplier: SLOW, days: times(6, 1) },
      // One line item, once, went on to a long Inspection after Packing.
      { stage: 'Packing', supplier: FAST, days: [1], next: 'Inspection' },
      { stage: 'Inspection', supplier: FAST, days: times(6, 10) },
    );
    expect(history.successor('Packing', SLOW)).toBeNull();
    expect(history.successor('Sewing', SLOW)).toBe('Packing');
  });

  it("the account's order of stages comes from where its line items went next, by majority", () => {
    const history = historyWith(
      { stage: 'Prep', supplier: 1, days: times(6, 1), next: 'Trim' },
      { stage: 'Trim', supplier: 1, days: times(2, 1), next: 'Prep' },
      { stage: 'Trim', supplier: 2, days: times(3, 1), next: 'Bag' },
    );
    expect(history.before('Prep', 'Trim')).toBeLessThan(0);
    expect(history.before('Bag', 'Prep')).toBeGreaterThan(0);
    expect(history.before('Prep', 'Unknown')).toBe(0);
    expect(history.successor('Trim', 2)).toBe('Bag');
  });
});

describe('the roll-up where the order does not tell the order of its stages', () => {
  it("the account's other orders do: a line item in Prep holds Trim back when the account preps first", () => {
    const o = order(SLOW, {
      lineItems: [
        item(1, [stage('Trim', 'in_progress', '2026-11-26T08:00:00Z')]),
        item(2, [stage('Prep', 'in_progress', '2026-11-26T08:00:00Z')]),
      ],
    });
    const completed = structuredClone(o);
    completed.lineItems[0]!.stages[0] = stage(
      'Trim',
      'completed',
      '2026-11-26T08:00:00Z',
      '2026-11-27T08:00:00Z',
    );
    const run = (history?: StageHistory) => {
      const signals = DEFAULT_SIGNAL_SETTINGS;
      const seen = firstSight(o, { detectedAt: '2026-11-26T10:00:00Z', signals, history, emit: false });
      return detectChanges(seen.snapshot, completed, { detectedAt: '2026-11-27T10:00:00Z', signals, history })
        .events.filter((e) => e.detailType === 'OrderStageCompleted')
        .map((e) => e.detailType);
    };
    // Two names nobody knows, and no history: the first seen comes first, so Prep is after Trim.
    expect(run()).toEqual(['OrderStageCompleted']);
    const preps = historyWith({ stage: 'Prep', supplier: 1, days: times(6, 1), next: 'Trim' });
    expect(run(preps)).toEqual([]);
  });
});
