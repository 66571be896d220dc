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
  | 'malformed';

const isOpen = (o: SimOrder) => ['draft', 'confirmed'].includes(toFilterWord(o.raw.status));
const isWatched = (o: SimOrder) => isOpen(o) || o.lineItems.some(hasWorkLeft);

/**
 * Random, seeded changes to the simulator's orders, as a busy account sees them: stages move, deliveries
 * arrive, dates slip, orders complete or are cancelled, new ones appear, old ones are deleted, some
 * closed orders change where only the sweep sees it, and some orders turn malformed for a while.
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
  };
  readonly #baselineIds: number[];
  readonly #malformedUntil = new Map<number, number>();
  #nextNumber = 50_000;
  #cycle = 0;

  constructor(
    private readonly state: SimulatorState,
    private readonly random: () => number,
  ) {
    this.#baselineIds = [...state.orders.keys()];
  }

  #pick<T>(list: T[]): T | undefined {
    return list.length === 0 ? undefined : list[Math.floor(this.random() * list.length)];
  }

  /** Makes up to `max` changes; returns how many. */
  step(max: number): number {
    this.#cycle++;
    for (const [id, until] of this.#malformedUntil) {
      if (until <= this.#cycle && this.state.orders.has(id)) {
        this.state.setMalformed(id, false);
        this.#malformedUntil.delete(id);
      }
    }
    const orders = [...this.state.orders.values()];
    const watched = orders.filter(isWatched);
    const n = Math.floor(this.random() * (max + 1));
    for (let i = 0; i < n; i++) {
      const roll = this.random();
      const order = this.#pick(watched);
      if (roll < 0.45 && order) {
        if (this.state.advanceStage(order.raw.id)) this.counts.stage++;
      } else if (roll < 0.55 && order) {
        const next =
          toFilterWord(order.raw.delivery_status) === 'not_received' ? 'receiving' : 'all_received';
        this.state.setDeliveryStatus(order.raw.id, next);
        this.counts.delivery++;
      } else if (roll < 0.63 && order) {
        this.state.setDueDate(
          order.raw.id,
          this.random() < 0.2
            ? null
            : `2027-${String(1 + Math.floor(this.random() * 12)).padStart(2, '0')}-15`,
        );
        this.counts.due++;
      } else if (roll < 0.71 && order) {
        const status = toFilterWord(order.raw.status);
        this.state.setStatus(
          order.raw.id,
          status === 'draft' ? 'confirmed' : this.random() < 0.8 ? 'complete' : 'cancelled',
        );
        this.counts.status++;
      } else if (roll < 0.75) {
        const [created] = generateOrders({
          count: 1,
          seed: Math.floor(this.random() * 1e9),
          firstId: this.state.nextId(),
          firstNumber: this.#nextNumber++,
          watchedShare: 1,
        });
        if (created) {
          this.state.create(created);
          this.counts.create++;
        }
      } else if (roll < 0.77) {
        const id = this.#pick(this.#baselineIds.filter((x) => this.state.orders.has(x)));
        if (id !== undefined) {
          this.state.delete(id);
          this.#malformedUntil.delete(id);
          this.counts.delete++;
        }
      } else if (roll < 0.82) {
        const closed = this.#pick(orders.filter((o) => !isWatched(o) && this.state.orders.has(o.raw.id)));
        if (closed) {
          this.state.setDueDate(closed.raw.id, `2028-0${1 + Math.floor(this.random() * 9)}-01`);
          this.counts.unwatched++;
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
