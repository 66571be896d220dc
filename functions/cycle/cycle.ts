import { Deadline, sleep } from '../shared/timing.js';
import type { CommitContext } from './commit.js';
import { recoverJournal } from './commit.js';
import type { CycleDependencies, CycleOptions, CycleReport } from './cycle-types.js';
import { DeadlineExceededError } from './errors.js';
import { incrementalPass } from './incremental.js';
import type { LeasedRun } from './pass.js';
import { CyclePass, emptyBatch } from './pass.js';
import type { LeaseStore, Logger, StateStore } from './ports.js';
import type { Checkpoint, IndexEntry } from './records.js';
import { sweepPass } from './sweep.js';
import type { Turn } from './turns.js';
import { endTurn, takeTurn } from './turns.js';

export type { CycleDependencies, CycleOptions, CycleReport } from './cycle-types.js';

/** Time the commits of a cycle may take after fetching stops, when no hard deadline is given. */
const DEFAULT_COMMIT_RESERVE_MS = 60_000;

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
  heldBy: null,
  waitedMs: 0,
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

const isAbort = (error: unknown): boolean =>
  error instanceof DeadlineExceededError ||
  (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'));

/** The state store's lease as a lease port. */
const stateLease = (store: StateStore): LeaseStore => ({
  acquire: (claim) => store.acquireLease(claim),
  takeOver: (claim, holder) => store.takeOverLease(claim, holder),
  release: (lease) => store.releaseLease(lease),
});

/**
 * Takes the run's leases (the credentials', then the state's), waiting for them within the options'
 * limits, and taking over those of a dead process of this host.
 */
const takeLeases = async (
  deps: CycleDependencies,
  options: CycleOptions,
  started: number,
  report: CycleReport,
): Promise<Turn> => {
  const turn = await takeTurn(
    {
      state: stateLease(deps.store),
      credentials: deps.credentials ?? [],
      now: deps.now,
      sleep: deps.sleep ?? sleep,
      ...(deps.isAbandoned ? { isAbandoned: deps.isAbandoned } : {}),
      logger: deps.logger,
    },
    (nowMs) => ({
      owner: options.owner,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.pid === undefined ? {} : { pid: options.pid }),
      ...(options.start === undefined ? {} : { start: options.start }),
      ...(deps.scope === undefined ? {} : { scope: deps.scope }),
      nowMs,
      ttlMs: options.leaseTtlMs,
    }),
    {
      stateUntil: started + (options.leaseWaitMs ?? 0),
      credentialsUntil: started + (options.credentialsWaitMs ?? options.budgetMs),
    },
  );
  report.waitedMs = deps.now() - started;
  if (turn.kind === 'acquired') report.tookOverFrom = turn.tookOverFrom;
  return turn;
};

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
  const turn = await takeLeases(deps, options, started, report);
  if (turn.kind === 'held') {
    report.outcome = 'lease-held';
    report.holder = turn.holder;
    report.heldBy = turn.heldBy;
    return report;
  }
  const lease = turn.state;
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
    await endTurn(
      { state: stateLease(deps.store), credentials: deps.credentials ?? [], logger: deps.logger },
      turn,
    );
  }
};

/** Where a run under the lease starts from, once any unfinished commit is finished. */
interface PreparedRun {
  /** The checkpoint as stored (undefined: a new state). */
  stored: Checkpoint | undefined;
  /** The run's working state, on a copy of that checkpoint (or on an empty one). */
  pass: CyclePass;
}

interface RunReads {
  /** Whether the run reads the index of watched orders (the scheduled cycle; a check diffs without it). */
  index: boolean;
  /** A run that only follows a baseline (the check) stops before its working state when there is none. */
  requireBaseline?: boolean;
}

/**
 * The steps every run under the lease takes first, the scheduled cycle's and the targeted check's, in
 * this order: step `lease-acquired`; the journal read, the checkpoint (and the index) at once, since the
 * journal is almost always empty; any unfinished commit finished (its events published again, same
 * eventIds); step `recovered`; the checkpoint (and the index) read again when a commit was finished; the
 * working state, with the guard between organisations, on a copy of the checkpoint. With
 * `requireBaseline`, null when the state has no baseline yet.
 */
