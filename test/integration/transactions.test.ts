import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { INDEX_SHARDS } from '../../functions/adapters/dynamodb/index-shards.js';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import type { CommitBatch, CommitContext } from '../../functions/cycle/commit.js';
import { CommitReplayError, commit } from '../../functions/cycle/commit.js';
import { WriteRefusedError } from '../../functions/cycle/errors.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import type {
  Checkpoint,
  JournalSeal,
  Lease,
  LeaseOutcome,
  SnapshotWrite,
} from '../../functions/cycle/records.js';
import { commitIdOf } from '../../functions/cycle/records.js';
import { localDynamoDb } from '../../local-aws/clients.js';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { hasWorkLeft } from '../../simulator/state.js';
import { freshTable } from '../helpers/aws.js';
import { MemorySink, notifierFor } from '../helpers/harness.js';
import { lambdaContext, localLambdaEnv } from '../helpers/lambda.js';
import { vendorEvent, vendorOrder } from '../helpers/orders.js';
import { pollEvent } from '../helpers/poll-queue.js';

let tableName: string;
let endpoint: string;

beforeEach(async () => {
  ({ tableName, endpoint } = await freshTable());
});

const skOf = (item: TransactWriteItem): string =>
  (item.ConditionCheck?.Key ?? item.Put?.Item ?? item.Delete?.Key ?? item.Update?.Key)?.sk?.S ?? '';

/**
 * A client for DynamoDB Local that records every transaction it sends, and can be told to play a
 * DynamoDB that refuses some: such a transaction is sent with its lease check repeated at the end, so
 * that DynamoDB Local itself refuses it (ValidationException: multiple operations on one item).
 */
const recordingClient = () => {
  const client = localDynamoDb(endpoint);
  const sent: TransactWriteItem[][] = [];
  const state = { refused: 0, refuse: (_items: TransactWriteItem[]): boolean => false };
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  client.send = ((command: unknown, ...rest: unknown[]) => {
    if (command instanceof TransactWriteItemsCommand) {
      const items = command.input.TransactItems ?? [];
      sent.push(items);
      if (state.refuse(items)) {
        state.refused++;
        const refused = new TransactWriteItemsCommand({
          ...command.input,
          TransactItems: [...items, items[0] as TransactWriteItem],
        });
        return send(refused, ...rest);
      }
    }
    return send(command, ...rest);
  }) as DynamoDBClient['send'];
  return { client, sent, state };
};

const storeOf = (client: DynamoDBClient, organisation = 'txn') =>
  new DynamoStateStore({ client, tableName, organisation, sleep: async () => {} });

const leaseOf = (outcome: LeaseOutcome): Lease => {
  if (outcome.kind !== 'acquired') throw new Error(`lease held by ${outcome.holder.owner}`);
  return outcome.lease;
};

const contextOf = (store: DynamoStateStore, sink: MemorySink, lease: Lease): CommitContext => ({
  store,
  sink,
  lease,
  now: () => 1_000,
  logger: silentLogger,
  step: () => {},
  commits: 0,
  setAside: 0,
});

const checkpoint: Checkpoint = {
  v: 1,
  baselineAt: '2026-11-30T00:00:00.000Z',
  highestId: 112,
  watched: [],
  lastSweepAt: null,
  sweep: null,
};

/** Text that deflate cannot shrink (hashes in base64), the same on every machine. */
const noise = (seed: number, bytes: number): string => {
  const blocks = Array.from({ length: Math.ceil(bytes / 32) }, (_, i) =>
    createHash('sha256').update(`${seed}:${i}`).digest(),
  );
  return Buffer.concat(blocks).subarray(0, bytes).toString('base64');
};

/** A snapshot of about 230 KB once deflated, as the store writes it. */
const bigWrite = (id: number): SnapshotWrite => {
  const order = vendorOrder('1308');
  order.id = id;
  order.companyName = noise(id, 228_000);
  return {
    orderId: id,
    snapshot: snapshotOf(order, 1),
    expectedRev: 0,
    indexed: { fp: `fp-${id}`, dueAt: null },
  };
};

/** The ids an index shard write holds (its packed columns: ids delta-encoded). */
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

