import type { Detection } from '../core/diff.js';
import { detectChanges, detectRemoval, firstSight } from '../core/diff.js';
import type { NotifierEvent } from '../core/events/catalogue.js';
import { orderFingerprint, unchangedSince } from '../core/fingerprint.js';
import type { StageHistory, StageSample } from '../core/history.js';
import { stageSamples } from '../core/history.js';
import type { InvalidRecord } from '../core/invalid-record.js';
import type { Order } from '../core/order.js';
import { nextSignalAt } from '../core/signals.js';
import type { Snapshot } from '../core/snapshot.js';
import { isWatched, sameSnapshot } from '../core/snapshot.js';
import type { Deadline } from '../shared/timing.js';
import type { CommitContext } from './commit.js';
import { commit } from './commit.js';
import type { CycleDependencies, CycleOptions, CycleReport } from './cycle-types.js';
import { DeadlineExceededError } from './errors.js';
import { OrganisationGuard } from './organisation-guard.js';
import type { CallBounds, ScanQuery, SourcePage } from './ports.js';
import type { Checkpoint, IndexEntry, IndexUpdate, Lease, SnapshotWrite, StoredSnapshot } from './records.js';

/** What one pass over fetched orders produced, ready to commit. */
export interface Batch {
  events: NotifierEvent[];
  writes: SnapshotWrite[];
  /** Index changes without a snapshot write. */
  index: IndexUpdate[];
  /** Completed stages new to the stage history. */
  history: StageSample[];
}

export const emptyBatch = (): Batch => ({ events: [], writes: [], index: [], history: [] });

export const mergeBatches = (...batches: Batch[]): Batch => ({
  events: batches.flatMap((b) => b.events),
  writes: batches.flatMap((b) => b.writes),
  index: batches.flatMap((b) => b.index),
  history: batches.flatMap((b) => b.history),
});

/**
 * Which orders a diff puts in the index: `add` every watched order diffed (the incremental pass, whose
 * orders are the ones read every cycle); `known` only keeps the entries that exist up to date (the
 * baseline and the sweep, which diff every order of the account, would otherwise write the index page
 * after page).
 */
export type Indexing = 'add' | 'known';

const sameEntry = (a: IndexEntry | undefined, b: IndexEntry | null): boolean =>
  a === undefined ? b === null : b !== null && a.fp === b.fp && a.rev === b.rev && a.dueAt === b.dueAt;

/** Where a resumable scan stopped: at its end, or before `nextPage` (budget or deadline). */
export type ScanStop = { done: true } | { done: false; nextPage: number };

/** What a run holds once it has the lease (cycle.ts, underLease): the lease, its deadlines, its commit context. */
export interface LeasedRun {
  started: number;
  lease: Lease;
  context: CommitContext;
  /** When fetching stops: no page or look-up starts after it. */
  budget: Deadline;
  /**
   * A request started before the budget ran out may finish (with its retries) until halfway to the hard
   * deadline; the other half is the commit's.
   */
  fetchBound: Deadline;
  /** When all I/O stops, commits included. */
  hard: Deadline;
}

/** What a run's working state is built from: its dependencies and options, its report, and where it starts. */
export interface PassSetup {
  deps: CycleDependencies;
  options: CycleOptions;
  report: CycleReport;
  /** The checkpoint this run builds (a copy of the stored one), committed at its end. */
  checkpoint: Checkpoint;
  run: Pick<LeasedRun, 'started' | 'context' | 'budget' | 'fetchBound'>;
  /** The index of watched orders as stored (none: the run keeps no index entries it did not read). */
  index?: Map<number, IndexEntry>;
}

/**
 * The state one cycle works on once it holds the lease: the checkpoint being built, the watched set, the
 * report, the fetch budget, and the operations its passes share (fetch, diff, look up, commit).
 */
export class CyclePass {
  readonly deps: CycleDependencies;
  readonly options: CycleOptions;
  readonly report: CycleReport;
  readonly checkpoint: Checkpoint;
  readonly context: CommitContext;
  /** The index of watched orders as stored, kept up to date with this cycle's commits. */
  readonly index: Map<number, IndexEntry>;
  readonly watched: Set<number>;
  /** Every order fetched is checked against the state's organisation before it is diffed. */
  readonly guard: OrganisationGuard;
  /** Its start and deadlines: fetching stops at the budget; the fetch bound cuts the requests in flight. */
  readonly #run: PassSetup['run'];
  readonly #fingerprints = new WeakMap<Order, string | null>();
  /** The stage history as read at the first diff of this run, with what this run's diffs added since. */
  #history: StageHistory | undefined;
  #historyRead: Promise<StageHistory> | undefined;

  constructor(setup: PassSetup) {
    this.deps = setup.deps;
    this.options = setup.options;
    this.report = setup.report;
    this.checkpoint = setup.checkpoint;
    this.context = setup.run.context;
    this.index = setup.index ?? new Map();
    this.#run = setup.run;
    this.watched = new Set(setup.checkpoint.watched);
    this.guard = new OrganisationGuard(setup.deps.organisation?.(), setup.checkpoint);
  }

