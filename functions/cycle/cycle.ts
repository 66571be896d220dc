import type { SignalSettings } from '../core/signals.js';
import type { CommitContext, CycleStep } from './commit.js';
import { replayJournal } from './commit.js';
import { incrementalPass } from './incremental.js';
import { CyclePass } from './pass.js';
import type { Checkpoint, EventSink, Logger, OrderSource, StateStore } from './ports.js';
import { sweepPass } from './sweep.js';

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
  /** Production signals' settings (CONTRACT 1b); without them no signal is evaluated. */
  signals?: SignalSettings;
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

const emptyReport = (): CycleReport => ({
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
});

/**
 * One poll cycle, the same for the Lambda and the command line:
 * lease → finish any journaled commit → baseline, or (incremental pass → reconciliation sweep when due)
 * → checkpoint → release.
 */
export const runCycle = async (deps: CycleDependencies, options: CycleOptions): Promise<CycleReport> => {
  const started = deps.now();
  const report = emptyReport();
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
  try {
    await context.step('lease-acquired');
    // Both reads at once: the journal is almost always empty.
    const [journal, checkpointRead] = await Promise.all([
      deps.store.readJournal(),
      deps.store.getCheckpoint(),
    ]);
    report.republished = await replayJournal(context, journal);
    if (report.republished > 0) {
      deps.logger.info('re-published events of an unfinished cycle', { events: report.republished });
    }
    await context.step('recovered');
    const stored = journal.length > 0 ? await deps.store.getCheckpoint() : checkpointRead;
    const checkpoint: Checkpoint = stored ? structuredClone(stored) : emptyCheckpoint();
    const pass = new CyclePass(deps, options, report, checkpoint, context, started + options.budgetMs);

    if (!checkpoint.baselineAt) {
      // The first sight of the account: every order recorded, silently unless asked to emit.
      report.baseline = true;
      const done = await sweepPass(pass, true);
      if (done) checkpoint.baselineAt = pass.detectedAt();
      report.sweep = done ? 'complete' : 'partial';
      if (!done) report.outcome = 'budget-exhausted';
    } else {
      const complete = await incrementalPass(pass);
      if (!complete) report.outcome = 'budget-exhausted';
      const sweepDue =
        options.sweepIntervalMs > 0 &&
        (checkpoint.sweep !== null ||
          checkpoint.lastSweepAt === null ||
          Date.parse(checkpoint.lastSweepAt) + options.sweepIntervalMs <= deps.now());
      if (complete && sweepDue && !pass.overBudget()) {
        const done = await sweepPass(pass, false);
        report.sweep = done ? 'complete' : 'partial';
        if (!done) report.outcome = 'budget-exhausted';
      }
    }

    // The checkpoint is written only when it changed: a quiet cycle writes nothing but its lease.
    checkpoint.watched = [...pass.watched].sort((a, b) => a - b);
    if (!stored || JSON.stringify(stored) !== JSON.stringify(checkpoint)) {
      await pass.commit({ events: [], writes: [] }, checkpoint);
    }
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
