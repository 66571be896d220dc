import { generateOrders } from '../simulator/generator.js';
import type { SimOrder } from '../simulator/model.js';
import { toFilterWord } from '../simulator/model.js';
import type { SimulatorState } from '../simulator/state.js';
import { hasWorkLeft } from '../simulator/state.js';

/** What the soak's random world did, by kind. */
export type ChangeKind =
  | 'stage'
  | 'delivery'
  | 'due'
  | 'status'
  | 'create'
  | 'delete'
  | 'unwatched'
  | 'malformed'
  /** A large order (150 to 200 line items) created. */
  | 'large'
  /** Every line item of a large order moved on at once: one commit of hundreds of events. */
  | 'bulk'
  /** An order with a value of about a megabyte created (a product or company name). */
  | 'poison';

const isOpen = (o: SimOrder) => ['draft', 'confirmed'].includes(toFilterWord(o.raw.status));
const isWatched = (o: SimOrder) => isOpen(o) || o.lineItems.some(hasWorkLeft);

/** About a megabyte: far beyond a DynamoDB item (400 KB) and an EventBridge entry (256 KB). */
const POISON_LENGTH = 1_000_000;

export interface ActivityOptions {
  /** Per cycle: chance that every line item of one large order moves on at once. */
  bulkRate?: number;
  /** Per cycle: chance that a large order is created. */
  largeRate?: number;
  /** Per cycle: chance that a poison order is created. */
  poisonRate?: number;
}

/**
 * Random, seeded changes to the simulator's orders, as a busy account sees them: stages move, deliveries
 * arrive, dates slip, orders complete or are cancelled, new ones appear, old ones are deleted, some
 * closed orders change where only the sweep sees it, some orders turn malformed for a while, large orders
 * move all their line items at once, and orders with absurdly long values appear.
 *
 * Only orders that exist are acted on (an order deleted earlier in the same step is never touched), and a
 * change is counted only when the simulator's ledger recorded it, so that the counts are the ledger's.
 */
export class RandomActivity {
  readonly counts: Record<ChangeKind, number> = {
    stage: 0,
    delivery: 0,
    due: 0,
    status: 0,
    create: 0,
    delete: 0,
    unwatched: 0,
    malformed: 0,
    large: 0,
    bulk: 0,
    poison: 0,
  };
  /** Stage changes made by bulk moves (each a ledger entry). */
  bulkStages = 0;
  readonly #baselineIds: number[];
  readonly #malformedUntil = new Map<number, number>();
  readonly #large = new Set<number>();
  readonly #poison = new Set<number>();
  #nextNumber = 50_000;
  /** Line item ids of generated large orders: unique across orders (the generator's are not). */
  #nextLineItemId = 9_000_000;
  #cycle = 0;

  constructor(
    private readonly state: SimulatorState,
    private readonly random: () => number,
    private readonly options: ActivityOptions = {},
  ) {
    this.#baselineIds = [...state.orders.keys()];
  }

  /** Ids of the large and the poison orders created so far (still present or not). */
  get largeIds(): number[] {
    return [...this.#large];
  }

  get poisonIds(): number[] {
    return [...this.#poison];
  }

  #pick<T>(list: T[]): T | undefined {
    return list.length === 0 ? undefined : list[Math.floor(this.random() * list.length)];
  }

  /** Runs `change` and counts it under `kind` if the ledger recorded something. */
  #counted(kind: ChangeKind, change: () => void): number {
    const before = this.state.ledger.length;
    change();
    const recorded = this.state.ledger.length - before;
    if (recorded > 0) this.counts[kind]++;
    return recorded;
  }

