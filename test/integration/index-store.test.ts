import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INDEX_SHARDS } from '../../functions/adapters/dynamodb/index-shards.js';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import { ConflictError, LeaseLostError } from '../../functions/cycle/errors.js';
import type { Fence, Lease, LeaseOutcome, SnapshotWrite } from '../../functions/cycle/records.js';
import { localDynamoDb } from '../../local-aws/clients.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { hasWorkLeft } from '../../simulator/state.js';
import { freshTable } from '../helpers/aws.js';
import { notifierFor } from '../helpers/harness.js';
import { vendorOrder } from '../helpers/orders.js';

let client: DynamoDBClient;
let tableName: string;
let endpoint: string;
const store = (c: DynamoDBClient = client) =>
  new DynamoStateStore({ client: c, tableName, organisation: 'idx', sleep: async () => {} });

beforeEach(async () => {
  ({ client, tableName, endpoint } = await freshTable());
});

const leaseOf = (outcome: LeaseOutcome): Lease => {
  if (outcome.kind !== 'acquired') throw new Error(`lease held by ${outcome.holder.owner}`);
  return outcome.lease;
};
const fenced = async (s: DynamoStateStore, owner = 'writer', nowMs = 1_000): Promise<Fence> => ({
  lease: leaseOf(await s.acquireLease({ owner, nowMs, ttlMs: 10_000 })),
});

const write = (id: number, expectedRev = 0, fp = `fp-${id}`): SnapshotWrite => {
  const order = vendorOrder('1308');
  order.id = id;
  return { orderId: id, snapshot: snapshotOf(order, 1), expectedRev, indexed: { fp, dueAt: null } };
};

