import { detectChanges, detectRemoval, firstSight } from '../functions/core/diff.js';
import type { DetailType, NotifierEvent } from '../functions/core/events/catalogue.js';
import { DETAIL_TYPES } from '../functions/core/events/catalogue.js';
import type { StageSample } from '../functions/core/history.js';
import { StageHistory } from '../functions/core/history.js';
import type { Order } from '../functions/core/order.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../functions/core/signals.js';
import { snapshotOf } from '../functions/core/snapshot.js';
import { apiProductionOrderSchema, toOrder } from '../functions/uphance/api-schema.js';
import { stagesFixture } from '../simulator/fixtures.js';

/**
 * The production signals on order 1308 grown to four line items, confirmed and partly received: a week
 * before the example's day Packing starts and the due date is 2026-11-25; on the day the last Sewing
 * completes, Packing has stalled (10 days, limit 7) and the order is overdue; then the due date moves to
 * 2026-11-30 (due soon: 3 days).
 */
const signalExamples = (base: Order): NotifierEvent[] => {
  const settings = { ...DEFAULT_SIGNAL_SETTINGS, timeZone: 'Europe/London' };
  const weekBefore = '2026-11-20T10:15:00.000Z';
  const day = '2026-11-27T10:15:00.000Z';
  const first = structuredClone(base);
  first.status = 'confirmed';
  first.deliveryStatus = 'receiving';
  first.dueDate = '2026-11-25';
  const template = first.lineItems[0]!;
  first.lineItems = [0, 1, 2, 3].map((n) => ({
    ...structuredClone(template),
    id: template.id + n,
    color: ['Lt. Peach', 'Black', 'Sage', 'Navy'][n] ?? null,
    stages: [
      {
        name: 'Cutting',
        status: 'completed',
        startTime: '2026-11-02T08:00:00.000+01:00',
        endTime: '2026-11-04T17:00:00.000+01:00',
      },
      {
        name: 'Sewing',
        status: 'completed',
        startTime: '2026-11-05T08:00:00.000+01:00',
        endTime: `2026-11-1${n}T16:30:00.000+01:00`,
      },
      ...(n === 0
        ? [
            {
              name: 'Packing',
              status: 'in_progress',
              startTime: '2026-11-17T08:00:00.000+01:00',
              endTime: null,
            },
          ]
        : []),
    ],
  }));
  first.lineItems[3]!.stages[1] = { ...first.lineItems[3]!.stages[1]!, status: 'in_progress', endTime: null };
  const seen = firstSight(first, { detectedAt: weekBefore, signals: settings, emit: true });
  const sewn = structuredClone(first);
  sewn.lineItems[3]!.stages[1] = {
    ...sewn.lineItems[3]!.stages[1]!,
    status: 'completed',
    endTime: '2026-11-27T09:40:00.000+00:00',
  };
  const later = detectChanges({ ...seen.snapshot, seq: 11 }, sewn, { detectedAt: day, signals: settings });
  const moved = structuredClone(sewn);
  moved.dueDate = '2026-11-30';
  const soon = detectChanges(later.snapshot, moved, { detectedAt: day, signals: settings });
  return [...later.events, ...soon.events].filter(
    (e) => !['StageCompleted', 'OrderDueDateChanged'].includes(e.detailType),
  );
};

/**
 * OrderAtRisk on order 1308 (confirmed, nothing received): the account's history says Sewing takes 12 days
 * at this supplier and Packing 3. Its Sewing started yesterday and it was due on 2026-12-20; then the due
 * date moves to 2026-12-02, 5 days away: production ends about 2026-12-11, 9 days late.
 */
const riskExample = (base: Order): NotifierEvent[] => {
  const settings = { ...DEFAULT_SIGNAL_SETTINGS, timeZone: 'Europe/London' };
  const DAY = 86_400_000;
  const history = new StageHistory();
  const lastEnd = Date.parse('2026-11-20T17:00:00Z') / 60_000;
  history.merge(
    Array.from({ length: 8 }, (_, i): StageSample[] => [
      {
        stage: 'Sewing',
        supplier: base.companyId,
        id: `example-sewing-${i}`,
        end: lastEnd - i * 1440,
        minutes: ((12 + ((i % 3) - 1) / 4) * DAY) / 60_000,
        next: 'Packing',
      },
      {
        stage: 'Packing',
        supplier: base.companyId,
        id: `example-packing-${i}`,
        end: lastEnd - i * 1440,
        minutes: (3 * DAY) / 60_000,
        next: '',
      },
    ]).flat(),
  );
  const order = structuredClone(base);
  order.status = 'confirmed';
  order.deliveryStatus = 'not_received';
  order.dueDate = '2026-12-20';
  order.lineItems[0]!.stages = [
    {
      name: 'Cutting',
      status: 'completed',
      startTime: '2026-11-23T08:00:00.000+00:00',
      endTime: '2026-11-25T17:00:00.000+00:00',
    },
    { name: 'Sewing', status: 'in_progress', startTime: '2026-11-26T08:00:00.000+00:00', endTime: null },
  ];
  const at = { signals: settings, history };
  const seen = firstSight(order, { ...at, detectedAt: '2026-11-26T10:15:00.000Z', emit: true });
  const moved = structuredClone(order);
  moved.dueDate = '2026-12-02';
  const risk = detectChanges(seen.snapshot, moved, { ...at, detectedAt: '2026-11-27T10:15:00.000Z' });
  return risk.events.filter((e) => e.detailType === 'OrderAtRisk');
};

/**
 * One example per detail-type, produced by the core itself from the vendor's order 1308, so that the
 * examples in schemas/examples and docs/events.md are real detections, not hand-written JSON.
 */
export const exampleEvents = (): Record<DetailType, NotifierEvent> => {
  const detectedAt = '2026-11-27T10:15:00.000Z';
  const base = toOrder(apiProductionOrderSchema.parse(stagesFixture().production_orders[0]));
  const found: Partial<Record<DetailType, NotifierEvent>> = {};
  const keep = (events: NotifierEvent[]) => {
    for (const e of events) found[e.detailType] ??= e;
  };
  // An order watched since it was confirmed and in Packing with nothing received.
  const before = structuredClone(base);
  before.status = 'confirmed';
  before.deliveryStatus = 'receiving';
  before.lineItems[0]!.stages[2] = { name: 'Packing', status: 'not_started', startTime: null, endTime: null };
  const started = detectChanges(snapshotOf(before, 4), base, { detectedAt });
  keep(started.events);
  const done = structuredClone(base);
  done.lineItems[0]!.stages[2] = {
    ...done.lineItems[0]!.stages[2]!,
    status: 'completed',
    endTime: '2025-04-27T09:12:40.000+01:00',
  };
  done.dueDate = '2025-05-02';
  keep(detectChanges(started.snapshot, done, { detectedAt }).events);
  keep(firstSight(base, { detectedAt, emit: true }).events);
  keep(detectRemoval(snapshotOf(base, 9), { detectedAt }).events);
  keep(signalExamples(base));
  keep(riskExample(base));
  const missing = DETAIL_TYPES.filter((type) => found[type] === undefined);
  if (missing.length > 0)
    throw new Error(`no scenario here detects ${missing.join(', ')}: add one that does`);
  return found as Record<DetailType, NotifierEvent>;
};
