import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local-aws/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/** Starts DynamoDB Local (Java) once for the integration tests; each test file makes its own tables. */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
