import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** AWS SDK clients for the local endpoints: a fixed region and throwaway credentials, nothing from the machine. */
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export const localDynamoDb = (endpoint: string, maxAttempts = 8): DynamoDBClient =>
  new DynamoDBClient({ ...local, endpoint, maxAttempts });

export const localEventBridge = (endpoint: string, maxAttempts = 1): EventBridgeClient =>
  new EventBridgeClient({ ...local, endpoint, maxAttempts });
