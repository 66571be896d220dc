import { decodeIds, encodeIds } from './id-set.js';
import type { CyclePass } from './pass.js';
import type { SweepProgress } from './records.js';

/**
 * Every order, page by page: the baseline (silent unless asked) and the periodic reconciliation sweep.
 * Each page is committed on its own, while the next one is fetched, so that memory stays flat and progress
 * survives the budget running out: the checkpoint remembers the next page and the ids seen so far, so a
 * sweep spanning several cycles still concludes. Returns true when finished.
 */
export const sweepPass = async (pass: CyclePass, baseline: boolean): Promise<boolean> => {
  const { checkpoint } = pass;
  const stored = checkpoint.sweep;
  // A sweep recorded by an older version (no ids seen) starts again.
  const progress: SweepProgress =
    stored && Array.isArray(stored.seen)
      ? stored
      : { page: 1, startedAt: pass.detectedAt(), seen: [], unconfirmed: null };
  checkpoint.sweep = progress;
  const seen = new Set<number>(decodeIds(progress.seen));
  if (progress.unconfirmed === null) {
    let highest = checkpoint.highestId;
    let inflight: Promise<void> | undefined;
    let failure: Error | undefined;
    const settle = async () => {
      const pending = inflight;
      inflight = undefined;
      await pending;
    };
    let stop: Awaited<ReturnType<CyclePass['scan']>>;
    try {
      stop = await pass.scan({ kind: 'all', page: progress.page }, (page) => {
        // A failed commit stops the sweep: no point fetching what cannot be committed.
        if (failure) throw failure;
        // A page shift can show an order twice in one sweep (or one page twice): the first sight is diffed.
        const fresh = [];
        for (const order of page.orders) {
          if (seen.has(order.id)) continue;
          seen.add(order.id);
          fresh.push(order);
          if (order.id > highest) highest = order.id;
        }
        for (const record of page.invalid) if (typeof record.id === 'number') seen.add(record.id);
        const previous = inflight;
        inflight = (async () => {
          const snapshots = await pass.deps.store.getSnapshots(fresh.map((o) => o.id));
          await pass.ready();
          await previous;
          await pass.commit(pass.diffOrders(fresh, snapshots, baseline));
        })();
        inflight.catch((error: unknown) => {
          failure ??= error as Error;
        }); // and observed by settle()
      });
    } finally {
      // Never leave a commit running behind an error (the lease is released after this returns).
      await inflight?.catch(() => {});
    }
    await settle();
    if (baseline) checkpoint.highestId = Math.max(checkpoint.highestId, highest);
    if (!stop.done) {
      progress.page = stop.nextPage;
      progress.seen = encodeIds(seen);
      return false;
    }
    if (baseline) {
      checkpoint.sweep = null;
      checkpoint.lastSweepAt = progress.startedAt;
      return true;
    }
    // Snapshots that no page showed are looked up before anything is concluded about them.
    const unconfirmed: number[] = [];
    for await (const ids of pass.deps.store.listSnapshotIds())
      for (const id of ids) if (!seen.has(id)) unconfirmed.push(id);
    progress.unconfirmed = unconfirmed;
    progress.seen = [];
  }
  const remaining = await confirmAbsences(pass, progress.unconfirmed ?? []);
  if (remaining.length > 0) {
    progress.unconfirmed = remaining;
    return false;
  }
  checkpoint.sweep = null;
  checkpoint.lastSweepAt = progress.startedAt;
  return true;
};

/** Looks up unconfirmed snapshots in chunks while the budget lasts; confirmed absences are removed. */
const confirmAbsences = async (pass: CyclePass, ids: number[]): Promise<number[]> => {
  let rest = ids;
  while (rest.length > 0 && !pass.overBudget()) {
    const chunk = rest.slice(0, 100);
    const looked = await pass.lookUpMissing(chunk, await pass.deps.store.getSnapshots(chunk));
    await pass.commit(looked.batch);
    rest = [...looked.remaining, ...rest.slice(100)];
    if (looked.remaining.length > 0) break;
  }
  return rest;
};
