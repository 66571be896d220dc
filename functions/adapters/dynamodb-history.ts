import type { PackedHistory, StageSample } from '../core/history.js';
import { StageHistory } from '../core/history.js';

/**
 * The stage history in the DynamoDB table: HISTORY_SHARDS items `history#0` to `history#7` in the
 * organisation's partition, a stage name's samples in shard `hash(name) % HISTORY_SHARDS`, each item the
 * shard's packed history (deflated) with a version number. A commit writes only the shards its samples
 * changed, each conditional on the version read under the lease. Merging is idempotent (core/history.ts),
 * so a replayed commit changes nothing it already wrote.
 */
export const HISTORY_SHARDS = 8;

export const historyKey = (shard: number) => `history#${shard}`;

/** FNV-1a of the stage name: a fixed shard per name. */
export const historyShardOf = (stage: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < stage.length; i++) hash = Math.imul(hash ^ stage.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % HISTORY_SHARDS;
};

export interface HistoryShard {
  /** Item version (0 = no item). */
  ver: number;
  history: StageHistory;
}

/** A shard's new content, to be put conditional on `ver`. */
export interface ShardChange {
  shard: number;
  ver: number;
  packed: PackedHistory;
  /** The shard as it stands once the put succeeded. */
  next: HistoryShard;
}

/** The whole history from its shards (samples outside their own shard are merged all the same). */
export const historyOfShards = (shards: Iterable<HistoryShard>): StageHistory => {
  const history = new StageHistory();
  for (const shard of shards) history.merge(shard.history.samples());
  return history;
};

/**
 * Merges samples into the shards they belong to; returns the shards that changed. A shard whose packed
 * form would not fit in one item (`fits`) keeps fewer of its oldest samples until it does.
 */
export const mergeIntoShards = (
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
