import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local-aws/dynamodb-local.js';
import { buildCli } from '../../scripts/build-cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/** Starts DynamoDB Local (Java) once for the integration tests; each test file makes its own tables. */
export default async function setup(project: TestProject) {
  // The CLI tests run the built command line (bin/ loads dist/cli): build it from the sources under test.
  await buildCli();
  const dynamo = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
