import type { SimLineItem, SimOrder, SimStage } from './model.js';

const stageJson = (s: SimStage) => ({
  name: s.name,
  start_time: s.start_time,
  end_time: s.end_time,
  stage_color: s.stage_color,
  status: s.status,
});

/** production_stages as the API shows it: the current stage, and the completed ones before it. */
const renderStages = (item: SimLineItem) => {
  const current = item.stages.find((s) => s.status !== 'Completed') ?? item.stages[item.stages.length - 1];
  return {
    current_stage: current ? stageJson(current) : null,
    past_stages: item.stages.filter((s) => s !== current && s.status === 'Completed').map(stageJson),
  };
};

/** Inserts production_stages where the vendor's example has it: after variation_images. */
const withStages = (raw: Record<string, unknown>, stages: unknown): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [key, value] of Object.entries(raw)) {
    out[key] = value;
    if (key === 'variation_images') {
      out.production_stages = stages;
      placed = true;
    }
  }
  if (!placed) out.production_stages = stages;
  return out;
};

export const renderOrder = (order: SimOrder, includeStages: boolean): Record<string, unknown> => {
  const rendered: Record<string, unknown> = {
    ...order.raw,
    line_items: order.lineItems.map((item) =>
      includeStages ? withStages(item.raw, renderStages(item)) : { ...item.raw },
    ),
  };
  if (order.malformed) corrupt(rendered);
  return rendered;
};

/** Breaks an order the way a bad record would arrive: the status is not a string any more. */
export const corrupt = (rendered: Record<string, unknown>): void => {
  rendered.status = { unexpected: true };
};

const TIMELINE_KEYS = [
  'id',
  'product_id',
  'product_name',
  'product_identifier',
  'variation_id',
  'color',
  'unit_tax',
  'tax_level',
  'unit_price',
  'original_price',
  'percentage_discount',
];

/** The production_order_line_item of the timeline endpoints. */
export const renderTimeline = (item: SimLineItem): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const key of TIMELINE_KEYS) out[key] = item.raw[key] ?? null;
  out.production_stages = renderStages(item);
  return out;
};
