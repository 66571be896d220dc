import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CreateTableCommand, type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freeLoopbackPort } from '../functions/shared/net.js';
import { localDynamoDb } from './clients.js';

/**
 * DynamoDB Local, AWS's own emulator (a Java 17 jar shipped in the npm package
 * amplify-dynamodb-simulator), started in memory on a free loopback port.
 */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const jarDirectory = (): string => {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDBLocal.jar not found in ${dir}; run npm install`);
  }
  return dir;
};

export const startDynamoDbLocal = async (
  options: { port?: number; timeoutMs?: number } = {},
): Promise<DynamoDbLocal> => {
  const port = options.port ?? (await freeLoopbackPort());
  const dir = jarDirectory();
  const child: ChildProcess = spawn(
    'java',
    [
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-inMemory',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start java for DynamoDB Local: ${error.message}`)),
    );
    child.once('exit', (code) =>
      reject(new Error(`DynamoDB Local exited with ${code}: ${output.slice(-500)}`)),
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoDb(endpoint);
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  const ready = (async () => {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  await Promise.race([ready, spawnError]);
  spawnError.catch(() => {});
  client.destroy();
  return {
    endpoint,
    port,
    stop: async () => {
      child.removeAllListeners('exit');
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
};

/** Creates the notifier's table as the stack defines it: pk/sk strings, on demand. */
export const createTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
};
