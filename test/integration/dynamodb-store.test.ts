import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../functions/adapters/dynamodb-store.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import type { Checkpoint, JournalEntry } from '../../functions/cycle/ports.js';
import { ConflictError, LeaseLostError } from '../../functions/cycle/ports.js';
import { freshTable } from '../helpers/aws.js';
import { vendorOrder } from '../helpers/orders.js';

let client: DynamoDBClient;
let tableName: string;
const store = (organisation = '35802', c: DynamoDBClient = client) =>
  new DynamoStateStore({ client: c, tableName, organisation, sleep: async () => {} });

beforeEach(async () => {
  ({ client, tableName } = await freshTable());
});

const snapshot = (id: number) => {
  const order = vendorOrder('1308');
  order.id = id;
  return snapshotOf(order, 1);
};

describe('DynamoDB state store (DynamoDB Local)', () => {
  it('lease: one holder at a time, fencing tokens increase, expiry lets the next one in', async () => {
    const s = store();
    const a = await s.acquireLease('a', 1_000, 10_000);
    expect(a).toMatchObject({ owner: 'a', expiresAt: 11_000 });
    expect(await s.acquireLease('b', 2_000, 10_000)).toBeUndefined();
    await s.assertLease(a!, 5_000);
    await expect(s.assertLease(a!, 11_000)).rejects.toThrow(LeaseLostError);
    const b = await s.acquireLease('b', 11_001, 10_000);
    expect(b!.generation).toBeGreaterThan(a!.generation);
    await expect(s.assertLease(a!, 11_002)).rejects.toThrow(LeaseLostError);
    await s.releaseLease(a!); // a stale holder's release does nothing
    expect(await s.acquireLease('c', 12_000, 10_000)).toBeUndefined();
    await s.releaseLease(b!);
    const c = await s.acquireLease('c', 12_000, 10_000);
    expect(c!.generation).toBeGreaterThan(b!.generation);
  });

  it('lease: of two runners racing for a free lease, exactly one wins', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((owner) => store().acquireLease(owner, 1_000, 10_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('reads snapshots in BatchGetItem calls of at most 100 keys, and writes conditionally on the version', async () => {
    const s = store();
    const ids = Array.from({ length: 250 }, (_, i) => 1_000 + i);
    await s.writeSnapshots(
      ids.map((id) => ({ orderId: id, snapshot: snapshot(id), expectedRev: 0 })),
      { replay: false },
    );
    s.stats.batchGets = 0;
    const read = await s.getSnapshots([...ids, 99_999]);
    expect(read.size).toBe(250);
    expect(s.stats.batchGets).toBe(3);
    expect(read.get(1_000)).toMatchObject({ rev: 1, snapshot: { order: { number: '1308' } } });
    await expect(
      s.writeSnapshots([{ orderId: 1_000, snapshot: snapshot(1_000), expectedRev: 0 }], { replay: false }),
    ).rejects.toThrow(ConflictError);
    await s.writeSnapshots([{ orderId: 1_000, snapshot: snapshot(1_000), expectedRev: 1 }], {
      replay: false,
    });
    // A replayed journal write that was already applied is skipped, not an error.
    await s.writeSnapshots([{ orderId: 1_000, snapshot: snapshot(1_000), expectedRev: 1 }], { replay: true });
    expect((await s.getSnapshots([1_000])).get(1_000)?.rev).toBe(2);
    expect(s.stats.readCapacity).toBeGreaterThan(0);
    expect(s.stats.writeCapacity).toBeGreaterThan(0);
  });

  it('asks again for UnprocessedKeys until every key is read', async () => {
    const s = store();
    await s.writeSnapshots(
      [1, 2, 3, 4].map((id) => ({ orderId: id, snapshot: snapshot(id), expectedRev: 0 })),
      { replay: false },
    );
    // DynamoDB Local never throttles; this client hands back half of each request as unprocessed, as
    // DynamoDB does under load.
    let calls = 0;
    const stingy = {
      send: async (command: unknown) => {
        if (command instanceof BatchGetItemCommand) {
          calls++;
          const request = command.input.RequestItems![tableName]!;
          const keys = request.Keys!;
          const half = Math.ceil(keys.length / 2);
          const out = await client.send(
            new BatchGetItemCommand({
              RequestItems: { [tableName]: { ...request, Keys: keys.slice(0, half) } },
            }),
          );
          return keys.length > 1
            ? { ...out, UnprocessedKeys: { [tableName]: { Keys: keys.slice(half) } } }
            : out;
        }
        return client.send(command as never);
      },
    } as unknown as DynamoDBClient;
    const read = await store('35802', stingy).getSnapshots([1, 2, 3, 4]);
    expect([...read.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(calls).toBe(3);
  });

  it('keeps checkpoint, journal and snapshots per organisation', async () => {
    const one = store('1');
    const two = store('2');
    const checkpoint: Checkpoint = {
      v: 1,
      baselineAt: 'x',
      highestId: 7,
      watched: [1, 2],
      lastSweepAt: null,
      sweep: null,
    };
    await one.putCheckpoint(checkpoint);
    expect(await one.getCheckpoint()).toEqual(checkpoint);
    expect(await two.getCheckpoint()).toBeUndefined();
    const entry: JournalEntry = {
      generation: 5,
      part: 0,
      events: [],
      writes: [{ orderId: 1, snapshot: snapshot(1), expectedRev: 0 }],
      checkpoint,
    };
    await one.writeJournal(entry);
    await one.writeJournal({ ...entry, part: 1 });
    expect((await one.readJournal()).map((e) => e.part)).toEqual([0, 1]);
    expect(await two.readJournal()).toEqual([]);
    await one.deleteJournal(entry);
    expect((await one.readJournal()).map((e) => e.part)).toEqual([1]);
    await one.writeSnapshots([{ orderId: 9, snapshot: snapshot(9), expectedRev: 0 }], { replay: false });
    const listed: number[] = [];
    for await (const ids of one.listSnapshotIds()) listed.push(...ids);
    expect(listed).toEqual([9]);
    expect((await two.getSnapshots([9])).size).toBe(0);
  });
});
