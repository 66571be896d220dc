import type { CyclePass } from './pass.js';

/**
 * Every order, page by page: the baseline (silent unless asked) and the periodic reconciliation sweep.
 * Each page is committed on its own, while the next one is fetched, so that memory stays flat and progress
 * survives the budget running out: the checkpoint remembers the next page. Returns true when finished.
 */
export const sweepPass = async (pass: CyclePass, baseline: boolean): Promise<boolean> => {
  const { checkpoint, deps } = pass;
  const progress = checkpoint.sweep ?? { page: 1, startedAt: pass.detectedAt(), unbroken: true };
  checkpoint.sweep = progress;
  const seen = new Set<number>();
  let finished = false;
  let highest = checkpoint.highestId;
  let inflight: Promise<void> | undefined;
  const settle = async () => {
    const pending = inflight;
    inflight = undefined;
    await pending;
  };
  try {
    for await (const page of pass.fetch({ kind: 'all', page: progress.page })) {
      // A page shift can show an order twice in one sweep: the first sight is the one diffed.
      const fresh = page.orders.filter((o) => !seen.has(o.id));
      const snapshots = await deps.store.getSnapshots(fresh.map((o) => o.id));
      for (const order of fresh) {
        seen.add(order.id);
        if (order.id > highest) highest = order.id;
      }
      for (const record of page.invalid) if (typeof record.id === 'number') seen.add(record.id);
      const batch = pass.diffOrders(fresh, snapshots, baseline);
      await settle();
      inflight = pass.commit(batch);
      inflight.catch(() => {}); // observed by settle()
      if (page.nextPage === null) {
        finished = true;
        break;
      }
      progress.page = page.nextPage;
      if (pass.overBudget()) break;
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
  // Removals can only be concluded from a sweep that saw every page in one go.
  if (!baseline && progress.unbroken) await concludeRemovals(pass, seen);
  checkpoint.sweep = null;
  checkpoint.lastSweepAt = progress.startedAt;
  return true;
};

/** Snapshots that no page of an unbroken sweep showed are looked up; confirmed absences are removed. */
const concludeRemovals = async (pass: CyclePass, seen: Set<number>): Promise<void> => {
  const missing: number[] = [];
  for await (const ids of pass.deps.store.listSnapshotIds())
    for (const id of ids) if (!seen.has(id)) missing.push(id);
  for (let i = 0; i < missing.length && !pass.overBudget(); i += 100) {
    const chunk = missing.slice(i, i + 100);
    await pass.commit(await pass.lookUpMissing(chunk, await pass.deps.store.getSnapshots(chunk)));
  }
};
