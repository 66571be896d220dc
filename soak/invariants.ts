import { MAX_TEXT_LENGTH } from '../functions/core/bounds.js';
import type { NotifierEvent } from '../functions/core/events/catalogue.js';
import type { Snapshot } from '../functions/core/snapshot.js';
import { snapshotOf } from '../functions/core/snapshot.js';
import { ALL_RECEIVED } from '../functions/core/vocabulary.js';
import { apiProductionOrderSchema, toOrder } from '../functions/uphance/api-schema.js';
import type { LedgerEntry } from '../simulator/model.js';
import { renderOrder } from '../simulator/render.js';
import type { SimulatorState } from '../simulator/state.js';

/**
 * The contract's guarantees as checks over what a run published, the simulator's ledger and the final
 * snapshots. Used by the cycle tests and by the soak.
 */
export interface Violation {
  rule:
    | 'duplicate-differs'
    | 'sequence-gap'
    | 'sequence-reused'
    | 'lost'
    | 'snapshot-differs'
    | 'stale-write'
    | 'unbounded-value'
    | 'milestone-differs'
    | 'at-risk-repeated';
  orderId: number;
  message: string;
}

export interface LedgerCheck {
  violations: Violation[];
  events: number;
  distinct: number;
  duplicates: number;
}

/**
 * Duplicates only as identical re-emissions; per order, sequences 1..N each with one eventId. Incremental:
 * `add` checks only the events it has not seen (the soak checks after every cycle, over a growing list).
 */
export class EventCheck {
  readonly #byId = new Map<string, string>();
  readonly #bySequence = new Map<number, Map<number, string>>();
  events = 0;
  duplicates = 0;

  /** Checks these further events; returns the duplicates that differ and the sequences given twice. */
  add(published: NotifierEvent[]): Violation[] {
    const violations: Violation[] = [];
    for (const event of published) {
      this.events++;
      const text = JSON.stringify(event);
      const seen = this.#byId.get(event.detail.eventId);
      if (seen !== undefined) {
        this.duplicates++;
        if (seen !== text) {
          violations.push({
            rule: 'duplicate-differs',
            orderId: event.detail.order.id,
            message: `eventId ${event.detail.eventId} re-emitted with another content`,
          });
        }
        continue;
      }
      this.#byId.set(event.detail.eventId, text);
      const sequences = this.#bySequence.get(event.detail.order.id) ?? new Map<number, string>();
      this.#bySequence.set(event.detail.order.id, sequences);
      const other = sequences.get(event.detail.sequence);
      if (other !== undefined) {
        violations.push({
          rule: 'sequence-reused',
          orderId: event.detail.order.id,
          message: `sequence ${event.detail.sequence} carried by two different events`,
        });
      }
      sequences.set(event.detail.sequence, event.detail.eventId);
    }
    return violations;
  }

  get distinct(): number {
    return this.#byId.size;
  }

  /** Sequences missing below each order's highest (only meaningful once everything was delivered). */
  gaps(): Violation[] {
    const violations: Violation[] = [];
    for (const [orderId, sequences] of this.#bySequence) {
      const max = Math.max(...sequences.keys());
      for (let s = 1; s <= max; s++) {
        if (!sequences.has(s))
          violations.push({ rule: 'sequence-gap', orderId, message: `sequence ${s} missing (max ${max})` });
      }
    }
    return violations;
  }
}

/** Duplicates only as identical re-emissions; per order, sequences 1..N each with one eventId. */
export const checkEvents = (published: NotifierEvent[]): LedgerCheck => {
  const check = new EventCheck();
  const violations = [...check.add(published), ...check.gaps()];
  return { violations, events: check.events, distinct: check.distinct, duplicates: check.duplicates };
};

/**
 * Nothing lost: every change in the ledger after `fromIndex` is covered by an event. Value changes must
 * leave the last event's `to` equal to the final value; every stage that started or completed must have
 * a StageStarted or StageCompleted (a completion covers a start made between two polls); creations and
 * deletions their OrderCreated and OrderRemoved. `setAside`: events the bus refused for good, as the
 * store lists them (StateStore.listSetAside): kept for resending, so not lost; an event neither published
 * nor in that list is.
 */