describe('transactions (DynamoDB Local)', () => {
  it('a commit of 14 snapshots of ~230 KB in one shard and an event: committed, published, the state right', async () => {
    const recorded = recordingClient();
    const store = storeOf(recorded.client);
    const lease = leaseOf(await store.acquireLease({ owner: 'w', nowMs: 1_000, ttlMs: 1e12 }));
    await store.readIndex();
    const sink = new MemorySink();
    const ids = Array.from({ length: 14 }, (_, i) => (i + 1) * INDEX_SHARDS);
    const batch: CommitBatch = { events: [vendorEvent()], writes: ids.map(bigWrite), checkpoint };
    for (const write of batch.writes) {
      const bytes = deflateRawSync(Buffer.from(JSON.stringify(write.snapshot))).length;
      expect(bytes).toBeGreaterThan(225_000);
      expect(bytes).toBeLessThan(240_000);
    }

    await commit(contextOf(store, sink, lease), batch);

    expect(sink.published.map((e) => e.detail.eventId)).toEqual([vendorEvent().detail.eventId]);
    const reader = storeOf(localDynamoDb(endpoint));
    expect(await reader.readJournal()).toEqual({ parts: [], seals: [] });
    const snapshots = await reader.getSnapshots(ids);
    expect([...snapshots.keys()].sort((a, b) => a - b)).toEqual(ids);
    for (const write of batch.writes) {
      expect(snapshots.get(write.orderId)?.rev).toBe(1);
      expect(snapshots.get(write.orderId)?.snapshot.order.companyName).toBe(write.snapshot.order.companyName);
    }
    const index = await reader.readIndex();
    expect([...index].sort((a, b) => a[0] - b[0])).toEqual(
      ids.map((id) => [id, { fp: `fp-${id}`, rev: 1, dueAt: null }]),
    );
    expect(await reader.getCheckpoint()).toEqual(checkpoint);

    // Every transaction: led by the lease check, no item twice, at most 100 actions and 4 MB.
    const state = recorded.sent.filter((items) =>
      items.some((i) => /^(order|index)#|^checkpoint$/.test(skOf(i))),
    );
    for (const items of recorded.sent) {
      const keys = items.map(skOf);
      expect(keys[0]).toBe('lease');
      expect(items[0]?.ConditionCheck).toBeDefined();
      expect(new Set(keys).size).toBe(keys.length);
      expect(items.length).toBeLessThanOrEqual(100);
      const bytes = items.reduce((sum, i) => sum + (i.Put?.Item?.data?.B?.length ?? 0), 0);
      expect(bytes).toBeLessThan(4 * 1024 * 1024);
    }
    // The shard spans several transactions: written in each, with every snapshot written so far.
    const written: number[] = [];
    let shardWrites = 0;
    for (const items of state) {
      for (const item of items) {
        const sk = skOf(item);
        if (sk.startsWith('order#')) written.push(Number(sk.slice('order#'.length)));
      }
      const shard = items.find((i) => skOf(i) === 'index#0');
      if (!shard) continue;
      shardWrites++;
      expect(shardIds(shard)).toEqual([...written].sort((a, b) => a - b));
      expect(shard.Put?.ConditionExpression).toMatch(/attribute_not_exists\(pk\)|ver = :ver/);
    }
    expect(shardWrites).toBeGreaterThanOrEqual(2);
    expect(written.sort((a, b) => a - b)).toEqual(ids);
  });

  it('refuses a transaction that would name an item twice before sending it, with an internal error naming it', async () => {
    const recorded = recordingClient();
    const store = storeOf(recorded.client);
    const lease = leaseOf(await store.acquireLease({ owner: 'w', nowMs: 1_000, ttlMs: 1e12 }));
    const twice = vendorOrder('1308');
    twice.id = 8;
    const write: SnapshotWrite = { orderId: 8, snapshot: snapshotOf(twice, 1), expectedRev: 0 };
    const sent = recorded.sent.length;
    const error = await store
      .applyWrites({ lease }, { writes: [write, write], checkpoint: null, commit: null, replay: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteRefusedError);
    expect((error as Error).message).toMatch(
      /^internal error: a transaction would name the snapshot of order 8 \(order#8\) twice, which DynamoDB refuses; nothing was sent$/,
    );
    expect(recorded.sent.length).toBe(sent);
    expect((await storeOf(localDynamoDb(endpoint)).getSnapshots([8])).size).toBe(0);
  });
});

describe('a sealed commit DynamoDB refuses as packed (DynamoDB Local, the simulator)', () => {
  let sim: RunningSimulator;
  afterEach(async () => {
    await sim.close();
  });

  const moveSomeOrders = (s: RunningSimulator, count: number) => {
    const active = [...s.state.orders.values()].filter(
      (o) => ['DRAFT', 'CONFIRMED'].includes(o.raw.status) && o.lineItems.some(hasWorkLeft),
    );
    for (const order of active.slice(0, count))
      for (const item of order.lineItems) s.state.advanceStage(order.raw.id, item.raw.id as number);
  };

  const setUp = async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 40, seed: 21, watchedShare: 0.7 })],
    });
    const recorded = recordingClient();
    const store = storeOf(recorded.client);
    const n = notifierFor(sim, { store });
    await n.run(); // the baseline
    const from = sim.state.ledger.length;
    moveSomeOrders(sim, 6);
    // The commit is sealed, then the process dies: nothing published, the journal holds the promise.
    await n.runAndKill('journal-sealed');
    const journal = await store.readJournal();
    expect(journal.seals).toHaveLength(1);
    const promised = journal.parts.flatMap((p) => p.events).map((e) => e.detail.eventId);
    expect(promised.length).toBeGreaterThan(3);
    const rewritten = journal.parts.flatMap((p) => p.writes).map((w) => `order#${w.orderId}`);
    expect(rewritten.length).toBeGreaterThan(3);
    expect(n.memory.published).toEqual([]);
    return { n, recorded, store, from, promised, rewritten, id: commitIdOf(journal.seals[0] as JournalSeal) };
  };

  it('is finished on the next cycle one item at a time: the same events and eventIds, nothing lost', async () => {
    const { n, recorded, from, promised, rewritten } = await setUp();
    // From now on DynamoDB refuses every transaction that writes a snapshot and anything else.
    recorded.state.refuse = (items) => items.length > 2 && items.some((i) => skOf(i).startsWith('order#'));
    // The orders move on before the rerun: the replay still publishes what the journal promised.
    moveSomeOrders(sim, 6);
    const sentBefore = recorded.sent.length;
    const report = await n.run();
    expect(report.outcome).toBe('completed');
    expect(report.republished).toBe(promised.length);
    expect(n.memory.published.slice(0, promised.length).map((e) => e.detail.eventId)).toEqual(promised);
    // This cycle's own commit was refused as packed too, and written one item at a time at once.
    expect(report.events).toBeGreaterThan(0);
    expect(recorded.state.refused).toBeGreaterThanOrEqual(2);
    const snapshotsAlone = recorded.sent
      .slice(sentBefore)
      .filter((items) => items.length === 2 && skOf(items[1] as TransactWriteItem).startsWith('order#'));
    const alone = new Set(snapshotsAlone.map((items) => skOf(items[1] as TransactWriteItem)));
    for (const sk of rewritten) expect(alone.has(sk), sk).toBe(true);
    expect(await n.store.readJournal()).toEqual({ parts: [], seals: [] });

    recorded.state.refuse = () => false;
    const quiet = await n.run();
    expect(quiet.events).toBe(0);
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('when even one item at a time is refused, the commit stays sealed, every cycle fails naming it, and it is finished once DynamoDB accepts it', async () => {
    const { n, recorded, from, promised, id } = await setUp();
    // DynamoDB refuses every transaction that writes a snapshot.
    recorded.state.refuse = (items) => items.some((i) => skOf(i).startsWith('order#'));
    for (let cycle = 0; cycle < 2; cycle++) {
      const error = await n.run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommitReplayError);
      expect((error as CommitReplayError).commitId).toBe(id);
      const message = (error as Error).message;
      expect(message).toContain(`sealed commit ${id} could not be replayed`);
      expect(message).toContain('Transaction request cannot include multiple operations on one item');
      expect(message).toContain('then one item at a time');
      expect(message).toMatch(/every cycle retries it first/);
      expect(message).toMatch(/do not delete them/);
      // Never dropped, never skipped past: the seal is still there and nothing went out.
      const journal = await n.store.readJournal();
      expect(journal.seals.map(commitIdOf)).toEqual([id]);
      expect(n.memory.published).toEqual([]);
    }

    recorded.state.refuse = () => false;
    const report = await n.run();
    expect(report.republished).toBe(promised.length);
    expect(n.memory.published.map((e) => e.detail.eventId).slice(0, promised.length)).toEqual(promised);
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });
});

