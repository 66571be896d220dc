import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type {
  AttributeValue,
  BatchGetItemCommandOutput,
  ConsumedCapacity,
  DynamoDBClient,
  QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Snapshot } from '../core/snapshot.js';
import type {
  Checkpoint,
  JournalEntry,
  Lease,
  SnapshotWrite,
  StateStore,
  StoredSnapshot,
} from '../cycle/ports.js';
import { ConflictError, LeaseLostError } from '../cycle/ports.js';

/** Requests and capacity this store used: for metrics and the benchmark. */
export interface DynamoStats {
  reads: number;
  writes: number;
  batchGets: number;
  readCapacity: number;
  writeCapacity: number;
}

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Scopes every key, so that one table can serve several Uphance organisations. */
  organisation: string;
  /** Writes in flight at once. */
  writeConcurrency?: number;
  sleep?: (ms: number) => Promise<void>;
}

const pack = (value: unknown): Uint8Array => deflateRawSync(Buffer.from(JSON.stringify(value)));
const unpack = <T>(bytes: Uint8Array): T => JSON.parse(inflateRawSync(bytes).toString('utf8')) as T;

const orderKey = (id: number) => `order#${id}`;
const journalKey = (generation: number, part: number) =>
  `journal#${String(generation).padStart(16, '0')}#${String(part).padStart(6, '0')}`;

/** Lease items outlive their expiry by a day, then DynamoDB's TTL removes them. */
const LEASE_TTL_GRACE_S = 86_400;

/**
 * State in one DynamoDB table (pk, sk). Per organisation: one item per order snapshot (deflated JSON and
 * a version number), one checkpoint item, journal items, and one lease item with an expiry and a TTL.
 * Reads are strongly consistent (a cycle reads what it just wrote); snapshot writes are conditional on
 * the version read.
 */
export class DynamoStateStore implements StateStore {
  readonly stats: DynamoStats = { reads: 0, writes: 0, batchGets: 0, readCapacity: 0, writeCapacity: 0 };
  readonly #pk: string;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: DynamoStoreOptions) {
    this.#pk = `org#${options.organisation}`;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  #key(sk: string): Record<string, AttributeValue> {
    return { pk: { S: this.#pk }, sk: { S: sk } };
  }

  #consumed(capacity: ConsumedCapacity | ConsumedCapacity[] | undefined, kind: 'read' | 'write') {
    const list = Array.isArray(capacity) ? capacity : capacity ? [capacity] : [];
    for (const c of list) {
      const units = c.CapacityUnits ?? 0;
      if (kind === 'read') this.stats.readCapacity += units;
      else this.stats.writeCapacity += units;
    }
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
    return out.Item;
  }

