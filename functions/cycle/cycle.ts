import type { SignalSettings } from '../core/signals.js';
import type { Snapshot } from '../core/snapshot.js';
import { Deadline } from '../shared/timing.js';
import type { CommitContext, CycleStep } from './commit.js';
import { recoverJournal } from './commit.js';
import { incrementalPass } from './incremental.js';
import { CyclePass, emptyBatch } from './pass.js';
import type { Checkpoint, EventSink, Lease, LeaseClaim, Logger, OrderSource, StateStore } from './ports.js';
import { DeadlineExceededError } from './ports.js';
import { sweepPass } from './sweep.js';

export interface CycleOptions {
  /** Identifies this runner in the lease (request id, host:pid). */
  owner: string;
  /** This runner's host and process, so that a rerun on the same host can take over from a dead one. */
  host?: string;
  pid?: number;
  /** How long the lease holds; beyond the hard deadline, so that a live cycle never loses it. */
  leaseTtlMs: number;
  /** Time after which the cycle stops fetching and commits what it has; the next cycle resumes. */
  budgetMs: number;
  /** Time after which no I/O goes on at all (commits included); defaults to budget + 60 s. */
  deadlineMs?: number;
  /** Period of the full reconciliation sweep; 0 turns it off. */
  sweepIntervalMs: number;
  /** Emit OrderCreated for every existing order on the first run instead of a silent baseline. */
  emitBaseline: boolean;
  /** Production signals' settings (docs/contract.md 1b); without them no signal is evaluated. */
  signals?: SignalSettings;
  /** Largest journal part in bytes of JSON (default JOURNAL_PART_BYTES); lowered by tests and the soak. */
  journalPartBytes?: number;
}

export interface CycleDependencies {
  source: OrderSource;
  store: StateStore;
  sink: EventSink;
  now: () => number;
  /**
   * The time production signals are judged at (due soon, overdue, stalled); defaults to `now`. The demo
   * simulator's calendar runs faster than the wall clock, while leases and deadlines keep real time.
   */
  signalNow?: () => number;
  logger: Logger;
  /** Whether the lease's holder is a process of this host that no longer runs (its lease is taken over). */
  isAbandoned?: (holder: Lease) => boolean;
  step?: (step: CycleStep) => Promise<void> | void;
  /**
   * The earliest time (epoch ms) at which a time-based signal could fire for an order with this snapshot,
   * or null: kept in the index, so that the order is diffed (its snapshot read) once that time has come.
   * Defaults to none (no time-based signal).
   */
  nextSignalAt?: (snapshot: Snapshot) => number | null;
}

export interface CycleReport {
  /** `deadline`: the hard deadline cut a commit short; its journal is finished by the next cycle. */
  outcome: 'completed' | 'lease-held' | 'budget-exhausted' | 'deadline';
  generation: number | null;
  /** With `lease-held`: who holds it and until when. */
  holder: Lease | null;
  /** The dead runner whose lease this cycle took over. */
  tookOverFrom: Lease | null;
  baseline: boolean;
  sweep: 'none' | 'partial' | 'complete';
  ordersScanned: number;
  /** Fetched orders the index showed unchanged: neither read nor diffed. */
  unchanged: number;
  snapshotsWritten: number;
  events: number;
  eventsByType: Record<string, number>;
  republished: number;
  setAside: number;
  malformed: number;
  oversized: number;
  lookups: number;
  removed: number;
  durationMs: number;
}

/** Time the commits of a cycle may take after fetching stops, when no hard deadline is given. */
export const DEFAULT_COMMIT_RESERVE_MS = 60_000;

export const emptyCheckpoint = (): Checkpoint => ({
  v: 1,
  baselineAt: null,
  highestId: 0,
  watched: [],
  lastSweepAt: null,
  sweep: null,
});

