import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type {
  AttributeValue,
  BatchGetItemCommandOutput,
  ConsumedCapacity,
  QueryCommandOutput,
  TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { StageSample } from '../core/history.js';
import { StageHistory } from '../core/history.js';
import type { Snapshot } from '../core/snapshot.js';
import type {
  Checkpoint,
  CommitRef,
  Fence,
  IndexEntry,
  Journal,
  JournalPart,
  JournalSeal,
  Lease,
  LeaseClaim,
  LeaseOutcome,
  SetAsideEvent,
  SnapshotWrite,
  StateStore,
  StateWrites,
  StoredSnapshot,
} from '../cycle/ports.js';
import {
  ConflictError,
  commitIdOf,
  DeadlineExceededError,
  ItemTooLargeError,
  LeaseLostError,
  WriteRefusedError,
} from '../cycle/ports.js';
import { backoffDelay, sleep } from '../shared/timing.js';
import type { HistoryShard } from './dynamodb-history.js';
import { HISTORY_SHARDS, historyKey, historyOfShards, mergeIntoShards } from './dynamodb-history.js';
import type { LeaseMeter } from './dynamodb-lease.js';
import { DynamoLease } from './dynamodb-lease.js';

/** Requests and capacity this store used: for metrics and the benchmark. */
export interface DynamoStats {
  reads: number;
  writes: number;
  batchGets: number;
  /** Items returned by GetItem, BatchGetItem and Query (what a cycle reads, whatever the calls). */
  itemsRead: number;
  readCapacity: number;
  writeCapacity: number;
}

export const emptyDynamoStats = (): DynamoStats => ({
  reads: 0,
  writes: 0,
  batchGets: 0,
  itemsRead: 0,
  readCapacity: 0,
  writeCapacity: 0,
});

/** Adds the capacity a request consumed to the figures. */
const countCapacity = (
  stats: DynamoStats,
  capacity: ConsumedCapacity | ConsumedCapacity[] | undefined,
  kind: 'read' | 'write',
): void => {
  const list = Array.isArray(capacity) ? capacity : capacity ? [capacity] : [];
  for (const c of list) {
    const units = c.CapacityUnits ?? 0;
    if (kind === 'read') stats.readCapacity += units;
    else stats.writeCapacity += units;
  }
};

/** A lease's requests, counted in these figures. */
export const statsMeter = (stats: DynamoStats): LeaseMeter => ({
  read: (capacity, found) => {
    stats.reads++;
    if (found) stats.itemsRead++;
    countCapacity(stats, capacity, 'read');
  },
  write: (capacity) => {
    stats.writes++;
    countCapacity(stats, capacity, 'write');
  },
});

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Scopes every key, so that one table can serve several Uphance organisations. */
  organisation: string;
  /** Where to count requests and capacity (shared by the stores of one runner); a new count by default. */
  stats?: DynamoStats;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  random?: () => number;
}

/** DynamoDB's item limit is 400 KB; keys and attribute names take the rest of this margin. */
const MAX_ITEM_BYTES = 400 * 1024;
const ITEM_OVERHEAD_BYTES = 1024;
/** TransactWriteItems: at most 100 actions (one is the lease check) and 4 MB. */
const MAX_TRANSACTION_ITEMS = 99;
const MAX_TRANSACTION_BYTES = 3_500_000;

const pack = (value: unknown): Uint8Array => deflateRawSync(Buffer.from(JSON.stringify(value)));
const unpack = <T>(bytes: Uint8Array): T => JSON.parse(inflateRawSync(bytes).toString('utf8')) as T;

const orderKey = (id: number) => `order#${id}`;
const commitKey = (ref: CommitRef) =>
  `journal#${String(ref.generation).padStart(16, '0')}#${String(ref.commit).padStart(8, '0')}`;
/**
 * Version 0.1 journaled each commit part as one record, `journal#<generation>#<part>`, without seals: such
 * a record is read as a sealed commit of one part numbered -(part + 1), and cleared by its own key.
 */