export const checkLedgerCovered = (
  ledger: LedgerEntry[],
  fromIndex: number,
  published: NotifierEvent[],
  setAside: NotifierEvent[] = [],
): Violation[] => {
  const violations: Violation[] = [];
  const distinct = new Map<string, NotifierEvent>();
  for (const e of [...published, ...setAside]) distinct.set(e.detail.eventId, e);
  const events = [...distinct.values()];
  const lastValue = new Map<string, unknown>();
  const stages = new Set<string>();
  const created = new Set<number>();
  /** When each order created in the window was first seen: earlier stage moves are part of that sight. */
  const firstSeen = new Map<number, number>();
  const deleted = new Set<number>();
  for (const e of events) {
    const id = e.detail.order.id;
    if (e.detailType === 'OrderCreated') {
      created.add(id);
      firstSeen.set(
        id,
        Math.min(firstSeen.get(id) ?? Number.POSITIVE_INFINITY, Date.parse(e.detail.detectedAt)),
      );
    }
    if (e.detailType === 'OrderRemoved') deleted.add(id);
    if (e.detailType === 'StageStarted' || e.detailType === 'StageCompleted') {
      stages.add(`${id}/${e.detail.lineItem.id}/${e.detail.stage.name}/${e.detail.stage.status}`);
    }
  }
  const sorted = [...events].sort(
    (a, b) => a.detail.order.id - b.detail.order.id || a.detail.sequence - b.detail.sequence,
  );
  for (const e of sorted) {
    const id = e.detail.order.id;
    if (e.detailType === 'OrderCreated') {
      // First sight carries the order as it was then.
      lastValue.set(`${id}/status`, e.detail.order.status);
      lastValue.set(`${id}/delivery_status`, e.detail.order.deliveryStatus);
      lastValue.set(`${id}/due_date`, e.detail.order.dueDate);
    }
    if (e.detailType === 'OrderStatusChanged') lastValue.set(`${id}/status`, e.detail.change.to);
    if (e.detailType === 'OrderDeliveryStatusChanged')
      lastValue.set(`${id}/delivery_status`, e.detail.change.to);
    if (e.detailType === 'OrderDueDateChanged') lastValue.set(`${id}/due_date`, e.detail.change.to);
  }
  const initialValue = new Map<string, unknown>();
  const finalValue = new Map<string, unknown>();
  const deletedInLedger = new Set<number>();
  for (const entry of ledger.slice(fromIndex)) {
    if (entry.kind === 'deleted') deletedInLedger.add(entry.orderId);
    if (entry.kind === 'created') deletedInLedger.delete(entry.orderId);
  }
  for (const entry of ledger.slice(fromIndex)) {
    const id = entry.orderId;
    if (deletedInLedger.has(id) && entry.kind !== 'deleted') continue;
    switch (entry.kind) {
      case 'status':
      case 'delivery_status':
      case 'due_date': {
        const key = `${id}/${entry.kind}`;
        if (!initialValue.has(key)) initialValue.set(key, entry.from);
        finalValue.set(key, entry.to);
        break;
      }
      case 'stage': {
        if (Date.parse(entry.at) <= (firstSeen.get(id) ?? Number.NEGATIVE_INFINITY)) break;
        const key = `${id}/${entry.lineItemId}/${entry.stage}`;
        const done = stages.has(`${key}/completed`);
        if (entry.to === 'Completed' && !done)
          violations.push({ rule: 'lost', orderId: id, message: `${key} completed without StageCompleted` });
        if (entry.to === 'In Progress' && !done && !stages.has(`${key}/in_progress`)) {
          violations.push({ rule: 'lost', orderId: id, message: `${key} started without StageStarted` });
        }
        break;
      }
      case 'created':
        if (!created.has(id))
          violations.push({ rule: 'lost', orderId: id, message: 'created without OrderCreated' });
        break;
      case 'deleted':
        if (!deleted.has(id))
          violations.push({ rule: 'lost', orderId: id, message: 'deleted without OrderRemoved' });
        break;
    }
  }
  for (const [key, value] of finalValue) {
    const reported = lastValue.has(key) ? lastValue.get(key) : initialValue.get(key);
    if (reported !== value) {
      violations.push({
        rule: 'lost',
        orderId: Number(key.split('/')[0]),
        message: `${key} ended ${String(value)}, events say ${String(reported)}`,
      });
    }
  }
  return violations;
};

