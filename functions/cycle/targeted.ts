import type { Order } from '../core/order.js';
import type { CycleDependencies, CycleOptions, CycleReport } from './cycle.js';
import { emptyReport, endedByError, prepareRun, underLease } from './cycle.js';
import { DeadlineExceededError } from './errors.js';
import type { LeasedRun } from './pass.js';
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
const MAX_CHECK_NUMBERS = 100;

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
  await underLease(deps, options, report, (run) =>
    checkUnderLease(deps, options, report, run, { wanted, todo, findByNumber }),
  );
  if (report.outcome === 'lease-held') report.unchecked = wanted;
  return report;
};

const checkUnderLease = async (
  deps: CycleDependencies,
  options: CycleOptions,
  report: CheckReport,
  run: LeasedRun,
  {
    wanted,
    todo,
    findByNumber,
  }: {
    wanted: string[];
    todo: string[];
    findByNumber: NonNullable<CycleDependencies['source']['findByNumber']>;
  },
): Promise<CheckReport> => {
  try {
    const prepared = await prepareRun(deps, options, report, run, { index: false, requireBaseline: true });
    if (!prepared) {
      report.noBaseline = true;
      report.unchecked = wanted;
      deps.logger.info('no baseline yet: the check waits for the scheduled cycle to record it');
      return report;
    }
    const { stored, pass } = prepared;
    const { checkpoint } = pass;

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
      for (const order of pass.guard.own(result.orders)) found.set(order.id, order);
    }
    report.unchecked = [...todo.slice(index), ...report.unchecked];
    await run.context.step('scanned');

    const reader = new SnapshotReader(deps.store);
    reader.want(found.keys());
    const snapshots = await reader.all();
    if (found.size > 0) await pass.ready();
    const batch = pass.diffOrders([...found.values()], snapshots, false);
    const watched = [...pass.watched].sort((a, b) => a - b);
    const changed =
      JSON.stringify(watched) !== JSON.stringify(checkpoint.watched) ||
      checkpoint.organisationId !== stored.organisationId;
    checkpoint.watched = watched;
    await pass.commit(batch, changed ? checkpoint : null);
    return report;
  } catch (error) {
    const ended = endedByError(error, run, report, deps.logger, 'check');
    ended.unchecked = wanted.filter((n) => !ended.checked.includes(n));
    return ended;
  }
};
