import type {
  AttributeValue,
  BatchGetItemCommandOutput,
  DynamoDBClient,
  QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ItemTooLargeError } from '../../cycle/errors.js';
import { backoffDelay } from '../../shared/timing.js';
import type { PendingWrite } from './items.js';
import { ITEM_OVERHEAD_BYTES, MAX_ITEM_BYTES, pack } from './items.js';
import { itemKey } from './keys.js';
import { BACKOFF, MAX_ATTEMPTS } from './retry.js';
import type { DynamoStats } from './stats.js';
import { countCapacity } from './stats.js';

export interface PartitionOptions {
  client: DynamoDBClient;
  tableName: string;
  /** `org#<organisation>` (keys.ts). */
  pk: string;
  /** Where every request and the capacity it consumed are counted. */
  stats: DynamoStats;
  sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  random: () => number;
}

/**
 * One organisation's partition of the table: its reads (strongly consistent where the state needs it,
 * each request counted in the stats) and the writes a transaction will send, checked against the item
 * limit before they are.
 */
export class Partition {
  constructor(readonly options: PartitionOptions) {}

  key(sk: string): Record<string, AttributeValue> {
    return itemKey(this.options.pk, sk);
  }

  async get(sk: string): Promise<Record<string, AttributeValue> | undefined> {
    const { client, tableName, stats } = this.options;
    stats.reads++;
    const out = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: this.key(sk),
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    countCapacity(stats, out.ConsumedCapacity, 'read');
    if (out.Item) stats.itemsRead++;
    return out.Item;
  }

  /** Strongly consistent BatchGetItem calls of ≤100 keys, unprocessed keys retried with backoff. */
  async batchGet(sks: string[]): Promise<Array<Record<string, AttributeValue>>> {
    const { client, tableName, stats } = this.options;
    const items: Array<Record<string, AttributeValue>> = [];
    for (let i = 0; i < sks.length; i += 100) {
      let keys: Array<Record<string, AttributeValue>> | undefined = sks
        .slice(i, i + 100)
        .map((sk) => this.key(sk));
      for (let attempt = 1; keys && keys.length > 0; attempt++) {
        if (attempt > MAX_ATTEMPTS)
          throw new Error(`DynamoDB left ${keys.length} keys unprocessed after ${MAX_ATTEMPTS} attempts`);
        if (attempt > 1) await this.options.sleep(backoffDelay(BACKOFF, attempt, this.options.random));
        stats.batchGets++;
        stats.reads++;
        const out: BatchGetItemCommandOutput = await client.send(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        countCapacity(stats, out.ConsumedCapacity, 'read');
        const found = out.Responses?.[tableName] ?? [];
        stats.itemsRead += found.length;
        items.push(...found);
        // Throttled or too large: DynamoDB hands back what it did not read; ask again with backoff.
        keys = out.UnprocessedKeys?.[tableName]?.Keys;
      }
    }
    return items;
  }

  /** Every item of the partition whose sort key starts with `prefix`, page by page. */
  async *query(prefix: string, options: { projection?: string; consistent?: boolean } = {}) {
    const { client, tableName, stats, pk } = this.options;
    let start: Record<string, AttributeValue> | undefined;
    do {
      stats.reads++;
      const out: QueryCommandOutput = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
          ProjectionExpression: options.projection,
          ConsistentRead: options.consistent,
          ExclusiveStartKey: start,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      countCapacity(stats, out.ConsumedCapacity, 'read');
      stats.itemsRead += out.Items?.length ?? 0;
      yield out.Items ?? [];
      start = out.LastEvaluatedKey;
    } while (start);
  }

  /** A put of packed data, checked against the item limit before it is sent. */
  put(sk: string, value: unknown, extra: Record<string, AttributeValue> = {}): PendingWrite {
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
          Item: { ...this.key(sk), data: { B: data }, ...extra },
        },
      },
      sk,
      bytes,
      describe: sk,
    };
  }

  /**
   * A put of a versioned item (an index or history shard): conditional on the version `ver` read (0: no
   * item yet), carrying the next one.
   */
  versionedPut(sk: string, value: unknown, ver: number): PendingWrite {
    const put = this.put(sk, value, { ver: { N: String(ver + 1) } });
    Object.assign(put.item.Put ?? {}, {
      ConditionExpression: ver === 0 ? 'attribute_not_exists(pk)' : 'ver = :ver',
      ...(ver === 0 ? {} : { ExpressionAttributeValues: { ':ver': { N: String(ver) } } }),
    });
    return put;
  }

  delete(sk: string): PendingWrite {
    return {
      item: { Delete: { TableName: this.options.tableName, Key: this.key(sk) } },
      sk,
      bytes: 100,
      describe: sk,
    };
  }
}
