import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import {
  ConflictError,
  DeadlineExceededError,
  LeaseLostError,
  WriteRefusedError,
} from '../../cycle/errors.js';
import type { Fence } from '../../cycle/records.js';
import { backoffDelay } from '../../shared/timing.js';
import type { PendingWrite } from './items.js';
import { LEASE_KEY } from './keys.js';
import type { Partition } from './partition.js';
import { BACKOFF, MAX_ATTEMPTS } from './retry.js';
import { countCapacity } from './stats.js';

/** TransactWriteItems: at most 100 actions (one is the lease check) and 4 MB. */
export const MAX_TRANSACTION_ITEMS = 99;
export const MAX_TRANSACTION_BYTES = 3_500_000;

/** Writes that go in one transaction together; `applied` runs once it succeeded. */
export interface WriteGroup {
  writes: PendingWrite[];
  applied?: () => void;
}

/**
 * Packs groups, in order, into transactions of at most 99 items and 3.5 MB that never name an item twice,
 * never splitting a group (what must be applied together: snapshots and the index shard that describes
 * them). A shard written for two runs of its orders is in two groups: they go in two transactions.
 */
const packGroups = (groups: WriteGroup[]): WriteGroup[][] => {
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
  return chunks;
};

/**
 * What DynamoDB would refuse for good, refused before sending: an item named twice (the lease check
 * included), more than 100 actions, more than the 3.5 MB this store allows itself of the 4 MB limit.
 * The packing above never builds such a transaction: this is the last guard, not the rule.
 */
const checkTransaction = (chunk: PendingWrite[]): void => {
  const named = new Set([LEASE_KEY]);
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
};

export interface FencedTransactionsOptions {
  partition: Partition;
  /** The lease item every transaction checks first (lease.ts). */
  leaseKey: Record<string, AttributeValue>;
  /** Called when a write's condition failed (ConflictError): what was read under the lease is stale. */
  onConflict: () => void;
}

/**
 * Every state write, in transactions each led by a check that the lease is still `fence`'s: a runner that
 * lost its lease writes nothing. DynamoDB's cancellation reasons become the cycle's errors: the lease check
 * failed (LeaseLostError), another item's condition failed (ConflictError), a request refused for good
 * (WriteRefusedError); transaction conflicts and throttling are retried with backoff within the deadline.
 */
export class FencedTransactions {
  constructor(private readonly options: FencedTransactionsOptions) {}

  /** Writes, each in a group of its own (in as few transactions as the limits allow). */
  write(fence: Fence, writes: PendingWrite[]): Promise<void> {
    return this.writeGroups(
      fence,
      writes.map((write) => ({ writes: [write] })),
    );
  }

  /** Groups in order, packed into transactions (packGroups), one after the other. */
  async writeGroups(fence: Fence, groups: WriteGroup[]): Promise<void> {
    for (const chunk of packGroups(groups)) {
      try {
        await this.#transact(
          fence,
          chunk.flatMap((g) => g.writes),
        );
      } catch (error) {
        // A refused version means what was read is not the table's: read it again.
        if (error instanceof ConflictError) this.options.onConflict();
        throw error;
      }
      for (const group of chunk) group.applied?.();
    }
  }

  async #transact(fence: Fence, chunk: PendingWrite[]): Promise<void> {
    const { client, tableName, stats, sleep, random } = this.options.partition.options;
    checkTransaction(chunk);
    const check: TransactWriteItem = {
      ConditionCheck: {
        TableName: tableName,
        Key: this.options.leaseKey,
        ConditionExpression: '#owner = :owner AND generation = :generation',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':owner': { S: fence.lease.owner },
          ':generation': { N: String(fence.lease.generation) },
        },
      },
    };
    for (let attempt = 1; ; attempt++) {
      stats.writes++;
      try {
        const out = await client.send(
          new TransactWriteItemsCommand({
            TransactItems: [check, ...chunk.map((w) => w.item)],
            ReturnConsumedCapacity: 'TOTAL',
          }),
          { abortSignal: fence.signal },
        );
        countCapacity(stats, out.ConsumedCapacity, 'write');
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
        await sleep(backoffDelay(BACKOFF, attempt, random), fence.signal);
        if (fence.signal?.aborted)
          throw new DeadlineExceededError("the cycle's deadline came during a state write");
      }
    }
  }
}
