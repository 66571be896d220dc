import { describe, expect, it } from 'vitest';
import { dayNumber, startOfDay } from '../../functions/core/calendar.js';
import { detectChanges, firstSight } from '../../functions/core/diff.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import type { LineItem, Order, Stage } from '../../functions/core/order.js';
import type { SignalSettings } from '../../functions/core/signals.js';
import { DEFAULT_SIGNAL_SETTINGS, nextSignalAt } from '../../functions/core/signals.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { isWatched, sameSnapshot } from '../../functions/core/snapshot.js';
import { clone, stage, validated } from '../helpers/orders.js';

const SIGNALS = new Set(['OrderStageCompleted', 'OrderDueSoon', 'OrderOverdue', 'StageStalled']);

const item = (id: number, stages: Stage[]): LineItem => ({
  id,
  productId: 7,
  productName: 'Tie Blouse',
  color: 'Black',
  stages,
});

const order = (over: Partial<Order> = {}): Order => ({
  id: 1308,
  number: '1308',
  status: 'confirmed',
  deliveryStatus: 'not_received',
  companyId: 59582,
  companyName: 'Tribal Sportswear Inc.',
  seasonId: 12328,
  dueDate: null,
  updatedAt: null,
  createdAt: null,
  lineItems: [],
  ...over,
});

/** One poll: when, and the order as fetched then (a function of the previous one). */
type Poll = [at: string, change: (o: Order) => void];

/**
 * Plays an order's history: a silent first sight at `start`, then one detection per poll. Returns the
 * signal events of each poll as "Type detail" strings, and checks every event against its schema and the
 * sequence rule.
 */
const play = (
  start: Order,
  startAt: string,
  polls: Poll[],
  settings: Partial<SignalSettings> = {},
  all = false,
) => {
  const signals = { ...DEFAULT_SIGNAL_SETTINGS, ...settings };
  let current = clone(start);
  let snapshot: Snapshot = firstSight(current, { detectedAt: startAt, signals, emit: false }).snapshot;
  let seq = 0;
  const perPoll: string[][] = [];
  for (const [at, change] of polls) {
    current = clone(current);
    change(current);
    const result = detectChanges(snapshot, current, { detectedAt: at, signals });
    validated(result.events);
    for (const event of result.events) expect(event.detail.sequence).toBe(++seq);
    perPoll.push(result.events.filter((e) => all || SIGNALS.has(e.detailType)).map(describeEvent));
    snapshot = result.snapshot;
  }
  return { perPoll, snapshot };
};

const describeEvent = (event: NotifierEvent): string => {
  switch (event.detailType) {
    case 'OrderStageCompleted':
      return `OrderStageCompleted ${event.detail.stage.name} ${event.detail.lineItems.completed}/${event.detail.lineItems.total}`;
    case 'OrderDueSoon':
    case 'OrderOverdue':
      return `${event.detailType} ${event.detail.due.date} ${event.detail.due.days}`;
    case 'StageStalled':
      return `StageStalled ${event.detail.lineItem.id} ${event.detail.stage.name} ${event.detail.stalled.days}/${event.detail.stalled.limitDays}`;
    default:
      return event.detailType;
  }
};

const none = () => {};
const setStage = (itemIndex: number, stageIndex: number, s: Stage) => (o: Order) => {
  (o.lineItems[itemIndex] as LineItem).stages[stageIndex] = s;
};
const sewing = (status: string, end: string | null = null) =>
  stage('Sewing', status, '2026-12-01T08:00:00.000+01:00', end);

interface Case {
  name: string;
  start: Order;
  polls: Poll[];
  expected: string[][];
  settings?: Partial<SignalSettings>;
  all?: boolean;
}

