import type { Order } from '../core/order.js';
import { Deadline } from '../shared/timing.js';
import type { CommitContext } from './commit.js';
import { recoverJournal } from './commit.js';
import type { CycleDependencies, CycleOptions, CycleReport } from './cycle.js';
import { DEFAULT_COMMIT_RESERVE_MS, emptyCheckpoint, emptyReport, isAbort, takeLease } from './cycle.js';
import { CyclePass } from './pass.js';
import type { Checkpoint, LeaseClaim } from './ports.js';
import { DeadlineExceededError } from './ports.js';
import { SnapshotReader } from './snapshot-reader.js';

export interface CheckReport extends CycleReport {
  /** Numbers looked up (each one request or a few: by_q pages). */
  checked: string[];
  /** Numbers the budget or the deadline left unchecked: check them again (or let the schedule see them). */
  unchecked: string[];
  /** Numbers no order of this organisation carries. */
  notFound: string[];
  /** No baseline yet: nothing was checked (the scheduled cycle records the baseline first). */
  noBaseline: boolean;
}

/** Largest number of order numbers one check takes; more wait for the next check. */
export const MAX_CHECK_NUMBERS = 100;

/**
 * "Check these order numbers now" (a webhook named them), through the scheduled cycle's own path: the
 * lease (so a check and a cycle never overlap), the journal replay, the same diff against the snapshots and
 * the same journaled, fenced commit. Its events are exactly those a scheduled cycle would have given (same
 * sequences, same eventIds), and the next cycle, diffing against the snapshots this commit wrote, emits
 * nothing more for them. An order without a snapshot is a first sight (OrderCreated, after the baseline).
 * Before the baseline nothing is checked. Numbers are compared exactly with production_order_number.
 */
export const runCheck = async (
  deps: CycleDependencies,
  options: CycleOptions,
  numbers: string[],
): Promise<CheckReport> => {
  const started = deps.now();
  const report: CheckReport = {
    ...emptyReport(),
    checked: [],
    unchecked: [],
    notFound: [],
    noBaseline: false,
  };
  const wanted = [...new Set(numbers.map((n) => n.trim()).filter(Boolean))];
  report.unchecked = wanted.slice(MAX_CHECK_NUMBERS);
  const todo = wanted.slice(0, MAX_CHECK_NUMBERS);
  const findByNumber = deps.source.findByNumber?.bind(deps.source);
  if (!findByNumber) throw new Error('this order source cannot look orders up by number');
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
    report.unchecked = wanted;
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
    await context.step('lease-acquired');
    const journal = await deps.store.readJournal();
    report.republished = await recoverJournal(context, journal);
    await context.step('recovered');
    const stored = await deps.store.getCheckpoint();
    if (!stored?.baselineAt) {
      report.noBaseline = true;
      report.unchecked = wanted;
      deps.logger.info('no baseline yet: the check waits for the scheduled cycle to record it');
      return report;
    }
    const checkpoint: Checkpoint = structuredClone(stored ?? emptyCheckpoint());
    const pass = new CyclePass(deps, options, report, checkpoint, context, budget, fetchBound, started);

    const found = new Map<number, Order>();
    let index = 0;
    for (; index < todo.length; index++) {
      if (pass.overBudget()) break;
      const number = todo[index] as string;
      let result: Awaited<ReturnType<typeof findByNumber>>;
      try {
        report.lookups++;
        result = await findByNumber(number, pass.bounds);
      } catch (error) {
        if (error instanceof DeadlineExceededError) break;
        throw error;
      }
      report.checked.push(number);
      report.ordersScanned += result.orders.length;
      if (result.orders.length === 0) report.notFound.push(number);
      for (const order of result.orders) found.set(order.id, order);
    }
    report.unchecked = [...todo.slice(index), ...report.unchecked];
    await context.step('scanned');

    const reader = new SnapshotReader(deps.store);
    reader.want(found.keys());
    const snapshots = await reader.all();
    const batch = pass.diffOrders([...found.values()], snapshots, false);
    const watched = [...pass.watched].sort((a, b) => a - b);
    const watchedChanged = JSON.stringify(watched) !== JSON.stringify(checkpoint.watched);
    checkpoint.watched = watched;
    await pass.commit(batch, watchedChanged ? checkpoint : null);
    return report;
  } catch (error) {
    if (isAbort(error) && hard.passed()) {
      report.outcome = 'deadline';
      report.unchecked = wanted.filter((n) => !report.checked.includes(n));
      deps.logger.warn('the check reached its deadline during a commit; the next cycle finishes it', {
        error: (error as Error).message,
      });
      return report;
    }
    throw error;
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
