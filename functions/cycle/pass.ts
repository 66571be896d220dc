import type { InvalidRecord } from '../core/api-schema.js';
import type { Detection } from '../core/diff.js';
import { detectChanges, detectRemoval, firstSight } from '../core/diff.js';
import type { NotifierEvent } from '../core/events/catalogue.js';
import type { Order } from '../core/order.js';
import { isWatched, sameSnapshot } from '../core/snapshot.js';
import type { Deadline } from '../shared/timing.js';
import type { CommitContext } from './commit.js';
import { commit } from './commit.js';
import type { CycleDependencies, CycleOptions, CycleReport } from './cycle.js';
import type {
  CallBounds,
  Checkpoint,
  ScanQuery,
  SnapshotWrite,
  SourcePage,
  StoredSnapshot,
} from './ports.js';
import { DeadlineExceededError } from './ports.js';

/** What one pass over fetched orders produced, ready to commit. */
export interface Batch {
  events: NotifierEvent[];
  writes: SnapshotWrite[];
}

export const mergeBatches = (...batches: Batch[]): Batch => ({
  events: batches.flatMap((b) => b.events),
  writes: batches.flatMap((b) => b.writes),
});

/** Where a resumable scan stopped: at its end, or before `nextPage` (budget or deadline). */
export type ScanStop = { done: true } | { done: false; nextPage: number };

/**
 * The state one cycle works on once it holds the lease: the checkpoint being built, the watched set, the
 * report, the fetch budget, and the operations its passes share (fetch, diff, look up, commit).
 */
export class CyclePass {
  readonly watched: Set<number>;

  constructor(
    readonly deps: CycleDependencies,
    readonly options: CycleOptions,
    readonly report: CycleReport,
    readonly checkpoint: Checkpoint,
    readonly context: CommitContext,
    /** When fetching stops: no page or look-up starts after it. */
    private readonly budget: Deadline,
    /** Bounds the requests in flight (and their retries); commits may go on until the hard deadline. */
    private readonly fetchBound: Deadline,
    private readonly started: number,
  ) {
    this.watched = new Set(checkpoint.watched);
  }

  /** Whether `share` of the fetch budget is spent (1 = all of it). */
  overBudget(share = 1): boolean {
    if (this.budget.passed()) return true;
    return share < 1 && this.deps.now() >= this.started + share * (this.budget.at - this.started);
  }

  get bounds(): CallBounds {
    return { signal: this.fetchBound.signal, remainingMs: this.fetchBound.remainingMs };
  }

  detectedAt(): string {
    return new Date(this.deps.now()).toISOString();
  }

  noteInvalid(invalid: InvalidRecord[]): void {
    for (const record of invalid) {
      this.report.malformed++;
      this.deps.logger.warn('skipping a malformed production order', {
        orderId: record.id,
        path: record.path,
        problem: record.message,
      });
    }
  }

  /**
   * Pages of a query from its `page`, each handed to `onPage`, until the end or until `share` of the
   * budget is spent (a page started is finished or abandoned whole). Says where to resume.
   */
  async scan(query: ScanQuery, onPage: (page: SourcePage) => void, share = 1): Promise<ScanStop> {
    let next = ('page' in query ? query.page : undefined) ?? 1;
    try {
      for await (const page of this.deps.source.scan(query, this.bounds)) {
        this.report.ordersScanned += page.orders.length;
        this.noteInvalid(page.invalid);
        onPage(page);
        if (page.nextPage === null) return { done: true };
        next = page.nextPage;
        if (this.overBudget(share)) return { done: false, nextPage: next };
      }
      return { done: true };
    } catch (error) {
      if (error instanceof DeadlineExceededError) return { done: false, nextPage: next };
      throw error;
    }
  }

  /** Diffs fetched orders against their snapshots and keeps the watched set up to date. */
  diffOrders(orders: Order[], snapshots: Map<number, StoredSnapshot>, baseline: boolean): Batch {
    const batch: Batch = { events: [], writes: [] };
    for (const order of orders) {
      const previous = snapshots.get(order.id);
      const at = {
        detectedAt: this.detectedAt(),
        now: (this.deps.signalNow ?? this.deps.now)(),
        signals: this.options.signals,
      };
      const detection: Detection = previous
        ? detectChanges(previous.snapshot, order, at)
        : firstSight(order, { ...at, emit: !baseline || this.options.emitBaseline });
      if (!this.deps.store.snapshotFits(detection.snapshot)) {
        // One absurd order must not stop the account: it is left out (and said so) until it shrinks.
        this.report.oversized++;
        this.deps.logger.error('skipping an order whose snapshot does not fit in one state item', {
          orderId: order.id,
          lineItems: order.lineItems.length,
        });
        continue;
      }
      if (!previous || !sameSnapshot(previous.snapshot, detection.snapshot)) {
        batch.writes.push({
          orderId: order.id,
          snapshot: detection.snapshot,
          expectedRev: previous?.rev ?? 0,
        });
      }
      batch.events.push(...detection.events);
      if (isWatched(detection.snapshot)) this.watched.add(order.id);
      else this.watched.delete(order.id);
    }
    return batch;
  }

  /**
   * Orders known from their snapshots that did not show up: each is looked up, while the budget lasts.
   * Found: diffed like any other. Confirmed absent: OrderRemoved. Unreadable: nothing is concluded.
   * Returns the batch and the ids that were not looked up yet.
   */
  async lookUpMissing(
    ids: number[],
    snapshots: Map<number, StoredSnapshot>,
    share = 1,
  ): Promise<{ batch: Batch; remaining: number[] }> {
    const removals: Batch = { events: [], writes: [] };
    const found: Order[] = [];
    let index = 0;
    for (; index < ids.length; index++) {
      const id = ids[index] as number;
      const previous = snapshots.get(id);
      if (!previous || previous.snapshot.removed) {
        this.watched.delete(id);
        continue;
      }
      if (this.overBudget(share)) break;
      let result: Awaited<ReturnType<CycleDependencies['source']['lookup']>>;
      try {
        this.report.lookups++;
        result = await this.deps.source.lookup({ id, number: previous.snapshot.order.number }, this.bounds);
      } catch (error) {
        if (error instanceof DeadlineExceededError) break;
        throw error;
      }
      if (result.kind === 'found') found.push(result.order);
      else if (result.kind === 'unreadable') this.noteInvalid([result.error]);
      else {
        const removal = detectRemoval(previous.snapshot, { detectedAt: this.detectedAt() });
        removals.events.push(...removal.events);
        removals.writes.push({ orderId: id, snapshot: removal.snapshot, expectedRev: previous.rev });
        this.watched.delete(id);
        this.report.removed++;
      }
    }
    return {
      batch: mergeBatches(removals, this.diffOrders(found, snapshots, false)),
      remaining: ids.slice(index),
    };
  }

  /** Commits a batch (see commit.ts for the crash-safe order of writes) and counts it in the report. */
  async commit(batch: Batch, checkpoint: Checkpoint | null = null): Promise<void> {
    await commit(this.context, { ...batch, checkpoint });
    this.report.snapshotsWritten += batch.writes.length;
    this.report.events += batch.events.length;
    for (const event of batch.events) {
      this.report.eventsByType[event.detailType] = (this.report.eventsByType[event.detailType] ?? 0) + 1;
    }
  }
}