const cases: Case[] = [
  // OrderStageCompleted
  {
    name: 'roll-up fires when the last line item completes the stage, after its StageCompleted',
    start: order({ lineItems: [item(1, [sewing('in_progress')]), item(2, [sewing('in_progress')])] }),
    polls: [
      ['2026-12-02T10:00:00Z', setStage(0, 0, sewing('completed', '2026-12-02T09:00:00.000+01:00'))],
      ['2026-12-03T10:00:00Z', setStage(1, 0, sewing('completed', '2026-12-03T09:00:00.000+01:00'))],
      ['2026-12-04T10:00:00Z', none],
    ],
    expected: [['StageCompleted'], ['StageCompleted', 'OrderStageCompleted Sewing 2/2'], []],
    all: true,
  },
  {
    name: 'first sight with the stage already completed everywhere is silent, and stays silent',
    start: order({ lineItems: [item(1, [sewing('completed', '2026-12-01T18:00:00Z')])] }),
    polls: [['2026-12-02T10:00:00Z', none]],
    expected: [[]],
  },
  {
    name: 'a stage reopened and completed again fires again',
    start: order({ lineItems: [item(1, [sewing('completed', '2026-12-01T18:00:00Z')])] }),
    polls: [
      ['2026-12-02T10:00:00Z', setStage(0, 0, sewing('in_progress'))],
      ['2026-12-03T10:00:00Z', setStage(0, 0, sewing('completed', '2026-12-03T09:00:00Z'))],
    ],
    expected: [[], ['OrderStageCompleted Sewing 1/1']],
  },
  {
    name: 'a stage redone (a second Sewing) re-arms the roll-up until it completes',
    start: order({ lineItems: [item(1, [sewing('completed', '2026-12-01T18:00:00Z')])] }),
    polls: [
      [
        '2026-12-02T10:00:00Z',
        (o) => o.lineItems[0]?.stages.push(stage('Sewing', 'in_progress', '2026-12-02T08:00:00Z')),
      ],
      [
        '2026-12-03T10:00:00Z',
        setStage(0, 1, stage('Sewing', 'completed', '2026-12-02T08:00:00Z', '2026-12-03T08:00:00Z')),
      ],
    ],
    expected: [[], ['OrderStageCompleted Sewing 1/1']],
  },
  {
    name: 'a line item added after the roll-up re-arms it; done again when the new item completes',
    start: order({ lineItems: [item(1, [sewing('completed', '2026-12-01T18:00:00Z')])] }),
    polls: [
      ['2026-12-02T10:00:00Z', (o) => o.lineItems.push(item(2, [sewing('in_progress')]))],
      ['2026-12-03T10:00:00Z', setStage(1, 0, sewing('completed', '2026-12-03T09:00:00Z'))],
    ],
    expected: [[], ['OrderStageCompleted Sewing 2/2']],
  },
  {
    name: 'a line item added at an earlier stage holds the roll-up back until it completes the stage too',
    start: order({ lineItems: [item(1, [sewing('in_progress')])] }),
    polls: [
      ['2026-12-02T10:00:00Z', (o) => o.lineItems.push(item(2, [stage('Cutting', 'in_progress')]))],
      ['2026-12-03T10:00:00Z', setStage(0, 0, sewing('completed', '2026-12-03T09:00:00Z'))],
      [
        '2026-12-04T10:00:00Z',
        (o) => {
          (o.lineItems[1] as LineItem).stages = [
            stage('Cutting', 'completed', '2026-12-02T08:00:00Z', '2026-12-03T17:00:00Z'),
            sewing('in_progress'),
          ];
        },
      ],
      ['2026-12-05T10:00:00Z', setStage(1, 1, sewing('completed', '2026-12-05T09:00:00Z'))],
    ],
    // Cutting rolls up once the only line item that has it completes it (the other is past it).
    expected: [[], [], ['OrderStageCompleted Cutting 1/2'], ['OrderStageCompleted Sewing 2/2']],
  },
  {
    name: 'a line item behind the others: Washing on 2 of 3 while the third is in Sewing fires once, at 3 of 3',
    start: order({
      lineItems: [1, 2, 3].map((id) =>
        item(id, [
          sewing('completed', '2026-12-01T18:00:00Z'),
          stage('Washing', 'in_progress', '2026-12-02T08:00:00Z'),
        ]),
      ),
    }),
    polls: [
      [
        '2026-12-03T10:00:00Z',
        (o) => {
          for (const index of [0, 1])
            (o.lineItems[index] as LineItem).stages[1] = stage(
              'Washing',
              'completed',
              '2026-12-02T08:00:00Z',
              '2026-12-03T09:00:00Z',
            );
          // The third line item went back to Sewing (its Washing is not listed any more).
          (o.lineItems[2] as LineItem).stages = [sewing('in_progress')];
        },
      ],
      [
        '2026-12-04T10:00:00Z',
        (o) => {
          (o.lineItems[2] as LineItem).stages = [
            sewing('completed', '2026-12-04T08:00:00Z'),
            stage('Washing', 'not_started'),
          ];
        },
      ],
      [
        '2026-12-06T10:00:00Z',
        setStage(2, 1, stage('Washing', 'completed', '2026-12-05T08:00:00Z', '2026-12-06T09:00:00Z')),
      ],
    ],
    // Sewing rolls up again when the third's redone Sewing completes; Washing once, when all three have.
    expected: [[], ['OrderStageCompleted Sewing 3/3'], ['OrderStageCompleted Washing 3/3']],
  },
  {
    name: 'a line item gone back to an earlier stage after completing this one (rework) holds it back',
    start: order({
      lineItems: [
        item(1, [
          sewing('completed', '2026-12-01T18:00:00Z'),
          stage('Washing', 'in_progress', '2026-12-02T08:00:00Z'),
        ]),
        item(2, [
          sewing('completed', '2026-12-01T18:00:00Z'),
          stage('Washing', 'completed', '2026-12-02T08:00:00Z', '2026-12-02T18:00:00Z'),
          // Sewing again, after its Washing: the line item is back before Washing.
          stage('Sewing', 'in_progress', '2026-12-03T08:00:00Z'),
        ]),
      ],
    }),
    polls: [
      [
        '2026-12-03T10:00:00Z',
        setStage(0, 1, stage('Washing', 'completed', '2026-12-02T08:00:00Z', '2026-12-03T09:00:00Z')),
      ],
      [
        '2026-12-05T10:00:00Z',
        (o) => {
          (o.lineItems[1] as LineItem).stages[2] = stage(
            'Sewing',
            'completed',
            '2026-12-03T08:00:00Z',
            '2026-12-04T08:00:00Z',
          );
          (o.lineItems[1] as LineItem).stages.push(
            stage('Washing', 'completed', '2026-12-04T09:00:00Z', '2026-12-05T09:00:00Z'),
          );
        },
      ],
    ],
    // Not while the second is back in Sewing; then Sewing (completed again) and Washing, once each.
    expected: [[], ['OrderStageCompleted Sewing 2/2', 'OrderStageCompleted Washing 2/2']],
  },
  {
    name: 'a line item that skips the stage (already past it) does not hold it back',
    start: order({
      lineItems: [
        item(1, [sewing('in_progress')]),
        item(2, [
          stage('Cutting', 'completed', '2026-11-20T08:00:00Z', '2026-11-21T08:00:00Z'),
          stage('Packing', 'in_progress', '2026-11-22T08:00:00Z'),
        ]),
      ],
    }),
    polls: [['2026-12-03T10:00:00Z', setStage(0, 0, sewing('completed', '2026-12-03T09:00:00Z'))]],
    expected: [['OrderStageCompleted Sewing 1/2']],
  },
  {
    name: 'a line item with no stage at all is not counted (it holds nothing back)',
    start: order({ lineItems: [item(1, [sewing('in_progress')]), item(2, [])] }),
    polls: [['2026-12-03T10:00:00Z', setStage(0, 0, sewing('completed', '2026-12-03T09:00:00Z'))]],
    expected: [['OrderStageCompleted Sewing 1/2']],
  },
  {
    name: 'a line item whose every stage is completed has finished: it holds a later stage back no more',
    start: order({
      lineItems: [
        item(1, [sewing('completed', '2026-12-01T18:00:00Z'), stage('Washing', 'in_progress')]),
        item(2, [sewing('completed', '2026-12-01T18:00:00Z')]),
      ],
    }),
    polls: [
      [
        '2026-12-03T10:00:00Z',
        setStage(0, 1, stage('Washing', 'completed', '2026-12-02T08:00:00Z', '2026-12-03T09:00:00Z')),
      ],
    ],
    expected: [['OrderStageCompleted Washing 1/2']],
  },
  // OrderDueSoon / OrderOverdue
  {
    name: 'due soon 7 days ahead, once; overdue the day after the due date, once',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-02T12:00:00Z', none],
      ['2026-12-03T00:00:00Z', none],
      ['2026-12-04T12:00:00Z', none],
      ['2026-12-10T23:59:59Z', none],
      ['2026-12-11T00:00:00Z', none],
      ['2026-12-12T12:00:00Z', none],
    ],
    expected: [[], ['OrderDueSoon 2026-12-10 7'], [], [], ['OrderOverdue 2026-12-10 1'], []],
  },
  {
    name: 'the day boundary is that of the configured zone (New York, UTC-5)',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-11T04:59:59Z', none],
      ['2026-12-11T05:00:00Z', none],
    ],
    settings: { timeZone: 'America/New_York' },
    // 04:59 UTC is still Dec 10 in New York: due today; 05:00 UTC is Dec 11 there: overdue.
    expected: [['OrderDueSoon 2026-12-10 0'], ['OrderOverdue 2026-12-10 1']],
  },
  {
    name: 'the day boundary is that of the configured zone (Auckland, UTC+13)',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-02T10:59:59Z', none],
      ['2026-12-02T11:00:00Z', none],
      ['2026-12-10T11:00:00Z', none],
    ],
    settings: { timeZone: 'Pacific/Auckland' },
    expected: [[], ['OrderDueSoon 2026-12-10 7'], ['OrderOverdue 2026-12-10 1']],
  },
  {
    name: 'due date moved forward out of the window, then the window comes again: fires again',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-04T12:00:00Z', none],
      [
        '2026-12-05T12:00:00Z',
        (o) => {
          o.dueDate = '2026-12-20';
        },
      ],
      ['2026-12-13T12:00:00Z', none],
    ],
    expected: [['OrderDueSoon 2026-12-10 6'], [], ['OrderDueSoon 2026-12-20 7']],
  },
  {
    name: 'due date moved forward within the window: a new due date fires at once',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-04T12:00:00Z', none],
      [
        '2026-12-05T12:00:00Z',
        (o) => {
          o.dueDate = '2026-12-12';
        },
      ],
    ],
    expected: [['OrderDueSoon 2026-12-10 6'], ['OrderDueSoon 2026-12-12 7']],
    all: false,
  },
  {
    name: 'due date moved back after overdue: overdue again for the new date, after the change event',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-11T12:00:00Z', none],
      [
        '2026-12-12T12:00:00Z',
        (o) => {
          o.dueDate = '2026-12-08';
        },
      ],
    ],
    expected: [['OrderOverdue 2026-12-10 1'], ['OrderDueDateChanged', 'OrderOverdue 2026-12-08 4']],
    all: true,
  },
  {
    name: 'due date moved back into the window',
    start: order({ dueDate: '2026-12-30' }),
    polls: [
      [
        '2026-12-10T12:00:00Z',
        (o) => {
          o.dueDate = '2026-12-15';
        },
      ],
    ],
    expected: [['OrderDueSoon 2026-12-15 5']],
  },
  {
    name: 'an order cancelled while overdue: nothing more, not even when it comes back on the same date',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-11T12:00:00Z', none],
      [
        '2026-12-12T12:00:00Z',
        (o) => {
          o.status = 'cancelled';
        },
      ],
      ['2026-12-13T12:00:00Z', none],
      [
        '2026-12-14T12:00:00Z',
        (o) => {
          o.status = 'confirmed';
        },
      ],
    ],
    expected: [['OrderOverdue 2026-12-10 1'], [], [], []],
  },
  {
    name: 'cancelled or all received before the due date: never due soon nor overdue',
    start: order({ dueDate: '2026-12-10', lineItems: [] }),
    polls: [
      [
        '2026-12-01T12:00:00Z',
        (o) => {
          o.deliveryStatus = 'all_received';
        },
      ],
      ['2026-12-05T12:00:00Z', none],
      ['2026-12-15T12:00:00Z', none],
    ],
    expected: [[], [], []],
  },
  {
    name: 'a complete order still on its way is overdue whatever its status',
    start: order({ status: 'complete', deliveryStatus: 'receiving', dueDate: '2026-12-10' }),
    polls: [['2026-12-11T12:00:00Z', none]],
    expected: [['OrderOverdue 2026-12-10 1']],
  },
  {
    name: 'first sight while overdue and due soon is silent',
    start: order({ dueDate: '2026-12-10' }),
    polls: [['2026-12-20T12:00:00Z', none]],
    expected: [[]],
    // Seen first on the 20th: play() starts at startAt below.
  },
  {
    name: 'dueSoonDays 0 turns due soon off; overdue stays',
    start: order({ dueDate: '2026-12-10' }),
    polls: [
      ['2026-12-09T12:00:00Z', none],
      ['2026-12-10T12:00:00Z', none],
      ['2026-12-11T12:00:00Z', none],
    ],
    settings: { dueSoonDays: 0 },
    expected: [[], [], ['OrderOverdue 2026-12-10 1']],
  },
  // StageStalled
  {
    name: 'stalled when in progress for more than 7 calendar days, once',
    start: order({ lineItems: [item(1, [stage('Washing', 'in_progress', '2026-12-01T10:00:00Z')])] }),
    polls: [
      ['2026-12-08T23:59:59Z', none],
      ['2026-12-09T00:00:00Z', none],
      ['2026-12-10T12:00:00Z', none],
    ],
    expected: [[], ['StageStalled 1 Washing 8/7'], []],
  },
  {
    name: 'per-stage limits: Sewing=14 waits longer, Packing=0 never stalls',
    start: order({
      lineItems: [
        item(1, [stage('Sewing', 'in_progress', '2026-12-01T10:00:00Z')]),
        item(2, [stage('Packing', 'in_progress', '2026-12-01T10:00:00Z')]),
      ],
    }),
    polls: [
      ['2026-12-09T12:00:00Z', none],
      ['2026-12-15T12:00:00Z', none],
      ['2026-12-16T12:00:00Z', none],
    ],
    settings: { stallDaysByStage: { Sewing: 14, Packing: 0 } },
    expected: [[], [], ['StageStalled 1 Sewing 15/14']],
  },
  {
    name: 'a stage without a start time never stalls',
    start: order({ lineItems: [item(1, [stage('Sewing', 'in_progress')])] }),
    polls: [['2027-03-01T12:00:00Z', none]],
    expected: [[]],
  },
  {
    name: 'a new start time re-arms the stall; completion ends it',
    start: order({ lineItems: [item(1, [stage('Sewing', 'in_progress', '2026-12-01T10:00:00Z')])] }),
    polls: [
      ['2026-12-09T12:00:00Z', none],
      ['2026-12-10T12:00:00Z', setStage(0, 0, stage('Sewing', 'in_progress', '2026-12-10T10:00:00Z'))],
      ['2026-12-18T12:00:00Z', none],
      ['2026-12-19T12:00:00Z', setStage(0, 0, stage('Sewing', 'completed', '2026-12-10T10:00:00Z', 'x'))],
    ],
    expected: [
      ['StageStalled 1 Sewing 8/7'],
      [],
      ['StageStalled 1 Sewing 8/7'],
      ['OrderStageCompleted Sewing 1/1'],
    ],
  },
  {
    name: 'stall days count calendar days in the zone (start late evening in New York)',
    start: order({ lineItems: [item(1, [stage('Sewing', 'in_progress', '2026-12-01T23:30:00-05:00')])] }),
    polls: [
      // Started on Dec 1 in New York (Dec 2 in UTC): 8 days at New York's midnight of Dec 9.
      ['2026-12-09T04:59:00Z', none],
      ['2026-12-09T05:00:00Z', none],
    ],
    settings: { timeZone: 'America/New_York' },
    expected: [[], ['StageStalled 1 Sewing 8/7']],
  },
];

