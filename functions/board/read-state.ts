import type { Snapshot } from '../core/snapshot.js';
import type { StateStore } from '../cycle/ports.js';

/** Every snapshot of a state (file or table), page by page: a read only, no lease, no request to Uphance. */
export const readSnapshots = async (store: Pick<StateStore, 'listSnapshotIds' | 'getSnapshots'>) => {
  const snapshots: Snapshot[] = [];
  for await (const ids of store.listSnapshotIds()) {
    const found = await store.getSnapshots(ids);
    for (const id of ids) {
      const stored = found.get(id);
      if (stored) snapshots.push(stored.snapshot);
    }
  }
  return snapshots;
};