/** The simulator's truth as the notifier's snapshot would hold it (no sequence). */
export const truthSnapshots = (state: SimulatorState): Map<number, Snapshot> => {
  const truth = new Map<number, Snapshot>();
  for (const order of state.orders.values()) {
    if (order.malformed) continue;
    const parsed = apiProductionOrderSchema.safeParse(renderOrder(order, true));
    if (parsed.success) truth.set(order.raw.id, snapshotOf(toOrder(parsed.data), 0));
  }
  return truth;
};

/** In the end the snapshots equal the simulator's truth (status, delivery, due date, every stage). */
export const checkSnapshots = (truth: Map<number, Snapshot>, stored: Map<number, Snapshot>): Violation[] => {
  const violations: Violation[] = [];
  const project = (s: Snapshot) =>
    JSON.stringify([
      s.order.status,
      s.order.deliveryStatus,
      s.order.dueDate,
      // As the API sent it, bounded (functions/core/bounds.ts): a megabyte name is kept cut, with the marker.
      s.order.companyName,
      s.stages,
      Boolean(s.removed),
    ]);
  for (const [id, expected] of truth) {
    const actual = stored.get(id);
    if (!actual) violations.push({ rule: 'snapshot-differs', orderId: id, message: 'no snapshot' });
    else if (project(actual) !== project(expected)) {
      violations.push({
        rule: 'snapshot-differs',
        orderId: id,
        message: `snapshot ${project(actual)} != truth ${project(expected)}`,
      });
    }
  }
  for (const [id, actual] of stored) {
    if (!truth.has(id) && !actual.removed)
      violations.push({
        rule: 'snapshot-differs',
        orderId: id,
        message: 'gone from the API but not removed',
      });
  }
  return violations;
};

/**
 * The digest's dates agree with the events (functions/core/milestones.ts): in each final snapshot, a roll-up
 * that holds is dated by the detectedAt of the last OrderStageCompleted for it since the order was last
 * (re)created, and undated when there is none; an order all received likewise by its last OrderAllReceived.
 * Sequences give the order of an order's events, whatever crashes and replays did to their arrival.
 */
export const checkMilestones = (stored: Map<number, Snapshot>, events: NotifierEvent[]): Violation[] => {
  const violations: Violation[] = [];
  const byOrder = new Map<number, NotifierEvent[]>();
  for (const e of events) byOrder.set(e.detail.order.id, [...(byOrder.get(e.detail.order.id) ?? []), e]);
  for (const [id, snapshot] of stored) {
    if (snapshot.removed) continue;
    const own = byOrder.get(id) ?? [];
    const created = Math.max(
      0,
      ...own.filter((e) => e.detailType === 'OrderCreated').map((e) => e.detail.sequence),
    );
    const lastAt = (match: (e: NotifierEvent) => boolean): number | undefined => {
      const last = own
        .filter((e) => e.detail.sequence > created && match(e))
        .sort((a, b) => b.detail.sequence - a.detail.sequence)[0];
      return last ? Date.parse(last.detail.detectedAt) : undefined;
    };
    const differs = (what: string, actual: number | undefined, expected: number | undefined) => {
      if (actual !== expected)
        violations.push({
          rule: 'milestone-differs',
          orderId: id,
          message: `${what} dated ${actual ?? 'never'}, its last event says ${expected ?? 'none'}`,
        });
    };
    const holding = new Set(snapshot.rolledUp ?? []);
    for (const name of Object.keys(snapshot.rolledUpSeen ?? {}))
      if (!holding.has(name))
        differs(`roll-up ${name} (not holding)`, snapshot.rolledUpSeen?.[name], undefined);
    for (const name of holding) {
      const expected = lastAt((e) => e.detailType === 'OrderStageCompleted' && e.detail.stage.name === name);
      differs(`roll-up ${name}`, snapshot.rolledUpSeen?.[name], expected);
    }
    const received = snapshot.order.deliveryStatus === ALL_RECEIVED;
    differs(
      'all received',
      snapshot.receivedSeen,
      received ? lastAt((e) => e.detailType === 'OrderAllReceived') : undefined,
    );
  }
  return violations;
};

/**
 * OrderAtRisk fires once per due date (docs/contract.md section 1c): per order, in sequence order, at most one
 * between two changes of its due date (or a re-creation), never after OrderOverdue for that due date, and
 * always for the due date the order carries.
 */
