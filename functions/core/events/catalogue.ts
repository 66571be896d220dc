import { z } from 'zod';
import { DELIVERY_STATUSES, ORDER_STATUSES, STAGE_STATUSES } from '../vocabulary.js';

/**
 * The event catalogue: one zod schema per detail-type, loose (z.looseObject) at every level so that a
 * consumer validating with these schemas keeps, and does not reject, fields added later. It is the single source of the TypeScript types
 * (z.infer), of the JSON Schema files in schemas/ (draft-04, for the EventBridge schema registry), of
 * runtime validation and of docs/events.md (`catalogue` below: each detail-type's schema, kind and when it
 * fires). Downstream Lambdas import these from the package `uphance-notifier-events` (packages/events).
 */

export const SCHEMA_VERSION = '1' as const;
export const DEFAULT_SOURCE = 'uphance.production-orders';

const vocabulary = (known: readonly string[], what: string) =>
  z
    .string()
    .min(1)
    .meta({
      description: `${what}: one of ${known.join(', ')}; an unknown value from the API is passed on normalised (lower case, spaces to _).`,
    });

export const orderStatus = vocabulary(ORDER_STATUSES, 'Order status');
export const deliveryStatus = vocabulary(DELIVERY_STATUSES, 'Delivery status');
export const stageStatus = vocabulary(STAGE_STATUSES, 'Stage status');

export const OrderBlock = z
  .looseObject({
    id: z.number().int(),
    number: z.string(),
    status: orderStatus,
    deliveryStatus: deliveryStatus.nullable(),
    companyId: z.number().int().nullable(),
    companyName: z.string().nullable(),
    seasonId: z.number().int().nullable(),
    dueDate: z.string().nullable().meta({ description: 'ISO date (YYYY-MM-DD) or null' }),
    updatedAt: z.string().nullable().meta({ description: "The API's updated_at, with its offset" }),
  })
  .meta({ description: 'The production order as seen when the change was detected' });

export const LineItemBlock = z.looseObject({
  id: z.number().int(),
  productId: z.number().int().nullable(),
  productName: z.string().nullable(),
  color: z.string().nullable(),
});

export const StageBlock = z.looseObject({
  name: z.string(),
  status: stageStatus,
  startTime: z.string().nullable(),
  endTime: z.string().nullable(),
});

const base = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  eventId: z.string().meta({ description: 'Stable id: the same change always yields the same eventId' }),
  sequence: z.number().int().min(1).meta({ description: 'Per order, starts at 1, up by one per event' }),
  detectedAt: z.string().meta({ description: 'ISO 8601 UTC instant of detection' }),
  organisationId: z
    .number()
    .int()
    .optional()
    .meta({ description: 'The Uphance organisation of the order, when one is configured' }),
  order: OrderBlock,
};

const change = <T extends z.ZodType>(value: T) => z.looseObject({ from: value, to: value });

export const OrderCreated = z.looseObject({ ...base }).meta({
  title: 'OrderCreated',
  description: 'An order is seen for the first time after the baseline.',
});
export const OrderStatusChanged = z.looseObject({ ...base, change: change(orderStatus) }).meta({
  title: 'OrderStatusChanged',
  description: "The order's status differs from the snapshot.",
});
export const OrderDeliveryStatusChanged = z
  .looseObject({ ...base, change: change(deliveryStatus.nullable()) })
  .meta({
    title: 'OrderDeliveryStatusChanged',
    description: "The order's delivery status differs from the snapshot.",
  });
export const OrderAllReceived = z.looseObject({ ...base }).meta({
  title: 'OrderAllReceived',
  description: 'The delivery status became all_received (emitted together with OrderDeliveryStatusChanged).',
});
export const OrderDueDateChanged = z
  .looseObject({ ...base, change: change(z.string().nullable().meta({ description: 'ISO date or null' })) })
  .meta({ title: 'OrderDueDateChanged', description: "The order's due date differs from the snapshot." });
export const StageStarted = z.looseObject({ ...base, lineItem: LineItemBlock, stage: StageBlock }).meta({
  title: 'StageStarted',
  description:
    "A line item's stage is in progress now and was neither in progress nor completed in the snapshot.",
});
export const StageCompleted = z.looseObject({ ...base, lineItem: LineItemBlock, stage: StageBlock }).meta({
  title: 'StageCompleted',
  description:
    "A line item's stage is completed now and was not completed in the snapshot (one event per stage, oldest first).",
});
export const OrderRemoved = z.looseObject({ ...base }).meta({
  title: 'OrderRemoved',
  description:
    'An order in the snapshots is confirmed gone from the API; carries the last snapshot of the order.',
});

export const OrderStageCompleted = z
  .looseObject({
    ...base,
    stage: z.looseObject({
      name: z.string(),
      completedAt: z.string().nullable().meta({
        description: "The latest end time of the stage across the line items, with the API's offset",
      }),
    }),
    lineItems: z
      .looseObject({ total: z.number().int().min(0), completed: z.number().int().min(0) })
      .meta({ description: "The order's line items, and those with this stage completed" }),
  })
  .meta({
    title: 'OrderStageCompleted',
    description:
      "No line item of the order is still before this stage or in it: each line item that has it has it completed, and none is at a stage that comes before it in the order's stage sequence (once per stage name; a stage that reopens and completes again fires again).",
  });
