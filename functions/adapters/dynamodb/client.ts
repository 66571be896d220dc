import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A client whose calls cannot hang: each request times out, so that the cycle's deadline holds. */
export const dynamoDbClient = (
  config: ConstructorParameters<typeof DynamoDBClient>[0] = {},
): DynamoDBClient =>
  new DynamoDBClient({ requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 }, ...config });