export const emptyReport = (): CycleReport => ({
  outcome: 'completed',
  generation: null,
  holder: null,
  tookOverFrom: null,
  baseline: false,
  sweep: 'none',
  ordersScanned: 0,
  unchanged: 0,
  snapshotsWritten: 0,
  events: 0,
  eventsByType: {},
  republished: 0,
  setAside: 0,
  malformed: 0,
  oversized: 0,
  lookups: 0,
  removed: 0,
  durationMs: 0,
});

export const isAbort = (error: unknown): boolean =>
  error instanceof DeadlineExceededError ||
  (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'));

/** Takes the lease, or takes it over from a dead process of this host. */
export const takeLease = async (deps: CycleDependencies, claim: LeaseClaim, report: CycleReport) => {
  const outcome = await deps.store.acquireLease(claim);
  if (outcome.kind === 'acquired' || !deps.isAbandoned?.(outcome.holder)) return outcome;
  deps.logger.warn('taking over the lease of a runner of this host that no longer runs', {
    holder: outcome.holder.owner,
    generation: outcome.holder.generation,
  });
  const taken = await deps.store.takeOverLease(claim, outcome.holder);
  if (taken.kind === 'acquired') report.tookOverFrom = outcome.holder;
  return taken;
};

/** What a run holds once it has the lease: the lease, its deadlines and the commit context. */
export interface LeasedRun {
  started: number;
  lease: Lease;
  context: CommitContext;
  /** When fetching stops. */
  budget: Deadline;
  /** A request started before the budget ran out may finish (with its retries) until halfway to the hard
   * deadline; the other half is the commit's. */
  fetchBound: Deadline;
  /** When all I/O stops, commits included. */
  hard: Deadline;
}

/**
 * The frame every run under the lease shares (the scheduled cycle and the targeted check): takes the
 * lease (or takes it over from a dead local process; a held lease ends the run as `lease-held`), sets the
 * deadlines and the commit context, runs `work`, and always disposes the timers and releases the lease.
 */
export const underLease = async <R extends CycleReport>(
  deps: CycleDependencies,
  options: CycleOptions,
  report: R,
  work: (run: LeasedRun) => Promise<R>,
): Promise<R> => {
  const started = deps.now();
  const claim: LeaseClaim = {
    owner: options.owner,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.pid === undefined ? {} : { pid: options.pid }),
    nowMs: started,
    ttlMs: options.leaseTtlMs,
  };
  const outcome = await takeLease(deps, claim, report);
  if (outcome.kind === 'held') {
    report.outcome = 'lease-held';
    report.holder = outcome.holder;
    return report;
  }
  const lease = outcome.lease;
  report.generation = lease.generation;
  const deadlineMs = Math.max(
    options.budgetMs,
    options.deadlineMs ?? options.budgetMs + DEFAULT_COMMIT_RESERVE_MS,
  );
  const budget = new Deadline(started + options.budgetMs, deps.now);
  const fetchBound = new Deadline(started + (options.budgetMs + deadlineMs) / 2, deps.now);
  const hard = new Deadline(started + deadlineMs, deps.now);
  const context: CommitContext = {
    store: deps.store,
    sink: deps.sink,
    lease,
    now: deps.now,
    logger: deps.logger,
    signal: hard.signal,
    remainingMs: hard.remainingMs,
    step: deps.step ?? (() => {}),
    commits: 0,
    setAside: 0,
    ...(options.journalPartBytes === undefined ? {} : { partBytes: options.journalPartBytes }),
  };
  try {
    return await work({ started, lease, context, budget, fetchBound, hard });
  } finally {
    report.setAside = context.setAside;
    report.durationMs = deps.now() - started;
    budget.dispose();
    fetchBound.dispose();
    hard.dispose();
    try {
      await deps.store.releaseLease(lease);
    } catch (error) {
      deps.logger.warn('could not release the lease; it will expire', { error: (error as Error).message });
    }
  }
};

