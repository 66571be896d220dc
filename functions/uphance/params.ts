import { z } from 'zod';
import { DELIVERY_STATUSES, ORDER_STATUSES, STAGE_STATUSES } from '../core/vocabulary.js';
import { UphanceParameterError } from './errors.js';

/** Filter words the vendor documents; anything else is rejected before a request is made. */
const STATE_FILTERS = ORDER_STATUSES;
const DELIVERY_FILTERS = DELIVERY_STATUSES;
/** `pending` is a filter word only: not_started or in_progress. */
const STAGE_STATUS_FILTERS = [...STAGE_STATUSES, 'pending'] as const;

const positiveId = z.number().int().positive();
const nonEmpty = z.string().trim().min(1);

/** DD/MM/YYYY, and a real calendar date (31/02/2025 is refused). */
const ddmmyyyy = z.string().refine((value) => {
  const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value);
  if (!match) return false;
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}, 'must be a date written DD/MM/YYYY');

export const listProductionOrdersParams = z
  .strictObject({
    page: positiveId.optional(),
    since_id: z.number().int().nonnegative().optional(),
    since_created_at: ddmmyyyy.optional(),
    by_season: z.array(positiveId).optional(),
    by_warehouse: z.array(positiveId).optional(),
    by_company: z.array(positiveId).optional(),
    by_state: z.array(z.enum(STATE_FILTERS)).optional(),
    by_delivery_status: z.array(z.enum(DELIVERY_FILTERS)).optional(),
    by_q: nonEmpty.optional(),
    include_stages: z.boolean().optional(),
    by_stage_status: z.enum(STAGE_STATUS_FILTERS).optional(),
    by_stage_name: z.array(nonEmpty).optional(),
  })
  .superRefine((params, ctx) => {
    for (const key of ['by_stage_status', 'by_stage_name'] as const) {
      if (params[key] !== undefined && params.include_stages !== true) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'requires include_stages: true' });
      }
    }
  });

export const productionTimelineBulkParams = z
  .strictObject({
    ids: z.array(positiveId).optional(),
    /** `comma`: ids=1,2,3; `brackets`: ids[]=1&ids[]=2. The vendor documents both. */
    ids_encoding: z.enum(['comma', 'brackets']).optional(),
    page: positiveId.optional(),
    by_stage_status: z.enum(STAGE_STATUS_FILTERS).optional(),
    by_stage_name: z.array(nonEmpty).optional(),
  })
  .refine((params) => params.ids === undefined || params.ids.length > 0, {
    path: ['ids'],
    message: 'must hold at least one id when given',
  });

export type ListProductionOrdersParams = z.input<typeof listProductionOrdersParams>;
export type ProductionTimelineBulkParams = z.input<typeof productionTimelineBulkParams>;

/** Validates with a message that names every bad parameter, e.g. `by_state[0]: Invalid option ...`. */
export const validateParams = <T>(schema: z.ZodType<T>, params: unknown, endpoint: string): T => {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const detail = result.error.issues
    .map((issue) => {
      const path = issue.path.map((p, i) =>
        typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`,
      );
      const name = path.join('') || '(parameters)';
      return issue.code === 'unrecognized_keys'
        ? `unknown parameter(s) ${issue.keys.join(', ')}`
        : `${name}: ${issue.message}`;
    })
    .join('; ');
  throw new UphanceParameterError(`Invalid parameters for ${endpoint}: ${detail}`);
};

/** Serialises in the vendor's encoding: arrays as `key[]=a&key[]=b`. */
export const toSearchParams = (params: Record<string, unknown>): URLSearchParams => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) search.append(`${key}[]`, String(item));
    else search.append(key, String(value));
  }
  return search;
};