export const checkAtRisk = (events: NotifierEvent[]): Violation[] => {
  const violations: Violation[] = [];
  const byOrder = new Map<number, Map<string, NotifierEvent>>();
  for (const e of events) {
    const own = byOrder.get(e.detail.order.id) ?? new Map<string, NotifierEvent>();
    own.set(e.detail.eventId, e);
    byOrder.set(e.detail.order.id, own);
  }
  for (const [orderId, own] of byOrder) {
    let fired = false;
    let overdue = false;
    for (const e of [...own.values()].sort((a, b) => a.detail.sequence - b.detail.sequence)) {
      if (e.detailType === 'OrderCreated' || e.detailType === 'OrderDueDateChanged') {
        fired = false;
        overdue = false;
      }
      if (e.detailType === 'OrderOverdue') overdue = true;
      if (e.detailType !== 'OrderAtRisk') continue;
      const due = e.detail.due.date;
      const problem = fired
        ? `fired twice for due date ${due}`
        : overdue
          ? `fired after OrderOverdue for due date ${due}`
          : due !== e.detail.order.dueDate
            ? `names due date ${due} while the order is due ${e.detail.order.dueDate}`
            : null;
      if (problem) violations.push({ rule: 'at-risk-repeated', orderId, message: `OrderAtRisk ${problem}` });
      fired = true;
    }
  }
  return violations;
};

/**
 * Every string an event carries is bounded (functions/core/bounds.ts): one order with a value of a
 * megabyte must never make an event too large for the bus. Returns a violation per event with a longer one.
 */
export const checkBounded = (published: NotifierEvent[], max: number = MAX_TEXT_LENGTH): Violation[] => {
  const violations: Violation[] = [];
  const longest = (value: unknown): number => {
    if (typeof value === 'string') return value.length;
    if (Array.isArray(value)) return value.reduce((n: number, v) => Math.max(n, longest(v)), 0);
    if (value !== null && typeof value === 'object')
      return Object.values(value).reduce((n: number, v) => Math.max(n, longest(v)), 0);
    return 0;
  };
  const seen = new Set<string>();
  for (const event of published) {
    if (seen.has(event.detail.eventId)) continue;
    seen.add(event.detail.eventId);
    const length = longest(event.detail);
    if (length > max) {
      violations.push({
        rule: 'unbounded-value',
        orderId: event.detail.order.id,
        message: `${event.detailType} ${event.detail.eventId} carries a value of ${length} characters (bound ${max})`,
      });
    }
  }
  return violations;
};

/**
 * Fencing, seen from the outside: a runner that lost its lease must not write anything. Were a stale
 * runner's snapshot write applied, an order's stored sequence would go back (an older snapshot over a
 * newer one), or fall behind events already delivered (state is written before events are published, so
 * a delivered event's sequence is always one the stored snapshot has reached). Observe the stored
 * snapshots and the delivered events after each cycle.
 */
export class FenceWatch {
  readonly #lastSeq = new Map<number, number>();
  readonly #maxPublished = new Map<number, number>();
  #eventsSeen = 0;

  observe(stored: Map<number, Snapshot>, published: NotifierEvent[]): Violation[] {
    const violations: Violation[] = [];
    for (const event of published.slice(this.#eventsSeen)) {
      const id = event.detail.order.id;
      this.#maxPublished.set(id, Math.max(this.#maxPublished.get(id) ?? 0, event.detail.sequence));
    }
    this.#eventsSeen = published.length;
    for (const [id, snapshot] of stored) {
      const last = this.#lastSeq.get(id);
      if (last !== undefined && snapshot.seq < last) {
        violations.push({
          rule: 'stale-write',
          orderId: id,
          message: `stored sequence went back from ${last} to ${snapshot.seq}`,
        });
      }
      this.#lastSeq.set(id, Math.max(last ?? 0, snapshot.seq));
    }
    for (const [id, max] of this.#maxPublished) {
      const snapshot = stored.get(id);
      if (!snapshot || snapshot.seq < max) {
        violations.push({
          rule: 'stale-write',
          orderId: id,
          message: `event with sequence ${max} delivered, but the stored snapshot is at ${snapshot ? snapshot.seq : 'none'}`,
        });
      }
    }
    return violations;
  }
}
