import type { InvalidRecord } from '../core/api-schema.js';
import type { Detection } from '../core/diff.js';
import { detectChanges, detectRemoval, firstSight } from '../core/diff.js';
import type { NotifierEvent } from '../core/events/catalogue.js';
import type { Order } from '../core/order.js';
import { isWatched, sameSnapshot } from '../core/snapshot.js';
import type { CommitContext, CycleStep } from './commit.js';
import { commit, replayJournal } from './commit.js';
import type {
  Checkpoint,
  EventSink,
  Logger,
  OrderSource,
  ScanQuery,
  SnapshotWrite,
  StateStore,
  StoredSnapshot,
} from './ports.js';

export interface CycleOptions {
  /** Identifies this runner in the lease (request id, host:pid). */
  owner: string;
  /** How long the lease holds; longer than the budget so that a live cycle never loses it. */
  leaseTtlMs: number;
  /** Time after which the cycle stops fetching and commits what it has; the next cycle resumes. */
  budgetMs: number;
  /** Period of the full reconciliation sweep; 0 turns it off. */
  sweepIntervalMs: number;
  /** Emit OrderCreated for every existing order on the first run instead of a silent baseline. */
  emitBaseline: boolean;
}

export interface CycleDependencies {
  source: OrderSource;
  store: StateStore;
  sink: EventSink;
  now: () => number;
  logger: Logger;
  step?: (step: CycleStep) => Promise<void> | void;
}

export interface CycleReport {
  outcome: 'completed' | 'lease-held' | 'budget-exhausted';
  generation: number | null;
  baseline: boolean;
  sweep: 'none' | 'partial' | 'complete';
  ordersScanned: number;
  snapshotsWritten: number;
  events: number;
  eventsByType: Record<string, number>;
  republished: number;
  malformed: number;
  lookups: number;
  removed: number;
  durationMs: number;
}

const emptyCheckpoint = (): Checkpoint => ({
  v: 1,
  baselineAt: null,
  highestId: 0,
  watched: [],
  lastSweepAt: null,
  sweep: null,
});

/** What one pass over fetched orders produced, ready to commit. */
interface Batch {
  events: NotifierEvent[];
  writes: SnapshotWrite[];
}

/**
 * One poll cycle, the same for the Lambda and the command line:
 * lease → replay any unfinished commit → (baseline | incremental scan of the watched set, look-ups of
 * orders that left it, then the reconciliation sweep when due) → commit → release.
 */
