import type { Snapshot } from '../core/snapshot.js';
import type { SnapshotStore } from './ports.js';
import type { StoredSnapshot } from './records.js';

/**
 * Reads snapshots in batches of 100 as their ids become known, without waiting: while the scan fetches
 * the next page from Uphance, DynamoDB answers for the previous ones.
 */
export class SnapshotReader {
  readonly snapshots = new Map<number, StoredSnapshot>();
  readonly #requested = new Set<number>();
  readonly #reads: Array<Promise<void>> = [];
  #queued: number[] = [];

  constructor(private readonly store: Pick<SnapshotStore, 'getSnapshots'>) {}

  want(ids: Iterable<number>): void {
    for (const id of ids) {
      if (this.#requested.has(id)) continue;
      this.#requested.add(id);
      this.#queued.push(id);
    }
    this.#flush(false);
  }

  /** Reads what is still queued and waits for every read. */
  async all(): Promise<Map<number, StoredSnapshot>> {
    this.#flush(true);
    await Promise.all(this.#reads);
    return this.snapshots;
  }

  #flush(all: boolean): void {
    while (this.#queued.length >= 100 || (all && this.#queued.length > 0)) {
      const chunk = this.#queued.slice(0, 100);
      this.#queued = this.#queued.slice(100);
      const read = this.store.getSnapshots(chunk).then((found) => {
        for (const [id, snapshot] of found) this.snapshots.set(id, snapshot);
      });
      read.catch(() => {}); // observed by all()
      this.#reads.push(read);
    }
  }
}

/** Every snapshot of a state (file or table), page by page: a read only, no lease, no request to Uphance. */
export const readSnapshots = async (store: Pick<SnapshotStore, 'listSnapshotIds' | 'getSnapshots'>) => {
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