  async #put(
    item: Record<string, AttributeValue>,
    condition?: { expression: string; values?: Record<string, AttributeValue> },
  ) {
    this.stats.writes++;
    const out = await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: item,
        ConditionExpression: condition?.expression,
        ExpressionAttributeValues: condition?.values,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'write');
  }

  /**
   * One conditional write: the lease is taken if it is free, expired or already ours. The generation
   * (fencing token) is the acquisition time, so it increases across holders even after the TTL removed
   * the item; two runners at the same millisecond are told apart by the owner.
   */
  async acquireLease(owner: string, nowMs: number, ttlMs: number): Promise<Lease | undefined> {
    const lease: Lease = { owner, generation: nowMs, expiresAt: nowMs + ttlMs };
    this.stats.writes++;
    try {
      const out = await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: this.#key('lease'),
          UpdateExpression:
            'SET #owner = :owner, generation = :generation, expiresAt = :expiresAt, #ttl = :ttl',
          ConditionExpression:
            'attribute_not_exists(pk) OR attribute_not_exists(#owner) OR expiresAt <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':owner': { S: owner },
            ':generation': { N: String(lease.generation) },
            ':expiresAt': { N: String(lease.expiresAt) },
            ':ttl': { N: String(Math.ceil(lease.expiresAt / 1000) + LEASE_TTL_GRACE_S) },
            ':now': { N: String(nowMs) },
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.#consumed(out.ConsumedCapacity, 'write');
      return lease;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async assertLease(lease: Lease, nowMs: number): Promise<void> {
    const item = await this.#get('lease');
    if (
      item?.owner?.S !== lease.owner ||
      Number(item?.generation?.N) !== lease.generation ||
      Number(item?.expiresAt?.N) <= nowMs
    ) {
      throw new LeaseLostError(`lease ${lease.generation} is no longer held by ${lease.owner}`);
    }
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.stats.writes++;
    try {
      const out = await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: this.#key('lease'),
          UpdateExpression: 'REMOVE #owner SET expiresAt = :zero',
          ConditionExpression: '#owner = :owner AND generation = :generation',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':owner': { S: lease.owner },
            ':generation': { N: String(lease.generation) },
            ':zero': { N: '0' },
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.#consumed(out.ConsumedCapacity, 'write');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async getCheckpoint(): Promise<Checkpoint | undefined> {
    const item = await this.#get('checkpoint');
    return item?.data?.B ? unpack<Checkpoint>(item.data.B) : undefined;
  }

  async putCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await this.#put({ ...this.#key('checkpoint'), data: { B: pack(checkpoint) } });
  }

  async getSnapshots(orderIds: number[]): Promise<Map<number, StoredSnapshot>> {
    const found = new Map<number, StoredSnapshot>();
    for (let i = 0; i < orderIds.length; i += 100) {
      let keys: Array<Record<string, AttributeValue>> | undefined = orderIds
        .slice(i, i + 100)
        .map((id) => this.#key(orderKey(id)));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 0) await this.#sleep(Math.min(2_000, 50 * 2 ** attempt) * Math.random());
        if (attempt > 10)
          throw new Error(`DynamoDB left ${keys.length} keys unprocessed after ${attempt} attempts`);
        this.stats.batchGets++;
        this.stats.reads++;
        const out: BatchGetItemCommandOutput = await this.options.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.options.tableName]: { Keys: keys, ConsistentRead: true } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        this.#consumed(out.ConsumedCapacity, 'read');
        for (const item of out.Responses?.[this.options.tableName] ?? []) {
          const id = Number(item.sk?.S?.slice('order#'.length));
          found.set(id, {
            rev: Number(item.rev?.N ?? 0),
            snapshot: unpack<Snapshot>(item.data?.B as Uint8Array),
          });
        }
        // Throttled or too large: DynamoDB hands back what it did not read; ask again with backoff.
        keys = out.UnprocessedKeys?.[this.options.tableName]?.Keys;
      }
    }
    return found;
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
      yield out.Items ?? [];
      start = out.LastEvaluatedKey;
    } while (start);
  }

  async *listSnapshotIds(): AsyncIterable<number[]> {
    for await (const items of this.#query('order#', { projection: 'sk' })) {
      yield items.map((item) => Number(item.sk?.S?.slice('order#'.length)));
    }
  }

  async writeSnapshots(writes: SnapshotWrite[], options: { replay: boolean }): Promise<void> {
    const concurrency = this.options.writeConcurrency ?? 16;
    let next = 0;
    const worker = async () => {
      while (next < writes.length) {
        const write = writes[next++] as SnapshotWrite;
        await this.#writeSnapshot(write, options.replay);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, writes.length) }, worker));
  }

  async #writeSnapshot(write: SnapshotWrite, replay: boolean): Promise<void> {
    const item = {
      ...this.#key(orderKey(write.orderId)),
      rev: { N: String(write.expectedRev + 1) },
      data: { B: pack(write.snapshot) },
    };
    try {
      await this.#put(
        item,
        write.expectedRev === 0
          ? { expression: 'attribute_not_exists(pk)' }
          : { expression: 'rev = :expected', values: { ':expected': { N: String(write.expectedRev) } } },
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = Number((await this.#get(orderKey(write.orderId)))?.rev?.N ?? 0);
      // Replaying a journal: the write was applied before the crash.
      if (replay && current > write.expectedRev) return;
      throw new ConflictError(
        `snapshot of order ${write.orderId} is at version ${current}, expected ${write.expectedRev}: another writer changed it`,
      );
    }
  }

  async readJournal(): Promise<JournalEntry[]> {
    const entries: JournalEntry[] = [];
    for await (const items of this.#query('journal#', { consistent: true })) {
      for (const item of items) entries.push(unpack<JournalEntry>(item.data?.B as Uint8Array));
    }
    return entries;
  }

  async writeJournal(entry: JournalEntry): Promise<void> {
    await this.#put({ ...this.#key(journalKey(entry.generation, entry.part)), data: { B: pack(entry) } });
  }

  async deleteJournal(entry: Pick<JournalEntry, 'generation' | 'part'>): Promise<void> {
    this.stats.writes++;
    const out = await this.options.client.send(
      new DeleteItemCommand({
        TableName: this.options.tableName,
        Key: this.#key(journalKey(entry.generation, entry.part)),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'write');
  }
}
