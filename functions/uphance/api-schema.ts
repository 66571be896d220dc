import { z } from 'zod';
import { bounded, MAX_WORD_LENGTH } from '../core/bounds.js';
import type { InvalidRecord } from '../core/invalid-record.js';
import type { LineItem, Order, Stage } from '../core/order.js';
import { isoDate } from '../core/time.js';
import { normaliseWord } from '../core/vocabulary.js';

/**
 * Zod schemas of the Uphance API's shapes, tolerant where the API is inconsistent: unknown keys pass
 * (loose objects), nulls and missing optional arrays are accepted, decimal strings stay strings,
 * timestamps keep their offsets. Only what we rely on is required: ids, the number and the status.
 */

const id = z.number().int().nonnegative();
const text = z
  .string()
  .nullish()
  .transform((v) => v ?? null);
const nullableId = id.nullish().transform((v) => v ?? null);
/** Money and quantities arrive as decimal strings ("243.32"); keep them verbatim. */
const decimalString = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? null : String(v)));

const apiStageSchema = z.looseObject({
  name: z.string(),
  start_time: text,
  end_time: text,
  stage_color: text,
  status: z.string(),
});

const apiProductionStagesSchema = z.looseObject({
  current_stage: apiStageSchema.nullish(),
  past_stages: z.array(apiStageSchema).nullish(),
});

const apiLineQuantitySchema = z.looseObject({
  id: nullableId,
  size: text,
  quantity: z.number().nullish(),
  sku_number: text,
  sku_id: nullableId,
});

const apiLineItemSchema = z.looseObject({
  id,
  product_id: nullableId,
  product_name: text,
  product_identifier: text,
  variation_id: nullableId,
  color: text,
  unit_price: decimalString,
  /** The vendor spells it both ways (Product_cover_image in the include_stages example). */
  product_cover_image: text,
  Product_cover_image: text,
  variation_images: z.array(z.string()).nullish(),
  production_stages: apiProductionStagesSchema.nullish(),
  line_quantities: z.array(apiLineQuantitySchema).nullish(),
});

export const apiProductionOrderSchema = z.looseObject({
  id,
  production_order_number: z.union([z.string(), z.number()]).transform(String),
  created_at: text,
  updated_at: text,
  grand_total: decimalString,
  due_date: text,
  currency: text,
  company_id: nullableId,
  company_name: text,
  season_id: nullableId,
  organisation_id: nullableId,
  status: z.string(),
  delivery_status: text,
  warehouses: z.array(z.string()).nullish(),
  line_items: z.array(apiLineItemSchema).nullish(),
});

export const apiMetaSchema = z.looseObject({
  current_page: z.number().int().nullish(),
  next_page: z.number().int().nullish(),
  prev_page: z.number().int().nullish(),
  total_pages: z.number().int().nullish(),
  total_count: z.number().int().nullish(),
});

export const apiTimelineLineItemSchema = z.looseObject({
  id,
  product_id: nullableId,
  product_name: text,
  color: text,
  production_stages: apiProductionStagesSchema.nullish(),
});

export type ApiProductionOrder = z.infer<typeof apiProductionOrderSchema>;
export type ApiLineItem = z.infer<typeof apiLineItemSchema>;
export type ApiMeta = z.infer<typeof apiMetaSchema>;
export type ApiTimelineLineItem = z.infer<typeof apiTimelineLineItemSchema>;

export type RecordResult<T> = { ok: true; value: T } | { ok: false; error: InvalidRecord };

const recordId = (raw: unknown): number | string | null => {
  if (raw && typeof raw === 'object' && 'id' in raw) {
    const value = (raw as { id: unknown }).id;
    if (typeof value === 'number' || typeof value === 'string') return value;
  }
  return null;
};

export const parseRecord = <T>(schema: z.ZodType<T>, raw: unknown): RecordResult<T> => {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  return {
    ok: false,
    error: {
      id: recordId(raw),
      path: issue && issue.path.length > 0 ? issue.path.join('.') : '(root)',
      message: issue?.message ?? 'invalid record',
    },
  };
};

const toStages = (stages: z.infer<typeof apiProductionStagesSchema> | null | undefined): Stage[] => {
  if (!stages) return [];
  const list = [...(stages.past_stages ?? [])];
  if (stages.current_stage) list.push(stages.current_stage);
  return list.map((s) => ({
    name: bounded(s.name, MAX_WORD_LENGTH),
    status: bounded(normaliseWord(s.status), MAX_WORD_LENGTH),
    startTime: bounded(s.start_time, MAX_WORD_LENGTH),
    endTime: bounded(s.end_time, MAX_WORD_LENGTH),
  }));
};

const toLineItem = (item: ApiLineItem | ApiTimelineLineItem): LineItem => ({
  id: item.id,
  productId: item.product_id,
  productName: bounded(item.product_name),
  color: bounded(item.color),
  stages: toStages(item.production_stages),
});

/** Maps an API production order to the core's model, normalising vocabularies. */
export const toOrder = (raw: ApiProductionOrder): Order => ({
  id: raw.id,
  number: bounded(raw.production_order_number, MAX_WORD_LENGTH),
  status: bounded(normaliseWord(raw.status), MAX_WORD_LENGTH),
  deliveryStatus:
    raw.delivery_status === null ? null : bounded(normaliseWord(raw.delivery_status), MAX_WORD_LENGTH),
  companyId: raw.company_id,
  companyName: bounded(raw.company_name),
  seasonId: raw.season_id,
  dueDate: bounded(isoDate(raw.due_date), MAX_WORD_LENGTH),
  updatedAt: bounded(raw.updated_at, MAX_WORD_LENGTH),
  createdAt: bounded(raw.created_at, MAX_WORD_LENGTH),
  lineItems: (raw.line_items ?? []).map(toLineItem),
  organisationId: raw.organisation_id ?? null,
});