describe('a sealed commit that cannot be replayed, in the Lambda handlers (local endpoints)', () => {
  let sim: RunningSimulator;
  let bus: LocalEventBridge;
  let secrets: LocalSecrets;
  const saved = { ...process.env };
  beforeAll(async () => {
    [sim, bus, secrets] = await Promise.all([
      startSimulator({ orders: vendorExampleOrders() }),
      startLocalEventBridge(),
      startLocalSecrets(),
    ]);
  });
  afterAll(async () => {
    process.env = saved;
    await Promise.all([sim.close(), bus.close(), secrets.close()]);
  });
  beforeEach(() => {
    vi.resetModules();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  it('the poll and check handlers fail naming the commit and count CommitReplayFailed; the commit stays sealed', async () => {
    // A sealed commit whose snapshot another writer changed since: its replay is refused every time.
    const store = storeOf(localDynamoDb(endpoint), 'default');
    const lease = leaseOf(
      await store.acquireLease({ owner: 'stopped-run', nowMs: Date.now(), ttlMs: 60_000 }),
    );
    const order = vendorOrder('1308');
    const write: SnapshotWrite = { orderId: order.id, snapshot: snapshotOf(order, 1), expectedRev: 0 };
    await store.applyWrites({ lease }, { writes: [write], checkpoint: null, commit: null, replay: false });
    const ref = { generation: lease.generation, commit: 1 };
    await store.writeJournalPart(
      { lease },
      { ...ref, part: 0, events: [vendorEvent()], writes: [write], checkpoint },
    );
    await store.sealJournal({ lease }, { ...ref, parts: 1 });
    await store.releaseLease(lease);
    const id = commitIdOf(ref);

    secrets.secrets.set('uphance/txn', JSON.stringify({ token: 'sim-token' }));
    process.env = {
      ...saved,
      ...localLambdaEnv({ dynamodb: endpoint, eventbridge: bus.url, secretsManager: secrets.url }),
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: 'uphance-notifier',
      UPHANCE_SECRET_ARN: 'uphance/txn',
      UPHANCE_API_URL: sim.url,
      // One organisation: the check function never sends to its queue here.
      CHECK_QUEUE_URL: 'http://127.0.0.1:9/queue/checks.fifo',
    };
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    // The worker reports the failure and consumes the message (the next period tries again).
    const polled = await poll.handler(pollEvent(), lambdaContext(300_000, 'poll'));
    expect(polled.results[0]).toMatchObject({ outcome: 'failed' });
    expect(polled.results[0]?.error).toMatch(
      new RegExp(
        `^sealed commit ${id.replace('.', '\\.')} could not be replayed: the snapshot of order ${order.id} was changed by another writer`,
      ),
    );
    const message = {
      messageId: 'm-0',
      body: JSON.stringify({ number: '1308' }),
    } as SQSEvent['Records'][number];
    const checked = await check.handler({ Records: [message] }, lambdaContext(90_000, 'check'));
    expect(checked.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);

    const written = [process.stdout.write, process.stderr.write]
      .flatMap((w) => (w as unknown as { mock: { calls: unknown[][] } }).mock.calls)
      .map((c) => String(c[0]))
      .join('\n');
    expect(written.match(/"CommitReplayFailed":1/g)?.length).toBe(2);
    expect(written).toContain(`cycle failed: sealed commit ${id} could not be replayed`);
    expect(written).toContain(`check failed: sealed commit ${id} could not be replayed`);
    expect(written).not.toContain('sim-token');
    expect(bus.events).toEqual([]);
    expect((await store.readJournal()).seals.map(commitIdOf)).toEqual([id]);
  });
});