/**
 * One poll cycle, the same for the Lambda and the command line:
 * lease → finish any journaled commit → baseline, or (incremental pass → reconciliation sweep when due)
 * → checkpoint → release. Fetching stops at the budget; every wait and call stops at the hard deadline.
 */
export const runCycle = async (deps: CycleDependencies, options: CycleOptions): Promise<CycleReport> => {
  const report = emptyReport();
  await underLease(deps, options, report, (run) => cycleUnderLease(deps, options, report, run));
  if (report.outcome === 'lease-held' && report.holder) {
    deps.logger.info('another runner holds the lease; skipping this cycle', {
      holder: report.holder.owner,
      until: new Date(report.holder.expiresAt).toISOString(),
    });
  }
  return report;
};

const cycleUnderLease = async (
  deps: CycleDependencies,
  options: CycleOptions,
  report: CycleReport,
  { started, context, budget, fetchBound, hard }: LeasedRun,
): Promise<CycleReport> => {
  try {
    await context.step('lease-acquired');
    // The reads at once: the journal is almost always empty.
    const [journal, checkpointRead, indexRead] = await Promise.all([
      deps.store.readJournal(),
      deps.store.getCheckpoint(),
      deps.store.readIndex(),
    ]);
    report.republished = await recoverJournal(context, journal);
    if (report.republished > 0) {
      deps.logger.info('re-published the events of an unfinished commit', { events: report.republished });
    }
    await context.step('recovered');
    const recovered = journal.seals.length > 0 || journal.parts.length > 0;
    const [stored, index] = recovered
      ? await Promise.all([deps.store.getCheckpoint(), deps.store.readIndex()])
      : [checkpointRead, indexRead];
    const checkpoint: Checkpoint = stored ? structuredClone(stored) : emptyCheckpoint();
    const pass = new CyclePass(
      deps,
      options,
      report,
      checkpoint,
      context,
      budget,
      fetchBound,
      started,
      index,
    );

    if (!checkpoint.baselineAt) {
      // The first sight of the account: every order recorded, silently unless asked to emit.
      report.baseline = true;
      const done = await sweepPass(pass, true);
      if (done) checkpoint.baselineAt = pass.detectedAt();
      report.sweep = done ? 'complete' : 'partial';
      if (!done) report.outcome = 'budget-exhausted';
    } else {
      // A sweep that is due or under way keeps a quarter of the budget, so that it starts and concludes
      // even while the watched round takes every cycle's budget on a large account.
      const sweepDue =
        options.sweepIntervalMs > 0 &&
        (checkpoint.sweep !== null ||
          checkpoint.lastSweepAt === null ||
          Date.parse(checkpoint.lastSweepAt) + options.sweepIntervalMs <= deps.now());
      const complete = await incrementalPass(pass, { share: sweepDue ? 0.75 : 1 });
      if (!complete) report.outcome = 'budget-exhausted';
      if (sweepDue && !pass.overBudget()) {
        const done = await sweepPass(pass, false);
        report.sweep = done ? 'complete' : 'partial';
        if (!done) report.outcome = 'budget-exhausted';
      }
    }

    // The checkpoint is written only when it changed: a quiet cycle writes nothing but its lease.
    checkpoint.watched = [...pass.watched].sort((a, b) => a - b);
    if (!stored || JSON.stringify(stored) !== JSON.stringify(checkpoint)) {
      await pass.commit(emptyBatch(), checkpoint);
    }
    return report;
  } catch (error) {
    // The deadline cut a commit (or a wait would have outlasted it): what is sealed is finished by the
    // next cycle, nothing is lost.
    if (error instanceof DeadlineExceededError || (isAbort(error) && hard.passed())) {
      report.outcome = 'deadline';
      deps.logger.warn('the cycle reached its deadline during a commit; the next cycle finishes it', {
        error: (error as Error).message,
      });
      return report;
    }
    // What this cycle did before failing (events set aside, for instance) is still worth counting.
    if (error instanceof Error) Object.assign(error, { cycleReport: report });
    throw error;
  }
};