export async function prepareRun(
  deps: CycleDependencies,
  options: CycleOptions,
  report: CycleReport,
  run: LeasedRun,
  reads: RunReads & { requireBaseline?: false },
): Promise<PreparedRun>;
export async function prepareRun(
  deps: CycleDependencies,
  options: CycleOptions,
  report: CycleReport,
  run: LeasedRun,
  reads: RunReads & { requireBaseline: true },
): Promise<(PreparedRun & { stored: Checkpoint }) | null>;
export async function prepareRun(
  deps: CycleDependencies,
  options: CycleOptions,
  report: CycleReport,
  run: LeasedRun,
  reads: RunReads,
): Promise<PreparedRun | null> {
  await run.context.step('lease-acquired');
  const readIndex = async (): Promise<Map<number, IndexEntry> | undefined> =>
    reads.index ? deps.store.readIndex() : undefined;
  const [journal, checkpointRead, indexRead] = await Promise.all([
    deps.store.readJournal(),
    deps.store.getCheckpoint(),
    readIndex(),
  ]);
  report.republished = await recoverJournal(run.context, journal);
  if (report.republished > 0) {
    deps.logger.info('re-published the events of an unfinished commit', { events: report.republished });
  }
  await run.context.step('recovered');
  const recovered = journal.seals.length > 0 || journal.parts.length > 0;
  const [stored, index] = recovered
    ? await Promise.all([deps.store.getCheckpoint(), readIndex()])
    : [checkpointRead, indexRead];
  if (reads.requireBaseline && !stored?.baselineAt) return null;
  const checkpoint: Checkpoint = stored ? structuredClone(stored) : emptyCheckpoint();
  return {
    stored,
    pass: new CyclePass({ deps, options, report, checkpoint, run, ...(index ? { index } : {}) }),
  };
}

/**
 * One poll cycle, the same for the Lambda and the command line:
 * lease → finish any journaled commit → baseline, or (incremental pass → reconciliation sweep when due)
 * → checkpoint → release. Fetching stops at the budget; every wait and call stops at the hard deadline.
 */
export const runCycle = async (deps: CycleDependencies, options: CycleOptions): Promise<CycleReport> => {
  const report = emptyReport();
  await underLease(deps, options, report, (run) => cycleUnderLease(deps, options, report, run));
  if (report.outcome === 'lease-held' && report.holder) {
    deps.logger.info(
      report.heldBy === 'credentials'
        ? 'a run for another organisation holds the credentials; skipping this cycle'
        : 'another runner holds the lease; skipping this cycle',
      { holder: report.holder.owner, until: new Date(report.holder.expiresAt).toISOString() },
    );
  }
  return report;
};

const cycleUnderLease = async (
  deps: CycleDependencies,
  options: CycleOptions,
  report: CycleReport,
  run: LeasedRun,
): Promise<CycleReport> => {
  try {
    const { stored, pass } = await prepareRun(deps, options, report, run, { index: true });
    const { checkpoint } = pass;
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
    return endedByError(error, run, report, deps.logger, 'cycle');
  }
};

/**
 * How a run under the lease (the scheduled cycle, the targeted check) ends on an error: the deadline cut a
 * commit (or a wait would have outlasted it) — what is sealed is finished by the next cycle, nothing is
 * lost — or it failed, carrying what it did before (events set aside, for instance: still worth counting).
 */
export const endedByError = <R extends CycleReport>(
  error: unknown,
  run: Pick<LeasedRun, 'hard'>,
  report: R,
  logger: Logger,
  what: 'cycle' | 'check',
): R => {
  if (error instanceof DeadlineExceededError || (isAbort(error) && run.hard.passed())) {
    report.outcome = 'deadline';
    logger.warn(`the ${what} reached its deadline during a commit; the next cycle finishes it`, {
      error: (error as Error).message,
    });
    return report;
  }
  if (error instanceof Error) Object.assign(error, { cycleReport: report });
  throw error;
};
