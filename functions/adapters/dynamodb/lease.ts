import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { LeaseStore } from '../../cycle/ports.js';
import type { Lease, LeaseClaim, LeaseOutcome } from '../../cycle/records.js';
import { backoffDelay, sleep } from '../../shared/timing.js';
import { itemKey, LEASE_KEY } from './keys.js';
import { BACKOFF, MAX_ATTEMPTS } from './retry.js';

/** What the lease counts of its requests, so that the store's figures include them. */
export interface LeaseMeter {
  read(capacity: ConsumedCapacity | undefined, found: boolean): void;
  write(capacity: ConsumedCapacity | undefined): void;
}

export interface DynamoLeaseOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The partition the lease item lives in (`org#35802`, `cred#<hash>`); its sort key is `lease`. */
  pk: string;
  meter?: LeaseMeter;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  random?: () => number;
}

const leaseOfItem = (item: Record<string, AttributeValue>): Lease => ({
  owner: item.owner?.S ?? '',
  ...(item.host?.S ? { host: item.host.S } : {}),
  ...(item.pid?.N ? { pid: Number(item.pid.N) } : {}),
  ...(item.pstart?.S ? { start: item.pstart.S } : {}),
  ...(item.scope?.S ? { scope: item.scope.S } : {}),
  generation: Number(item.generation?.N ?? 0),
  expiresAt: Number(item.expiresAt?.N ?? 0),
});

/**
 * A lease in one DynamoDB item: an owner (with its host, pid and process start time, so that a rerun on
 * the same host can tell a dead holder), an expiry and a generation that every acquisition increments and
 * that survives releases (the item is never deleted): the fencing token of the writes made under it.
 */
export class DynamoLease implements LeaseStore {
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  readonly #random: () => number;

  constructor(private readonly options: DynamoLeaseOptions) {
    this.#sleep = options.sleep ?? sleep;
    this.#random = options.random ?? Math.random;
  }

  /** The item's key, for the fenced transactions that check it (ConditionCheck on owner and generation). */
  get key(): Record<string, AttributeValue> {
    return itemKey(this.options.pk, LEASE_KEY);
  }

  async read(): Promise<Lease | undefined> {
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: this.key,
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.options.meter?.read(out.ConsumedCapacity, out.Item !== undefined);
    return out.Item ? leaseOfItem(out.Item) : undefined;
  }

  /** One conditional update that bumps the generation counter; on refusal, reads who holds the lease. */
  async #take(claim: LeaseClaim, condition: string, values: Record<string, AttributeValue>) {
    const names: Record<string, string> = { '#owner': 'owner', '#ttl': 'ttl', '#scope': 'scope' };
    const set = ['#owner = :owner', 'expiresAt = :expiresAt'];
    const attributes: Record<string, AttributeValue> = {
      ':owner': { S: claim.owner },
      ':expiresAt': { N: String(claim.nowMs + claim.ttlMs) },
      ':one': { N: '1' },
      ':now': { N: String(claim.nowMs) },
      ...values,
    };
    const remove = ['#ttl'];
    const optional: Array<[string, AttributeValue | undefined]> = [
      ['host', claim.host === undefined ? undefined : { S: claim.host }],
      ['pid', claim.pid === undefined ? undefined : { N: String(claim.pid) }],
      ['pstart', claim.start === undefined ? undefined : { S: claim.start }],
      ['#scope', claim.scope === undefined ? undefined : { S: claim.scope }],
    ];
    for (const [name, value] of optional) {
      if (value === undefined) remove.push(name);
      else {
        const placeholder = `:${name.replace('#', '')}`;
        set.push(`${name} = ${placeholder}`);
        attributes[placeholder] = value;
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.options.client.send(
          new UpdateItemCommand({
            TableName: this.options.tableName,
            Key: this.key,
            UpdateExpression: `SET ${set.join(', ')} ADD generation :one REMOVE ${remove.join(', ')}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: attributes,
            ReturnValues: 'ALL_NEW',
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        this.options.meter?.write(out.ConsumedCapacity);
        return { kind: 'acquired', lease: leaseOfItem(out.Attributes ?? {}) } satisfies LeaseOutcome;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          this.options.meter?.write(undefined);
          return { kind: 'held', holder: (await this.read()) ?? leaseOfItem({}) } satisfies LeaseOutcome;
        }
        // The holder's transaction is checking the lease at this moment: ask again shortly.
        if ((error as Error).name !== 'TransactionConflictException' || attempt >= MAX_ATTEMPTS) throw error;
        await this.#sleep(backoffDelay(BACKOFF, attempt, this.#random));
      }
    }
  }

  acquire(claim: LeaseClaim): Promise<LeaseOutcome> {
    return this.#take(
      claim,
      'attribute_not_exists(pk) OR attribute_not_exists(#owner) OR expiresAt <= :now OR #owner = :owner',
      {},
    );
  }

  takeOver(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome> {
    return this.#take(
      claim,
      'attribute_not_exists(pk) OR attribute_not_exists(#owner) OR expiresAt <= :now OR (#owner = :heldOwner AND generation = :heldGeneration)',
      { ':heldOwner': { S: holder.owner }, ':heldGeneration': { N: String(holder.generation) } },
    );
  }

  async release(lease: Lease): Promise<void> {
    try {
      const out = await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: this.key,
          UpdateExpression: 'REMOVE #owner, host, pid, pstart, #scope SET expiresAt = :zero',
          ConditionExpression: '#owner = :owner AND generation = :generation',
          ExpressionAttributeNames: { '#owner': 'owner', '#scope': 'scope' },
          ExpressionAttributeValues: {
            ':owner': { S: lease.owner },
            ':generation': { N: String(lease.generation) },
            ':zero': { N: '0' },
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.options.meter?.write(out.ConsumedCapacity);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.options.meter?.write(undefined);
    }
  }
}