  #generate(extra: { lineItems?: number; stages?: number } = {}): SimOrder | undefined {
    const [created] = generateOrders({
      count: 1,
      seed: Math.floor(this.random() * 1e9),
      firstId: this.state.nextId(),
      firstNumber: this.#nextNumber++,
      watchedShare: 1,
      ...extra,
    });
    return created;
  }

  /** A watched order with 150 to 200 line items, each with its stages still to do. */
  createLarge(): number | undefined {
    const order = this.#generate({ lineItems: 150 + Math.floor(this.random() * 51), stages: 3 });
    if (!order) return undefined;
    for (const item of order.lineItems) item.raw.id = this.#nextLineItemId++;
    this.#counted('large', () => this.state.create(order));
    this.#large.add(order.raw.id);
    return order.raw.id;
  }

  /** A watched order with a product name or a company name of about a megabyte. */
  createPoison(
    where: 'product' | 'company' = this.random() < 0.5 ? 'product' : 'company',
  ): number | undefined {
    const order = this.#generate();
    if (!order) return undefined;
    const huge = `Poison ${'x'.repeat(POISON_LENGTH)}`;
    const item = order.lineItems[0];
    if (where === 'product' && item) item.raw.product_name = huge;
    else order.raw.company_name = huge;
    this.#counted('poison', () => this.state.create(order));
    this.#poison.add(order.raw.id);
    return order.raw.id;
  }

  /** Every line item of a large order with work left moves on one step, in one go. */
  #bulk(): void {
    const id = this.#pick(
      [...this.#large].filter((x) => {
        const order = this.state.orders.get(x);
        return order !== undefined && !order.malformed && order.lineItems.some(hasWorkLeft);
      }),
    );
    if (id === undefined) return;
    const order = this.state.get(id);
    const moved = this.#counted('bulk', () => {
      for (const item of order.lineItems) {
        if (hasWorkLeft(item)) this.state.advanceStage(id, item.raw.id as number);
      }
    });
    this.bulkStages += moved;
  }

  /** Makes up to `max` changes (and, now and then, a bulk move, a large or a poison order); returns how many. */
  step(max: number): number {
    this.#cycle++;
    for (const [id, until] of this.#malformedUntil) {
      if (until <= this.#cycle) {
        if (this.state.orders.has(id)) this.state.setMalformed(id, false);
        this.#malformedUntil.delete(id);
      }
    }
    if (this.random() < (this.options.bulkRate ?? 0)) this.#bulk();
    if (this.random() < (this.options.largeRate ?? 0)) this.createLarge();
    if (this.random() < (this.options.poisonRate ?? 0)) this.createPoison();
    const exists = (o: SimOrder) => this.state.orders.get(o.raw.id) === o;
    const n = Math.floor(this.random() * (max + 1));
    for (let i = 0; i < n; i++) {
      // Read afresh each time: a change earlier in this step may have deleted, created or closed an order.
      const orders = [...this.state.orders.values()];
      const watched = orders.filter(isWatched);
      const roll = this.random();
      const order = this.#pick(watched);
      if (order && !exists(order)) throw new Error(`soak activity: order ${order.raw.id} is gone`);
      if (roll < 0.45 && order) {
        this.#counted('stage', () => this.state.advanceStage(order.raw.id));
      } else if (roll < 0.55 && order) {
        const next =
          toFilterWord(order.raw.delivery_status) === 'not_received' ? 'receiving' : 'all_received';
        this.#counted('delivery', () => this.state.setDeliveryStatus(order.raw.id, next));
      } else if (roll < 0.63 && order) {
        const due =
          this.random() < 0.2
            ? null
            : `2027-${String(1 + Math.floor(this.random() * 12)).padStart(2, '0')}-15`;
        this.#counted('due', () => this.state.setDueDate(order.raw.id, due));
      } else if (roll < 0.71 && order) {
        const status = toFilterWord(order.raw.status);
        const next = status === 'draft' ? 'confirmed' : this.random() < 0.8 ? 'complete' : 'cancelled';
        this.#counted('status', () => this.state.setStatus(order.raw.id, next));
      } else if (roll < 0.75) {
        const created = this.#generate();
        if (created) this.#counted('create', () => this.state.create(created));
      } else if (roll < 0.77) {
        const id = this.#pick(this.#baselineIds.filter((x) => this.state.orders.has(x)));
        if (id !== undefined) {
          this.#counted('delete', () => this.state.delete(id));
          this.#malformedUntil.delete(id);
        }
      } else if (roll < 0.82) {
        const closed = this.#pick(orders.filter((o) => !isWatched(o)));
        if (closed) {
          const due = `2028-0${1 + Math.floor(this.random() * 9)}-01`;
          this.#counted('unwatched', () => this.state.setDueDate(closed.raw.id, due));
        }
      } else if (roll < 0.85 && order) {
        this.state.setMalformed(order.raw.id, true);
        this.#malformedUntil.set(order.raw.id, this.#cycle + 1 + Math.floor(this.random() * 5));
        this.counts.malformed++;
      }
    }
    return n;
  }

  /** Every order readable again (before the final checks). */
  heal(): void {
    for (const id of this.#malformedUntil.keys())
      if (this.state.orders.has(id)) this.state.setMalformed(id, false);
    this.#malformedUntil.clear();
  }
}
