import type { IndexEntry, IndexUpdate, SnapshotWrite } from '../../cycle/records.js';
import type { PendingWrite } from './items.js';
import { fitsInItem, MAX_ITEM_BYTES, pack, unpack } from './items.js';
import { indexKey, indexShardOfKey } from './keys.js';
import type { Partition } from './partition.js';
import type { WriteGroup } from './transactions.js';
import { MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS } from './transactions.js';

/**
 * The index of watched orders lives in INDEX_SHARDS items, `index#0` to `index#7`; an order's entry is in
 * shard `id % INDEX_SHARDS`. A fixed number: entries found in a shard that is not theirs are ignored.
 * About 11 bytes an entry once packed, so 50,000 watched orders take some 550 KB in all, ~70 KB a shard.
 */
export const INDEX_SHARDS = 8;
const shardOf = (orderId: number): number => orderId % INDEX_SHARDS;

interface IndexShard {
  /** Item version (0 = no item): every write of a shard is conditional on the version read. */
  ver: number;
  entries: Map<number, IndexEntry>;
}

/** A shard's entries in columns (ids delta-encoded, fingerprints concatenated), deflated. */
interface PackedShard {
  ids: number[];
  fps: string;
  revs: number[];
  due: Array<number | null>;
}

const packShard = (entries: Map<number, IndexEntry>): PackedShard => {
  const ids = [...entries.keys()].sort((a, b) => a - b);
  let last = 0;
  return {
    ids: ids.map((id) => {
      const delta = id - last;
      last = id;
      return delta;
    }),
    fps: ids.map((id) => entries.get(id)?.fp ?? '').join(','),
    revs: ids.map((id) => entries.get(id)?.rev ?? 0),
    due: ids.map((id) => entries.get(id)?.dueAt ?? null),
  };
};

const unpackShard = (shard: number, packed: PackedShard): Map<number, IndexEntry> => {
  const entries = new Map<number, IndexEntry>();
  const fps = packed.fps.split(',');
  let id = 0;
  packed.ids.forEach((delta, i) => {
    id += delta;
    const fp = fps[i];
    if (shardOf(id) !== shard || !fp) return;
    entries.set(id, { fp, rev: packed.revs[i] ?? 0, dueAt: packed.due[i] ?? null });
  });
  return entries;
};

const sameEntry = (a: IndexEntry | undefined, b: IndexEntry | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.fp === b.fp && a.rev === b.rev && a.dueAt === b.dueAt);

/** What a commit changes in one shard: the snapshots of its orders, and index updates without one. */
interface ShardWork {
  writes: SnapshotWrite[];
  updates: IndexUpdate[];
}

/**
 * The index shards, read once under a lease and kept for that lease's writes (each shard write is
 * conditional on the version held, and updates it once its transaction went through).
 */
export class IndexShards {
  /** The shards as last read or written under the current lease (undefined: read them first). */
  #held: Map<number, IndexShard> | undefined;

  constructor(private readonly partition: Partition) {}

  /** What was held is no longer to be trusted (a new lease, a refused version). */
  forget(): void {
    this.#held = undefined;
  }

