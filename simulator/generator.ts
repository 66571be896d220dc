import type { SimLineItem, SimOrder, SimStage } from './model.js';
import { DELIVERY_WORDS, formatWithOffset, STATUS_WORDS } from './model.js';
import { pick, seededRandom } from './random.js';
import { SUPPLIERS, stageDays } from './suppliers.js';

const COMPANIES: Array<[number, string]> = SUPPLIERS.map((s) => [s.id, s.name]);
const DAY_MS = 86_400_000;
const SEASONS = [12328, 12864, 13001];
const PRODUCTS: Array<[string, string, string]> = [
  ['3465O-3206 - Tie Frt V Neck Blouse', '3465O-3206', 'Tribal'],
  ['33-8110O - Knit L/S Sweater', '33-8110O', 'M Made in Italy'],
  ['Tia Tank Dress', 'Tia Tank Dress', 'Brand Twelve'],
  ['2470_Eighteen', '2470 eighteen sweater', 'Brand Twelve'],
  ['Linen Wide Leg Trouser', 'LWT-100', 'Atelier'],
  ['Organic Cotton Tee', 'OCT-220', 'Atelier'],
];
const COLORS = ['Black', 'White', 'Blue', 'Lt. Peach', 'Sage', 'Navy', 'Ecru'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL'];
const STAGE_PLANS = [
  ['Cutting', 'Sewing', 'Finishing', 'Packing'],
  ['Cutting', 'Sewing', 'Packing'],
  ['Knitting', 'Linking', 'Washing', 'Packing'],
];
const STAGE_COLORS = ['#89d7ca', '#80c0d6', '#b86f6f', '#973094', '#a29090'];
/** Offsets seen in the vendor's examples: Z, +01:00 and +05:30. */
const OFFSETS = [0, 60, 330];

export interface GeneratorOptions {
  count: number;
  seed?: number;
  firstId?: number;
  firstNumber?: number;
  lineItems?: number;
  stages?: number;
  /** Epoch ms that generated timestamps lead up to. */
  now?: number;
  /** Share of orders that are watched (draft/confirmed, or stages pending). Default 0.1. */
  watchedShare?: number;
  organisationId?: number;
}

/**
 * Generates N realistic orders deterministically from a seed. A share of them (`watchedShare`) is still
 * in production (draft or confirmed, stages in progress); the rest are complete with every stage done.
 */
export const generateOrders = (options: GeneratorOptions): SimOrder[] => {
  const random = seededRandom(options.seed ?? 1);
  // Stage durations draw from a stream of their own, so that the rest of an account stays as it was.
  const paceRandom = seededRandom(((options.seed ?? 1) * 7919 + 104_729) >>> 0);
  const now = options.now ?? Date.UTC(2026, 10, 1);
  const firstId = options.firstId ?? 30_000;
  const firstNumber = options.firstNumber ?? 2_000;
  const watchedShare = options.watchedShare ?? 0.1;
  const orders: SimOrder[] = [];
  let lineItemId = firstId * 10;
  let quantityId = firstId * 100;
  for (let n = 0; n < options.count; n++) {
    const id = firstId + n;
    const [companyId, companyName] = pick(random, COMPANIES);
    const createdMs = now - (options.count - n) * 3_600_000;
    const watched = random() < watchedShare;
    const status = watched
      ? random() < 0.2
        ? 'draft'
        : 'confirmed'
      : random() < 0.05
        ? 'cancelled'
        : 'complete';
    const delivery = watched ? (random() < 0.7 ? 'not_received' : 'receiving') : 'all_received';
    const offset = pick(random, OFFSETS);
    const secondWarehouse = random() < 0.2;
    const plan = pick(random, STAGE_PLANS).slice(0, options.stages ?? 4);
    const lineItems: SimLineItem[] = [];
    const itemCount = options.lineItems ?? 1 + Math.floor(random() * 4);
    for (let li = 0; li < itemCount; li++) {
      const [productName, identifier, brand] = pick(random, PRODUCTS);
      const productId = 110_000 + Math.floor(random() * 30_000);
      const color = pick(random, COLORS);
      const stagesDone = watched ? Math.floor(random() * plan.length) : plan.length;
      const started = watched && random() < 0.6;
      // Each stage takes its supplier's time (simulator/suppliers.ts). Times run back from an anchor: a
      // watched line item's current stage started up to its duration ago (or its last stage ended lately);
      // a finished one's last stage ended as the order was recorded.
      const days = plan.map((name) => stageDays(paceRandom, companyId, name));
      const anchor = watched
        ? now - Math.floor(paceRandom() * (started ? (days[stagesDone] ?? 1) : 2) * DAY_MS)
        : createdMs;
      const ends: number[] = [];
      const starts: number[] = [];
      let cursor = anchor;
      for (let index = stagesDone - 1; index >= 0; index--) {
        ends[index] = cursor - 60_000;
        starts[index] = (ends[index] as number) - Math.round((days[index] ?? 1) * DAY_MS);
        cursor = starts[index] as number;
      }
      const stages: SimStage[] = plan.map((name, index) => {
        const stageOffset = pick(random, OFFSETS);
        const stage: SimStage = {
          name,
          status: 'Not Started',
          start_time: null,
          end_time: null,
          stage_color: pick(random, STAGE_COLORS),
        };
        if (index < stagesDone) {
          stage.status = 'Completed';
          stage.start_time = formatWithOffset(starts[index] as number, stageOffset);
          stage.end_time = formatWithOffset(ends[index] as number, stageOffset);
        } else if (index === stagesDone && started) {
          stage.status = 'In Progress';
          stage.start_time = formatWithOffset(anchor, stageOffset);
        }
        return stage;
      });
      lineItems.push({
        raw: {
          id: lineItemId++,
          product_id: productId,
          product_name: productName,
          product_identifier: identifier,
          variation_id: 230_000 + Math.floor(random() * 60_000),
          color,
          unit_tax: '0.52',
          tax_level: '3.0',
          unit_price: (10 + Math.floor(random() * 4000) / 100).toFixed(2),
          original_price: '17.38',
          warehouse: 'Primary warehouse',
          percentage_discount: '0.0',
          bundle_line_item: false,
          comments: '',
          product_brand: brand,
          country_of_origin: pick(random, ['CN', 'IT', 'PT', 'VN', '']),
          intrastat_code: '',
          product_cover_image:
            random() < 0.5 ? null : `https://uphance.com/uploads/product/image/${productId}/cover.jpg`,
          variation_images: [],
          line_quantities: SIZES.slice(0, 2 + Math.floor(random() * 3)).map((size) => ({
            id: quantityId++,
            size,
            quantity: Math.floor(random() * 20),
            sku_number: `${identifier}-${color.slice(0, 2).toUpperCase()}-${size}`,
            sku_id: 1_200_000 + quantityId,
            inventory_id: 1_240_000 + quantityId,
            upc_number: '',
            bundle_components: [],
          })),
        },
        // The whole plan is kept; the API shows only the current stage and the completed ones.
        stages,
      });
    }
    orders.push({
      raw: {
        id,
        production_order_number: String(firstNumber + n),
        created_at: formatWithOffset(createdMs, offset),
        updated_at: formatWithOffset(createdMs + 1_800_000, offset),
        items_total: '243.32',
        items_tax: '7.3',
        subtotal: '243.32',
        total_tax: '7.3',
        grand_total: '250.62',
        total_quantity: 14,
        tax_level: '3.0',
        shipping_cost: '0.0',
        shipping_tax: '0.0',
        confirmed_at: status === 'draft' ? null : formatWithOffset(createdMs + 60_000, offset),
        due_date: random() < 0.5 ? null : new Date(createdMs + 30 * 86_400_000).toISOString().slice(0, 10),
        in_warehouse_date: null,
        drop_id: null,
        notes: null,
        internal_notes: null,
        currency: pick(random, ['AUD', 'EUR', 'CAD', 'USD']),
        company_id: companyId,
        company_name: companyName,
        season_id: pick(random, SEASONS),
        organisation_id: options.organisationId ?? 35802,
        status: STATUS_WORDS[status] as string,
        delivery_status: DELIVERY_WORDS[delivery] as string,
        financial_status: 'Not Paid',
        warehouses: [secondWarehouse ? 'Second warehouse' : 'Primary warehouse'],
        payment_terms: null,
        delivery_terms: null,
      },
      lineItems,
      warehouseIds: [secondWarehouse ? 2 : 1],
    });
  }
  return orders;
};