const due = (meaning: string) =>
  z.looseObject({
    date: z.string().meta({ description: 'The due date (ISO date)' }),
    days: z.number().int().min(0).meta({ description: meaning }),
  });
export const OrderDueSoon = z
  .looseObject({ ...base, due: due('Whole days left in the configured time zone; 0 = due today') })
  .meta({
    title: 'OrderDueSoon',
    description:
      'The due date is at most dueSoonDays days away and not yet passed; the order is not all received and not cancelled (once per due date).',
  });
export const OrderOverdue = z
  .looseObject({ ...base, due: due('Whole days past the due date in the configured time zone (at least 1)') })
  .meta({
    title: 'OrderOverdue',
    description:
      'The due date has passed; the order is not all received and not cancelled (once per due date).',
  });
export const OrderAtRisk = z
  .looseObject({
    ...base,
    due: due('Whole days left in the configured time zone; 0 = due today'),
    forecast: z.looseObject({
      date: z.string().meta({
        description: 'The calendar day (ISO date, configured time zone) production is forecast to complete',
      }),
      lateDays: z.number().int().min(1).meta({ description: 'Forecast date minus due date, in days' }),
      basis: z
        .looseObject({
          source: z.enum(['supplier', 'account']).meta({
            description:
              "supplier: every stage used the supplier's own durations; account: some used the account's",
          }),
          samples: z
            .number()
            .int()
            .min(1)
            .meta({ description: 'The fewest durations behind any stage used' }),
        })
        .meta({ description: 'Where the expected durations come from' }),
      stage: z
        .looseObject({
          name: z.string(),
          expectedDays: z
            .number()
            .min(0)
            .meta({ description: 'Its expected duration in days (one decimal)' }),
          startTime: z.string().nullable().meta({
            description: "When it started, with the API's offset; null when not started or not known",
          }),
        })
        .meta({ description: 'The current stage of the line item that finishes last' }),
    }),
  })
  .meta({
    title: 'OrderAtRisk',
    description:
      "Production is forecast, from the account's own stage history, to complete at least riskDays days after the due date; the order is not all received, not cancelled and not yet overdue (once per due date).",
  });
export const StageStalled = z
  .looseObject({
    ...base,
    lineItem: LineItemBlock,
    stage: StageBlock,
    stalled: z.looseObject({
      days: z.number().int().min(1).meta({ description: 'Calendar days in progress since its start time' }),
      limitDays: z.number().int().min(1).meta({ description: 'The limit for this stage name' }),
    }),
  })
  .meta({
    title: 'StageStalled',
    description:
      "A line item's stage has been in progress for longer than its limit, counted in calendar days from its start time (once per line item, stage and start time).",
  });

/** Where a detail-type comes from: a change of the order (core/diff.ts) or a production signal (core/signals.ts). */
export type EventKind = 'change' | 'signal';

/** What the catalogue holds for one detail-type. */
export interface CatalogueEntry {
  /** The detail's schema, titled with the detail-type; its description is the schema registry's. */
  schema: z.ZodObject<z.core.$ZodLooseShape, z.core.$loose>;
  kind: EventKind;
  /** When it fires, as docs/events.md words it (after "When: "). */
  when: string;
}

/**
 * The registry of detail-types: each one's schema, kind and wording for the docs, in the order the docs
 * list them. Its keys are the detail-types; the wording of messages (functions/messages/wording.ts) is a
 * record over the same keys, so that a detail-type without one does not compile.
 */