const legacyKey = (ref: CommitRef) =>
  `journal#${String(ref.generation).padStart(16, '0')}#${String(-ref.commit - 1).padStart(6, '0')}`;
const isLegacy = (ref: CommitRef) => ref.commit < 0;
const partKey = (ref: CommitRef, part: number) =>
  isLegacy(ref) ? legacyKey(ref) : `${commitKey(ref)}#part#${String(part).padStart(6, '0')}`;
const sealKey = (ref: CommitRef) => (isLegacy(ref) ? legacyKey(ref) : `${commitKey(ref)}#seal`);
const asideKey = (eventId: string) => `aside#${eventId}`;

/**
 * The index of watched orders lives in INDEX_SHARDS items, `index#0` to `index#7`; an order's entry is in
 * shard `id % INDEX_SHARDS`. A fixed number: entries found in a shard that is not theirs are ignored.
 * About 11 bytes an entry once packed, so 50,000 watched orders take some 550 KB in all, ~70 KB a shard.
 */
export const INDEX_SHARDS = 8;
const indexKey = (shard: number) => `index#${shard}`;
const shardOf = (orderId: number) => orderId % INDEX_SHARDS;

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

const BACKOFF = { baseDelayMs: 50, maxDelayMs: 2_000 };
const MAX_ATTEMPTS = 10;

interface PendingWrite {
  item: TransactWriteItem;
  /** The item's sort key: a transaction may name an item only once. */
  sk: string;
  bytes: number;
  /** What a failed condition on this item means. */
  describe: string;
}

/** Writes that go in one transaction together; `applied` runs once it succeeded. */
interface WriteGroup {
  writes: PendingWrite[];
  applied?: () => void;
}

/**
 * State in one DynamoDB table (pk, sk). Per organisation: one item per order snapshot (deflated JSON, a
 * version number and the journaled commit that wrote it), one checkpoint item, journal parts and seals,
 * set-aside events, and one lease item whose generation counts acquisitions (never deleted, so the counter
 * survives releases). Every state write is a transaction that checks the lease generation first: once
 * another runner holds the lease, nothing the old holder sends is applied. Reads are strongly consistent.
 */
export class DynamoStateStore implements StateStore {
  readonly stats: DynamoStats;
  readonly #pk: string;
  /** The index shards as last read or written under the current lease (undefined: read them first). */
  #index: Map<number, IndexShard> | undefined;
  /** The stage history's shards, likewise (dynamodb-history.ts). */
  #history: Map<number, HistoryShard> | undefined;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  readonly #random: () => number;
  readonly #lease: DynamoLease;

