import type { Order } from '../core/order.js';
import type { CyclePass, ScanStop } from './pass.js';
import { mergeBatches } from './pass.js';
import type { SourcePage } from './ports.js';
import type { ScanProgress, WatchedQuery } from './records.js';
import { SnapshotReader } from './snapshot-reader.js';

const WATCHED_QUERIES: WatchedQuery[] = ['open', 'pending-closed', 'undelivered-complete'];

/**
 * The incremental pass: orders newer than the highest id seen, then a round over the watched set (draft
 * and confirmed orders; complete or cancelled ones whose stages are pending), then a look-up of each
 * watched order the round did not show. Both scans resume where the budget cut them, so an account whose
 * watched set takes several budgets to scan still progresses, and new orders are never starved (they come
 * first, and take at most half the budget while a round is being resumed). Everything fetched is
 * committed at once: one journaled commit, full PutEvents calls. Returns true when the round concluded.
 */
export const incrementalPass = async (
  pass: CyclePass,
  options: { share?: number } = {},
): Promise<boolean> => {
  const share = options.share ?? 1;
  const { checkpoint } = pass;
  const fetched = new Map<number, Order>();
  const seen = new Set<number>();
  const reader = new SnapshotReader(pass.deps.store);
  const take = (page: SourcePage) => {
    for (const order of page.orders) {
      fetched.set(order.id, order);
      seen.add(order.id);
    }
    // The index says which orders changed: only their snapshots are read.
    reader.want(page.orders.filter((o) => !pass.unchanged(o)).map((o) => o.id));
    for (const record of page.invalid) if (typeof record.id === 'number') seen.add(record.id);
  };

  // 1. New orders (since_id), resumed page by page; the highest id moves only once the query is done.
  const resuming = Boolean(checkpoint.scan);
  const progress = checkpoint.newOrders ?? {
    sinceId: checkpoint.highestId,
    page: 1,
    highestSeen: checkpoint.highestId,
  };
  const newStop = await pass.scan(
    { kind: 'new', sinceId: progress.sinceId, page: progress.page },
    (page) => {
      take(page);
      for (const order of page.orders) progress.highestSeen = Math.max(progress.highestSeen, order.id);
    },
    resuming ? share / 2 : share,
  );
  if (newStop.done) {
    checkpoint.highestId = Math.max(checkpoint.highestId, progress.highestSeen);
    checkpoint.newOrders = null;
  } else {
    checkpoint.newOrders = { ...progress, page: newStop.nextPage };
  }

  // 2. Look-ups left over by an earlier cycle come before the round goes on, so that a round spanning
  // many cycles never starves them (an order that left the watched set is reported within a cycle or two).
  const carried = (checkpoint.pendingLookups ?? []).filter((id) => !fetched.has(id));
  reader.want(carried);
  const early = await pass.lookUpMissing(carried, await reader.all(), share * 0.75, 'add');

  // 3. The watched round, from where the last cycle stopped.
  const round: ScanProgress = checkpoint.scan ?? { query: 'open', page: 1, unseen: [...checkpoint.watched] };
  let stop: ScanStop = { done: false, nextPage: round.page };
  if (!pass.overBudget(share)) {
    for (let i = WATCHED_QUERIES.indexOf(round.query); i < WATCHED_QUERIES.length; i++) {
      const query = WATCHED_QUERIES[i] as WatchedQuery;
      // The next query waits for the next cycle once this cycle's share is spent.
      if (i > WATCHED_QUERIES.indexOf(round.query) && pass.overBudget(share)) {
        stop = { done: false, nextPage: 1 };
        round.query = query;
        round.page = 1;
        break;
      }
      stop = await pass.scan({ kind: query, page: round.page }, take, share);
      if (!stop.done) {
        round.query = query;
        round.page = stop.nextPage;
        break;
      }
      round.page = 1;
    }
  }
  await pass.context.step('scanned');
  const unseen = round.unseen.filter((id) => !seen.has(id));

  // 4. Watched orders the round did not show: page shifts can hide an order, so each is looked up before
  // concluding that it completed, was cancelled or is gone. Look-ups the budget cut wait for the next cycle.
  let missing = early.remaining;
  if (stop.done) {
    checkpoint.scan = null;
    missing = [...new Set([...missing, ...unseen.filter((id) => pass.watched.has(id))])];
  } else {
    checkpoint.scan = { ...round, unseen };
  }
  const lookedUp = new Set(carried.filter((id) => !early.remaining.includes(id)));
  missing = missing.filter((id) => !fetched.has(id) && !lookedUp.has(id));
  // Decided again on the last version fetched (an order can show up in two queries; a due time can pass).
  // Orders the early look-ups handled were diffed there: one diff per order and commit (the scan's copy of
  // such an order is seen again next cycle).
  const changed: Order[] = [];
  for (const order of fetched.values()) {
    if (lookedUp.has(order.id)) continue;
    if (!pass.unchanged(order)) changed.push(order);
    else {
      pass.watched.add(order.id);
      pass.report.unchanged++;
    }
  }
  reader.want(changed.map((o) => o.id));
  reader.want(missing);
  const snapshots = await reader.all();
  if (changed.length > 0) await pass.ready();
  const scanned = pass.diffOrders(changed, snapshots, false, 'add');
  const looked = await pass.lookUpMissing(missing, snapshots, share, 'add');
  checkpoint.pendingLookups = looked.remaining;
  await pass.commit(mergeBatches(early.batch, scanned, looked.batch));
  return stop.done && looked.remaining.length === 0 && newStop.done;
};
