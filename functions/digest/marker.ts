import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';

/**
 * The `digest` marker: when the last digest was made, so that the next one reports what happened since.
 * File state: a file beside the state file (FILE.digest.json), never the state file itself, whose writer
 * (the poller) rewrites it whole under its lease. DynamoDB: one item `digest` in the organisation's
 * partition (pk `org#<organisation>`, the state store's own scoping), apart from the order items.
 */
export interface DigestMarker {
  lastDigestAt(): Promise<string | null>;
  record(at: string): Promise<void>;
}

export class FileDigestMarker implements DigestMarker {
  readonly path: string;

  constructor(statePath: string) {
    this.path = `${statePath}.digest.json`;
  }

  async lastDigestAt(): Promise<string | null> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as { lastDigestAt?: unknown };
      return typeof parsed.lastDigestAt === 'string' ? parsed.lastDigestAt : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the digest marker ${this.path}: ${(error as Error).message}`);
    }
  }

  async record(at: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify({ format: 'uphance-notifier-digest', lastDigestAt: at })}\n`);
    await rename(temp, this.path);
  }
}

export class DynamoDigestMarker implements DigestMarker {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly organisation: string,
  ) {}

  #key() {
    return { pk: { S: `org#${this.organisation}` }, sk: { S: 'digest' } };
  }

  async lastDigestAt(): Promise<string | null> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.#key(), ConsistentRead: true }),
    );
    return out.Item?.lastDigestAt?.S ?? null;
  }

  async record(at: string): Promise<void> {
    await this.client.send(
      new PutItemCommand({ TableName: this.tableName, Item: { ...this.#key(), lastDigestAt: { S: at } } }),
    );
  }
}