  fingerprint(order: Order): string | null {
    let fp = this.#fingerprints.get(order);
    if (fp === undefined) {
      fp = orderFingerprint(order, this.options.signals);
      this.#fingerprints.set(order, fp);
    }
    return fp;
  }

  /**
   * Whether diffing this order would find nothing: its index entry has its fingerprint and no time-based
   * signal is due. Its snapshot is then neither read nor written, and it stays watched (only watched
   * snapshots are in the index).
   */
  unchanged(order: Order): boolean {
    return unchangedSince(
      this.index.get(order.id),
      this.fingerprint(order),
      (this.deps.signalNow ?? this.deps.now)(),
    );
  }

  /** The earliest time a time-based signal could fire for this snapshot (on the signals' clock). */
  dueAt(snapshot: Snapshot): number | null {
    if (this.deps.nextSignalAt) return this.deps.nextSignalAt(snapshot);
    return this.options.signals ? nextSignalAt(snapshot, this.options.signals, this.#history) : null;
  }

  /**
   * Reads the stage history once per run, before the first diff (with the production signals on: the
   * forecast and the stage sequence need it). A cycle that diffs nothing never reads it.
   */
  async ready(): Promise<void> {
    if (!this.options.signals || this.#history) return;
    this.#historyRead ??= this.deps.store.readHistory();
    this.#history = await this.#historyRead;
  }

  /** Whether `share` of the fetch budget is spent (1 = all of it). */
  overBudget(share = 1): boolean {
    const { budget, started } = this.#run;
    if (budget.passed()) return true;
    return share < 1 && this.deps.now() >= started + share * (budget.at - started);
  }

  get bounds(): CallBounds {
    return { signal: this.#run.fetchBound.signal, remainingMs: this.#run.fetchBound.remainingMs };
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
        this.guard.own(page.orders);
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
  diffOrders(
    orders: Order[],
    snapshots: Map<number, StoredSnapshot>,
    baseline: boolean,
    indexing: Indexing = 'known',
  ): Batch {
    const batch = emptyBatch();
    const history = this.#history;
    // The baseline learns the history page by page: no forecast is judged on what it has learnt so far.
    // An order's first forecast is then made with the whole history, by the next cycle, and is its first
    // sight (core/signals.ts), so a baseline is followed by no burst of OrderAtRisk.
    const baselineSignals =
      baseline && this.options.signals ? { ...this.options.signals, riskDays: 0 } : null;
    if (orders.length > 0 && this.options.signals && !history)
      throw new Error('the stage history is not read yet: await CyclePass.ready() before diffing');
    for (const order of orders) {
      const previous = snapshots.get(order.id);
      const at = {
        detectedAt: this.detectedAt(),
        now: (this.deps.signalNow ?? this.deps.now)(),
        signals: baselineSignals ?? this.options.signals,
        ...(history ? { history } : {}),
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
      // Every completed stage seen is history (merging drops what it already holds or would not keep).
      if (history) batch.history.push(...history.merge(stageSamples(order, detection.keyed, history)));
      const write = !previous || !sameSnapshot(previous.snapshot, detection.snapshot);
      // The index entry this order should have once the batch is committed (watched snapshots only).
      const fp = this.fingerprint(order);
      const current = this.index.get(order.id);
      const wanted: IndexEntry | null =
        fp !== null && isWatched(detection.snapshot) && (indexing === 'add' || current !== undefined)
          ? {
              fp,
              rev: write ? (previous?.rev ?? 0) + 1 : (previous as StoredSnapshot).rev,
              dueAt: this.dueAt(detection.snapshot),
            }
          : null;
      if (write) {
        batch.writes.push({
          orderId: order.id,
          snapshot: detection.snapshot,
          expectedRev: previous?.rev ?? 0,
          ...(wanted ? { indexed: { fp: wanted.fp, dueAt: wanted.dueAt } } : {}),
        });
      } else if (!sameEntry(current, wanted)) {
        batch.index.push({ orderId: order.id, entry: wanted });
      }
      if (wanted) this.index.set(order.id, wanted);
      else this.index.delete(order.id);
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
    indexing: Indexing = 'known',
  ): Promise<{ batch: Batch; remaining: number[] }> {
    const removals = emptyBatch();
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
      if (result.kind === 'found') found.push(...this.guard.own([result.order]));
      else if (result.kind === 'unreadable') this.noteInvalid([result.error]);
      else {
        const removal = detectRemoval(previous.snapshot, { detectedAt: this.detectedAt() });
        removals.events.push(...removal.events);
        removals.writes.push({ orderId: id, snapshot: removal.snapshot, expectedRev: previous.rev });
        this.index.delete(id);
        this.watched.delete(id);
        this.report.removed++;
      }
    }
    if (found.length > 0) await this.ready();
    return {
      batch: mergeBatches(removals, this.diffOrders(found, snapshots, false, indexing)),
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