export const runCycle = async (deps: CycleDependencies, options: CycleOptions): Promise<CycleReport> => {
  const started = deps.now();
  const deadline = started + options.budgetMs;
  const report: CycleReport = {
    outcome: 'completed',
    generation: null,
    baseline: false,
    sweep: 'none',
    ordersScanned: 0,
    snapshotsWritten: 0,
    events: 0,
    eventsByType: {},
    republished: 0,
    malformed: 0,
    lookups: 0,
    removed: 0,
    durationMs: 0,
  };
  const lease = await deps.store.acquireLease(options.owner, started, options.leaseTtlMs);
  if (!lease) {
    report.outcome = 'lease-held';
    deps.logger.info('another cycle holds the lease; skipping this one');
    return report;
  }
  report.generation = lease.generation;
  const context: CommitContext = {
    store: deps.store,
    sink: deps.sink,
    lease,
    now: deps.now,
    step: deps.step ?? (() => {}),
  };
  let part = 0;
  const commitBatch = async (batch: Batch, checkpoint: Checkpoint | null) => {
    part = await commit(context, { ...batch, checkpoint }, part);
    report.snapshotsWritten += batch.writes.length;
    report.events += batch.events.length;
    for (const event of batch.events) {
      report.eventsByType[event.detailType] = (report.eventsByType[event.detailType] ?? 0) + 1;
    }
  };
  const overBudget = () => deps.now() >= deadline;
  const detectedAt = () => new Date(deps.now()).toISOString();
  const noteInvalid = (invalid: InvalidRecord[]) => {
    for (const record of invalid) {
      report.malformed++;
      deps.logger.warn('skipping a malformed production order', {
        orderId: record.id,
        path: record.path,
        problem: record.message,
      });
    }
  };

  try {
    await context.step('lease-acquired');
    // Both reads at once: the journal is almost always empty.
    const [journal, checkpointRead] = await Promise.all([
      deps.store.readJournal(),
      deps.store.getCheckpoint(),
    ]);
    report.republished = await replayJournal(context, journal);
    if (report.republished > 0)
      deps.logger.info('re-published events of an unfinished cycle', { events: report.republished });
    await context.step('recovered');

    const stored = journal.length > 0 ? await deps.store.getCheckpoint() : checkpointRead;
    const checkpoint: Checkpoint = stored ? structuredClone(stored) : emptyCheckpoint();
    const watched = new Set(checkpoint.watched);

    /** Diffs fetched orders against their snapshots; tracks the watched set and the highest id. */
    const diffOrders = (
      orders: Order[],
      snapshots: Map<number, StoredSnapshot>,
      baseline: boolean,
    ): Batch => {
      const batch: Batch = { events: [], writes: [] };
      for (const order of orders) {
        const previous = snapshots.get(order.id);
        let detection: Detection;
        if (!previous) {
          detection = firstSight(order, {
            detectedAt: detectedAt(),
            emit: !baseline || options.emitBaseline,
          });
        } else {
          detection = detectChanges(previous.snapshot, order, { detectedAt: detectedAt() });
        }
        if (!previous || !sameSnapshot(previous.snapshot, detection.snapshot)) {
          batch.writes.push({
            orderId: order.id,
            snapshot: detection.snapshot,
            expectedRev: previous?.rev ?? 0,
          });
        }
        batch.events.push(...detection.events);
        if (isWatched(detection.snapshot)) watched.add(order.id);
        else watched.delete(order.id);
        if (order.id > checkpoint.highestId && !baseline) checkpoint.highestId = order.id;
      }
      return batch;
    };

    const fetchAll = async function* (query: ScanQuery) {
      for await (const page of deps.source.scan(query)) {
        report.ordersScanned += page.orders.length;
        noteInvalid(page.invalid);
        yield page;
      }
    };

    // Baseline and sweep: every order, page by page, each page committed on its own so that memory stays
    // flat and progress survives the budget running out.
    const sweepAll = async (baseline: boolean): Promise<boolean> => {
      const progress = checkpoint.sweep ?? { page: 1, startedAt: detectedAt(), unbroken: true };
      checkpoint.sweep = progress;
      const seen = new Set<number>();
      let finished = false;
      let highest = checkpoint.highestId;
      // Each page's commit runs while the next page is fetched (at most one in flight).
      let inflight: Promise<void> | undefined;
      const settle = async () => {
        const pending = inflight;
        inflight = undefined;
        await pending;
      };
      try {
        for await (const page of fetchAll({ kind: 'all', page: progress.page })) {
          // A page shift can show an order twice in one sweep: the first sight is the one diffed.
          const fresh = page.orders.filter((o) => !seen.has(o.id));
          const snapshots = await deps.store.getSnapshots(fresh.map((o) => o.id));
          for (const order of fresh) {
            seen.add(order.id);
            if (order.id > highest) highest = order.id;
          }
          for (const record of page.invalid) if (typeof record.id === 'number') seen.add(record.id);
          const batch = diffOrders(fresh, snapshots, baseline);
          await settle();
          inflight = commitBatch(batch, null);
          inflight.catch(() => {}); // observed by settle()
          if (page.nextPage === null) {
            finished = true;
            break;
          }
          progress.page = page.nextPage;
          if (overBudget()) break;
        }
      } finally {
        // Never leave a commit running behind an error (the lease is released after this returns).
        await inflight?.catch(() => {});
      }
      await settle();
      if (baseline) checkpoint.highestId = Math.max(checkpoint.highestId, highest);
      if (!finished) {
        progress.unbroken = false;
        return false;
      }
      if (!baseline && progress.unbroken) await concludeRemovals(seen);
      checkpoint.sweep = null;
      checkpoint.lastSweepAt = progress.startedAt;
      return true;
    };

    /** After an unbroken sweep: snapshots that no page showed are looked up; confirmed absences removed. */
    const concludeRemovals = async (seen: Set<number>) => {
      const missing: number[] = [];
      for await (const ids of deps.store.listSnapshotIds())
        for (const id of ids) if (!seen.has(id)) missing.push(id);
      for (let i = 0; i < missing.length && !overBudget(); i += 100) {
        const chunk = missing.slice(i, i + 100);
        await commitBatch(await lookUpMissing(chunk, await deps.store.getSnapshots(chunk)), null);
      }
    };

    /**
     * Orders that were watched but did not show up: each is looked up by number. Found: diffed like any
     * other. Confirmed absent: OrderRemoved. Unreadable, or no time left: nothing is concluded.
     */
    const lookUpMissing = async (ids: number[], snapshots: Map<number, StoredSnapshot>): Promise<Batch> => {
      const batch: Batch = { events: [], writes: [] };
      const found: Order[] = [];
      for (const id of ids) {
        const previous = snapshots.get(id);
        if (!previous || previous.snapshot.removed) {
          watched.delete(id);
          continue;
        }
        if (overBudget()) break;
        report.lookups++;
        const result = await deps.source.lookup({ id, number: previous.snapshot.order.number });
        if (result.kind === 'found') found.push(result.order);
        else if (result.kind === 'unreadable') noteInvalid([result.error]);
        else {
          const removal = detectRemoval(previous.snapshot, { detectedAt: detectedAt() });
          batch.events.push(...removal.events);
          batch.writes.push({ orderId: id, snapshot: removal.snapshot, expectedRev: previous.rev });
          watched.delete(id);
          report.removed++;
        }
      }
      const diffed = diffOrders(found, snapshots, false);
      return { events: [...batch.events, ...diffed.events], writes: [...batch.writes, ...diffed.writes] };
    };

    const finish = async () => {
      checkpoint.watched = [...watched].sort((a, b) => a - b);
      const changed = !stored || JSON.stringify(stored) !== JSON.stringify(checkpoint);
      if (changed) await commitBatch({ events: [], writes: [] }, checkpoint);
    };

    if (!checkpoint.baselineAt) {
      // First sight of the account: record every order silently (unless asked to emit).
      report.baseline = true;
      const done = await sweepAll(true);
      if (done) {
        checkpoint.baselineAt = detectedAt();
        report.sweep = 'complete';
      } else {
        report.outcome = 'budget-exhausted';
        report.sweep = 'partial';
      }
      await finish();
      return report;
    }

    // Incremental: the watched set (open orders; closed orders with stages pending) and new orders.
    const fetched = new Map<number, Order>();
    const unreadable = new Set<number>();
    let complete = true;
    let newComplete = false;
    const queries: ScanQuery[] = [
      { kind: 'open' },
      { kind: 'pending-closed' },
      { kind: 'new', sinceId: checkpoint.highestId },
    ];
    // Snapshots are read in batches of 100 while the scan goes on, hiding DynamoDB behind Uphance.
    const snapshots = new Map<number, StoredSnapshot>();
    const reads: Array<Promise<void>> = [];
    const requested = new Set<number>();
    let queued: number[] = [];
    const readQueued = (all: boolean) => {
      while (queued.length >= 100 || (all && queued.length > 0)) {
        const chunk = queued.slice(0, 100);
        queued = queued.slice(100);
        const read = deps.store.getSnapshots(chunk).then((found) => {
          for (const [id, snap] of found) snapshots.set(id, snap);
        });
        read.catch(() => {}); // awaited below
        reads.push(read);
      }
    };
    const want = (id: number) => {
      if (requested.has(id)) return;
      requested.add(id);
      queued.push(id);
    };
    scan: for (const query of queries) {
      for await (const page of fetchAll(query)) {
        for (const order of page.orders) {
          fetched.set(order.id, order);
          want(order.id);
        }
        readQueued(false);
        for (const record of page.invalid) if (typeof record.id === 'number') unreadable.add(record.id);
        if (page.nextPage !== null && overBudget()) {
          complete = false;
          break scan;
        }
      }
      if (query.kind === 'new') newComplete = true;
    }
    await context.step('scanned');
    // Watched orders absent from the scan: page shifts can hide an order, so each is looked up before
    // concluding that it completed, was cancelled or is gone. Not after a partial scan: nothing is known.
    const missing = complete
      ? checkpoint.watched.filter((id) => !fetched.has(id) && !unreadable.has(id))
      : [];
    const orders = [...fetched.values()];
    for (const id of missing) want(id);
    readQueued(true);
    await Promise.all(reads);
    const highestBefore = checkpoint.highestId;
    const scanned = diffOrders(orders, snapshots, false);
    // Pages that were not all fetched leave new orders unseen: keep since_id where it was.
    if (!newComplete) checkpoint.highestId = highestBefore;
    const looked = await lookUpMissing(missing, snapshots);
    // One commit for the whole incremental pass: one journal record, events in full PutEvents calls.
    await commitBatch(
      { events: [...scanned.events, ...looked.events], writes: [...scanned.writes, ...looked.writes] },
      null,
    );
    if (!complete) report.outcome = 'budget-exhausted';

    const sweepDue =
      options.sweepIntervalMs > 0 &&
      (checkpoint.sweep !== null ||
        checkpoint.lastSweepAt === null ||
        Date.parse(checkpoint.lastSweepAt) + options.sweepIntervalMs <= deps.now());
    if (complete && sweepDue && !overBudget()) {
      const done = await sweepAll(false);
      report.sweep = done ? 'complete' : 'partial';
      if (!done) report.outcome = 'budget-exhausted';
    }
    await finish();
    return report;
  } finally {
    report.durationMs = deps.now() - started;
    try {
      await deps.store.releaseLease(lease);
    } catch (error) {
      deps.logger.warn('could not release the lease; it will expire', { error: (error as Error).message });
    }
  }
};
