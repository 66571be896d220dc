import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDigestMarker } from '../../functions/adapters/dynamodb/digest-marker.js';
import { MARKER_ATTRIBUTES } from '../../functions/digest/marker.js';
import { freshTable } from '../helpers/aws.js';

describe('the digest marker in DynamoDB', () => {
  it('lives in a partition of its own, with only the attributes the digest function may write', async () => {
    const { client, tableName } = await freshTable();
    const marker = new DynamoDigestMarker(client, tableName, '35802');
    expect(await marker.last()).toBeNull();
    await marker.record({ at: '2026-11-30T07:00:00.000Z', until: '2026-11-30T06:45:00.000Z', run: 'r1' });
    const item = (
      await client.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'digest#35802' }, sk: { S: 'digest' } } }),
      )
    ).Item;
    expect(Object.keys(item ?? {}).sort()).toEqual([...MARKER_ATTRIBUTES].sort());
    // Nothing in the organisation's state partition.
    const state = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'org#35802' } },
      }),
    );
    expect(state.Items).toEqual([]);
    expect(await marker.last()).toEqual({
      at: '2026-11-30T07:00:00.000Z',
      until: '2026-11-30T06:45:00.000Z',
      run: 'r1',
    });
    // Another organisation's marker is its own.
    expect(await new DynamoDigestMarker(client, tableName, '35803').last()).toBeNull();
  });

  it('reads the marker an earlier version kept in the state partition until it writes its own', async () => {
    const { client, tableName } = await freshTable();
    const legacy = { pk: { S: 'org#default' }, sk: { S: 'digest' } };
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          ...legacy,
          lastDigestAt: { S: '2026-11-29T07:00:00.000Z' },
          until: { S: '2026-11-29T06:45:00.000Z' },
        },
      }),
    );
    const marker = new DynamoDigestMarker(client, tableName, 'default');
    expect(await marker.last()).toEqual({
      at: '2026-11-29T07:00:00.000Z',
      until: '2026-11-29T06:45:00.000Z',
    });
    await marker.record({ at: '2026-11-30T07:00:00.000Z', until: '2026-11-30T06:45:00.000Z' });
    expect(await marker.last()).toEqual({
      at: '2026-11-30T07:00:00.000Z',
      until: '2026-11-30T06:45:00.000Z',
    });
    // The old item is left as it was (the digest function may not write there).
    const old = await client.send(new GetItemCommand({ TableName: tableName, Key: legacy }));
    expect(old.Item?.lastDigestAt?.S).toBe('2026-11-29T07:00:00.000Z');
  });
});