describe('the index of watched orders in DynamoDB (DynamoDB Local)', () => {
  it('is written with the snapshots it describes and read back whole in one BatchGetItem', async () => {
    const s = store();
    const fence = await fenced(s);
    await s.readIndex();
    const ids = Array.from({ length: 40 }, (_, i) => 100 + i);
    await s.applyWrites(fence, {
      writes: ids.map((id) => write(id)),
      checkpoint: null,
      index: [{ orderId: 7, entry: { fp: 'repaired', rev: 3, dueAt: 1_700_000_000_000 } }],
      commit: null,
      replay: false,
    });
    const reader = store();
    const index = await reader.readIndex();
    expect(index.size).toBe(41);
    expect(index.get(105)).toEqual({ fp: 'fp-105', rev: 1, dueAt: null });
    expect(index.get(7)).toEqual({ fp: 'repaired', rev: 3, dueAt: 1_700_000_000_000 });
    expect(reader.stats.batchGets).toBe(1);
    expect(reader.stats.itemsRead).toBeLessThanOrEqual(INDEX_SHARDS);

    // A write without an entry (the order left the watched set) and a removal take entries out.
    const again = await fenced(s, 'writer', 2_000);
    await s.readIndex();
    await s.applyWrites(again, {
      writes: [{ ...write(105, 1), indexed: null }],
      checkpoint: null,
      index: [{ orderId: 7, entry: null }],
      commit: null,
      replay: false,
    });
    const after = await store().readIndex();
    expect(after.has(105)).toBe(false);
    expect(after.has(7)).toBe(false);
    expect(after.size).toBe(39);
  });

  it('a crash between the transactions of one commit never leaves an entry that its snapshot does not match', async () => {
    // 250 orders of one shard: three transactions, the second of which fails.
    let transactions = 0;
    const flaky = localDynamoDb(endpoint);
    const send = flaky.send.bind(flaky);
    flaky.send = ((command: unknown, ...rest: unknown[]) => {
      if (command instanceof TransactWriteItemsCommand && ++transactions === 2) {
        return Promise.reject(new Error('the process died'));
      }
      return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    }) as typeof flaky.send;
    const s = store(flaky);
    const fence = await fenced(s);
    await s.readIndex();
    const ids = Array.from({ length: 250 }, (_, i) => (i + 1) * INDEX_SHARDS);
    await expect(
      s.applyWrites(fence, {
        writes: ids.map((id) => write(id)),
        checkpoint: null,
        commit: null,
        replay: false,
      }),
    ).rejects.toThrow('the process died');
    const index = await store().readIndex();
    const snapshots = await store().getSnapshots(ids);
    expect(snapshots.size).toBe(98); // the first transaction: 98 snapshots and their shard
    expect(index.size).toBe(98);
    for (const [id, entry] of index) expect(snapshots.get(id)?.rev).toBe(entry.rev);
  });

  it('is fenced like every state write, and a shard changed behind the store is a conflict, not an overwrite', async () => {
    const s = store();
    const old = await fenced(s, 'old', 1_000);
    await s.readIndex();
    const other = store();
    const current = await fenced(other, 'new', 20_000);
    await expect(
      s.applyWrites(old, {
        writes: [],
        checkpoint: null,
        index: [{ orderId: 9, entry: { fp: 'x', rev: 1, dueAt: null } }],
        commit: null,
        replay: false,
      }),
    ).rejects.toThrow(LeaseLostError);
    expect((await store().readIndex()).size).toBe(0);

    // Two stores under one lease (never in the product): the second write finds the shard moved on.
    const twin = store();
    await other.readIndex();
    await twin.readIndex();
    await other.applyWrites(current, { writes: [write(16)], checkpoint: null, commit: null, replay: false });
    const error = await twin
      .applyWrites(current, { writes: [write(24)], checkpoint: null, commit: null, replay: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/index shard 0/);
    expect((await store().getSnapshots([24])).size).toBe(0); // the snapshot went with its shard: not at all
    // The store reads the shards again by itself, and then writes.
    await twin.applyWrites(current, { writes: [write(32)], checkpoint: null, commit: null, replay: false });
    expect([...(await store().readIndex()).keys()].sort()).toEqual([16, 32]);
  });

  it('a replayed commit whose snapshots are already written writes their entries again, the same', async () => {
    const s = store();
    const fence = await fenced(s);
    await s.readIndex();
    const commit = { generation: fence.lease.generation, commit: 1 };
    await s.applyWrites(fence, { writes: [write(3)], checkpoint: null, commit, replay: false });
    await s.applyWrites(fence, { writes: [write(3)], checkpoint: null, commit, replay: true });
    expect((await store().readIndex()).get(3)).toEqual({ fp: 'fp-3', rev: 1, dueAt: null });
    expect((await store().getSnapshots([3])).get(3)?.rev).toBe(1);
  });
});

describe('a quiet cycle on DynamoDB Local', () => {
  let sim: RunningSimulator;
  afterEach(async () => {
    await sim.close();
  });

  it('reads at most 20 items, whatever the number of watched orders; a changed one reads only what changed', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 600, seed: 15, watchedShare: 0.5 })],
    });
    const dynamo = store();
    const n = notifierFor(sim, { store: dynamo });
    await n.run(); // baseline
    const first = await n.run(); // builds the index: reads every watched snapshot once
    expect(first.unchanged).toBe(0);
    const watched = first.ordersScanned;
    expect(watched).toBeGreaterThan(200);

    const before = { ...dynamo.stats };
    const quiet = await n.run();
    expect(quiet.events).toBe(0);
    expect(quiet.unchanged).toBe(watched);
    expect(dynamo.stats.itemsRead - before.itemsRead).toBeLessThanOrEqual(20);
    expect(dynamo.stats.writes - before.writes).toBe(2); // the lease, taken and released

    // Three orders change: their three snapshots are read, nothing else.
    const active = [...sim.state.orders.values()].filter(
      (o) => ['DRAFT', 'CONFIRMED'].includes(o.raw.status) && o.lineItems.some(hasWorkLeft),
    );
    for (const order of active.slice(0, 3)) sim.state.advanceStage(order.raw.id);
    const mid = { ...dynamo.stats };
    const changed = await n.run();
    expect(changed.events).toBeGreaterThanOrEqual(3);
    expect(changed.unchanged).toBe(watched - 3);
    expect(dynamo.stats.itemsRead - mid.itemsRead).toBeLessThanOrEqual(20 + 3);
    expect(dynamo.stats.itemsRead - mid.itemsRead).toBeGreaterThanOrEqual(3);
  });
});