export const catalogue = {
  OrderCreated: {
    schema: OrderCreated,
    kind: 'change',
    when: 'an order is seen for the first time after the baseline (stages already under way give no stage events)',
  },
  OrderStatusChanged: {
    schema: OrderStatusChanged,
    kind: 'change',
    when: '`status` differs from the snapshot (a skipped transition is one event with the real from and to)',
  },
  OrderDeliveryStatusChanged: {
    schema: OrderDeliveryStatusChanged,
    kind: 'change',
    when: '`delivery_status` differs from the snapshot',
  },
  OrderAllReceived: {
    schema: OrderAllReceived,
    kind: 'change',
    when: 'the delivery status became `all_received`; emitted right after OrderDeliveryStatusChanged',
  },
  OrderDueDateChanged: {
    schema: OrderDueDateChanged,
    kind: 'change',
    when: '`due_date` differs (ISO dates or null)',
  },
  StageStarted: {
    schema: StageStarted,
    kind: 'change',
    when: "a line item's stage is in progress now and was neither in progress nor completed in the snapshot",
  },
  StageCompleted: {
    schema: StageCompleted,
    kind: 'change',
    when: "a line item's stage is completed now and was not completed in the snapshot; one event per stage, oldest first",
  },
  OrderRemoved: {
    schema: OrderRemoved,
    kind: 'change',
    when: 'an order in the snapshots is confirmed gone from the API (looked up, not merely missing from a page); carries the last snapshot',
  },
  OrderStageCompleted: {
    schema: OrderStageCompleted,
    kind: 'signal',
    when: "no line item of the order is still before this stage or in it: each line item that has the stage has it completed, and none is at a stage that comes before it in the order's stage sequence (its line items' sequences merged, then the account's other orders; line items with no stage are not counted); once per stage name (a stage that reopens and completes again fires again); `stage.completedAt` is the latest end time",
  },
  OrderDueSoon: {
    schema: OrderDueSoon,
    kind: 'signal',
    when: 'the due date is at most `dueSoonDays` (default 7) calendar days away in the configured time zone and not yet passed, and the order is not all received and not cancelled; once per due date (`due.days` 0 = today)',
  },
  OrderOverdue: {
    schema: OrderOverdue,
    kind: 'signal',
    when: 'the due date has passed (calendar days in the configured time zone) and the order is not all received and not cancelled; once per due date (`due.days` ≥ 1)',
  },
  StageStalled: {
    schema: StageStalled,
    kind: 'signal',
    when: "a line item's stage has been in progress for more calendar days than its limit (`STALL_DAYS`, default 7, or `STALL_DAYS_BY_STAGE`), counted from its start time; once per line item, stage and start time",
  },
  OrderAtRisk: {
    schema: OrderAtRisk,
    kind: 'signal',
    when: "the forecast date on which production of the order completes is at least `riskDays` (`RISK_DAYS`, default 1) calendar days after its due date, and the order is not all received, not cancelled and not yet overdue; once per due date (a new due date re-arms it). The forecast comes from the account's own stage history: each stage's expected duration is the supplier's median where it has at least 5 completed durations of that stage, else the account's, else there is no forecast; a line item needs what remains of its current stage plus each stage after it in the order's stage sequence, and the order is its latest line item (`forecast.basis`: `supplier` when every stage used the supplier's own durations, `samples` the fewest behind any; `forecast.stage`: the current stage of the line item that finishes last)",
  },
} as const satisfies Record<string, CatalogueEntry>;

export type DetailType = keyof typeof catalogue;
export const DETAIL_TYPES = Object.keys(catalogue) as DetailType[];

/** Each detail-type's schema. */
export const detailSchemas = Object.fromEntries(
  DETAIL_TYPES.map((type) => [type, catalogue[type].schema]),
) as { readonly [K in DetailType]: (typeof catalogue)[K]['schema'] };

/**
 * Whether a detail-type's detail has `stage` (with its `name`): the events a stage-name filter of a
 * subscription applies to. Read from the schema, so that it cannot disagree with it.
 */
export const carriesStage = (type: DetailType): boolean => 'stage' in catalogue[type].schema.shape;

export type OrderCreatedDetail = z.infer<typeof OrderCreated>;
export type OrderStatusChangedDetail = z.infer<typeof OrderStatusChanged>;
export type OrderDeliveryStatusChangedDetail = z.infer<typeof OrderDeliveryStatusChanged>;
export type OrderAllReceivedDetail = z.infer<typeof OrderAllReceived>;
export type OrderDueDateChangedDetail = z.infer<typeof OrderDueDateChanged>;
export type StageStartedDetail = z.infer<typeof StageStarted>;
export type StageCompletedDetail = z.infer<typeof StageCompleted>;
export type OrderRemovedDetail = z.infer<typeof OrderRemoved>;
export type OrderStageCompletedDetail = z.infer<typeof OrderStageCompleted>;
export type OrderDueSoonDetail = z.infer<typeof OrderDueSoon>;
export type OrderOverdueDetail = z.infer<typeof OrderOverdue>;
export type StageStalledDetail = z.infer<typeof StageStalled>;
export type OrderAtRiskDetail = z.infer<typeof OrderAtRisk>;

/** The detail of each detail-type. */
export type DetailByType = { [K in DetailType]: z.infer<(typeof catalogue)[K]['schema']> };

/** A detected change: its detail-type and detail, before it is wrapped for a bus. */
export type NotifierEvent = { [K in DetailType]: { detailType: K; detail: DetailByType[K] } }[DetailType];

export type OrderBlockType = z.infer<typeof OrderBlock>;
export type LineItemBlockType = z.infer<typeof LineItemBlock>;
export type StageBlockType = z.infer<typeof StageBlock>;

/** Validates a detail against its detail-type's schema; throws a ZodError naming the bad path. */
export const validateEvent = (event: NotifierEvent): NotifierEvent => {
  detailSchemas[event.detailType].parse(event.detail);
  return event;
};

/**
 * The JSON Schema (draft-04) of one detail-type, as the EventBridge schema registry takes it. Open for
 * additive change (docs/contract.md section 1): no object says `additionalProperties`, whether its zod
 * schema is loose (`{}`) or strict (`false`), so a new field never breaks a consumer that validates.
 */
export const jsonSchemaOf = (detailType: DetailType): Record<string, unknown> =>
  z.toJSONSchema(detailSchemas[detailType], {
    target: 'draft-4',
    io: 'output',
    override: ({ jsonSchema }) => {
      delete (jsonSchema as { additionalProperties?: unknown }).additionalProperties;
    },
  }) as Record<string, unknown>;