describe('production signals (docs/contract.md section 1b)', () => {
  it.each(cases)('$name', ({ start, polls, expected, settings, all }) => {
    const firstAt =
      polls[0]?.[0] === '2026-12-20T12:00:00Z' ? '2026-12-20T11:00:00Z' : '2026-12-01T12:00:00Z';
    expect(play(start, firstAt, polls, settings, all).perPoll).toEqual(expected);
  });

  it('first sight after the baseline gives OrderCreated only, recording what is already true', () => {
    const o = order({
      dueDate: '2026-11-01',
      lineItems: [item(1, [stage('Sewing', 'in_progress', '2026-10-01T10:00:00Z')])],
    });
    const seen = firstSight(o, {
      detectedAt: '2026-12-01T12:00:00Z',
      signals: DEFAULT_SIGNAL_SETTINGS,
      emit: true,
    });
    expect(validated(seen.events).map((e) => e.detailType)).toEqual(['OrderCreated']);
    expect(seen.snapshot).toMatchObject({
      overdue: '2026-11-01',
      stalled: [`1/Sewing/${Date.parse('2026-10-01T10:00:00Z')}`],
    });
    const next = detectChanges(seen.snapshot, o, {
      detectedAt: '2026-12-02T12:00:00Z',
      signals: DEFAULT_SIGNAL_SETTINGS,
    });
    expect(next.events).toEqual([]);
    expect(sameSnapshot(seen.snapshot, next.snapshot)).toBe(true);
  });

  it('eventIds are stable across re-detection and differ between armings', () => {
    const o = order({ dueDate: '2026-12-10' });
    const signals = DEFAULT_SIGNAL_SETTINGS;
    const base = firstSight(o, { detectedAt: '2026-12-01T12:00:00Z', signals, emit: false }).snapshot;
    const a = detectChanges(base, o, { detectedAt: '2026-12-04T12:00:00Z', signals });
    const again = detectChanges(base, o, { detectedAt: '2026-12-04T12:00:00Z', signals });
    expect(a.events[0]?.detail.eventId).toBe(again.events[0]?.detail.eventId);
    const moved = { ...o, dueDate: '2026-12-09' };
    const b = detectChanges(a.snapshot, moved, { detectedAt: '2026-12-04T12:00:00Z', signals });
    expect(b.events.map((e) => e.detailType)).toEqual(['OrderDueDateChanged', 'OrderDueSoon']);
    expect(new Set([...a.events, ...b.events].map((e) => e.detail.eventId)).size).toBe(3);
  });

  it('without settings no signal is evaluated and the memory is carried over', () => {
    const o = order({ dueDate: '2026-11-01' });
    const seen = firstSight(o, {
      detectedAt: '2026-12-01T12:00:00Z',
      signals: DEFAULT_SIGNAL_SETTINGS,
      emit: false,
    });
    const plain = detectChanges(
      seen.snapshot,
      { ...o, dueDate: '2026-10-01' },
      { detectedAt: '2026-12-02T12:00:00Z' },
    );
    expect(plain.events.map((e) => e.detailType)).toEqual(['OrderDueDateChanged']);
    expect(plain.snapshot.overdue).toBe('2026-11-01');
  });

  it('sameSnapshot sees a change of the signal memory alone', () => {
    const o = order({ dueDate: '2026-12-10' });
    const before = firstSight(o, {
      detectedAt: '2026-12-01T12:00:00Z',
      signals: DEFAULT_SIGNAL_SETTINGS,
      emit: false,
    });
    const after = detectChanges(before.snapshot, o, {
      detectedAt: '2026-12-05T12:00:00Z',
      signals: DEFAULT_SIGNAL_SETTINGS,
    });
    expect(after.events.map((e) => e.detailType)).toEqual(['OrderDueSoon']);
    expect(sameSnapshot(before.snapshot, { ...after.snapshot, seq: before.snapshot.seq })).toBe(false);
  });
});

