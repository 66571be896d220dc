import type { Order } from '../core/order.js';
import type { CyclePass } from './pass.js';
import { mergeBatches } from './pass.js';
import type { ScanQuery } from './ports.js';
import { SnapshotReader } from './snapshot-reader.js';

/**
 * The incremental pass: the watched set (draft and confirmed orders; complete or cancelled ones whose
 * stages are pending) and the orders newer than the highest id seen, then a look-up of each watched order
 * that did not show up. Everything it finds is committed at once: one journal record, full PutEvents calls.
 * Returns false when the budget cut the scan short (nothing is then concluded about unseen orders).
 */
export const incrementalPass = async (pass: CyclePass): Promise<boolean> => {
  const { checkpoint } = pass;
  const fetched = new Map<number, Order>();
  const unreadable = new Set<number>();
  const reader = new SnapshotReader(pass.deps.store);
  let complete = true;
  let newComplete = false;
  const queries: ScanQuery[] = [
    { kind: 'open' },
    { kind: 'pending-closed' },
    { kind: 'undelivered-complete' },
    { kind: 'new', sinceId: checkpoint.highestId },
  ];
  scan: for (const query of queries) {
    for await (const page of pass.fetch(query)) {
      for (const order of page.orders) fetched.set(order.id, order);
      reader.want(page.orders.map((o) => o.id));
      for (const record of page.invalid) if (typeof record.id === 'number') unreadable.add(record.id);
      if (page.nextPage !== null && pass.overBudget()) {
        complete = false;
        break scan;
      }
    }
    if (query.kind === 'new') newComplete = true;
  }
  await pass.context.step('scanned');

  // Watched orders absent from the scan: page shifts can hide an order, so each is looked up before
  // concluding that it completed, was cancelled or is gone.
  const missing = complete ? checkpoint.watched.filter((id) => !fetched.has(id) && !unreadable.has(id)) : [];
  reader.want(missing);
  const snapshots = await reader.all();
  const highestBefore = checkpoint.highestId;
  const scanned = pass.diffOrders([...fetched.values()], snapshots, false);
  // Pages that were not all fetched may hide new orders: since_id stays where it was.
  if (!newComplete) checkpoint.highestId = highestBefore;
  const looked = await pass.lookUpMissing(missing, snapshots);
  await pass.commit(mergeBatches(scanned, looked));
  return complete;
};
