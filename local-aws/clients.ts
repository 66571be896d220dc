import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClient } from '../functions/runtime/clients.js';

/**
 * AWS SDK clients for the local endpoints, built as the notifier builds its own (the same timeouts): a
 * fixed region and throwaway credentials, nothing from the machine.
 */
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export const localDynamoDb = (endpoint: string, maxAttempts = 8): DynamoDBClient =>
  awsClient(DynamoDBClient, { ...local, endpoint, maxAttempts });

export const localEventBridge = (endpoint: string, maxAttempts = 1): EventBridgeClient =>
  awsClient(EventBridgeClient, { ...local, endpoint, maxAttempts });

export const localSqs = (endpoint: string): SQSClient => awsClient(SQSClient, { ...local, endpoint });