describe('watching for the due-date signals', () => {
  const snap = (over: Partial<Order>) =>
    firstSight(order(over), { detectedAt: '2026-12-01T12:00:00Z', emit: false }).snapshot;
  it.each([
    [{ status: 'complete', deliveryStatus: 'receiving' }, true],
    [{ status: 'complete', deliveryStatus: 'not_received' }, true],
    [{ status: 'complete', deliveryStatus: 'all_received' }, false],
    [{ status: 'cancelled', deliveryStatus: 'not_received' }, false],
    [{ status: 'confirmed', deliveryStatus: 'all_received' }, true],
  ] as const)('%o watched: %s', (over, watched) => {
    expect(isWatched(snap(over))).toBe(watched);
  });
});

describe('nextSignalAt', () => {
  const signals = DEFAULT_SIGNAL_SETTINGS;
  const seen = (o: Order, at = '2026-12-01T12:00:00Z', s: SignalSettings = signals) =>
    firstSight(o, { detectedAt: at, signals: s, emit: false }).snapshot;

  it('is the start of the first day in the window, then of the day after the due date, then null', () => {
    const o = order({ dueDate: '2026-12-10' });
    const s0 = seen(o);
    expect(nextSignalAt(s0, signals)).toBe(Date.parse('2026-12-03T00:00:00Z'));
    const s1 = detectChanges(s0, o, { detectedAt: '2026-12-03T00:00:00Z', signals }).snapshot;
    expect(nextSignalAt(s1, signals)).toBe(Date.parse('2026-12-11T00:00:00Z'));
    const s2 = detectChanges(s1, o, { detectedAt: '2026-12-11T00:00:00Z', signals }).snapshot;
    expect(nextSignalAt(s2, signals)).toBeNull();
  });

  it('follows the zone, and takes the earliest of due dates and stalls', () => {
    const ny = { ...signals, timeZone: 'America/New_York' };
    const o = order({
      dueDate: '2026-12-20',
      lineItems: [item(1, [stage('Sewing', 'in_progress', '2026-12-01T10:00:00Z')])],
    });
    // Sewing started on Dec 1 in New York: stalls on Dec 9 (8 days > 7) at local midnight.
    expect(nextSignalAt(seen(o, '2026-12-01T12:00:00Z', ny), ny)).toBe(Date.parse('2026-12-09T05:00:00Z'));
  });

  it('is null for an order all received with no stage in progress, and for a tombstone', () => {
    const o = order({ dueDate: '2026-12-10', deliveryStatus: 'all_received' });
    expect(nextSignalAt(seen(o), signals)).toBeNull();
    expect(nextSignalAt({ ...seen(order()), removed: true }, signals)).toBeNull();
  });
});

