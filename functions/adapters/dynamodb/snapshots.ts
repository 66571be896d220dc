import { deflateRawSync } from 'node:zlib';
import type { Snapshot } from '../../core/snapshot.js';
import type { SnapshotWrite, StoredSnapshot } from '../../cycle/records.js';
import type { PendingWrite } from './items.js';
import { fitsInItem, MAX_ITEM_BYTES, unpack } from './items.js';
import { ORDER_PREFIX, orderIdOfKey, orderKey } from './keys.js';
import type { Partition } from './partition.js';

/**
 * Order snapshots, one item each (`order#<id>`): the snapshot deflated, its version `rev`, and the
 * journaled commit that last wrote it (`commit`), so that a replay recognises its own earlier writes.
 */

export const readSnapshots = async (
  partition: Partition,
  orderIds: number[],
): Promise<Map<number, StoredSnapshot>> => {
  const found = new Map<number, StoredSnapshot>();
  for (const item of await partition.batchGet(orderIds.map(orderKey))) {
    found.set(orderIdOfKey(item.sk?.S), {
      rev: Number(item.rev?.N ?? 0),
      snapshot: unpack<Snapshot>(item.data?.B as Uint8Array),
    });
  }
  return found;
};

/** Every snapshot's order id, a page of the query at a time (keys only). */
export async function* snapshotIds(partition: Partition): AsyncIterable<number[]> {
  for await (const items of partition.query(ORDER_PREFIX, { projection: 'sk' })) {
    yield items.map((item) => orderIdOfKey(item.sk?.S));
  }
}

export const snapshotFits = (snapshot: Snapshot): boolean => {
  const raw = JSON.stringify(snapshot);
  // Deflate never grows JSON by much: small ones fit without packing them twice.
  if (Buffer.byteLength(raw) < MAX_ITEM_BYTES / 2) return true;
  return fitsInItem(deflateRawSync(Buffer.from(raw)));
};

/** A snapshot's conditional put (on the version read, or on this commit's tag when replaying). */
export const snapshotPut = (
  partition: Partition,
  write: SnapshotWrite,
  tag: string | undefined,
  replay: boolean,
): PendingWrite => {
  const put = partition.put(orderKey(write.orderId), write.snapshot, {
    rev: { N: String(write.expectedRev + 1) },
    ...(tag === undefined ? {} : { commit: { S: tag } }),
  });
  const expected = write.expectedRev === 0 ? 'attribute_not_exists(pk)' : 'rev = :expected';
  // Replaying: the item may already carry this commit's write (applied before a crash).
  const replayed = replay && tag !== undefined ? ' OR #commit = :commit' : '';
  Object.assign(put.item.Put ?? {}, {
    ConditionExpression: `${expected}${replayed}`,
    ...(replayed ? { ExpressionAttributeNames: { '#commit': 'commit' } } : {}),
    ...(write.expectedRev === 0 && !replayed
      ? {}
      : {
          ExpressionAttributeValues: {
            ...(write.expectedRev === 0 ? {} : { ':expected': { N: String(write.expectedRev) } }),
            ...(replayed ? { ':commit': { S: tag } } : {}),
          },
        }),
  });
  put.describe = `the snapshot of order ${write.orderId}`;
  return put;
};
