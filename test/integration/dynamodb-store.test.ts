import { deflateRawSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import { ConflictError, ItemTooLargeError, LeaseLostError } from '../../functions/cycle/errors.js';
import type { Checkpoint, Fence, JournalPart, Lease, LeaseOutcome } from '../../functions/cycle/records.js';
import { freshTable } from '../helpers/aws.js';
import { vendorEvent, vendorOrder } from '../helpers/orders.js';

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

const claim = (owner: string, nowMs: number, ttlMs = 10_000) => ({ owner, nowMs, ttlMs });
const leaseOf = (outcome: LeaseOutcome): Lease => {
  if (outcome.kind !== 'acquired') throw new Error(`lease held by ${outcome.holder.owner}`);
  return outcome.lease;
};
const fenced = async (s: DynamoStateStore, owner = 'writer'): Promise<Fence> => ({
  lease: leaseOf(await s.acquireLease(claim(owner, 1_000, 1e12))),
});
const checkpoint: Checkpoint = {
  v: 1,
  baselineAt: 'x',
  highestId: 7,
  watched: [1, 2],
  lastSweepAt: null,
  sweep: null,
};

describe('DynamoDB state store (DynamoDB Local)', () => {
  it('lease: one holder at a time, generations count up, expiry lets the next one in, the holder is named', async () => {
    const s = store();
    const a = leaseOf(await s.acquireLease({ ...claim('a', 1_000), host: 'h1', pid: 42 }));
    expect(a).toMatchObject({ owner: 'a', host: 'h1', pid: 42, expiresAt: 11_000, generation: 1 });
    expect(await s.acquireLease(claim('b', 2_000))).toEqual({ kind: 'held', holder: a });
    const b = leaseOf(await s.acquireLease(claim('b', 11_001)));
    expect(b.generation).toBe(2);
    await s.releaseLease(a); // a stale holder's release does nothing
    expect((await s.acquireLease(claim('c', 12_000))).kind).toBe('held');
    await s.releaseLease(b);
    const c = leaseOf(await s.acquireLease(claim('c', 12_000)));
    // A counter, not a clock: it survives the release.
    expect(c.generation).toBe(3);
  });

  it('lease: a takeover succeeds only against the exact holder it names', async () => {
    const s = store();
    const dead = leaseOf(await s.acquireLease({ ...claim('dead', 1_000), host: 'h', pid: 1 }));
    const stale = { ...dead, generation: dead.generation - 1 };
    expect((await s.takeOverLease(claim('rerun', 2_000), stale)).kind).toBe('held');
    const taken = leaseOf(await s.takeOverLease(claim('rerun', 2_000), dead));
    expect(taken.generation).toBe(dead.generation + 1);
    // Once taken, a second takeover naming the dead holder fails: the lease is the rerun's now.
    expect((await s.takeOverLease(claim('another', 2_500), dead)).kind).toBe('held');
  });

  it('lease: of four runners racing for a free lease, exactly one wins', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((owner) => store().acquireLease(claim(owner, 1_000))),
    );
    expect(results.filter((r) => r.kind === 'acquired')).toHaveLength(1);
  });

  it('fencing: once another runner holds the lease, nothing the old holder sends is applied', async () => {
    const s = store();
    const old: Fence = { lease: leaseOf(await s.acquireLease(claim('old', 1_000, 1_000))) };
    const part: JournalPart = {
      generation: old.lease.generation,
      commit: 1,
      part: 0,
      events: [],
      writes: [],
      checkpoint,
    };
    await s.writeJournalPart(old, part);
    leaseOf(await s.acquireLease(claim('new', 5_000)));
    await expect(s.writeJournalPart(old, { ...part, part: 1 })).rejects.toThrow(LeaseLostError);
    await expect(
      s.sealJournal(old, { generation: old.lease.generation, commit: 1, parts: 2 }),
    ).rejects.toThrow(LeaseLostError);
    await expect(
      s.applyWrites(old, {
        writes: [{ orderId: 5, snapshot: snapshot(5), expectedRev: 0 }],
        checkpoint,
        commit: null,
        replay: false,
      }),
    ).rejects.toThrow(LeaseLostError);
    await expect(s.clearJournal(old, part, [0])).rejects.toThrow(LeaseLostError);
    expect((await s.getSnapshots([5])).size).toBe(0);
    expect(await s.getCheckpoint()).toBeUndefined();
    const journal = await s.readJournal();
    expect(journal.parts.map((p) => p.part)).toEqual([0]);
    expect(journal.seals).toEqual([]);
  });

  it('reads snapshots in BatchGetItem calls of at most 100 keys; writes in transactions, conditional on the version', async () => {
    const s = store();
    const fence = await fenced(s);
    const ids = Array.from({ length: 250 }, (_, i) => 1_000 + i);
    const writesBefore = s.stats.writes;
    await s.applyWrites(fence, {
      writes: ids.map((id) => ({ orderId: id, snapshot: snapshot(id), expectedRev: 0 })),
      checkpoint,
      commit: null,
      replay: false,
    });
    // 251 items in transactions of at most 99 items and the lease check.
    expect(s.stats.writes - writesBefore).toBe(3);
    s.stats.batchGets = 0;
    const read = await s.getSnapshots([...ids, 99_999]);
    expect(read.size).toBe(250);
    expect(s.stats.batchGets).toBe(3);
    expect(read.get(1_000)).toMatchObject({ rev: 1, snapshot: { order: { number: '1308' } } });
    expect(await s.getCheckpoint()).toEqual(checkpoint);
    const again = {
      writes: [{ orderId: 1_000, snapshot: snapshot(1_000), expectedRev: 0 }],
      checkpoint: null,
      commit: null,
      replay: false,
    };
    await expect(s.applyWrites(fence, again)).rejects.toThrow(ConflictError);
    await expect(s.applyWrites(fence, again)).rejects.toThrow(/order 1000/);
    expect(s.stats.readCapacity).toBeGreaterThan(0);
    expect(s.stats.writeCapacity).toBeGreaterThan(0);
  });

  it('a replay recognises its own commit’s writes, and only those', async () => {
    const s = store();
    const fence = await fenced(s);
    const write = { orderId: 7, snapshot: snapshot(7), expectedRev: 0 };
    const commit = { generation: fence.lease.generation, commit: 1 };
    await s.applyWrites(fence, { writes: [write], checkpoint: null, commit, replay: false });
    // The crash came after the write: replaying the same commit is not a conflict.
    await s.applyWrites(fence, { writes: [write], checkpoint: null, commit, replay: true });
    expect((await s.getSnapshots([7])).get(7)?.rev).toBe(1);
    // Another commit's replay over a snapshot it did not write is one.
    await expect(
      s.applyWrites(fence, {
        writes: [write],
        checkpoint: null,
        commit: { ...commit, commit: 2 },
        replay: true,
      }),
    ).rejects.toThrow(ConflictError);
  });

  it('journal: parts and seals per commit, per organisation; the seal goes first when cleared', async () => {
    const one = store('1');
    const two = store('2');
    const fence = await fenced(one);
    const ref = { generation: fence.lease.generation, commit: 3 };
    const part: JournalPart = { ...ref, part: 0, events: [vendorEvent()], writes: [], checkpoint: null };
    await one.writeJournalPart(fence, part);
    await one.writeJournalPart(fence, { ...part, part: 1, checkpoint });
    await one.sealJournal(fence, { ...ref, parts: 2 });
    const journal = await one.readJournal();
    expect(journal.parts.map((p) => p.part)).toEqual([0, 1]);
    expect(journal.parts[1]?.checkpoint).toEqual(checkpoint);
    expect(journal.seals).toEqual([{ ...ref, parts: 2 }]);
    expect(await two.readJournal()).toEqual({ parts: [], seals: [] });
    await one.clearJournal(fence, ref, [0, 1]);
    expect(await one.readJournal()).toEqual({ parts: [], seals: [] });
  });

  it('reads a journal record of the previous version as a sealed one-part commit, and clears it by its key', async () => {
    const s = store();
    const fence = await fenced(s);
    const legacy = {
      generation: 1_764_000_000_000,
      part: 2,
      events: [vendorEvent()],
      writes: [],
      checkpoint,
    };
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'org#35802' },
          sk: { S: 'journal#0001764000000000#000002' },
          data: { B: deflateRawSync(Buffer.from(JSON.stringify(legacy))) },
        },
      }),
    );
    const journal = await s.readJournal();
    expect(journal.seals).toEqual([{ generation: legacy.generation, commit: -3, parts: 1 }]);
    expect(journal.parts).toMatchObject([{ generation: legacy.generation, commit: -3, part: 0, checkpoint }]);
    await s.clearJournal(fence, journal.seals[0]!, [0]);
    expect(await s.readJournal()).toEqual({ parts: [], seals: [] });
  });

  it('refuses an item above 400 KB with a message naming it, before sending it', async () => {
    const s = store();
    const fence = await fenced(s);
    const noise = Array.from({ length: 60_000 }, (_, i) => `${i}-${Math.random().toString(36)}`).join('');
    const big = { ...snapshot(8), order: { ...snapshot(8).order, companyName: noise } };
    expect(s.snapshotFits(snapshot(8))).toBe(true);
    expect(s.snapshotFits(big)).toBe(false);
    await expect(
      s.applyWrites(fence, {
        writes: [{ orderId: 8, snapshot: big, expectedRev: 0 }],
        checkpoint: null,
        commit: null,
        replay: false,
      }),
    ).rejects.toThrow(ItemTooLargeError);
    await expect(
      s.applyWrites(fence, {
        writes: [{ orderId: 8, snapshot: big, expectedRev: 0 }],
        checkpoint: null,
        commit: null,
        replay: false,
      }),
    ).rejects.toThrow(/order#8 .* above DynamoDB's 400 KB item limit/);
  });

  it('keeps set-aside events until they are removed', async () => {
    const s = store();
    const fence = await fenced(s);
    const event = vendorEvent();
    await s.setAside(fence, [
      { event, reason: 'MalformedDetail: x', setAsideAt: '2026-11-30T00:00:00.000Z' },
    ]);
    expect((await s.listSetAside()).map((e) => e.event.detail.eventId)).toEqual([event.detail.eventId]);
    await s.removeSetAside(fence, [event.detail.eventId]);
    expect(await s.listSetAside()).toEqual([]);
  });

  it('asks again for UnprocessedKeys until every key is read', async () => {
    const s = store();
    await s.applyWrites(await fenced(s), {
      writes: [1, 2, 3, 4].map((id) => ({ orderId: id, snapshot: snapshot(id), expectedRev: 0 })),
      checkpoint: null,
      commit: null,
      replay: false,
    });
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
});
