import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { inject } from 'vitest';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { localDynamoDb, localEventBridge } from '../../local-aws/clients.js';
import { createTable } from '../../local-aws/dynamodb-local.js';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';

let tables = 0;

/** A fresh table in the shared DynamoDB Local, so that test files never see each other's state. */
export const freshTable = async (): Promise<{
  client: DynamoDBClient;
  tableName: string;
  endpoint: string;
}> => {
  const endpoint = inject('dynamodbEndpoint');
  const client = localDynamoDb(endpoint);
  const tableName = `notifier-${process.pid}-${Date.now()}-${++tables}`;
  await createTable(client, tableName);
  return { client, tableName, endpoint };
};

export const eventBridgeClient = (url: string): EventBridgeClient => localEventBridge(url);

/** What the local bus received, as the core's events (for the invariant checks). */
export const receivedEvents = (bus: LocalEventBridge): NotifierEvent[] =>
  bus.events.map((e) => ({ detailType: e.detailType, detail: e.detail }) as unknown as NotifierEvent);