describe('calendar days', () => {
  it('counts local dates across a daylight-saving change and finds local midnight', () => {
    const zone = 'Europe/London';
    // 2026-03-29: clocks go forward at 01:00 UTC; 22:30 UTC that day is 23:30 BST, still the 29th.
    expect(
      dayNumber(Date.parse('2026-03-29T22:30:00Z'), zone) -
        dayNumber(Date.parse('2026-03-28T23:30:00Z'), zone),
    ).toBe(1);
    const day = dayNumber(Date.parse('2026-07-01T12:00:00Z'), zone);
    expect(new Date(startOfDay(day, zone)).toISOString()).toBe('2026-06-30T23:00:00.000Z');
    expect(new Date(startOfDay(day, 'Asia/Kolkata')).toISOString()).toBe('2026-06-30T18:30:00.000Z');
  });
});

describe('upgrade', () => {
  it('a snapshot written before the signals is a first sight for them: nothing fires at once', () => {
    const o = order({
      dueDate: '2026-11-01',
      lineItems: [item(1, [stage('Sewing', 'completed', '2026-10-01T10:00:00Z', '2026-10-02T10:00:00Z')])],
    });
    const old = firstSight(o, { detectedAt: '2026-11-01T12:00:00Z', emit: false }).snapshot;
    expect(old.sig).toBeUndefined();
    const at = { detectedAt: '2026-12-01T12:00:00Z', signals: DEFAULT_SIGNAL_SETTINGS };
    const upgraded = detectChanges(old, o, at);
    expect(upgraded.events).toEqual([]);
    expect(upgraded.snapshot).toMatchObject({ sig: 1, overdue: '2026-11-01', rolledUp: ['Sewing'] });
    expect(sameSnapshot(old, upgraded.snapshot)).toBe(false);
    const moved = detectChanges(upgraded.snapshot, { ...o, dueDate: '2026-11-15' }, at);
    expect(moved.events.map((e) => e.detailType)).toEqual(['OrderDueDateChanged', 'OrderOverdue']);
  });
});

