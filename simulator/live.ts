import { generateOrders } from './generator.js';
import type { SimOrder } from './model.js';
import { toFilterWord } from './model.js';
import { pick, seededRandom } from './random.js';
import type { SimulatorState } from './state.js';
import { hasWorkLeft } from './state.js';
import { typicalDays } from './suppliers.js';

/**
 * Makes the simulator's orders move on their own, as a factory floor would: stages start and complete
 * (each supplier at its own pace: simulator/suppliers.ts), deliveries arrive, orders complete, due dates
 * slip, new orders appear. One `tick()` makes a few changes.
 */
export class LiveActivity {
  readonly #random: () => number;
  #nextNumber = 9_000;

  constructor(
    private readonly state: SimulatorState,
    seed = 7,
    private readonly now: () => number = Date.now,
    /** Called when a delivery arrives on an order (Uphance then sends a receiving-ticket webhook). */
    private readonly onDelivery?: (order: SimOrder) => void,
  ) {
    this.#random = seededRandom(seed);
  }

  tick(changes = 3): void {
    for (let i = 0; i < changes; i++) this.#one();
  }

  #active(): SimOrder[] {
    return [...this.state.orders.values()].filter(
      (o) => ['draft', 'confirmed'].includes(toFilterWord(o.raw.status)) || o.lineItems.some(hasWorkLeft),
    );
  }

  /** A stage starts soon; it completes the sooner, the faster its supplier and the shorter the stage. */
  #advanceChance(order: SimOrder): number {
    const item = order.lineItems.find(hasWorkLeft);
    const stage = item?.stages.find((s) => s.status !== 'Completed');
    if (!stage || stage.status === 'Not Started') return 0.8;
    return Math.min(1, 1.5 / typicalDays(order.raw.company_id as number, stage.name));
  }

  #one(): void {
    const r = this.#random();
    const active = this.#active();
    if (r < 0.08 || active.length === 0) {
      const [order] = generateOrders({
        count: 1,
        seed: Math.floor(this.#random() * 1e9),
        firstId: this.state.nextId(),
        firstNumber: this.#nextNumber++,
        watchedShare: 1,
        now: this.now(),
      });
      if (order) {
        order.raw.status = 'DRAFT';
        this.state.create(order);
      }
      return;
    }
    const order = pick(this.#random, active);
    const id = order.raw.id;
    const status = toFilterWord(order.raw.status);
    if (status === 'draft') {
      this.state.setStatus(id, 'confirmed');
      return;
    }
    if (r < 0.7 && order.lineItems.some(hasWorkLeft)) {
      if (this.#random() < this.#advanceChance(order)) this.state.advanceStage(id);
      return;
    }
    if (r < 0.78) {
      const due = new Date(this.now() + Math.floor(this.#random() * 60) * 86_400_000)
        .toISOString()
        .slice(0, 10);
      this.state.setDueDate(id, due);
      return;
    }
    const delivery = toFilterWord(order.raw.delivery_status);
    if (delivery === 'not_received') this.state.setDeliveryStatus(id, 'receiving');
    else if (delivery === 'receiving') this.state.setDeliveryStatus(id, 'all_received');
    else if (status === 'confirmed') this.state.setStatus(id, 'complete');
    if (delivery !== toFilterWord(order.raw.delivery_status)) this.onDelivery?.(order);
  }
}
