import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DigestMark } from './digest.js';

/**
 * The `digest` marker: when the last digest was made and where its period ended, so that the next one
 * reports what was detected since. A marker of an earlier version has no `until`: its time stands for it.
 * File state: a file beside the state file (FILE.digest.json), never the state file itself, whose writer
 * (the poller) rewrites it whole under its lease. DynamoDB: one item `digest` in the organisation's
 * partition (pk `org#<organisation>`, the state store's own scoping), apart from the order items.
 */
export interface DigestMarker {
  last(): Promise<DigestMark | null>;
  record(mark: DigestMark): Promise<void>;
}

const markOf = (at: unknown, until: unknown, run: unknown): DigestMark | null =>
  typeof at === 'string'
    ? { at, until: typeof until === 'string' ? until : at, ...(typeof run === 'string' ? { run } : {}) }
    : null;

export class FileDigestMarker implements DigestMarker {
  readonly path: string;

  constructor(statePath: string) {
    this.path = `${statePath}.digest.json`;
  }

  async last(): Promise<DigestMark | null> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>;
      return markOf(parsed.lastDigestAt, parsed.until, parsed.run);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the digest marker ${this.path}: ${(error as Error).message}`);
    }
  }

  async record(mark: DigestMark): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    const content = {
      format: 'uphance-notifier-digest',
      lastDigestAt: mark.at,
      until: mark.until,
      run: mark.run,
    };
    await writeFile(temp, `${JSON.stringify(content)}\n`);
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

  async last(): Promise<DigestMark | null> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.#key(), ConsistentRead: true }),
    );
    return markOf(out.Item?.lastDigestAt?.S, out.Item?.until?.S, out.Item?.run?.S);
  }

  async record(mark: DigestMark): Promise<void> {
    const item = {
      ...this.#key(),
      lastDigestAt: { S: mark.at },
      until: { S: mark.until },
      ...(mark.run === undefined ? {} : { run: { S: mark.run } }),
    };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}
