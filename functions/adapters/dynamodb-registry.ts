import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { bounded } from '../core/bounds.js';
import type { RegistryEntry, RunOutcome, RunRecord } from '../fanout/plan.js';
import { completes, runKey } from '../fanout/plan.js';

/** The organisations as data: `pk = registry`, `sk = org#<id>` (and `seed`, the deployment's list). */
const REGISTRY_PK = 'registry';
/** What the poll worker recorded of each organisation's cycles: `pk = fanout`, `sk = org#<id|default>`. */
const RUNS_PK = 'fanout';
const SEED_SK = 'seed';

const n = (value: number): AttributeValue => ({ N: String(value) });
const num = (item: Record<string, AttributeValue>, name: string): number | undefined =>
  item[name]?.N === undefined ? undefined : Number(item[name].N);

export interface RegistryStats {
  readCapacity: number;
  writeCapacity: number;
}

/**
 * The organisation registry and the poll worker's run records, in the state table beside the
 * organisations' own partitions (`org#<id>`), which it never touches.
 */
export class DynamoRegistry {
  readonly stats: RegistryStats = { readCapacity: 0, writeCapacity: 0 };

  constructor(private readonly options: { client: DynamoDBClient; tableName: string }) {}

  #consumed(capacity: ConsumedCapacity | undefined, kind: 'read' | 'write') {
    const units = capacity?.CapacityUnits ?? 0;
    if (kind === 'read') this.stats.readCapacity += units;
    else this.stats.writeCapacity += units;
  }

  async #query(pk: string): Promise<Array<Record<string, AttributeValue>>> {
    const items: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          // An organisation added a moment before the period is polled in it.
          ConsistentRead: true,
          ExclusiveStartKey: start,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.#consumed(out.ConsumedCapacity, 'read');
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Every registered organisation (removed ones included) and the deployment's seed as last recorded. */
  async read(): Promise<{ entries: RegistryEntry[]; seed: number[] | undefined }> {
    const items = await this.#query(REGISTRY_PK);
    const entries: RegistryEntry[] = [];
    let seed: number[] | undefined;
    for (const item of items) {
      if (item.sk?.S === SEED_SK) {
        seed = (item.ids?.L ?? []).map((v) => Number(v.N));
        continue;
      }
      const organisationId = num(item, 'organisationId');
      const credentials = item.credentials?.S;
      if (organisationId === undefined || (credentials !== 'shared' && credentials !== 'own')) continue;
      entries.push({
        organisationId,
        credentials,
        removed: item.removed?.BOOL === true,
        addedAt: num(item, 'addedAt') ?? 0,
        updatedAt: num(item, 'updatedAt') ?? 0,
      });
    }
    return { entries, seed };
  }

  async entry(organisationId: number): Promise<RegistryEntry | undefined> {
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { pk: { S: REGISTRY_PK }, sk: { S: `org#${organisationId}` } },
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'read');
    const item = out.Item;
    if (!item) return undefined;
    const credentials = item.credentials?.S === 'own' ? 'own' : 'shared';
    return {
      organisationId,
      credentials,
      removed: item.removed?.BOOL === true,
      addedAt: num(item, 'addedAt') ?? 0,
      updatedAt: num(item, 'updatedAt') ?? 0,
    };
  }

  /** Registers (or re-registers) an organisation; it is polled from the next period. */
  async add(organisationId: number, credentials: RegistryEntry['credentials'], nowMs: number) {
    const out = await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: {
          pk: { S: REGISTRY_PK },
          sk: { S: `org#${organisationId}` },
          organisationId: n(organisationId),
          credentials: { S: credentials },
          removed: { BOOL: false },
          addedAt: n(nowMs),
          updatedAt: n(nowMs),
        },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'write');
  }

  /**
   * Records the organisation as removed (not deleted): a removed entry also stops an organisation the
   * deployment's organisationIds names. Its state stays in its own partition.
   */
  async remove(organisationId: number, nowMs: number) {
    const out = await this.options.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: { pk: { S: REGISTRY_PK }, sk: { S: `org#${organisationId}` } },
        UpdateExpression:
          'SET organisationId = :id, credentials = if_not_exists(credentials, :shared), removed = :true, addedAt = if_not_exists(addedAt, :now), updatedAt = :now',
        ExpressionAttributeValues: {
          ':id': n(organisationId),
          ':shared': { S: 'shared' },
          ':true': { BOOL: true },
          ':now': n(nowMs),
        },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'write');
  }

  /** Records the deployment's organisationIds, so that `organisations list` can show them. */
  async recordSeed(ids: number[]) {
    const out = await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: { pk: { S: REGISTRY_PK }, sk: { S: SEED_SK }, ids: { L: ids.map(n) } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'write');
  }

  #runKey(organisationId: number | null): Record<string, AttributeValue> {
    return { pk: { S: RUNS_PK }, sk: { S: `org#${runKey(organisationId)}` } };
  }

  static #record(item: Record<string, AttributeValue>): RunRecord {
    const id = item.sk?.S?.slice('org#'.length);
    const outcome = item.outcome?.S as RunOutcome | undefined;
    return {
      organisationId: id === undefined || id === 'default' ? null : Number(id),
      ...(num(item, 'startedAt') === undefined ? {} : { startedAt: num(item, 'startedAt') }),
      ...(num(item, 'finishedAt') === undefined ? {} : { finishedAt: num(item, 'finishedAt') }),
      ...(outcome ? { outcome } : {}),
      ...(item.error?.S ? { error: item.error.S } : {}),
      ...(num(item, 'completedAt') === undefined ? {} : { completedAt: num(item, 'completedAt') }),
      ...(num(item, 'failingSince') === undefined ? {} : { failingSince: num(item, 'failingSince') }),
      ...(num(item, 'firstDispatchedAt') === undefined
        ? {}
        : { firstDispatchedAt: num(item, 'firstDispatchedAt') }),
    };
  }

  async runs(): Promise<RunRecord[]> {
    return (await this.#query(RUNS_PK)).map(DynamoRegistry.#record);
  }

  /** One organisation's record, strongly consistent (the worker's superseded check). */
  async run(organisationId: number | null): Promise<RunRecord | undefined> {
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: this.#runKey(organisationId),
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'read');
    return out.Item ? DynamoRegistry.#record(out.Item) : undefined;
  }

  /**
   * Records a cycle that ran (took its lease, or failed). Never moves back: a record of a later start
   * stays (two workers of one organisation are kept apart by the queue's groups and the lease anyway).
   */
  async recordRun(
    organisationId: number | null,
    run: { startedAt: number; finishedAt: number; outcome: RunOutcome; error?: string },
  ) {
    const values: Record<string, AttributeValue> = {
      ':s': n(run.startedAt),
      ':f': n(run.finishedAt),
      ':o': { S: run.outcome },
    };
    let update =
      'SET startedAt = :s, finishedAt = :f, outcome = :o, firstDispatchedAt = if_not_exists(firstDispatchedAt, :s)';
    if (run.outcome === 'failed') {
      values[':e'] = { S: bounded(run.error ?? 'unknown error', 500) };
      update += ', #error = :e, failingSince = if_not_exists(failingSince, :f)';
    } else {
      if (completes(run.outcome)) update += ', completedAt = :f';
      update += ' REMOVE #error, failingSince';
    }
    try {
      const out = await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: this.#runKey(organisationId),
          UpdateExpression: update,
          ConditionExpression: 'attribute_not_exists(startedAt) OR startedAt <= :s',
          ExpressionAttributeNames: { '#error': 'error' },
          ExpressionAttributeValues: values,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.#consumed(out.ConsumedCapacity, 'write');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Records when the dispatcher first queued an organisation (the heartbeat's start for it). */
  async recordFirstDispatch(organisationId: number | null, nowMs: number) {
    const out = await this.options.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: this.#runKey(organisationId),
        UpdateExpression: 'SET firstDispatchedAt = if_not_exists(firstDispatchedAt, :now)',
        ExpressionAttributeValues: { ':now': n(nowMs) },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'write');
  }

  /** Forgets an organisation's run record (`organisations remove`). */
  async forgetRuns(organisationId: number) {
    const out = await this.options.client.send(
      new DeleteItemCommand({
        TableName: this.options.tableName,
        Key: this.#runKey(organisationId),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.#consumed(out.ConsumedCapacity, 'write');
  }
}