  constructor(private readonly options: DynamoStoreOptions) {
    this.stats = options.stats ?? emptyDynamoStats();
    this.#pk = `org#${options.organisation}`;
    this.#sleep = options.sleep ?? sleep;
    this.#random = options.random ?? Math.random;
    this.#lease = new DynamoLease({
      client: options.client,
      tableName: options.tableName,
      pk: this.#pk,
      sleep: this.#sleep,
      random: this.#random,
      meter: statsMeter(this.stats),
    });
  }

  #key(sk: string): Record<string, AttributeValue> {
    return { pk: { S: this.#pk }, sk: { S: sk } };
  }

  #consumed(capacity: ConsumedCapacity | ConsumedCapacity[] | undefined, kind: 'read' | 'write') {
    countCapacity(this.stats, capacity, kind);
  }

  async #get(sk: string): Promise<Record<string, AttributeValue> | undefined> {
    this.stats.reads++;
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: this.#key(sk),
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'read');
    if (out.Item) this.stats.itemsRead++;
    return out.Item;
  }

  acquireLease(claim: LeaseClaim): Promise<LeaseOutcome> {
    this.#index = undefined;
    this.#history = undefined;
    return this.#lease.acquire(claim);
  }

  takeOverLease(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome> {
    this.#index = undefined;
    this.#history = undefined;
    return this.#lease.takeOver(claim, holder);
  }

  releaseLease(lease: Lease): Promise<void> {
    return this.#lease.release(lease);
  }

  async getCheckpoint(): Promise<Checkpoint | undefined> {
    const item = await this.#get('checkpoint');
    return item?.data?.B ? unpack<Checkpoint>(item.data.B) : undefined;
  }

  /** Strongly consistent BatchGetItem calls of ≤100 keys, unprocessed keys retried with backoff. */
  async #batchGet(sks: string[]): Promise<Array<Record<string, AttributeValue>>> {
    const items: Array<Record<string, AttributeValue>> = [];
    for (let i = 0; i < sks.length; i += 100) {
      let keys: Array<Record<string, AttributeValue>> | undefined = sks
        .slice(i, i + 100)
        .map((sk) => this.#key(sk));
      for (let attempt = 1; keys && keys.length > 0; attempt++) {
        if (attempt > MAX_ATTEMPTS)
          throw new Error(`DynamoDB left ${keys.length} keys unprocessed after ${MAX_ATTEMPTS} attempts`);
        if (attempt > 1) await this.#sleep(backoffDelay(BACKOFF, attempt, this.#random));
        this.stats.batchGets++;
        this.stats.reads++;
        const out: BatchGetItemCommandOutput = await this.options.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.options.tableName]: { Keys: keys, ConsistentRead: true } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        this.#consumed(out.ConsumedCapacity, 'read');
        const found = out.Responses?.[this.options.tableName] ?? [];
        this.stats.itemsRead += found.length;
        items.push(...found);
        // Throttled or too large: DynamoDB hands back what it did not read; ask again with backoff.
        keys = out.UnprocessedKeys?.[this.options.tableName]?.Keys;
      }
    }
    return items;
  }

  async getSnapshots(orderIds: number[]): Promise<Map<number, StoredSnapshot>> {
    const found = new Map<number, StoredSnapshot>();
    for (const item of await this.#batchGet(orderIds.map(orderKey))) {
      const id = Number(item.sk?.S?.slice('order#'.length));
      found.set(id, {
        rev: Number(item.rev?.N ?? 0),
        snapshot: unpack<Snapshot>(item.data?.B as Uint8Array),
      });
    }
    return found;
  }

  /** Reads every index shard (one BatchGetItem of INDEX_SHARDS keys) and keeps them for the writes. */
  async #loadIndex(): Promise<Map<number, IndexShard>> {
    const shards = new Map<number, IndexShard>();
    for (let shard = 0; shard < INDEX_SHARDS; shard++) shards.set(shard, { ver: 0, entries: new Map() });
    const keys = [...shards.keys()].map(indexKey);
    for (const item of await this.#batchGet(keys)) {
      const shard = Number(item.sk?.S?.slice('index#'.length));
      if (!shards.has(shard)) continue;
      shards.set(shard, {
        ver: Number(item.ver?.N ?? 0),
        entries: unpackShard(shard, unpack<PackedShard>(item.data?.B as Uint8Array)),
      });
    }
    this.#index = shards;
    return shards;
  }

  async readIndex(): Promise<Map<number, IndexEntry>> {
    const shards = await this.#loadIndex();
    const index = new Map<number, IndexEntry>();
    for (const shard of shards.values()) for (const [id, entry] of shard.entries) index.set(id, { ...entry });
    return index;
  }

  /** Reads every history shard (one BatchGetItem of HISTORY_SHARDS keys) and keeps them for the writes. */
  async #loadHistory(): Promise<Map<number, HistoryShard>> {
    const shards = new Map<number, HistoryShard>();
    for (let shard = 0; shard < HISTORY_SHARDS; shard++)
      shards.set(shard, { ver: 0, history: new StageHistory() });
    for (const item of await this.#batchGet([...shards.keys()].map(historyKey))) {
      const shard = Number(item.sk?.S?.slice('history#'.length));
      if (!shards.has(shard)) continue;
      shards.set(shard, {
        ver: Number(item.ver?.N ?? 0),
        history: StageHistory.fromPacked(unpack(item.data?.B as Uint8Array)),
      });
    }
    this.#history = shards;
    return shards;
  }

  async readHistory(): Promise<StageHistory> {
    return historyOfShards((await this.#loadHistory()).values());
  }

  /** The history shards these samples change, each put conditional on the version read. */
  async #historyGroups(samples: StageSample[]): Promise<WriteGroup[]> {
    const shards = this.#history ?? (await this.#loadHistory());
    const fits = (value: unknown) => pack(value).length + ITEM_OVERHEAD_BYTES <= MAX_ITEM_BYTES;
    return mergeIntoShards(shards, samples, fits).map((change) => {
      const put = this.#put(historyKey(change.shard), change.packed, { ver: { N: String(change.ver + 1) } });
      Object.assign(put.item.Put ?? {}, {
        ConditionExpression: change.ver === 0 ? 'attribute_not_exists(pk)' : 'ver = :ver',
        ...(change.ver === 0 ? {} : { ExpressionAttributeValues: { ':ver': { N: String(change.ver) } } }),
      });
      put.describe = `stage history shard ${change.shard}`;
      return { writes: [put], applied: () => this.#history?.set(change.shard, change.next) };
    });
  }

  /** Every item of this organisation whose sort key starts with `prefix`, page by page. */
  async *#query(prefix: string, options: { projection?: string; consistent?: boolean } = {}) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      this.stats.reads++;
      const out: QueryCommandOutput = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: this.#pk }, ':prefix': { S: prefix } },
          ProjectionExpression: options.projection,
          ConsistentRead: options.consistent,
          ExclusiveStartKey: start,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.#consumed(out.ConsumedCapacity, 'read');
      this.stats.itemsRead += out.Items?.length ?? 0;
      yield out.Items ?? [];
      start = out.LastEvaluatedKey;
    } while (start);
  }

  async *listSnapshotIds(): AsyncIterable<number[]> {
    for await (const items of this.#query('order#', { projection: 'sk' })) {
      yield items.map((item) => Number(item.sk?.S?.slice('order#'.length)));
    }
  }

  snapshotFits(snapshot: Snapshot): boolean {
    const raw = JSON.stringify(snapshot);
    // Deflate never grows JSON by much: small ones fit without packing them twice.
    if (Buffer.byteLength(raw) < MAX_ITEM_BYTES / 2) return true;
    return deflateRawSync(Buffer.from(raw)).length + ITEM_OVERHEAD_BYTES <= MAX_ITEM_BYTES;
  }

  /** A put of packed data, checked against the item limit before it is sent. */
  #put(sk: string, value: unknown, extra: Record<string, AttributeValue> = {}): PendingWrite {
    const data = pack(value);
    const bytes = data.length + ITEM_OVERHEAD_BYTES;
    if (bytes > MAX_ITEM_BYTES) {
      throw new ItemTooLargeError(
        `state item ${sk} would be ${Math.ceil(bytes / 1024)} KB, above DynamoDB's 400 KB item limit`,
      );
    }
    return {
      item: {
        Put: {
          TableName: this.options.tableName,
          Item: { ...this.#key(sk), data: { B: data }, ...extra },
        },
      },
      sk,
      bytes,
      describe: sk,
    };
  }

  #delete(sk: string): PendingWrite {
    return {
      item: { Delete: { TableName: this.options.tableName, Key: this.#key(sk) } },
      sk,
      bytes: 100,
      describe: sk,
    };
  }

  /**
   * Writes in transactions of at most 99 items, each led by a check that the lease is still `fence`'s:
   * a runner that lost its lease writes nothing. Transaction conflicts and throttling are retried.
   */
  async #fenced(fence: Fence, writes: PendingWrite[]): Promise<void> {
    return this.#fencedGroups(
      fence,
      writes.map((write) => ({ writes: [write] })),
    );
  }

  /**
   * Writes groups in order, in transactions of at most 99 items and 3.5 MB that never name an item twice,
   * never splitting a group (what must be applied together: snapshots and the index shard that describes
   * them). A shard written for two runs of its orders is in two groups: they go in two transactions, one
   * after the other. `applied` runs once the group's transaction succeeded.
   */
  async #fencedGroups(fence: Fence, groups: WriteGroup[]): Promise<void> {
    const chunks: WriteGroup[][] = [];
    let current: WriteGroup[] = [];
    let keys = new Set<string>();
    let items = 0;
    let bytes = 0;
    for (const group of groups) {
      const size = group.writes.reduce((sum, w) => sum + w.bytes, 0);
      if (
        current.length > 0 &&
        (items + group.writes.length > MAX_TRANSACTION_ITEMS ||
          bytes + size > MAX_TRANSACTION_BYTES ||
          group.writes.some((w) => keys.has(w.sk)))
      ) {
        chunks.push(current);
        current = [];
        keys = new Set();
        items = 0;
        bytes = 0;
      }
      current.push(group);
      for (const w of group.writes) keys.add(w.sk);
      items += group.writes.length;
      bytes += size;
    }
    if (current.length > 0) chunks.push(current);
    for (const chunk of chunks) {
      try {
        await this.#transact(
          fence,
          chunk.flatMap((g) => g.writes),
        );
      } catch (error) {
        // A refused shard version means the shards held here are not the table's: read them again.
        if (error instanceof ConflictError) this.#index = undefined;
        throw error;
      }
      for (const group of chunk) group.applied?.();
    }
  }

  /**
   * What DynamoDB would refuse for good, refused before sending: an item named twice (the lease check
   * included), more than 100 actions, more than the 3.5 MB this store allows itself of the 4 MB limit.
   * The packing above never builds such a transaction: this is the last guard, not the rule.
   */
  #checkTransaction(chunk: PendingWrite[]): void {
    const named = new Set(['lease']);
    for (const write of chunk) {
      if (named.has(write.sk)) {
        throw new WriteRefusedError(
          `internal error: a transaction would name ${write.describe} (${write.sk}) twice, which DynamoDB refuses; nothing was sent`,
        );
      }
      named.add(write.sk);
    }
    const bytes = chunk.reduce((sum, w) => sum + w.bytes, 0);
    if (chunk.length > MAX_TRANSACTION_ITEMS || bytes > MAX_TRANSACTION_BYTES) {
      throw new WriteRefusedError(
        `internal error: a transaction of ${chunk.length + 1} actions and ${bytes} bytes is above the limits (100 actions, ${MAX_TRANSACTION_BYTES} bytes); nothing was sent`,
      );
    }
  }

  async #transact(fence: Fence, chunk: PendingWrite[]): Promise<void> {
    this.#checkTransaction(chunk);
    const check: TransactWriteItem = {
      ConditionCheck: {
        TableName: this.options.tableName,
        Key: this.#lease.key,
        ConditionExpression: '#owner = :owner AND generation = :generation',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':owner': { S: fence.lease.owner },
          ':generation': { N: String(fence.lease.generation) },
        },
      },
    };
    for (let attempt = 1; ; attempt++) {
      this.stats.writes++;
      try {
        const out = await this.options.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [check, ...chunk.map((w) => w.item)],
            ReturnConsumedCapacity: 'TOTAL',
          }),
          { abortSignal: fence.signal },
        );
        this.#consumed(out.ConsumedCapacity, 'write');
        return;
      } catch (error) {
        if ((error as Error).name === 'ValidationException') {
          throw new WriteRefusedError(
            `DynamoDB refused a transaction of ${chunk.length} write(s) for good: ValidationException: ${(error as Error).message}`,
            { cause: error },
          );
        }
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') {
          throw new LeaseLostError(
            `lease ${fence.lease.generation} of ${fence.lease.owner} was taken over by another runner; nothing written`,
          );
        }
        const failed = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
        if (failed > 0) {
          throw new ConflictError(
            `${chunk[failed - 1]?.describe} was changed by another writer (its version is not the one read)`,
          );
        }
        const invalid = reasons.findIndex((r, i) => i > 0 && r.Code === 'ValidationError');
        if (invalid > 0) {
          throw new WriteRefusedError(
            `DynamoDB refused ${chunk[invalid - 1]?.describe} for good: ValidationError: ${reasons[invalid]?.Message ?? ''}`,
            { cause: error },
          );
        }
        const retryable = reasons.some(
          (r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError',
        );
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
        await this.#sleep(backoffDelay(BACKOFF, attempt, this.#random), fence.signal);
        if (fence.signal?.aborted)
          throw new DeadlineExceededError("the cycle's deadline came during a state write");
      }
    }
  }

  async readJournal(): Promise<Journal> {
    const journal: Journal = { parts: [], seals: [] };
    for await (const items of this.#query('journal#', { consistent: true })) {
      for (const item of items) {
        const sk = item.sk?.S ?? '';
        const data = item.data?.B as Uint8Array;
        if (sk.split('#').length === 3) {
          const legacy = unpack<Omit<JournalPart, 'commit'>>(data);
          const ref = { generation: legacy.generation, commit: -legacy.part - 1 };
          journal.parts.push({ ...legacy, ...ref, part: 0 });
          journal.seals.push({ ...ref, parts: 1 });
        } else if (sk.endsWith('#seal')) journal.seals.push(unpack<JournalSeal>(data));
        else journal.parts.push(unpack<JournalPart>(data));
      }
    }
    return journal;
  }

  async writeJournalPart(fence: Fence, part: JournalPart): Promise<void> {
    return this.#fenced(fence, [this.#put(partKey(part, part.part), part)]);
  }

  async sealJournal(fence: Fence, seal: JournalSeal): Promise<void> {
    return this.#fenced(fence, [this.#put(sealKey(seal), seal)]);
  }

  /** A snapshot's conditional put (on the version read, or on this commit's tag when replaying). */
  #snapshotPut(write: SnapshotWrite, tag: string | undefined, replay: boolean): PendingWrite {
    const put = this.#put(orderKey(write.orderId), write.snapshot, {
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
  }

  /**
   * An index shard's put, conditional on the version read. A shard that would not fit in one item keeps
   * the entries of its lowest ids (an order without an entry is simply read): returned with what it kept.
   */
  #shardPut(shard: number, entries: Map<number, IndexEntry>, ver: number) {
    let kept = entries;
    for (;;) {
      const packed = pack(packShard(kept));
      if (packed.length + ITEM_OVERHEAD_BYTES <= MAX_ITEM_BYTES) break;
      const ids = [...kept.keys()].sort((a, b) => a - b);
      kept = new Map(
        ids.slice(0, Math.floor(ids.length * 0.9)).map((id) => [id, kept.get(id) as IndexEntry]),
      );
    }
    const put = this.#put(indexKey(shard), packShard(kept), { ver: { N: String(ver + 1) } });
    Object.assign(put.item.Put ?? {}, {
      ConditionExpression: ver === 0 ? 'attribute_not_exists(pk)' : 'ver = :ver',
      ...(ver === 0 ? {} : { ExpressionAttributeValues: { ':ver': { N: String(ver) } } }),
    });
    put.describe = `index shard ${shard}`;
    return { put, kept };
  }

  /**
   * Snapshots, the index and the checkpoint. The index shard of each order goes in the same transaction
   * as its snapshot, written as it stands once that transaction's snapshots are in (a shard whose orders
   * span several transactions is written in each, cumulatively): a crash between two transactions never
   * leaves an entry that describes a snapshot other than the stored one. Index updates without a snapshot
   * (entries of unchanged snapshots, due times, removals) are safe in any transaction.
   *
   * `singly` (a replay whose packed transactions DynamoDB refused): one transaction per item, each led by
   * the lease check: every snapshot alone, then each shard as it ends, then the checkpoint. Between them a
   * shard may describe an older snapshot; that is safe because the commit stays sealed until it is done,
   * and every run finishes the journal before it reads the index.
   */
  async applyWrites(fence: Fence, writes: StateWrites): Promise<void> {
    const tag = writes.commit ? commitIdOf(writes.commit) : undefined;
    let list = writes.writes;
    if (writes.replay && writes.commit && isLegacy(writes.commit)) {
      // Old records carry no commit tag: a snapshot already past the version they read was written by them.
      const current = await this.getSnapshots(list.map((w) => w.orderId));
      list = list.filter((w) => (current.get(w.orderId)?.rev ?? 0) <= w.expectedRev);
    }
    const byShard = new Map<
      number,
      { writes: SnapshotWrite[]; updates: NonNullable<StateWrites['index']> }
    >();
    const of = (id: number) => {
      const shard = shardOf(id);
      let entry = byShard.get(shard);
      if (!entry) {
        entry = { writes: [], updates: [] };
        byShard.set(shard, entry);
      }
      return entry;
    };
    for (const write of list) of(write.orderId).writes.push(write);
    for (const update of writes.index ?? []) of(update.orderId).updates.push(update);
    // The shards as read under this lease (read now if they were not: a checkpoint alone needs none).
    const shards =
      byShard.size === 0 ? new Map<number, IndexShard>() : (this.#index ?? (await this.#loadIndex()));

    const groups: WriteGroup[] = [];
    for (const [shard, work] of [...byShard].sort((a, b) => a[0] - b[0])) {
      const held = shards.get(shard) ?? { ver: 0, entries: new Map<number, IndexEntry>() };
      const entries = new Map(held.entries);
      let ver = held.ver;
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
        return { writes: [put], applied: () => this.#index?.set(shard, state) };
      };
      // Snapshots in runs that fit one transaction beside their shard (≤ 98 items, room for 400 KB).
      const runLimit = writes.singly ? 1 : MAX_TRANSACTION_ITEMS - 1;
      const runs: Array<Array<{ write: SnapshotWrite; put: PendingWrite }>> = [[]];
      let runBytes = 0;
      for (const write of work.writes) {
        const put = this.#snapshotPut(write, tag, writes.replay);
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
        const index = writes.singly ? undefined : shardGroup();
        if (index) {
          group.writes.push(...index.writes);
          group.applied = index.applied;
        }
        if (group.writes.length > 0) groups.push(group);
      }
      const last = writes.singly ? shardGroup() : undefined;
      if (last) groups.push(last);
    }
    if (writes.history?.length) groups.push(...(await this.#historyGroups(writes.history)));
    if (writes.checkpoint) groups.push({ writes: [this.#put('checkpoint', writes.checkpoint)] });
    if (!writes.singly) return this.#fencedGroups(fence, groups);
    for (const group of groups) await this.#fencedGroups(fence, [group]);
  }

  async clearJournal(fence: Fence, commit: CommitRef, parts: number[]): Promise<void> {
    // The seal goes first: a crash part-way leaves unsealed parts, which are discarded.
    const keys = [...new Set([sealKey(commit), ...parts.map((p) => partKey(commit, p))])];
    return this.#fenced(
      fence,
      keys.map((k) => this.#delete(k)),
    );
  }

  async setAside(fence: Fence, events: SetAsideEvent[]): Promise<void> {
    return this.#fenced(
      fence,
      events.map((e) => this.#put(asideKey(e.event.detail.eventId), e)),
    );
  }

  async listSetAside(): Promise<SetAsideEvent[]> {
    const events: SetAsideEvent[] = [];
    for await (const items of this.#query('aside#', { consistent: true })) {
      for (const item of items) events.push(unpack<SetAsideEvent>(item.data?.B as Uint8Array));
    }
    return events;
  }

  async removeSetAside(fence: Fence, eventIds: string[]): Promise<void> {
    return this.#fenced(
      fence,
      eventIds.map((id) => this.#delete(asideKey(id))),
    );
  }
}
