import { z } from 'zod';
import { DELIVERY_STATUSES, ORDER_STATUSES, STAGE_STATUSES } from '../vocabulary.js';

/**
 * The event catalogue: one zod schema per detail-type. It is the single source of the TypeScript types
 * (z.infer), of the JSON Schema files in schemas/ (draft-04, for the EventBridge schema registry) and of
 * runtime validation. Downstream Lambdas import these through `uphance-notifier/events`.
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
  .object({
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

export const LineItemBlock = z.object({
  id: z.number().int(),
  productId: z.number().int().nullable(),
  productName: z.string().nullable(),
  color: z.string().nullable(),
});

export const StageBlock = z.object({
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

const change = <T extends z.ZodType>(value: T) => z.object({ from: value, to: value });

export const OrderCreated = z.object({ ...base }).meta({
  title: 'OrderCreated',
  description: 'An order is seen for the first time after the baseline.',
});
export const OrderStatusChanged = z.object({ ...base, change: change(orderStatus) }).meta({
  title: 'OrderStatusChanged',
  description: "The order's status differs from the snapshot.",
});
export const OrderDeliveryStatusChanged = z
  .object({ ...base, change: change(deliveryStatus.nullable()) })
  .meta({
    title: 'OrderDeliveryStatusChanged',
    description: "The order's delivery status differs from the snapshot.",
  });
export const OrderAllReceived = z.object({ ...base }).meta({
  title: 'OrderAllReceived',
  description: 'The delivery status became all_received (emitted together with OrderDeliveryStatusChanged).',
});
export const OrderDueDateChanged = z
  .object({ ...base, change: change(z.string().nullable().meta({ description: 'ISO date or null' })) })
  .meta({ title: 'OrderDueDateChanged', description: "The order's due date differs from the snapshot." });
export const StageStarted = z.object({ ...base, lineItem: LineItemBlock, stage: StageBlock }).meta({
  title: 'StageStarted',
  description:
    "A line item's stage is in progress now and was neither in progress nor completed in the snapshot.",
});
export const StageCompleted = z.object({ ...base, lineItem: LineItemBlock, stage: StageBlock }).meta({
  title: 'StageCompleted',
  description:
    "A line item's stage is completed now and was not completed in the snapshot (one event per stage, oldest first).",
});
export const OrderRemoved = z.object({ ...base }).meta({
  title: 'OrderRemoved',
  description:
    'An order in the snapshots is confirmed gone from the API; carries the last snapshot of the order.',
});

export const detailSchemas = {
  OrderCreated,
  OrderStatusChanged,
  OrderDeliveryStatusChanged,
  OrderAllReceived,
  OrderDueDateChanged,
  StageStarted,
  StageCompleted,
  OrderRemoved,
} as const;

export type DetailType = keyof typeof detailSchemas;
export const DETAIL_TYPES = Object.keys(detailSchemas) as DetailType[];

export type OrderCreatedDetail = z.infer<typeof OrderCreated>;
export type OrderStatusChangedDetail = z.infer<typeof OrderStatusChanged>;
export type OrderDeliveryStatusChangedDetail = z.infer<typeof OrderDeliveryStatusChanged>;
export type OrderAllReceivedDetail = z.infer<typeof OrderAllReceived>;
export type OrderDueDateChangedDetail = z.infer<typeof OrderDueDateChanged>;
export type StageStartedDetail = z.infer<typeof StageStarted>;
export type StageCompletedDetail = z.infer<typeof StageCompleted>;
export type OrderRemovedDetail = z.infer<typeof OrderRemoved>;

export interface DetailByType {
  OrderCreated: OrderCreatedDetail;
  OrderStatusChanged: OrderStatusChangedDetail;
  OrderDeliveryStatusChanged: OrderDeliveryStatusChangedDetail;
  OrderAllReceived: OrderAllReceivedDetail;
  OrderDueDateChanged: OrderDueDateChangedDetail;
  StageStarted: StageStartedDetail;
  StageCompleted: StageCompletedDetail;
  OrderRemoved: OrderRemovedDetail;
}

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

/** The JSON Schema (draft-04) of one detail-type, as the EventBridge schema registry takes it. */
export const jsonSchemaOf = (detailType: DetailType): Record<string, unknown> => {
  const schema = z.toJSONSchema(detailSchemas[detailType], { target: 'draft-4', io: 'output' }) as Record<
    string,
    unknown
  >;
  return schema;
};
