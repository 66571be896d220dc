import type { LedgerEntry, SimLineItem, SimOrder, SimStage } from './model.js';
import { currentStage, DELIVERY_WORDS, formatWithOffset, STATUS_WORDS, toFilterWord } from './model.js';

/**
 * The simulator's orders and the operations that change them. Each operation moves updated_at (except
 * stage progress, which the real API may not reflect in updated_at: `touchOnStage` decides) and appends
 * to the ledger.
 */
export class SimulatorState {
  readonly orders = new Map<number, SimOrder>();
  readonly ledger: LedgerEntry[] = [];
  /** Whether stage progress moves the order's updated_at (unknown for the real API; default false). */
  touchOnStage = false;

  constructor(private readonly now: () => number = Date.now) {}

  load(orders: Iterable<SimOrder>): void {
    for (const order of orders) this.orders.set(order.raw.id, order);
    this.#sorted = undefined;
  }

  clear(): void {
    this.orders.clear();
    this.ledger.length = 0;
    this.#sorted = undefined;
  }

  #sorted: number[] | undefined;

  /** Ids newest first: the list's order in the vendor's examples (cached until an order is added or removed). */
  sortedIds(): number[] {
    this.#sorted ??= [...this.orders.keys()].sort((a, b) => b - a);
    return this.#sorted;
  }

  get(id: number): SimOrder {
    const order = this.orders.get(id);
    if (!order) throw new Error(`simulator: no order ${id}`);
    return order;
  }

  nextId(): number {
    let max = 0;
    for (const id of this.orders.keys()) if (id > max) max = id;
    return max + 1;
  }

  #stamp(order: SimOrder): string {
    const at = formatWithOffset(this.now(), 60);
    order.raw.updated_at = at;
    return at;
  }

  #record(entry: Omit<LedgerEntry, 'at'>, at: string): void {
    this.ledger.push({ ...entry, at });
  }

  /** status: a filter word (draft, confirmed, complete, cancelled) or any other word the API might send. */
  setStatus(id: number, status: string): void {
    const order = this.get(id);
    const from = toFilterWord(order.raw.status);
    if (from === toFilterWord(status)) return;
    order.raw.status = STATUS_WORDS[status] ?? status;
    this.#record({ orderId: id, kind: 'status', from, to: toFilterWord(status) }, this.#stamp(order));
  }

  setDeliveryStatus(id: number, deliveryStatus: string): void {
    const order = this.get(id);
    const from = toFilterWord(order.raw.delivery_status);
    if (from === toFilterWord(deliveryStatus)) return;
    order.raw.delivery_status = DELIVERY_WORDS[deliveryStatus] ?? deliveryStatus;
    this.#record(
      { orderId: id, kind: 'delivery_status', from, to: toFilterWord(deliveryStatus) },
      this.#stamp(order),
    );
  }

  setDueDate(id: number, dueDate: string | null): void {
    const order = this.get(id);
    const from = (order.raw.due_date as string | null) ?? null;
    if (from === dueDate) return;
    order.raw.due_date = dueDate;
    this.#record({ orderId: id, kind: 'due_date', from, to: dueDate }, this.#stamp(order));
  }

  /**
   * Moves one line item's production on by one step: the current stage starts, or the started one
   * completes. Returns the stage that changed, or undefined when every stage is completed.
   */
  advanceStage(id: number, lineItemId?: number): SimStage | undefined {
    const order = this.get(id);
    const item =
      lineItemId === undefined
        ? order.lineItems.find(hasWorkLeft)
        : order.lineItems.find((li) => li.raw.id === lineItemId);
    if (!item) return undefined;
    const stage = currentStage(item);
    if (!stage || stage.status === 'Completed') return undefined;
    const at = formatWithOffset(this.now(), 0);
    const from = stage.status;
    if (stage.status === 'Not Started') {
      stage.status = 'In Progress';
      stage.start_time = at;
    } else {
      stage.status = 'Completed';
      stage.end_time = at;
    }
    const stamped = this.touchOnStage ? this.#stamp(order) : at;
    this.#record(
      {
        orderId: id,
        kind: 'stage',
        from,
        to: stage.status,
        lineItemId: item.raw.id as number,
        stage: stage.name,
      },
      stamped,
    );
    return stage;
  }

  create(order: SimOrder): void {
    if (this.orders.has(order.raw.id)) throw new Error(`simulator: order ${order.raw.id} exists`);
    this.orders.set(order.raw.id, order);
    this.#sorted = undefined;
    this.#record(
      { orderId: order.raw.id, kind: 'created', from: null, to: order.raw.production_order_number },
      this.#stamp(order),
    );
  }

  delete(id: number): void {
    this.get(id);
    this.orders.delete(id);
    this.#sorted = undefined;
    this.#record({ orderId: id, kind: 'deleted', from: null, to: null }, formatWithOffset(this.now(), 0));
  }

  setMalformed(id: number, malformed: boolean): void {
    this.get(id).malformed = malformed;
  }

  findLineItem(lineItemId: number): SimLineItem | undefined {
    for (const order of this.orders.values()) {
      const item = order.lineItems.find((li) => li.raw.id === lineItemId);
      if (item) return item;
    }
    return undefined;
  }
}

export const hasWorkLeft = (item: SimLineItem): boolean => item.stages.some((s) => s.status !== 'Completed');
