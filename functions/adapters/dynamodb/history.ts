import type { PackedHistory, StageSample } from '../../core/history.js';
import { StageHistory } from '../../core/history.js';
import { fitsInItem, pack, unpack } from './items.js';
import { historyKey, historyShardOfKey } from './keys.js';
import type { Partition } from './partition.js';
import type { WriteGroup } from './transactions.js';

/**
 * The stage history in the DynamoDB table: HISTORY_SHARDS items `history#0` to `history#7` in the
 * organisation's partition, a stage name's samples in shard `hash(name) % HISTORY_SHARDS`, each item the
 * shard's packed history (deflated) with a version number. A commit writes only the shards its samples
 * changed, each conditional on the version read under the lease. Merging is idempotent (core/history.ts),
 * so a replayed commit changes nothing it already wrote.
 */
export const HISTORY_SHARDS = 8;

/** FNV-1a of the stage name: a fixed shard per name. */
export const historyShardOf = (stage: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < stage.length; i++) hash = Math.imul(hash ^ stage.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % HISTORY_SHARDS;
};

interface HistoryShard {
  /** Item version (0 = no item). */
  ver: number;
  history: StageHistory;
}

/** A shard's new content, to be put conditional on `ver`. */
interface ShardChange {
  shard: number;
  ver: number;
  packed: PackedHistory;
  /** The shard as it stands once the put succeeded. */
  next: HistoryShard;
}

/** The whole history from its shards (samples outside their own shard are merged all the same). */
const historyOfShards = (shards: Iterable<HistoryShard>): StageHistory => {
  const history = new StageHistory();
  for (const shard of shards) history.merge(shard.history.samples());
  return history;
};

/**
 * Merges samples into the shards they belong to; returns the shards that changed. A shard whose packed
 * form would not fit in one item (`fits`) keeps fewer of its oldest samples until it does.
 */
const mergeIntoShards = (
  shards: ReadonlyMap<number, HistoryShard>,
  samples: readonly StageSample[],
  fits: (packed: PackedHistory) => boolean,
): ShardChange[] => {
  const byShard = new Map<number, StageSample[]>();
  for (const sample of samples) {
    const shard = historyShardOf(sample.stage);
    byShard.set(shard, [...(byShard.get(shard) ?? []), sample]);
  }
  const changes: ShardChange[] = [];
  for (const [shard, offered] of [...byShard].sort((a, b) => a[0] - b[0])) {
    const held = shards.get(shard) ?? { ver: 0, history: new StageHistory() };
    let history = StageHistory.fromPacked(held.history.packed());
    if (history.merge(offered).length === 0) continue;
    let packed = history.packed();
    while (!fits(packed) && packed.stages.some(([, , , rows]) => rows.length > 0)) {
      // Too large for one item (an account with very many suppliers): keep the most recent 90% of each stage.
      const kept = packed.stages.map(
        ([stage, suppliers, nexts, rows]) =>
          [
            stage,
            suppliers,
            nexts,
            rows.slice(0, Math.floor(rows.length * 0.9)),
          ] as (typeof packed.stages)[number],
      );
      history = StageHistory.fromPacked({ v: 1, stages: kept });
      packed = history.packed();
    }
    changes.push({ shard, ver: held.ver, packed, next: { ver: held.ver + 1, history } });
  }
  return changes;
};

/** The history's shards, read once under a lease and kept for that lease's writes, like the index's. */
export class HistoryShards {
  /** The shards as last read or written under the current lease (undefined: read them first). */
  #held: Map<number, HistoryShard> | undefined;

  constructor(private readonly partition: Partition) {}

  /** What was held is no longer to be trusted (a new lease). */
  forget(): void {
    this.#held = undefined;
  }

  /** Reads every history shard (one BatchGetItem of HISTORY_SHARDS keys) and keeps them for the writes. */
  async #load(): Promise<Map<number, HistoryShard>> {
    const shards = new Map<number, HistoryShard>();
    for (let shard = 0; shard < HISTORY_SHARDS; shard++)
      shards.set(shard, { ver: 0, history: new StageHistory() });
    for (const item of await this.partition.batchGet([...shards.keys()].map(historyKey))) {
      const shard = historyShardOfKey(item.sk?.S);
      if (!shards.has(shard)) continue;
      shards.set(shard, {
        ver: Number(item.ver?.N ?? 0),
        history: StageHistory.fromPacked(unpack(item.data?.B as Uint8Array)),
      });
    }
    this.#held = shards;
    return shards;
  }

  async read(): Promise<StageHistory> {
    return historyOfShards((await this.#load()).values());
  }

  /** The history shards these samples change, each put conditional on the version read. */
  async groups(samples: StageSample[]): Promise<WriteGroup[]> {
    const shards = this.#held ?? (await this.#load());
    const fits = (value: unknown) => fitsInItem(pack(value));
    return mergeIntoShards(shards, samples, fits).map((change) => {
      const put = this.partition.versionedPut(historyKey(change.shard), change.packed, change.ver);
      put.describe = `stage history shard ${change.shard}`;
      return { writes: [put], applied: () => this.#held?.set(change.shard, change.next) };
    });
  }
}
