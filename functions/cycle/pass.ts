import type { InvalidRecord } from '../core/api-schema.js';
import type { Detection } from '../core/diff.js';
import { detectChanges, detectRemoval, firstSight } from '../core/diff.js';
import type { NotifierEvent } from '../core/events/catalogue.js';
import type { Order } from '../core/order.js';
import { isWatched, sameSnapshot } from '../core/snapshot.js';
import type { CommitContext } from './commit.js';
import { commit } from './commit.js';
import type { CycleDependencies, CycleOptions, CycleReport } from './cycle.js';
import type { Checkpoint, ScanQuery, SnapshotWrite, StoredSnapshot } from './ports.js';

/** What one pass over fetched orders produced, ready to commit. */
export interface Batch {
  events: NotifierEvent[];
  writes: SnapshotWrite[];
}

export const mergeBatches = (...batches: Batch[]): Batch => ({
  events: batches.flatMap((b) => b.events),
  writes: batches.flatMap((b) => b.writes),
});

/**
 * The state one cycle works on once it holds the lease: the checkpoint being built, the watched set, the
 * report, the time budget, and the operations its passes share (fetch, diff, look up, commit).
 */
export class CyclePass {
  readonly watched: Set<number>;
  #part = 0;

  constructor(
    readonly deps: CycleDependencies,
    readonly options: CycleOptions,
    readonly report: CycleReport,
    readonly checkpoint: Checkpoint,
    readonly context: CommitContext,
    private readonly deadline: number,
  ) {
    this.watched = new Set(checkpoint.watched);
  }

  overBudget(): boolean {
    return this.deps.now() >= this.deadline;
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

  /** Pages of a query, counted and with their malformed records reported. */
  async *fetch(query: ScanQuery) {
    for await (const page of this.deps.source.scan(query)) {
      this.report.ordersScanned += page.orders.length;
      this.noteInvalid(page.invalid);
      yield page;
    }
  }

  /** Diffs fetched orders against their snapshots; keeps the watched set and the highest id up to date. */
  diffOrders(orders: Order[], snapshots: Map<number, StoredSnapshot>, baseline: boolean): Batch {
    const batch: Batch = { events: [], writes: [] };
    for (const order of orders) {
      const previous = snapshots.get(order.id);
      const at = { detectedAt: this.detectedAt(), now: this.deps.now(), signals: this.options.signals };
      const detection: Detection = previous
        ? detectChanges(previous.snapshot, order, at)
        : firstSight(order, { ...at, emit: !baseline || this.options.emitBaseline });
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
      if (!baseline && order.id > this.checkpoint.highestId) this.checkpoint.highestId = order.id;
    }
    return batch;
  }

  /**
   * Orders known from their snapshots that did not show up: each is looked up. Found: diffed like any
   * other. Confirmed absent: OrderRemoved. Unreadable, or no time left: nothing is concluded.
   */
  async lookUpMissing(ids: number[], snapshots: Map<number, StoredSnapshot>): Promise<Batch> {
    const removals: Batch = { events: [], writes: [] };
    const found: Order[] = [];
    for (const id of ids) {
      const previous = snapshots.get(id);
      if (!previous || previous.snapshot.removed) {
        this.watched.delete(id);
        continue;
      }
      if (this.overBudget()) break;
      this.report.lookups++;
      const result = await this.deps.source.lookup({ id, number: previous.snapshot.order.number });
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
    return mergeBatches(removals, this.diffOrders(found, snapshots, false));
  }

  /** Commits a batch (see commit.ts for the crash-safe order of writes) and counts it in the report. */
  async commit(batch: Batch, checkpoint: Checkpoint | null = null): Promise<void> {
    this.#part = await commit(this.context, { ...batch, checkpoint }, this.#part);
    this.report.snapshotsWritten += batch.writes.length;
    this.report.events += batch.events.length;
    for (const event of batch.events) {
      this.report.eventsByType[event.detailType] = (this.report.eventsByType[event.detailType] ?? 0) + 1;
    }
  }
}