describe('milestones for the digest', () => {
  const signals = DEFAULT_SIGNAL_SETTINGS;
  const sewing = (status: string, end: string | null = null) =>
    stage('Sewing', status, '2026-11-20T08:00:00Z', end);
  const ms = (iso: string) => Date.parse(iso);

  it('dates a roll-up and a receipt when their events are emitted, and keeps the time while they hold', () => {
    const start = order({ lineItems: [item(1, [sewing('in_progress')]), item(2, [sewing('completed')])] });
    let snapshot = firstSight(start, { detectedAt: '2026-11-28T10:00:00Z', signals, emit: false }).snapshot;
    const done = clone(start);
    (done.lineItems[0] as LineItem).stages = [sewing('completed', '2026-11-29T07:00:00Z')];
    const first = detectChanges(snapshot, done, { detectedAt: '2026-11-29T08:00:00Z', signals });
    expect(first.events.map((e) => e.detailType)).toContain('OrderStageCompleted');
    // The detection time, not the factory's end time: a completion learnt late is still news.
    expect(first.snapshot.rolledUpSeen).toEqual({ Sewing: ms('2026-11-29T08:00:00Z') });
    expect(first.snapshot.receivedSeen).toBeUndefined();
    snapshot = first.snapshot;
    const received = { ...clone(done), deliveryStatus: 'all_received' };
    const second = detectChanges(snapshot, received, { detectedAt: '2026-11-30T09:00:00Z', signals });
    expect(second.events.map((e) => e.detailType)).toContain('OrderAllReceived');
    expect(second.snapshot).toMatchObject({
      rolledUpSeen: { Sewing: ms('2026-11-29T08:00:00Z') },
      receivedSeen: ms('2026-11-30T09:00:00Z'),
    });
    // Nothing changes: the times are carried and the snapshot is the same (no write).
    const quiet = detectChanges(second.snapshot, clone(received), {
      detectedAt: '2026-12-01T09:00:00Z',
      signals,
    });
    expect(quiet.events).toEqual([]);
    expect(sameSnapshot(quiet.snapshot, second.snapshot)).toBe(true);
    // Without signal settings the roll-up memory and its times are carried as they were.
    const off = detectChanges(second.snapshot, clone(received), { detectedAt: '2026-12-01T09:00:00Z' });
    expect(off.snapshot.rolledUpSeen).toEqual(second.snapshot.rolledUpSeen);
    // A line item redone and a receipt undone: both times go, and come back with their next events.
    const redone = { ...clone(received), deliveryStatus: 'receiving' };
    (redone.lineItems[1] as LineItem).stages.push(stage('Sewing', 'in_progress', '2026-12-01T08:00:00Z'));
    const undone = detectChanges(quiet.snapshot, redone, { detectedAt: '2026-12-02T09:00:00Z', signals });
    expect(undone.snapshot.rolledUpSeen).toBeUndefined();
    expect(undone.snapshot.receivedSeen).toBeUndefined();
    expect(sameSnapshot(undone.snapshot, quiet.snapshot)).toBe(false);
    const again = clone(redone);
    again.deliveryStatus = 'all_received';
    ((again.lineItems[1] as LineItem).stages[1] as Stage).status = 'completed';
    const redated = detectChanges(undone.snapshot, again, { detectedAt: '2026-12-03T09:00:00Z', signals });
    expect(redated.events.map((e) => e.detailType)).toEqual(
      expect.arrayContaining(['OrderStageCompleted', 'OrderAllReceived']),
    );
    expect(redated.snapshot).toMatchObject({
      rolledUpSeen: { Sewing: ms('2026-12-03T09:00:00Z') },
      receivedSeen: ms('2026-12-03T09:00:00Z'),
    });
  });

  it('dates nothing recorded silently: a first sight, an order back after removal, an upgrade', () => {
    const o = order({ deliveryStatus: 'all_received', lineItems: [item(1, [sewing('completed')])] });
    const seen = firstSight(o, { detectedAt: '2026-11-29T08:00:00Z', signals, emit: true }).snapshot;
    expect(seen.rolledUp).toEqual(['Sewing']);
    expect(seen.rolledUpSeen).toBeUndefined();
    expect(seen.receivedSeen).toBeUndefined();
    // Removed while dated, then back: a new sighting, silent, so its old times are not carried.
    const dated = { ...seen, rolledUpSeen: { Sewing: 1 }, receivedSeen: 1, removed: true as const };
    const back = detectChanges(dated, o, { detectedAt: '2026-11-30T08:00:00Z', signals });
    expect(back.events.map((e) => e.detailType)).toEqual(['OrderCreated']);
    expect(back.snapshot.rolledUpSeen).toBeUndefined();
    expect(back.snapshot.receivedSeen).toBeUndefined();
    const old = firstSight(o, { detectedAt: '2026-11-29T08:00:00Z', emit: false }).snapshot;
    const upgraded = detectChanges(old, o, { detectedAt: '2026-11-30T08:00:00Z', signals });
    expect(upgraded.events).toEqual([]);
    expect(upgraded.snapshot.rolledUpSeen).toBeUndefined();
  });
});