  /** Reads every index shard (one BatchGetItem of INDEX_SHARDS keys) and keeps them for the writes. */
  async #load(): Promise<Map<number, IndexShard>> {
    const shards = new Map<number, IndexShard>();
    for (let shard = 0; shard < INDEX_SHARDS; shard++) shards.set(shard, { ver: 0, entries: new Map() });
    const keys = [...shards.keys()].map(indexKey);
    for (const item of await this.partition.batchGet(keys)) {
      const shard = indexShardOfKey(item.sk?.S);
      if (!shards.has(shard)) continue;
      shards.set(shard, {
        ver: Number(item.ver?.N ?? 0),
        entries: unpackShard(shard, unpack<PackedShard>(item.data?.B as Uint8Array)),
      });
    }
    this.#held = shards;
    return shards;
  }

  async read(): Promise<Map<number, IndexEntry>> {
    const shards = await this.#load();
    const index = new Map<number, IndexEntry>();
    for (const shard of shards.values()) for (const [id, entry] of shard.entries) index.set(id, { ...entry });
    return index;
  }

  /**
   * An index shard's put, conditional on the version read. A shard that would not fit in one item keeps
   * the entries of its lowest ids (an order without an entry is simply read): returned with what it kept.
   */
  #shardPut(shard: number, entries: Map<number, IndexEntry>, ver: number) {
    let kept = entries;
    for (;;) {
      if (fitsInItem(pack(packShard(kept)))) break;
      const ids = [...kept.keys()].sort((a, b) => a - b);
      kept = new Map(
        ids.slice(0, Math.floor(ids.length * 0.9)).map((id) => [id, kept.get(id) as IndexEntry]),
      );
    }
    const put = this.partition.versionedPut(indexKey(shard), packShard(kept), ver);
    put.describe = `index shard ${shard}`;
    return { put, kept };
  }

  /**
   * A commit's snapshots and index changes as write groups, shard by shard. The index shard of each order
   * goes in the same transaction as its snapshot, written as it stands once that transaction's snapshots
   * are in (a shard whose orders span several transactions is written in each, cumulatively, version after
   * version): a crash between two transactions never leaves an entry that describes a snapshot other than
   * the stored one. Index updates without a snapshot (entries of unchanged snapshots, due times, removals)
   * are safe in any transaction. The shards are those read under this lease (read now if they were not).
   *
   * `singly`: every snapshot in a group of its own, then each shard once, after its snapshots.
   */
  async groups(
    writes: SnapshotWrite[],
    updates: IndexUpdate[],
    snapshotPut: (write: SnapshotWrite) => PendingWrite,
    singly: boolean,
  ): Promise<WriteGroup[]> {
    const byShard = new Map<number, ShardWork>();
    const of = (id: number) => {
      const shard = shardOf(id);
      let entry = byShard.get(shard);
      if (!entry) {
        entry = { writes: [], updates: [] };
        byShard.set(shard, entry);
      }
      return entry;
    };
    for (const write of writes) of(write.orderId).writes.push(write);
    for (const update of updates) of(update.orderId).updates.push(update);
    // A checkpoint alone needs no shard.
    if (byShard.size === 0) return [];
    const shards = this.#held ?? (await this.#load());
    const groups: WriteGroup[] = [];
    for (const [shard, work] of [...byShard].sort((a, b) => a[0] - b[0])) {
      groups.push(...this.#shardGroups(shard, work, shards.get(shard), snapshotPut, singly));
    }
    return groups;
  }

  /** One shard's groups: its snapshots in runs that fit one transaction beside it (≤ 98 items, room for 400 KB). */
  #shardGroups(
    shard: number,
    work: ShardWork,
    held: IndexShard | undefined,
    snapshotPut: (write: SnapshotWrite) => PendingWrite,
    singly: boolean,
  ): WriteGroup[] {
    const groups: WriteGroup[] = [];
    const from = held ?? { ver: 0, entries: new Map<number, IndexEntry>() };
    const entries = new Map(from.entries);
    let ver = from.ver;
    let dirty = false;
    const set = (id: number, entry: IndexEntry | null) => {
      const current = entries.get(id);
      if (entry === null) {
        if (current !== undefined) {
          entries.delete(id);
          dirty = true;
        }
      } else if (!sameEntry(current, entry)) {
        entries.set(id, entry);
        dirty = true;
      }
    };
    for (const update of work.updates) set(update.orderId, update.entry);
    /** The shard as it stands now, if it changed since it was last written. */
    const shardGroup = (): WriteGroup | undefined => {
      if (!dirty) return undefined;
      const { put, kept } = this.#shardPut(shard, entries, ver);
      ver += 1;
      dirty = false;
      const state: IndexShard = { ver, entries: new Map(kept) };
      return { writes: [put], applied: () => this.#held?.set(shard, state) };
    };
    const runLimit = singly ? 1 : MAX_TRANSACTION_ITEMS - 1;
    const runs: Array<Array<{ write: SnapshotWrite; put: PendingWrite }>> = [[]];
    let runBytes = 0;
    for (const write of work.writes) {
      const put = snapshotPut(write);
      const run = runs[runs.length - 1] as Array<{ write: SnapshotWrite; put: PendingWrite }>;
      if (
        run.length > 0 &&
        (run.length === runLimit || runBytes + put.bytes > MAX_TRANSACTION_BYTES - MAX_ITEM_BYTES)
      ) {
        runs.push([]);
        runBytes = 0;
      }
      (runs[runs.length - 1] as Array<{ write: SnapshotWrite; put: PendingWrite }>).push({ write, put });
      runBytes += put.bytes;
    }
    for (const run of runs) {
      for (const { write } of run) {
        set(write.orderId, write.indexed ? { ...write.indexed, rev: write.expectedRev + 1 } : null);
      }
      const group: WriteGroup = { writes: run.map((r) => r.put) };
      const index = singly ? undefined : shardGroup();
      if (index) {
        group.writes.push(...index.writes);
        group.applied = index.applied;
      }
      if (group.writes.length > 0) groups.push(group);
    }
    const last = singly ? shardGroup() : undefined;
    if (last) groups.push(last);
    return groups;
  }
}
