import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INDEX_SHARDS } from '../../functions/adapters/dynamodb/index-shards.js';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import type { Lease, SnapshotWrite } from '../../functions/cycle/records.js';
import { vendorOrder } from '../helpers/orders.js';

const TABLE = 'packing';

/** A DynamoDB that accepts every transaction and records it; no item exists before. */
const recordingClient = () => {
  const sent: TransactWriteItem[][] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof BatchGetItemCommand) return { Responses: { [TABLE]: [] } };
      if (command instanceof TransactWriteItemsCommand) {
        sent.push(command.input.TransactItems ?? []);
        return {};
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  } as unknown as DynamoDBClient;
  return { client, sent };
};

const lease: Lease = { owner: 'w', generation: 3, expiresAt: Number.MAX_SAFE_INTEGER };

/** Snapshots of about 1 KB, 60 KB and 230 KB once deflated (hashes in base64 do not deflate). */
const SIZES = [0, 45_000, 228_000];
const snapshots: Snapshot[] = SIZES.map((bytes, i) => {
  const order = vendorOrder('1308');
  const blocks = Array.from({ length: Math.ceil(bytes / 32) }, (_, b) =>
    createHash('sha256').update(`${i}:${b}`).digest(),
  );
  order.companyName = Buffer.concat(blocks).subarray(0, bytes).toString('base64');
  return snapshotOf(order, 1);
});

const skOf = (item: TransactWriteItem): string =>
  (item.ConditionCheck?.Key ?? item.Put?.Item ?? item.Delete?.Key)?.sk?.S ?? '';

const shardIds = (item: TransactWriteItem): number[] => {
  const packed = JSON.parse(inflateRawSync(item.Put?.Item?.data?.B as Uint8Array).toString('utf8')) as {
    ids: number[];
  };
  let id = 0;
  return packed.ids.map((delta) => {
    id += delta;
    return id;
  });
};

interface Planned {
  shard: number;
  /** Index into SIZES. */
  size: number;
  key: number;
}

/**
 * Orders over 1 to 4 shards (few shards: many large snapshots share one), up to 220 small, 12 medium and
 * 40 large, interleaved.
 */
const ordersArb: fc.Arbitrary<Planned[]> = fc.integer({ min: 1, max: 4 }).chain((spread) => {
  const orders = (size: number, maxLength: number) =>
    fc.array(fc.record({ shard: fc.nat(spread - 1), size: fc.constant(size), key: fc.nat() }), {
      maxLength,
      size: 'max',
    });
  return fc
    .tuple(orders(0, 220), orders(1, 12), orders(2, 40))
    .map((kinds) => kinds.flat().sort((a, b) => a.key - b.key))
    .filter((all) => all.length > 0);
});

/** 14 snapshots of ~230 KB in one shard: once packed as two runs whose shard writes shared a transaction. */
const fourteenLarge: Planned[] = Array.from({ length: 14 }, (_, key) => ({ shard: 0, size: 2, key }));

describe('how the DynamoDB store packs a commit into transactions', () => {
  it('never names an item twice, leads with the lease check, stays within 100 actions and 4 MB, and writes each shard cumulatively, version after version', async () => {
    await fc.assert(
      fc.asyncProperty(ordersArb, fc.boolean(), async (orders, singly) => {
        const { client, sent } = recordingClient();
        const store = new DynamoStateStore({ client, tableName: TABLE, organisation: 'o' });
        await store.readIndex();
        const writes: SnapshotWrite[] = orders.map((o, i) => ({
          orderId: (i + 1) * INDEX_SHARDS + o.shard,
          snapshot: snapshots[o.size] as Snapshot,
          expectedRev: 0,
          indexed: { fp: `fp-${i}`, dueAt: null },
        }));
        await store.applyWrites(
          { lease },
          {
            writes,
            checkpoint: { v: 1, baselineAt: 'x', highestId: 1, watched: [], lastSweepAt: null, sweep: null },
            commit: { generation: 3, commit: 1 },
            replay: singly,
            singly,
          },
        );
        const written = new Map<number, number[]>();
        const versions = new Map<number, number>();
        const seen = new Set<string>();
        for (const items of sent) {
          const keys = items.map(skOf);
          expect(keys[0]).toBe('lease');
          expect(items[0]?.ConditionCheck?.ConditionExpression).toBe(
            '#owner = :owner AND generation = :generation',
          );
          expect(new Set(keys).size).toBe(keys.length);
          expect(items.length).toBeLessThanOrEqual(100);
          if (singly) expect(items.length).toBe(2);
          const bytes = items.reduce((sum, i) => sum + (i.Put?.Item?.data?.B?.length ?? 0) + 1_024, 0);
          expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
          for (const sk of keys.slice(1)) {
            if (!sk.startsWith('order#')) continue;
            expect(seen.has(sk)).toBe(false);
            seen.add(sk);
            const id = Number(sk.slice('order#'.length));
            written.set(id % INDEX_SHARDS, [...(written.get(id % INDEX_SHARDS) ?? []), id]);
            // Packed, a snapshot goes with its shard: a crash between transactions leaves them agreeing.
            if (!singly) expect(keys).toContain(`index#${id % INDEX_SHARDS}`);
          }
          for (const item of items) {
            const sk = skOf(item);
            if (!sk.startsWith('index#')) continue;
            const shard = Number(sk.slice('index#'.length));
            const ver = versions.get(shard) ?? 0;
            // Conditional on the version its previous write left.
            if (ver === 0) expect(item.Put?.ConditionExpression).toBe('attribute_not_exists(pk)');
            else expect(item.Put?.ExpressionAttributeValues?.[':ver']?.N).toBe(String(ver));
            versions.set(shard, ver + 1);
            expect(shardIds(item)).toEqual([...(written.get(shard) ?? [])].sort((a, b) => a - b));
          }
        }
        expect(seen.size).toBe(writes.length);
        for (const shard of written.keys()) expect(versions.get(shard), `shard ${shard}`).toBeGreaterThan(0);
        // The checkpoint once, in the last transaction: after every snapshot and shard.
        expect(sent.flat().filter((i) => skOf(i) === 'checkpoint')).toHaveLength(1);
        expect(sent.at(-1)?.map(skOf)).toContain('checkpoint');
      }),
      {
        numRuns: 20,
        seed: 1_337,
        examples: [
          [fourteenLarge, false],
          [fourteenLarge, true],
        ],
      },
    );
  });
});
